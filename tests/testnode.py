"""A Node for tests that play the kubelet: registered, Ready, and kept alive by renewing its Lease in
``kube-node-lease`` as a kubelet does, so the real node lifecycle controller leaves it (and its Pods)
alone. Pods are bound to it through the ``pods/binding`` subresource, as the scheduler binds them.

Needed where a controller wants a Pod on a node: the endpoints controller writes a ready Pod's
address only with its node's name. The Node and its Lease go when the context exits.
"""

from __future__ import annotations

import contextlib
import datetime
import threading
import uuid
from collections.abc import Iterator
from typing import Any, cast

import kubernetes

LEASE_NAMESPACE = "kube-node-lease"
RENEW_SECONDS = 5.0
LEASE_SECONDS = 40


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@contextlib.contextmanager
def registered(api: kubernetes.client.ApiClient) -> Iterator[str]:
    """A Ready Node's name, its heartbeat running until the context exits."""
    core = kubernetes.client.CoreV1Api(api)
    leases = kubernetes.client.CoordinationV1Api(api)
    name = f"test-node-{uuid.uuid4().hex[:6]}"
    node = core.create_node(cast("Any", {"metadata": {"name": name}}))
    assert node.metadata is not None
    stamp = _now().strftime("%Y-%m-%dT%H:%M:%SZ")
    core.patch_node_status(
        name,
        {
            "status": {
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "True",
                        "reason": "KubeletReady",
                        "message": "the test plays this node's kubelet",
                        "lastHeartbeatTime": stamp,
                        "lastTransitionTime": stamp,
                    }
                ]
            }
        },
    )
    owner = {"apiVersion": "v1", "kind": "Node", "name": name, "uid": node.metadata.uid}
    lease = {
        "metadata": {"name": name, "ownerReferences": [owner]},
        "spec": {"holderIdentity": name, "leaseDurationSeconds": LEASE_SECONDS},
    }
    leases.create_namespaced_lease(LEASE_NAMESPACE, cast("Any", lease))
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(RENEW_SECONDS):
            renew()

    def renew() -> None:
        leases.patch_namespaced_lease(
            name, LEASE_NAMESPACE, {"spec": {"renewTime": _now().isoformat()}}
        )

    renew()
    beating = threading.Thread(target=heartbeat, name=f"{name}-heartbeat", daemon=True)
    beating.start()
    try:
        yield name
    finally:
        stop.set()
        beating.join(RENEW_SECONDS * 2)
        core.delete_node(name)


def bind(api: kubernetes.client.ApiClient, pod: Any, node: str) -> None:
    """Bind ``pod`` to ``node`` as the scheduler does (the API server answers with a Status, which
    the client cannot read as a Binding: the raw response is enough)."""
    kubernetes.client.CoreV1Api(api).create_namespaced_binding(
        pod.metadata.namespace,
        cast(
            "Any",
            {
                "apiVersion": "v1",
                "kind": "Binding",
                "metadata": {"name": pod.metadata.name},
                "target": {"apiVersion": "v1", "kind": "Node", "name": node},
            },
        ),
        _preload_content=False,
    )
