"""One level-based reconcile of a ModelEvaluation: plan (``evalplan``), create its Job once, compute
its status (``evalstatus``) and write it through the reconciler's single status writer, with an
Event on every change of code. Scheduling (coalescing, retries) is the reconciler's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pydantic

from textclf.api import codes, modelevaluation
from textclf_operator import evaljobs, evalplan, evalstatus, runplan, stored, workqueue, writer
from textclf_operator.cache import EVALUATIONS, JOBS, MODEL, MODELS, PODS, RUNS, TEMPLATES

if TYPE_CHECKING:
    from textclf_operator.reconciler import Reconciler

EVENT_REASONS = {
    codes.EvaluationCode.QUEUED: "Queued",
    codes.EvaluationCode.EVALUATING: "Evaluating",
    codes.EvaluationCode.EVALUATED: "Evaluated",
    codes.EvaluationCode.FAILED: "EvaluationFailed",
}


def waiting(rec: Reconciler, namespace: str, model: str | None = None) -> list[tuple[str, str]]:
    """Evaluations with no Job yet (of ``model``, when given): to retry when a run, a model or a
    template changes."""
    found = []
    candidates = (
        rec.objects.all(EVALUATIONS, namespace)
        if model is None
        else rec.objects.indexed(EVALUATIONS, namespace, MODEL, model)
    )
    for body in candidates:
        status = body.get("status") or {}
        if status.get("jobName") or status.get("code") in evalstatus.TERMINAL:
            continue
        found.append((body["metadata"]["namespace"], body["metadata"]["name"]))
    return found


async def reconcile(rec: Reconciler, namespace: str, name: str) -> None:
    body = rec.objects.get(EVALUATIONS, namespace, name)
    if body is None or (body.get("metadata") or {}).get("deletionTimestamp"):
        return  # garbage collection removes the Job and its Pods
    previous = stored.status(body, modelevaluation.ModelEvaluationStatus)
    now = rec.clock()
    try:
        spec = modelevaluation.ModelEvaluationSpec.model_validate(body.get("spec") or {})
    except pydantic.ValidationError as err:
        refused = (modelevaluation.DetailCode.INVALID_PARAMS, f"spec is invalid: {err}")
        observed = evalstatus.Observed(body, previous, None, [], now, refused=refused)
        await _write(rec, body, previous, evalstatus.compute(observed))
        return
    job = rec.objects.get(JOBS, namespace, evaljobs.job_name(name))
    if job is not None and not writer.owned_by(job, body["metadata"]["uid"]):
        job = None  # an earlier evaluation's Job of the same name, on its way out
    plan = evalplan.Plan()
    rejected: str | None = None
    job_lost = False
    if job is None and not previous.job_name and previous.code not in evalstatus.TERMINAL:
        model = spec.model_ref.name
        plan = evalplan.plan(
            body,
            spec,
            pinned=previous.version,
            model=rec.objects.get(MODELS, namespace, model),
            runs=rec.objects.indexed(RUNS, namespace, MODEL, model),
            template=lambda t: rec.objects.get(TEMPLATES, "", t),
            settings=rec.settings,
            now=now,
        )
        if plan.job is not None:
            created = await rec.writer.create_job(plan.job, body, "evaluation")
            job, rejected = created.job, created.rejected
            if created.invalid:
                detail = modelevaluation.DetailCode.INVALID_PARAMS
                plan = evalplan.Plan(plan.resolved, plan.output, refused=(detail, created.invalid))
    elif job is None and previous.code not in evalstatus.TERMINAL:
        job = await rec.writer.read_job(namespace, previous.job_name or "", body)
        job_lost = job is None
    pods = runplan.pods_of(
        job, rec.objects.select(PODS, namespace, {evaljobs.EVALUATION_LABEL: name})
    )
    observed = evalstatus.Observed(
        body,
        previous,
        job,
        pods,
        now,
        resolved=plan.resolved,
        output=plan.output,
        waiting=plan.waiting,
        refused=plan.refused,
        rejected=rejected,
        job_lost=job_lost,
    )
    await _write(rec, body, previous, evalstatus.compute(observed))
    if rejected:
        raise workqueue.RetryLater(rejected)  # the status says why; the queue backs off


async def _write(
    rec: Reconciler,
    body: Mapping[str, Any],
    previous: modelevaluation.ModelEvaluationStatus,
    status: modelevaluation.ModelEvaluationStatus,
) -> None:
    wire = status.to_wire()
    if wire == previous.to_wire():
        return
    await rec.writer.status(EVALUATIONS, modelevaluation.KIND, body, wire)
    await rec.writer.refusal_event(
        body, modelevaluation.KIND, previous.conditions, status.conditions
    )
    if status.code is not None and (status.code, status.detail_code) != (
        previous.code,
        previous.detail_code,
    ):
        await rec.writer.event(
            body,
            modelevaluation.KIND,
            reason=EVENT_REASONS[status.code],
            message=status.description or status.code,
            warning=status.code == codes.EvaluationCode.FAILED,
        )
