"""A connection to a cluster as ``kubectl`` would make it: the kubeconfig (``$KUBECONFIG`` or
``~/.kube/config``, or a given file), its current context or a named one, and that context's
namespace unless one is given."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

import kubernetes


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


def connect(
    namespace: str | None = None, *, kubeconfig: str | None = None, context: str | None = None
) -> Connection:
    """Raises ``kubernetes.config.ConfigException`` when there is no usable kubeconfig."""
    api = kubernetes.config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=kubeconfig, context=context
    )
    return Connection(api, namespace or _context_namespace(kubeconfig, context))
