"""The operator's API calls against the real API server keep one connection per worker thread.

A response left unread holds its connection, so the next call opens another, with a TLS handshake
on both ends; at 1,000 runs that was half of the operator's CPU. Every call a reconcile makes runs
here twice in one thread, and the client's pool must have opened exactly one connection.
"""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Iterator
from typing import Any

import pytest

import controlplane
from tests.operator.support import Cluster
from textclf_operator import builders, cache, kube


@pytest.fixture
def as_admin(control_plane: controlplane.ControlPlane) -> Iterator[None]:
    saved = os.environ.get("KUBECONFIG")
    os.environ["KUBECONFIG"] = str(control_plane.kubeconfig)
    yield
    if saved is None:
        os.environ.pop("KUBECONFIG", None)
    else:
        os.environ["KUBECONFIG"] = saved


def _job(namespace: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {builders.RUN_LABEL: name},
        },
        "spec": {
            "suspend": True,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "trainer", "image": "textclf-trainer:test"}],
                }
            },
        },
    }


def _reconcile_calls(cluster: Cluster, round_: int) -> int:
    """What one run's reconcile sends (create the Job, read it back, write the status, post an
    Event, list), then how many connections this thread's client has opened so far."""
    model = cluster.model()
    meta = model["metadata"]
    name = f"reuse-{round_}"
    created = kube.create_job(_job(cluster.namespace, name))
    assert created["metadata"]["name"] == name
    assert kube.read_job(cluster.namespace, name) is not None
    kube.create_job(_job(cluster.namespace, name))  # 409: the existing one, read back
    stored = kube.write_status(
        cache.MODELS, cluster.namespace, meta["name"], meta["uid"], {"observedGeneration": 1}
    )
    assert stored["status"]["observedGeneration"] == 1
    kube.post_event(model, reason="Checked", message=f"round {round_}")
    listed, _version = kube.list_objects(cache.JOBS, builders.RUN_LABEL)
    assert any(job["metadata"]["name"] == name for job in listed)
    pools = kube._api_client().rest_client.pool_manager.pools
    # urllib3's pool container is not iterable, only its keys()
    return sum(pools[key].num_connections for key in pools.keys())  # noqa: SIM118


def test_calls_reuse_one_connection(cluster: Cluster, as_admin: None) -> None:
    cluster.create_model()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as worker:  # a fresh thread's client
        first = worker.submit(_reconcile_calls, cluster, 1).result()
        second = worker.submit(_reconcile_calls, cluster, 2).result()
    assert first == 1, f"{first} connections for one round of calls"
    assert second == 1, f"{second} connections after two rounds: a call leaves its response unread"
