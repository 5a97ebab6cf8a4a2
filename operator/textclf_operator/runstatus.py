"""Pure computation of a TrainingRun's status from what is observed: its spec, its Job, the Job's Pods,
the trainer's termination message and its latest progress report.

Level-based: the same observation always gives the same status, whatever happened before, except for
what only the past can know (attempts counted, start time, a Job that vanished). The reconciler
calls ``compute`` on every change and writes the result only when it differs from the stored one.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import pydantic

from textclf.api import channels, codes, results, trainingrun
from textclf.api import conditions as conds
from textclf_operator import builders

TERMINAL = (codes.StatusCode.TRAINED, codes.StatusCode.FAILED)


@dataclasses.dataclass(frozen=True)
class Observed:
    """Everything the status of one run is computed from."""

    run: Mapping[str, Any]
    previous: trainingrun.TrainingRunStatus
    job: Mapping[str, Any] | None
    pods: Sequence[Mapping[str, Any]]
    invalid: str | None  # why no Job may ever be made (params break the schema), or None
    job_lost: bool  # the Job was made, and the API server confirms it is gone
    progress: trainingrun.Progress | None  # the latest report from the progress endpoint
    now: datetime.datetime
    waiting: str | None = None  # what must exist before a Job is made (its model, its template)
    refused: str | None = None  # why the API server would not create the Job just now


@dataclasses.dataclass(frozen=True)
class _State:
    code: codes.StatusCode
    detail: codes.DetailCode | None = None
    reason: str = ""
    message: str = ""
    suspended: bool = False
    result: channels.Result | None = None


def parse_time(value: str | None) -> datetime.datetime | None:
    """A Kubernetes timestamp (RFC 3339, "Z"), or None."""
    if not value:
        return None
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def job_condition(job: Mapping[str, Any], type_: str) -> Mapping[str, Any] | None:
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_ and cond.get("status") == "True":
            return dict(cond)
    return None


def _container(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == builders.CONTAINER:
            return dict(status)
    return {}


def terminated(pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    state = _container(pod).get("state") or {}
    return state.get("terminated")


def _disrupted(pod: Mapping[str, Any]) -> bool:
    return any(
        c.get("type") == "DisruptionTarget" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def started_at(pod: Mapping[str, Any]) -> datetime.datetime | None:
    state = _container(pod).get("state") or {}
    for key in ("running", "terminated"):
        if key in state and state[key].get("startedAt"):
            return parse_time(state[key]["startedAt"])
    return None


def _result(pod: Mapping[str, Any]) -> channels.Result | None:
    ended = terminated(pod)
    if not ended or not ended.get("message"):
        return None
    try:
        return channels.Result.from_termination_message(ended["message"])
    except (ValueError, pydantic.ValidationError):
        return None


def last_finished(pods: Sequence[Mapping[str, Any]], phase: str) -> Mapping[str, Any] | None:
    done = [p for p in pods if (p.get("status") or {}).get("phase") == phase and terminated(p)]
    if not done:
        return None
    return max(done, key=lambda p: str((terminated(p) or {}).get("finishedAt") or ""))


OOM_KILLED = "OOMKilled"
"""A container's terminated reason when the kernel killed it at its memory limit: out of host
memory is the run's to fix (its memory, its batch size), like out of GPU memory (exit 16), so the
failure says so instead of a bare exit 137."""

POD_WAIT = datetime.timedelta(seconds=60)
"""How long a failed Job's verdict waits for its failed Pod to show in the watch."""


def oom_killed(pod: Mapping[str, Any] | None) -> bool:
    """Whether the kernel killed the container at its memory limit."""
    return pod is not None and (terminated(pod) or {}).get("reason") == OOM_KILLED


def _failed_pod_unseen(
    job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], now: datetime.datetime
) -> bool:
    """A Job event can come before the event of the Pod that failed it. Its verdict (a user error
    or not) comes from that Pod's exit code and termination message, and a verdict stands once
    written, so it waits for the Pod: up to ``POD_WAIT`` after the Job failed (a Pod deleted by
    hand never comes). A deadline needs no Pod."""
    failed = job_condition(job, "Failed") or {}
    if failed.get("reason") == "DeadlineExceeded" or last_finished(pods, "Failed") is not None:
        return False
    if not (job.get("status") or {}).get("failed"):
        return False
    since = parse_time(failed.get("lastTransitionTime"))
    return since is None or now - since < POD_WAIT


def _failure(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> _State:
    failed = job_condition(job, "Failed") or {}
    reason = str(failed.get("reason") or "")
    last = last_finished(pods, "Failed")
    result = _result(last) if last is not None else None
    exit_code = (terminated(last) or {}).get("exitCode") if last is not None else None
    said = result.message if result is not None and result.message else ""
    if not said and last is not None:
        said = str((terminated(last) or {}).get("message") or "")[-500:]
    if reason == "DeadlineExceeded":
        return _State(
            codes.StatusCode.FAILED,
            codes.DetailCode.TIMED_OUT,
            conds.REASON_DEADLINE_EXCEEDED,
            f"the run passed activeDeadlineSeconds: {failed.get('message', '')}".strip(),
        )
    if reason == "PodFailurePolicy" or (
        result is not None and result.detail_code in codes.EXIT_CODE_FOR_DETAIL
    ):
        detail = result.detail_code if result is not None else None
        if detail is None and isinstance(exit_code, int):
            detail = codes.DETAIL_FOR_EXIT_CODE.get(exit_code)
        return _State(
            codes.StatusCode.FAILED,
            detail or codes.DetailCode.INTERNAL_ERROR,
            conds.REASON_USER_ERROR,
            said or f"the trainer exited with {exit_code}",
            result=result,
        )
    if oom_killed(last):
        return _State(
            codes.StatusCode.FAILED,
            codes.DetailCode.OUT_OF_MEMORY,
            conds.REASON_USER_ERROR,
            "the kernel killed the trainer for going over its memory limit (OOMKilled, exit "
            f"{exit_code}): raise spec.resources.memory, or lower params.max_length or the batch "
            "size (params.trainer_config.per_device_train_batch_size; batch_size for "
            "embedding-logreg)",
            result=result,
        )
    if reason == "BackoffLimitExceeded":
        tail = f"; the last attempt exited with {exit_code}" if exit_code is not None else ""
        return _State(
            codes.StatusCode.FAILED,
            codes.DetailCode.BACKOFF_LIMIT_EXCEEDED,
            conds.REASON_BACKOFF_LIMIT_EXCEEDED,
            f"training failed on every attempt{tail}" + (f": {said}" if said else ""),
            result=result,
        )
    return _State(
        codes.StatusCode.FAILED,
        codes.DetailCode.INTERNAL_ERROR,
        reason or "JobFailed",
        str(failed.get("message") or said or "the training Job failed"),
        result=result,
    )


def _state(o: Observed) -> _State | None:
    """The run's state, or None to keep the previous status (waiting on the watch to catch up)."""
    prev = o.previous
    job = o.job
    if job is None:
        if prev.job_name:
            if prev.code in TERMINAL:
                return None  # finished; its Job may have been cleaned up by TTL
            if not o.job_lost:
                return None
            return _State(
                codes.StatusCode.FAILED,
                codes.DetailCode.JOB_LOST,
                conds.REASON_JOB_LOST,
                f"the Job {prev.job_name} was deleted before the run finished; it is not "
                "re-created: create a new TrainingRun to train again",
            )
        if o.invalid:
            return _State(
                codes.StatusCode.FAILED,
                codes.DetailCode.INVALID_PARAMS,
                conds.REASON_INVALID_SPEC,
                o.invalid,
            )
        if o.refused:  # not a failure: quota frees up, a webhook is fixed; retried with backoff
            return _State(
                codes.StatusCode.QUEUED, reason=conds.REASON_JOB_REFUSED, message=o.refused
            )
        if o.waiting:  # not a failure: with GitOps, a run may arrive before its model
            return _State(codes.StatusCode.QUEUED, reason=conds.REASON_WAITING, message=o.waiting)
        # The reconciler creates the Job before it computes status, so this is a brief state.
        return _State(codes.StatusCode.QUEUED, reason=conds.REASON_JOB_CREATED)
    if job_condition(job, "Complete"):
        done = last_finished(o.pods, "Succeeded")
        result = _result(done) if done is not None else None
        message = "" if result is not None else "the trainer left no result: metrics unknown"
        return _State(
            codes.StatusCode.TRAINED, reason=conds.REASON_TRAINED, message=message, result=result
        )
    if job_condition(job, "Failed"):
        if _failed_pod_unseen(job, o.pods, o.now):
            return None  # the verdict depends on its exit code: wait for the Pod's event
        return _failure(job, o.pods)
    if (job.get("spec") or {}).get("suspend"):
        return _State(
            codes.StatusCode.QUEUED,
            reason=conds.REASON_JOB_SUSPENDED,
            message="the Job is suspended (spec.suspend or a queue holds it)",
            suspended=True,
        )
    counts = job.get("status") or {}
    if not o.pods and any(counts.get(k) for k in ("active", "failed", "succeeded")):
        return None  # the Job has Pods the watch has not shown yet (e.g. just after a restart)
    phases = [(p.get("status") or {}).get("phase") for p in o.pods]
    if "Running" in phases:
        return _State(codes.StatusCode.TRAINING, reason=conds.REASON_POD_RUNNING)
    if o.pods and all(phase in ("Succeeded", "Failed") for phase in phases):
        return None  # a Pod ended; the Job controller's verdict or its next Pod comes next
    if o.pods:
        return _State(
            codes.StatusCode.QUEUED, reason=conds.REASON_POD_PENDING, message=pending_reason(o.pods)
        )
    return _State(codes.StatusCode.QUEUED, reason=conds.REASON_JOB_CREATED)


def pending_reason(pods: Sequence[Mapping[str, Any]]) -> str:
    """Why the newest pending Pod waits, as the kubelet says (ImagePullBackOff, a missing Secret)."""
    for pod in reversed(pods):
        waiting = (_container(pod).get("state") or {}).get("waiting") or {}
        if waiting.get("reason"):
            return f"{waiting['reason']}: {waiting.get('message', '')}".strip(": ")
        for cond in (pod.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
                return f"{cond.get('reason', 'Unschedulable')}: {cond.get('message', '')}".strip(
                    ": "
                )
    return ""


def _set_all(
    current: Sequence[conds.Condition],
    state: _State,
    now: datetime.datetime,
    generation: int | None,
) -> list[conds.Condition]:
    code = state.code
    failed = code == codes.StatusCode.FAILED
    table: list[tuple[str, bool, str, str]] = [
        (
            conds.QUEUED,
            code == codes.StatusCode.QUEUED,
            state.reason if code == codes.StatusCode.QUEUED else conds.REASON_NOT_QUEUED,
            state.message if code == codes.StatusCode.QUEUED else "",
        ),
        (
            conds.SUSPENDED,
            state.suspended,
            conds.REASON_JOB_SUSPENDED if state.suspended else conds.REASON_NOT_SUSPENDED,
            state.message if state.suspended else "",
        ),
        (
            conds.RUNNING,
            code == codes.StatusCode.TRAINING,
            conds.REASON_POD_RUNNING
            if code == codes.StatusCode.TRAINING
            else conds.REASON_NOT_RUNNING,
            "",
        ),
        (
            conds.SUCCEEDED,
            code == codes.StatusCode.TRAINED,
            state.reason if code in TERMINAL else conds.REASON_IN_PROGRESS,
            state.message if code in TERMINAL else "",
        ),
        (
            conds.FAILED,
            failed,
            state.reason if code in TERMINAL else conds.REASON_IN_PROGRESS,
            state.message if failed else "",
        ),
    ]
    return conds.set_conditions(current, table, now=now, observed_generation=generation)


def expiry(
    status: trainingrun.TrainingRunStatus, ttl_seconds: int | None
) -> datetime.datetime | None:
    """When the run's finished Job may go (``spec.ttlSecondsAfterFinished`` after completion), or
    None while it must stay: no TTL, not finished, or trained but its result not yet copied into
    the status (the Pods' termination messages are the only copy until then)."""
    if ttl_seconds is None or status.code not in TERMINAL or status.completion_time is None:
        return None
    if status.code == codes.StatusCode.TRAINED and status.artifact is None:
        return None
    return status.completion_time + datetime.timedelta(seconds=ttl_seconds)


def compute(o: Observed) -> trainingrun.TrainingRunStatus:
    """The status the run should have now."""
    prev = o.previous
    state = _state(o)
    if state is None:
        return prev
    if prev.code in TERMINAL and (
        (state.code, state.detail) != (prev.code, prev.detail_code) or state.result is None
    ):
        return prev  # a verdict stands: Pods cleaned up later cannot change it
    meta = o.run.get("metadata") or {}
    generation = meta.get("generation")
    started = [t for t in (started_at(p) for p in o.pods) if t is not None]
    counted = sum(1 for p in o.pods if started_at(p) is not None and not _disrupted(p))
    start_time = prev.start_time or (min(started) if started else None)
    completion_time = prev.completion_time if state.code in TERMINAL else None
    if state.code in TERMINAL and completion_time is None:
        job_done = (o.job or {}).get("status", {}).get("completionTime")
        completion_time = parse_time(job_done) or o.now
    progress = prev.progress
    if o.progress is not None and (
        progress is None or o.progress.updated_at >= progress.updated_at
    ):
        progress = o.progress
    if state.code == codes.StatusCode.TRAINED:
        progress = trainingrun.Progress(
            percent=100,
            epoch=progress.epoch if progress else None,
            step=progress.total_steps if progress and progress.total_steps else None,
            total_steps=progress.total_steps if progress else None,
            loss=progress.loss if progress else None,
            eta_seconds=0,
            resumed_from_step=progress.resumed_from_step if progress else None,
            updated_at=progress.updated_at if progress and progress.percent == 100 else o.now,
        )
    description = codes.describe(state.detail or state.code)
    if state.message:
        description = f"{description}: {state.message}"
    result = state.result
    conditions = _set_all(prev.conditions, state, o.now, generation)
    if result is not None:
        conditions = results.warning_conditions(conditions, result, o.now, generation)
    return trainingrun.TrainingRunStatus(
        observed_generation=generation,
        code=state.code,
        detail_code=state.detail,
        description=description[:4096],
        conditions=conditions,
        job_name=(o.job or {}).get("metadata", {}).get("name") or prev.job_name,
        attempts=max(prev.attempts or 0, counted),
        start_time=start_time,
        completion_time=completion_time,
        progress=progress,
        metrics=(results.metrics(result.metrics) if result else None) or prev.metrics,
        baseline=(results.metrics(result.baseline) if result else None) or prev.baseline,
        lift=(results.lift(result) if result else None) or prev.lift,
        data_report=(result.data_report if result else None) or prev.data_report,
        artifact=result.artifact if result is not None and result.artifact else prev.artifact,
    )
