"""An operator restart mid-run loses nothing and duplicates nothing.

Kept in its own module: the lifecycle module's operator must be stopped first, since one process
holds one operator runtime.
"""

from __future__ import annotations

import pytest

import controlplane
from tests.operator.support import Cluster, result_message, running_operator
from textclf.api import codes

pytestmark = pytest.mark.cluster


def test_restart_mid_run_loses_and_duplicates_nothing(
    control_plane: controlplane.ControlPlane,
    cluster: Cluster,
    template: str,
) -> None:
    cluster.create_model()
    with running_operator(control_plane):
        cluster.create_run("restarted")
        pod = cluster.pending_pod("restarted")
        cluster.start_pod(pod)
        cluster.wait_code("restarted", codes.StatusCode.TRAINING)
        before = cluster.status("restarted")
    cluster.finish_pod(pod, 0, result_message())
    with running_operator(control_plane):
        after = cluster.wait_code("restarted", codes.StatusCode.TRAINED)
    assert after["startTime"] == before["startTime"]
    assert after["attempts"] == before["attempts"] == 1
    running = next(c for c in after["conditions"] if c["type"] == "Queued")
    assert (
        running["lastTransitionTime"]
        == next(c for c in before["conditions"] if c["type"] == "Queued")["lastTransitionTime"]
    )
    # each transition announced once, across both operators
    assert sorted(r for r, _ in cluster.events("restarted")) == ["Queued", "Trained", "Training"]
    assert len(cluster.batch.list_namespaced_job(cluster.namespace).items) == 1
    assert len(cluster.pods("restarted")) == 1
