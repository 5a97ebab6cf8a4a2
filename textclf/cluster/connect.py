"""A connection to a cluster as ``kubectl`` would make it: the kubeconfig (``$KUBECONFIG`` or
``~/.kube/config``, or a given file), its current context or a named one, and that context's
namespace unless one is given."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

import kubernetes

from textclf.api import GROUP, VERSION


@dataclasses.dataclass(frozen=True)
class Connection:
    api: kubernetes.client.ApiClient
    namespace: str

    def close(self) -> None:
        self.api.close()  # type: ignore[no-untyped-call]


def _context_namespace(kubeconfig: str | None, context: str | None) -> str:
    contexts, current = kubernetes.config.list_kube_config_contexts(  # type: ignore[no-untyped-call]
        config_file=kubeconfig
    )
    chosen: dict[str, Any] = current or {}
    if context is not None:
        chosen = next((c for c in contexts or [] if c.get("name") == context), {})
    return str(cast("dict[str, Any]", chosen.get("context") or {}).get("namespace") or "default")


class Missing(LookupError):
    """The object asked for does not exist; the message names its kind, name and namespace."""


def read(conn: Connection, plural: str, kind: str, name: str) -> dict[str, Any]:
    """A textclf object of ``conn``'s namespace, as stored; ``Missing`` when it is not there."""
    custom = kubernetes.client.CustomObjectsApi(conn.api)
    try:
        found = custom.get_namespaced_custom_object(GROUP, VERSION, conn.namespace, plural, name)
    except kubernetes.client.ApiException as err:
        if err.status == 404:
            raise Missing(f"{kind} {name} not found in namespace {conn.namespace}") from None
        raise
    return cast("dict[str, Any]", found)


def connect(
    namespace: str | None = None, *, kubeconfig: str | None = None, context: str | None = None
) -> Connection:
    """Raises ``kubernetes.config.ConfigException`` when there is no usable kubeconfig."""
    api = kubernetes.config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=kubeconfig, context=context
    )
    return Connection(api, namespace or _context_namespace(kubeconfig, context))
