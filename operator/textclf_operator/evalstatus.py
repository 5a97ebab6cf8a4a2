"""Pure computation of a ModelEvaluation's status from what is observed: the version it resolved to,
its Job, the Job's Pods and the evaluator's termination message.

Level-based like ``runstatus`` (whose Job and Pod readings it shares): the same observation gives the
same status; a final verdict stands once written.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import pydantic

from textclf.api import channels, codes, modelevaluation, results, trainingrun
from textclf.api import conditions as conds
from textclf_operator import runstatus

Code = codes.EvaluationCode
Detail = modelevaluation.DetailCode
TERMINAL = (Code.EVALUATED, Code.FAILED)


@dataclasses.dataclass(frozen=True)
class Resolved:
    """The version an evaluation runs on, as the operator found it."""

    version: str
    artifact: trainingrun.Artifact


@dataclasses.dataclass(frozen=True)
class Observed:
    evaluation: Mapping[str, Any]
    previous: modelevaluation.ModelEvaluationStatus
    job: Mapping[str, Any] | None
    pods: Sequence[Mapping[str, Any]]
    now: datetime.datetime
    resolved: Resolved | None = None
    output: str | None = None
    waiting: str | None = None  # what must happen before a Job is made (the version to train)
    refused: tuple[Detail, str] | None = None  # why no Job will ever be made
    rejected: str | None = None  # why the API server would not create the Job just now
    job_lost: bool = False


@dataclasses.dataclass(frozen=True)
class _State:
    code: Code
    detail: Detail | None = None
    reason: str = ""
    message: str = ""
    result: channels.EvaluationResult | None = None


def _result(pod: Mapping[str, Any] | None) -> channels.EvaluationResult | None:
    ended = runstatus.terminated(pod) if pod is not None else None
    if not ended or not ended.get("message"):
        return None
    try:
        return channels.EvaluationResult.from_termination_message(ended["message"])
    except (ValueError, pydantic.ValidationError):
        return None


def _failure(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> _State:
    failed = runstatus.job_condition(job, "Failed") or {}
    reason = str(failed.get("reason") or "")
    last = runstatus.last_finished(pods, "Failed")
    result = _result(last)
    exit_code = (runstatus.terminated(last) or {}).get("exitCode") if last is not None else None
    said = result.message if result is not None else ""
    if not said and last is not None:
        said = str((runstatus.terminated(last) or {}).get("message") or "")[-500:]
    if reason == "DeadlineExceeded":
        return _State(
            Code.FAILED,
            Detail.TIMED_OUT,
            conds.REASON_DEADLINE_EXCEEDED,
            f"the evaluation passed activeDeadlineSeconds: {failed.get('message', '')}".strip(),
        )
    trainer_detail = result.detail_code if result is not None else None
    if trainer_detail is None and isinstance(exit_code, int):
        trainer_detail = codes.DETAIL_FOR_EXIT_CODE.get(exit_code)
    if reason == "PodFailurePolicy" or trainer_detail in codes.EXIT_CODE_FOR_DETAIL:
        detail = modelevaluation.detail_of(trainer_detail or codes.DetailCode.INTERNAL_ERROR)
        message = said or f"the evaluator exited with {exit_code}"
        return _State(Code.FAILED, detail, conds.REASON_USER_ERROR, message, result)
    if runstatus.oom_killed(last):
        message = (
            "the kernel killed the evaluator for going over its memory limit (OOMKilled, exit "
            f"{exit_code}): raise spec.resources.memory"
        )
        return _State(Code.FAILED, Detail.OUT_OF_MEMORY, conds.REASON_USER_ERROR, message, result)
    if reason == "BackoffLimitExceeded":
        tail = f"; the last attempt exited with {exit_code}" if exit_code is not None else ""
        return _State(
            Code.FAILED,
            Detail.BACKOFF_LIMIT_EXCEEDED,
            conds.REASON_BACKOFF_LIMIT_EXCEEDED,
            f"the evaluation failed on every attempt{tail}" + (f": {said}" if said else ""),
            result,
        )
    message = str(failed.get("message") or said or "the evaluation Job failed")
    return _State(Code.FAILED, Detail.INTERNAL_ERROR, reason or "JobFailed", message, result)


def _state(o: Observed) -> _State | None:
    """The evaluation's state, or None to keep the previous status."""
    prev, job = o.previous, o.job
    if job is None:
        if prev.job_name:
            if prev.code in TERMINAL or not o.job_lost:
                return None
            return _State(
                Code.FAILED,
                Detail.JOB_LOST,
                conds.REASON_JOB_LOST,
                f"the Job {prev.job_name} was deleted before the evaluation finished; create a "
                "new ModelEvaluation to evaluate again",
            )
        if o.refused is not None:
            detail, message = o.refused
            return _State(Code.FAILED, detail, conds.REASON_INVALID_SPEC, message)
        if o.rejected:  # retried with backoff
            return _State(Code.QUEUED, reason=conds.REASON_JOB_REFUSED, message=o.rejected)
        if o.waiting:
            return _State(Code.QUEUED, reason=conds.REASON_WAITING, message=o.waiting)
        return _State(Code.QUEUED, reason=conds.REASON_JOB_CREATED)
    if runstatus.job_condition(job, "Complete"):
        result = _result(runstatus.last_finished(o.pods, "Succeeded"))
        if result is None or result.code != Code.EVALUATED:
            return _State(
                Code.FAILED,
                Detail.INTERNAL_ERROR,
                conds.REASON_NO_RESULT,
                "the evaluator finished without a result: see its log",
            )
        return _State(Code.EVALUATED, reason=conds.REASON_EVALUATED, result=result)
    if runstatus.job_condition(job, "Failed"):
        return _failure(job, o.pods)
    phases = [(p.get("status") or {}).get("phase") for p in o.pods]
    if "Running" in phases:
        return _State(Code.EVALUATING, reason=conds.REASON_POD_RUNNING)
    if o.pods and all(phase in ("Succeeded", "Failed") for phase in phases):
        return None  # the Job controller's verdict or its next Pod comes next
    if o.pods:
        message = runstatus.pending_reason(o.pods)
        return _State(Code.QUEUED, reason=conds.REASON_POD_PENDING, message=message)
    return _State(Code.QUEUED, reason=conds.REASON_JOB_CREATED)


def _conditions(
    current: Sequence[conds.Condition], state: _State, now: datetime.datetime, generation: Any
) -> list[conds.Condition]:
    code, done = state.code, state.code in TERMINAL
    table = [
        (conds.QUEUED, code == Code.QUEUED, state.reason if code == Code.QUEUED else conds.REASON_NOT_QUEUED),
        (conds.RUNNING, code == Code.EVALUATING, conds.REASON_POD_RUNNING if code == Code.EVALUATING else conds.REASON_NOT_RUNNING),
        (conds.SUCCEEDED, code == Code.EVALUATED, state.reason if done else conds.REASON_IN_PROGRESS),
        (conds.FAILED, code == Code.FAILED, state.reason if done else conds.REASON_IN_PROGRESS),
    ]  # fmt: skip
    with_messages = [
        (type_, on, reason, state.message if on and type_ != conds.RUNNING else "")
        for type_, on, reason in table
    ]
    return conds.set_conditions(current, with_messages, now=now, observed_generation=generation)


def compute(o: Observed) -> modelevaluation.ModelEvaluationStatus:
    """The status the evaluation should have now."""
    prev = o.previous
    state = _state(o)
    if state is None or prev.code in TERMINAL:
        return prev
    generation = (o.evaluation.get("metadata") or {}).get("generation")
    started = [t for t in (runstatus.started_at(p) for p in o.pods) if t is not None]
    completion = None
    if state.code in TERMINAL:
        completion = runstatus.parse_time(((o.job or {}).get("status") or {}).get("completionTime"))
        completion = completion or o.now
    description = modelevaluation.describe(state.detail or state.code)
    if state.message:
        description = f"{description}: {state.message}"
    result = state.result if state.code == Code.EVALUATED else None
    resolved = o.resolved
    artifact = resolved.artifact if resolved is not None else prev.artifact
    output = result.output if result is not None and result.output else o.output
    return modelevaluation.ModelEvaluationStatus(
        observed_generation=generation,
        code=state.code,
        detail_code=state.detail,
        description=description[:4096],
        conditions=_conditions(prev.conditions, state, o.now, generation),
        version=resolved.version if resolved is not None else prev.version,
        artifact=artifact,
        job_name=((o.job or {}).get("metadata") or {}).get("name") or prev.job_name,
        start_time=prev.start_time or (min(started) if started else None),
        completion_time=completion,
        summary=result.summary if result is not None else None,
        metrics=results.split_metrics(result.metrics) if result and result.metrics else None,
        output=trainingrun.Output(uri=output) if output else prev.output,
    )
