"""One level-based reconcile of a TrainingRun: read the cache, plan (``runplan``), create its Job
once, compute its status (``runstatus``) and write it through ``writer``, with an Event and metrics
on every change of code. Scheduling (coalescing, retries, the TTL's wake-up) is the reconciler's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pydantic

from textclf.api import codes, trainingrun
from textclf_operator import builders, metrics, runplan, runstatus, stored, workqueue, writer
from textclf_operator.cache import JOBS, MODELS, PODS, RUNS, TEMPLATES

if TYPE_CHECKING:
    from textclf_operator.reconciler import Reconciler

log = logging.getLogger(__name__)

EVENT_REASONS = {
    codes.StatusCode.QUEUED: "Queued",
    codes.StatusCode.TRAINING: "Training",
    codes.StatusCode.TRAINED: "Trained",
    codes.StatusCode.FAILED: "TrainingFailed",
}


async def reconcile(rec: Reconciler, namespace: str, name: str) -> None:
    run = rec.objects.get(RUNS, namespace, name)
    if run is None or (run.get("metadata") or {}).get("deletionTimestamp"):
        return  # garbage collection removes the Job and Pods
    previous = stored.status(run, trainingrun.TrainingRunStatus)
    try:
        spec = trainingrun.TrainingRunSpec.model_validate(run.get("spec") or {})
    except pydantic.ValidationError as err:
        status = runplan.invalid_spec_status(previous, run, str(err), rec.clock())
        await _write(rec, run, previous, status)
        return
    uid = run["metadata"]["uid"]
    jname = builders.job_name(name)
    job = rec.objects.get(JOBS, namespace, jname)
    if job is not None and not writer.owned_by(job, uid):
        job = None  # a Job of an earlier run of the same name, on its way out
    plan = runplan.JobPlan()
    refused: str | None = None
    job_lost = False
    if job is None and not previous.job_name and previous.code not in runstatus.TERMINAL:
        plan = runplan.plan_job(
            run,
            spec,
            model_obj=rec.objects.get(MODELS, namespace, spec.model_ref.name),
            template_obj=lambda t: rec.objects.get(TEMPLATES, "", t),
            settings=rec.settings,
        )
        if plan.job is not None:
            created = await rec.writer.create_job(plan.job, run, "run")
            job, refused = created.job, created.rejected
            if created.invalid:
                plan = runplan.JobPlan(invalid=created.invalid)
    elif job is None and previous.code not in runstatus.TERMINAL:
        job = await rec.writer.read_job(namespace, previous.job_name or jname, run)
        job_lost = job is None
    if job is not None:
        suspend = runplan.suspend_change(job, spec)
        if suspend is not None:
            job = await rec.writer.set_job_suspend(job, suspend)
    status = runstatus.compute(
        runstatus.Observed(
            run=run,
            previous=previous,
            job=job,
            pods=runplan.pods_of(
                job, rec.objects.select(PODS, namespace, {builders.RUN_LABEL: name})
            ),
            invalid=plan.invalid,
            job_lost=job_lost,
            progress=rec.latest_progress((namespace, name)),
            now=rec.clock(),
            waiting=plan.waiting,
            refused=refused,
        )
    )
    await _write(rec, run, previous, status)
    if refused:
        raise workqueue.RetryLater(refused)  # the status says why; the queue backs off
    due = runstatus.expiry(status, spec.ttl_seconds_after_finished)
    if job is not None and due is not None:
        wait = (due - rec.clock()).total_seconds()
        if wait > 0:
            rec.run_after(wait, namespace, name)
        else:
            # The status already holds the result, so nothing is lost, however long the
            # operator was away.
            await rec.writer.delete(JOBS, "Job", job)
            log.info("deleted Job %s/%s: its run finished and its TTL is over", namespace, name)


async def _write(
    rec: Reconciler,
    run: Mapping[str, Any],
    previous: trainingrun.TrainingRunStatus,
    status: trainingrun.TrainingRunStatus,
) -> None:
    wire = status.to_wire()
    if wire == previous.to_wire():
        return
    await rec.writer.status(RUNS, trainingrun.KIND, run, wire)
    if status.code != previous.code or status.detail_code != previous.detail_code:
        await _transition(rec, run, previous, status)
    await rec.writer.refusal_event(run, trainingrun.KIND, previous.conditions, status.conditions)
    namespace, model = run["metadata"]["namespace"], run["spec"]["modelRef"]["name"]
    rec.model(namespace, model)
    if status.code != previous.code:
        rec.evaluations_waiting(namespace, model)


async def _transition(
    rec: Reconciler,
    run: Mapping[str, Any],
    previous: trainingrun.TrainingRunStatus,
    status: trainingrun.TrainingRunStatus,
) -> None:
    code = status.code
    if code is None:
        return
    metrics.TRANSITIONS.labels(code).inc()
    if code == codes.StatusCode.TRAINING and previous.start_time is None and status.start_time:
        created = runstatus.parse_time(run["metadata"].get("creationTimestamp"))
        if created is not None:
            metrics.QUEUE_WAIT.observe((status.start_time - created).total_seconds())
    if code in runstatus.TERMINAL and status.start_time and status.completion_time:
        metrics.DURATION.labels(code).observe(
            (status.completion_time - status.start_time).total_seconds()
        )
    await rec.writer.event(
        run,
        trainingrun.KIND,
        reason=EVENT_REASONS[code],
        message=status.description or code,
        warning=code == codes.StatusCode.FAILED,
    )
