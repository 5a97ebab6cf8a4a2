"""An operator restart mid-run loses nothing and duplicates nothing.

Kept in its own module: the lifecycle module's operator must be stopped first, since one process
holds one operator runtime.
"""

from __future__ import annotations

import time

import pytest

import controlplane
from tests.operator.support import Cluster, eventually, result_message, running_operator
from textclf.api import codes
from textclf_operator import builders

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
    cluster.wait_events("restarted", ["Queued", "Trained", "Training"])
    assert len(cluster.batch.list_namespaced_job(cluster.namespace).items) == 1
    assert len(cluster.pods("restarted")) == 1


def test_result_outlives_the_ttl_while_the_operator_is_away(
    control_plane: controlplane.ControlPlane,
    cluster: Cluster,
    template: str,
) -> None:
    """A run with ttlSecondsAfterFinished finishes while no operator runs, and stays unread past
    its TTL: its Job and Pod are still there (the Job carries no TTL of its own), so the next
    operator copies the result into the status; only then does it delete the Job."""
    cluster.create_model()
    with running_operator(control_plane):
        cluster.create_run("short-lived", ttlSecondsAfterFinished=1)
        pod = cluster.pending_pod("short-lived")
        cluster.start_pod(pod)
        cluster.wait_code("short-lived", codes.StatusCode.TRAINING)
    cluster.finish_pod(pod, 0, result_message())
    time.sleep(4)  # well past the TTL, with nobody to read the result
    assert cluster._read_job("short-lived") is not None
    assert len(cluster.pods("short-lived")) == 1
    with running_operator(control_plane):
        trained = cluster.wait_code("short-lived", codes.StatusCode.TRAINED)
        eventually(lambda: cluster._read_job("short-lived") is None, 60, "the Job deleted")
        eventually(lambda: not cluster.pods("short-lived"), 60, "its Pod collected")
    assert trained["metrics"]["test"]["accuracy"] == pytest.approx(0.87)
    assert trained["artifact"]["uri"] == "pvc://models/reviews/v1"
    after = cluster.status("short-lived")
    assert after["code"] == codes.StatusCode.TRAINED
    assert after["metrics"] == trained["metrics"]
    assert after["artifact"] == trained["artifact"]
    model = eventually(
        lambda: (m := cluster.model()).get("status", {}).get("latestVersion") and m,
        30,
        "the model's latest version",
    )
    assert model["status"]["latestVersion"]["run"] == "short-lived"


def test_a_restart_starts_from_the_whole_world(
    control_plane: controlplane.ControlPlane,
    cluster: Cluster,
    template: str,
) -> None:
    """The next operator lists every kind before its watches start, so its first reconcile of a
    model already sees the model's runs: the latest version is never dropped and re-announced."""
    cluster.create_model()
    with running_operator(control_plane) as first:
        cluster.create_run("kept")
        pod = cluster.pending_pod("kept")
        cluster.start_pod(pod)
        cluster.finish_pod(pod, 0, result_message())
        cluster.wait_code("kept", codes.StatusCode.TRAINED)
        eventually(lambda: (cluster.model().get("status") or {}).get("latestVersion"), 30, "latest")
        # the first operator's last writes land before it stops (on a loaded machine the model's
        # reconcile after the run's may still be queued), so the next one has nothing left to do
        eventually(first.reconciler.queue.idle, 30, "the first operator's reconciles done")
    before = cluster.model()["metadata"]["resourceVersion"]
    with running_operator(control_plane) as state:
        cluster.create_model("barrier")  # reconciled after the first listing: a barrier
        eventually(lambda: cluster.model("barrier").get("status"), 30, "the barrier's status")
        eventually(state.reconciler.queue.idle, 30, "every reconcile done")
    model = cluster.model()
    assert model["status"]["latestVersion"]["run"] == "kept"
    assert model["metadata"]["resourceVersion"] == before  # nothing to write: nothing changed
    announced = [r for r, _ in cluster.events("reviews") if r == "VersionTrained"]
    assert announced == ["VersionTrained"]


def test_a_resync_drops_what_was_deleted_unseen_and_restores_what_was_missed(
    control_plane: controlplane.ControlPlane,
    cluster: Cluster,
    template: str,
) -> None:
    """What a lost watch event leaves behind (a Pod deleted unseen, a Job never seen) is put
    right by the periodic re-list."""
    cluster.create_model()
    with running_operator(control_plane, TEXTCLF_RESYNC_SECONDS="1") as state:
        cluster.create_run("resynced")
        job = cluster.job("resynced")
        cluster.wait_code("resynced", codes.StatusCode.QUEUED)
        ghost = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": "ghost",
                "namespace": cluster.namespace,
                "uid": "not-a-real-uid",
                "resourceVersion": "1",
                "labels": {
                    builders.RUN_LABEL: "resynced",
                    builders.MANAGED_BY[0]: builders.MANAGED_BY[1],
                },
            },
        }
        state.objects.put("pods", ghost)  # as if its deletion event had been lost
        state.objects.remove("jobs", cluster.namespace, job.metadata.name)  # as if never seen
        eventually(
            lambda: state.objects.get("pods", cluster.namespace, "ghost") is None,
            30,
            "the ghost Pod dropped",
        )
        cached = eventually(
            lambda: state.objects.get("jobs", cluster.namespace, job.metadata.name),
            30,
            "the Job back in the cache",
        )
        assert cached["metadata"]["uid"] == job.metadata.uid
        assert len(cluster.batch.list_namespaced_job(cluster.namespace).items) == 1
