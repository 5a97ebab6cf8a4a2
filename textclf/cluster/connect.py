"""A connection to a cluster as ``kubectl`` would make it: the kubeconfig (``$KUBECONFIG`` or
``~/.kube/config``, or a given file), its current context or a named one, and that context's
namespace unless one is given. Where there is no kubeconfig but the process runs in a Pod (a
notebook on the cluster: ``$KUBERNETES_SERVICE_HOST`` set), the Pod's ServiceAccount: its token,
the cluster's CA and its namespace from ``SERVICE_ACCOUNT_DIR``, as client-go's in-cluster config."""

from __future__ import annotations

import dataclasses
import os
import pathlib
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


SERVICE_ACCOUNT_DIR = pathlib.Path("/var/run/secrets/kubernetes.io/serviceaccount")
"""Where the kubelet mounts a Pod's ServiceAccount token, the cluster CA and the namespace."""


def _kubeconfig_exists(kubeconfig: str | None) -> bool:
    if kubeconfig is not None:
        return True  # named: its own errors say what is wrong with it
    listed = os.environ.get("KUBECONFIG")
    if listed:
        return any(pathlib.Path(p).expanduser().exists() for p in listed.split(os.pathsep) if p)
    return pathlib.Path("~/.kube/config").expanduser().exists()


def _in_cluster(namespace: str | None) -> Connection:
    folder = SERVICE_ACCOUNT_DIR
    configuration = kubernetes.client.Configuration()
    kubernetes.config.incluster_config.InClusterConfigLoader(  # type: ignore[no-untyped-call]
        token_filename=str(folder / "token"), cert_filename=str(folder / "ca.crt")
    ).load_and_set(configuration)
    own = folder / "namespace"
    chosen = namespace or (own.read_text().strip() if own.exists() else "default")
    return Connection(kubernetes.client.ApiClient(configuration), chosen)


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
    """Raises ``kubernetes.config.ConfigException`` when there is no usable kubeconfig (nor, in a
    Pod, a ServiceAccount)."""
    in_pod = bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
    if in_pod and context is None and not _kubeconfig_exists(kubeconfig):
        return _in_cluster(namespace)
    # read $KUBECONFIG now: the client library reads it once, when it is imported
    kubeconfig = (
        kubeconfig
        or os.environ.get("KUBECONFIG")
        or str(pathlib.Path("~/.kube/config").expanduser())
    )
    api = kubernetes.config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=kubeconfig, context=context
    )
    return Connection(api, namespace or _context_namespace(kubeconfig, context))
