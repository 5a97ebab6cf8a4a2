"""Two replicas: one leads, the other waits warm and takes over from a killed leader, with no Job
and no Event written twice. The replicas are real ``kopf run`` processes against the real control
plane, as the chart's Deployment runs them; the Lease decisions are also checked as pure functions."""

from __future__ import annotations

import asyncio
import collections
import datetime
import pathlib
import signal
from typing import Any

import kubernetes
import pytest
from aiohttp.test_utils import TestClient, TestServer

import controlplane
from tests.operator.support import Cluster, Operator, eventually, operator_process
from textclf.api import channels, codes
from textclf_operator import builders, cache, leader, progress

WALL = datetime.datetime(2026, 12, 7, 12, 0, 0, tzinfo=datetime.UTC)


def test_a_free_or_handed_back_lease_is_taken_at_once() -> None:
    taken = leader.claim(None, "a", seen_at=0, now=0, wall=WALL, duration=15)
    assert taken == {
        "holderIdentity": "a",
        "leaseDurationSeconds": 15,
        "acquireTime": "2026-12-07T12:00:00.000000Z",
        "renewTime": "2026-12-07T12:00:00.000000Z",
        "leaseTransitions": 0,
    }
    handed_back = {"holderIdentity": "", "leaseDurationSeconds": 1, "leaseTransitions": 3}
    again = leader.claim(handed_back, "b", seen_at=100, now=100, wall=WALL, duration=15)
    assert again is not None
    assert again["leaseTransitions"] == 3  # handed back, not taken over
    assert again["holderIdentity"] == "b"


def test_another_holder_is_waited_out_on_our_own_clock() -> None:
    held = {
        "holderIdentity": "a",
        "renewTime": "2030-01-01T00:00:00.000000Z",
        "leaseTransitions": 2,
    }
    # its renewTime says nothing to us (another clock): only how long ago we saw it change counts
    assert leader.claim(held, "b", seen_at=100, now=114.9, wall=WALL, duration=15) is None
    taken = leader.claim(held, "b", seen_at=100, now=115, wall=WALL, duration=15)
    assert taken is not None
    assert taken["holderIdentity"] == "b"
    assert taken["leaseTransitions"] == 3


def test_the_holder_renews_and_keeps_its_acquire_time() -> None:
    held = {
        "holderIdentity": "a",
        "acquireTime": "2026-12-07T11:00:00.000000Z",
        "renewTime": "2026-12-07T11:59:58.000000Z",
        "leaseDurationSeconds": 15,
        "leaseTransitions": 1,
    }
    renewed = leader.claim(held, "a", seen_at=0, now=1_000, wall=WALL, duration=15)
    assert renewed == {**held, "renewTime": "2026-12-07T12:00:00.000000Z"}


def test_a_follower_turns_progress_away_for_the_leader_to_take() -> None:
    reviewed: list[str] = []

    def review(token: str, _audience: str) -> dict[str, Any]:
        reviewed.append(token)
        return {}

    async def post(leading: bool) -> tuple[int, str | None, dict[str, Any]]:
        endpoint = progress.Endpoint(
            objects=cache.Cache(),
            review=review,
            on_progress=lambda _key: None,
            min_interval=1.0,
            leading=lambda: leading,
        )
        async with TestClient(TestServer(endpoint.app())) as client:
            answer = await client.post(
                channels.PROGRESS_PATH, json={"percent": 5}, headers={"Authorization": "Bearer t"}
            )
            return answer.status, answer.headers.get("Retry-After"), await answer.json()

    status, retry, body = asyncio.run(post(leading=False))
    assert (status, retry, body["error"]) == (503, "1", "not_leader")
    assert not reviewed  # a follower spends no TokenReview on what it will not use
    status, _, _ = asyncio.run(post(leading=True))
    assert status == 401  # the leader goes on to check the token (this one is not a Pod's)
    assert reviewed == ["t"]


def _holder(coordination: kubernetes.client.CoordinationV1Api, namespace: str, name: str) -> str:
    lease: Any = coordination.read_namespaced_lease(name, namespace)
    return str(lease.spec.holder_identity or "")


def _writes(replica: Operator) -> float:
    return sum(
        replica.api_requests(call=call) for call in ("create_job", "write_status", "post_event")
    )


def _jobs_by_run(cluster: Cluster) -> dict[str, list[str]]:
    found: dict[str, list[str]] = collections.defaultdict(list)
    jobs: Any = cluster.batch.list_namespaced_job(cluster.namespace)
    for job in jobs.items:
        found[job.metadata.labels[builders.RUN_LABEL]].append(job.metadata.name)
    return found


def _repeated_events(cluster: Cluster) -> list[tuple[str, str]]:
    """(run, reason) pairs posted more than once: a transition reported by both replicas."""
    events: Any = cluster.core.list_namespaced_event(cluster.namespace)
    seen: collections.Counter[tuple[str, str]] = collections.Counter(
        (event.involved_object.name, event.reason)
        for event in events.items
        if event.involved_object.kind == "TrainingRun"
    )
    return [pair for pair, count in seen.items() if count > 1]


@pytest.mark.cluster
def test_a_standby_takes_over_from_a_killed_leader_without_duplicates(
    control_plane: controlplane.ControlPlane,
    api_client: kubernetes.client.ApiClient,
    namespace: str,
    template: str,
    tmp_path: pathlib.Path,
) -> None:
    lease = f"textclf-{namespace}"
    election = {
        "POD_NAMESPACE": namespace,
        "TEXTCLF_LEADER_ELECTION": "true",
        "TEXTCLF_LEADER_LEASE": lease,
        "TEXTCLF_LEADER_LEASE_SECONDS": "4",
    }
    coordination = kubernetes.client.CoordinationV1Api(api_client)
    cluster = Cluster(api_client, namespace)
    cluster.create_model()
    with operator_process(control_plane, tmp_path / "a.log", POD_NAME="a", **election) as a:
        eventually(lambda: a.metric("textclf_leader") == 1, 30, "replica a to lead")
        with operator_process(control_plane, tmp_path / "b.log", POD_NAME="b", **election) as b:
            for i in range(4):
                cluster.create_run(f"before-{i}")
            for i in range(4):
                cluster.wait_code(f"before-{i}", codes.StatusCode.QUEUED)
            assert _holder(coordination, namespace, lease) == "a"
            # the standby watched all along (its cache is warm) but wrote nothing
            assert b.metric("textclf_leader") == 0
            assert _writes(b) == 0
            assert _writes(a) > 0

            a.process.send_signal(signal.SIGKILL)  # no hand-back: b waits the lease out
            a.process.wait()
            for i in range(4):
                cluster.create_run(f"after-{i}")
            for i in range(4):
                cluster.wait_code(f"after-{i}", codes.StatusCode.QUEUED, timeout=60)
            assert _holder(coordination, namespace, lease) == "b"
            assert b.metric("textclf_leader") == 1
            # every run has exactly its one Job, owned by it; no transition was reported twice
            runs = [f"{when}-{i}" for when in ("before", "after") for i in range(4)]
            assert _jobs_by_run(cluster) == {run: [builders.job_name(run)] for run in runs}
            for run in runs:
                job = cluster._read_job(run)
                assert job is not None
                (owner,) = job.metadata.owner_references
                assert owner.uid == cluster.run(run)["metadata"]["uid"]
            assert not _repeated_events(cluster)
            taken: Any = coordination.read_namespaced_lease(lease, namespace)
            assert taken.spec.lease_transitions == 1
        # b stopped cleanly (SIGTERM): it handed the Lease back for a successor to take at once
        assert _holder(coordination, namespace, lease) == ""
