"""Pure status computation: the same observation gives the same status, transitions move only when
a condition flips, and each Job outcome maps to its code."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from tests.operator.observed import JOB, T0, job_with, pod_in
from textclf.api import codes, trainingrun
from textclf_operator import builders, runstatus

RUN = {"metadata": {"name": "r", "namespace": "n", "uid": "u", "generation": 1}}


def _compute(
    job: dict[str, Any] | None,
    pods: list[dict[str, Any]],
    previous: trainingrun.TrainingRunStatus | None = None,
    now: datetime.datetime = T0,
    **kwargs: Any,
) -> trainingrun.TrainingRunStatus:
    return runstatus.compute(
        runstatus.Observed(
            run=RUN,
            previous=previous or trainingrun.TrainingRunStatus(),
            job=job,
            pods=pods,
            invalid=kwargs.get("invalid"),
            job_lost=kwargs.get("job_lost", False),
            progress=None,
            now=now,
        )
    )


def test_running_pod_is_training_and_idempotent() -> None:
    first = _compute(JOB, [pod_in("Running")])
    assert first.code == codes.StatusCode.TRAINING
    assert first.start_time == datetime.datetime(2026, 11, 25, 12, 0, 5, tzinfo=datetime.UTC)
    again = _compute(
        JOB, [pod_in("Running")], previous=first, now=T0 + datetime.timedelta(minutes=5)
    )
    assert again == first  # nothing changed, nothing to write


def test_transition_time_moves_only_on_flip() -> None:
    queued = _compute(JOB, [])
    training = _compute(JOB, [pod_in("Running")], previous=queued, now=T0 + datetime.timedelta(1))
    by_type = {c.type: c for c in training.conditions}
    assert by_type["Running"].last_transition_time == T0 + datetime.timedelta(1)
    assert by_type["Succeeded"].last_transition_time == T0  # was False, still False


@pytest.mark.parametrize(
    ("reason", "exit_code", "detail"),
    [
        ("PodFailurePolicy", 12, codes.DetailCode.INSUFFICIENT_DATA),
        ("PodFailurePolicy", 13, codes.DetailCode.INVALID_DATA_TOLERANCE_EXCEEDED),
        ("BackoffLimitExceeded", 20, codes.DetailCode.BACKOFF_LIMIT_EXCEEDED),
        ("DeadlineExceeded", 143, codes.DetailCode.TIMED_OUT),
    ],
)
def test_failures_map_to_detail_codes(
    reason: str, exit_code: int, detail: codes.DetailCode
) -> None:
    pod = pod_in("Failed", exitCode=exit_code, finishedAt="2026-11-25T12:01:00Z")
    status = _compute(job_with(("Failed", reason)), [pod])
    assert (status.code, status.detail_code) == (codes.StatusCode.FAILED, detail)
    assert status.completion_time is not None


def test_a_trainer_killed_at_its_memory_limit_is_the_runs_to_fix() -> None:
    """OOMKilled (exit 137) on the last attempt: out of memory, naming what to raise or lower,
    not a bare backoff failure."""
    pod = pod_in("Failed", exitCode=137, reason="OOMKilled", finishedAt="2026-11-25T12:01:00Z")
    status = _compute(job_with(("Failed", "BackoffLimitExceeded")), [pod])
    assert (status.code, status.detail_code) == (
        codes.StatusCode.FAILED,
        codes.DetailCode.OUT_OF_MEMORY,
    )
    assert "spec.resources.memory" in (status.description or "")
    assert "OOMKilled" in (status.description or "")
    other = pod_in("Failed", exitCode=137, reason="Error", finishedAt="2026-11-25T12:01:00Z")
    status = _compute(job_with(("Failed", "BackoffLimitExceeded")), [other])
    assert (
        status.detail_code == codes.DetailCode.BACKOFF_LIMIT_EXCEEDED
    )  # SIGKILL for another cause


def test_complete_without_result_says_so() -> None:
    pod = pod_in("Succeeded", exitCode=0, finishedAt="2026-11-25T12:01:00Z")
    status = _compute(job_with(("Complete", "")), [pod])
    assert status.code == codes.StatusCode.TRAINED
    assert status.metrics is None
    assert "no result" in (status.description or "")


def test_lost_job_fails_but_a_finished_run_keeps_its_status() -> None:
    queued = _compute(JOB, [])
    lost = _compute(None, [], previous=queued, job_lost=True)
    assert lost.detail_code == codes.DetailCode.JOB_LOST
    done = _compute(job_with(("Complete", "")), [], previous=queued)
    assert _compute(None, [], previous=done, job_lost=True) == done  # TTL cleaned the Job up


def test_invalid_spec_makes_nojob() -> None:
    status = _compute(None, [], invalid="spec.template: TrainingTemplate 'x' does not exist")
    assert status.detail_code == codes.DetailCode.INVALID_PARAMS
    assert status.job_name is None
    assert "spec.template" in (status.description or "")


def test_a_pod_that_ended_keeps_status_until_the_job_decides() -> None:
    training = _compute(JOB, [pod_in("Running")])
    ended = pod_in("Failed", exitCode=20, finishedAt="2026-11-25T12:01:00Z")
    assert _compute(JOB, [ended], previous=training) == training  # no flap back to QUEUED


def test_a_verdict_stands_when_pods_vanish() -> None:
    pod = pod_in(
        "Failed",
        exitCode=11,
        finishedAt="2026-11-25T12:01:00Z",
        message='{"code":"MODEL-TRAINING-FAILED","detailCode":"MODEL-TRAINING-NO-DATA","message":"empty"}',
    )
    failed = _compute(job_with(("Failed", "PodFailurePolicy")), [pod])
    assert failed.detail_code == codes.DetailCode.NO_DATA
    later = _compute(job_with(("Failed", "PodFailurePolicy")), [], previous=failed)
    assert later == failed


def test_a_missing_model_waits_instead_of_failing() -> None:
    waiting = runstatus.compute(
        runstatus.Observed(
            run=RUN,
            previous=trainingrun.TrainingRunStatus(),
            job=None,
            pods=[],
            invalid=None,
            job_lost=False,
            progress=None,
            now=T0,
            waiting="spec.modelRef.name: TextClassifierModel 'm' does not exist yet",
        )
    )
    assert waiting.code == codes.StatusCode.QUEUED
    queued = next(c for c in waiting.conditions if c.type == "Queued")
    assert queued.reason == "WaitingForDependencies"
    assert "does not exist yet" in queued.message
    assert waiting.completion_time is None


def test_pending_pod_says_why() -> None:
    pod = {
        "metadata": {"name": "p"},
        "status": {
            "phase": "Pending",
            "containerStatuses": [
                {
                    "name": builders.CONTAINER,
                    "state": {
                        "waiting": {"reason": "ImagePullBackOff", "message": "no such image"}
                    },
                }
            ],
        },
    }
    status = _compute(JOB, [pod])
    queued = next(c for c in status.conditions if c.type == "Queued")
    assert (queued.reason, queued.message) == ("PodPending", "ImagePullBackOff: no such image")


def test_pods_not_yet_seen_keep_the_status() -> None:
    training = _compute(JOB, [pod_in("Running")])
    job = {**JOB, "status": {"active": 1}}
    assert _compute(job, [], previous=training) == training  # no QUEUED while the cache fills


def test_a_finished_job_expires_only_once_its_result_is_in_the_status() -> None:
    done = T0 + datetime.timedelta(minutes=5)
    trained = trainingrun.TrainingRunStatus(
        code=codes.StatusCode.TRAINED,
        completion_time=done,
        artifact=trainingrun.Artifact(uri="pvc://models/r", digest="sha256:" + "0" * 64),
    )
    assert runstatus.expiry(trained, 60) == done + datetime.timedelta(seconds=60)
    assert runstatus.expiry(trained, None) is None  # no TTL: the Job stays
    unread = trained.model_copy(update={"artifact": None})
    assert runstatus.expiry(unread, 0) is None  # the Pods still hold the only copy
    failed = trainingrun.TrainingRunStatus(code=codes.StatusCode.FAILED, completion_time=done)
    assert runstatus.expiry(failed, 0) == done
    training = trainingrun.TrainingRunStatus(code=codes.StatusCode.TRAINING)
    assert runstatus.expiry(training, 0) is None


def test_a_failed_job_waits_for_its_failed_pod_before_the_verdict() -> None:
    """The Job's Failed event came first: no INTERNAL_ERROR frozen in place of the user error."""
    training = _compute(JOB, [pod_in("Running")])
    job = job_with(("Failed", "PodFailurePolicy"))
    job["status"]["failed"] = 1
    job["status"]["conditions"][0]["lastTransitionTime"] = "2026-11-25T12:01:00Z"
    soon = T0 + datetime.timedelta(minutes=1, seconds=5)
    assert _compute(job, [pod_in("Running")], previous=training, now=soon) == training
    pod = pod_in("Failed", exitCode=11, finishedAt="2026-11-25T12:01:00Z")
    verdict = _compute(job, [pod], previous=training, now=soon)
    assert (verdict.code, verdict.detail_code) == (
        codes.StatusCode.FAILED,
        codes.DetailCode.NO_DATA,
    )
    # a Pod that never shows (deleted by hand): after POD_WAIT the Job's word is taken
    late = T0 + datetime.timedelta(minutes=1) + runstatus.POD_WAIT
    given_up = _compute(job, [], previous=training, now=late)
    assert given_up.code == codes.StatusCode.FAILED
    # a deadline kills the Pods itself: nothing to wait for
    deadline = job_with(("Failed", "DeadlineExceeded"))
    deadline["status"]["failed"] = 1
    timed_out = _compute(deadline, [], previous=training, now=soon)
    assert timed_out.detail_code == codes.DetailCode.TIMED_OUT
