"""One level-based reconcile per object: the single writer of TrainingRun and TextClassifierModel status.

Every watch event and every accepted progress report ends here. A run's reconcile reads the cache
(its Job, its Pods, its model and template), creates the Job if the run has none yet, computes the
status with ``runstatus`` and writes it only when it changed, with an Event and metrics on every
change of code. A model's reconcile resolves ``spec.serving`` to a version (``servingstatus``),
applies the predictor Deployment and Service (``predictors``) only where the cached ones differ,
removes them when serving is off, and computes the model's status from its runs and the Deployment.
Asks for a reconcile go through a work queue (``workqueue``): they coalesce per object, a bounded
set of workers runs them, reconciles of one object never overlap, and a failed one is retried with
backoff.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pydantic

from textclf.api import codes, serving, textclassifiermodel, trainingrun, trainingtemplate
from textclf.api import conditions as conds
from textclf_operator import (
    builders,
    cache,
    config,
    evalreconcile,
    kube,
    metrics,
    modelstatus,
    params,
    predictors,
    runstatus,
    servingstatus,
    stored,
    templatestatus,
    workqueue,
)
from textclf_operator.cache import (
    DEPLOYMENTS,
    EVALUATIONS,
    JOBS,
    MODELS,
    PODS,
    RUNS,
    SERVICES,
    TEMPLATES,
)

log = logging.getLogger(__name__)

WORKERS = 8
"""Reconciles at once (each spends most of its time waiting on the API server)."""

PREDICTOR_KINDS = {DEPLOYMENTS: "Deployment", SERVICES: "Service"}
"""The objects the operator makes for a served model: cache kind -> Kubernetes kind."""
SERVING_TROUBLE = (
    conds.REASON_UNAVAILABLE,
    conds.REASON_VERSION_NOT_FOUND,
    conds.REASON_PREDICTOR_REFUSED,
)
"""Serving reasons that get a Warning Event when the condition turns to them."""

EVENT_REASONS = {
    codes.StatusCode.QUEUED: "Queued",
    codes.StatusCode.TRAINING: "Training",
    codes.StatusCode.TRAINED: "Trained",
    codes.StatusCode.FAILED: "TrainingFailed",
}


def _owner_of(obj: Mapping[str, Any]) -> str:
    owners = (obj.get("metadata") or {}).get("ownerReferences") or []
    if not owners:
        return "no owner (made by hand)"
    return ", ".join(f"{o.get('kind')} {o.get('name')} (uid {o.get('uid')})" for o in owners)


def _refusal(conditions: Sequence[conds.Condition]) -> conds.Condition | None:
    """The Queued condition when it says the Job was refused."""
    return next(
        (
            c
            for c in conditions
            if c.type == conds.QUEUED
            and c.status == "True"
            and c.reason == conds.REASON_JOB_REFUSED
        ),
        None,
    )


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


class Reconciler:
    """Reconciles runs and models from the cache; owned by the running operator."""

    def __init__(
        self,
        *,
        settings: config.Config,
        objects: cache.Cache,
        latest_progress: Callable[[cache.Key], trainingrun.Progress | None],
        clock: Callable[[], datetime.datetime] = utcnow,
        workers: int = WORKERS,
    ) -> None:
        self.settings = settings
        self.objects = objects
        self.latest_progress = latest_progress
        self.clock = clock
        self.queue: workqueue.WorkQueue[tuple[str, cache.Key]] = workqueue.WorkQueue(
            self._dispatch, workers=workers
        )
        self._applied: dict[tuple[str, cache.Key], tuple[str, int | None]] = {}
        """Per predictor object: (uid, generation) our last apply left, to notice hand edits."""

    # --- scheduling ------------------------------------------------------------------------------
    # Every ask for a reconcile goes to the work queue and returns at once: events coalesce, a
    # bounded set of workers reconciles, one object is never reconciled twice at the same time,
    # and a failed reconcile comes back with backoff (``workqueue``).

    def start(self) -> None:
        self.queue.start()

    async def stop(self) -> None:
        await self.queue.stop()

    def run(self, namespace: str, name: str) -> None:
        self.queue.add((RUNS, (namespace, name)))

    def model(self, namespace: str, name: str) -> None:
        self.queue.add((MODELS, (namespace, name)))

    def evaluation(self, namespace: str, name: str) -> None:
        self.queue.add((EVALUATIONS, (namespace, name)))

    def template(self, name: str) -> None:
        self.queue.add((TEMPLATES, ("", name)))

    def evaluations_waiting(self, namespace: str, model: str | None = None) -> None:
        """Reconcile the evaluations that have no Job yet (of ``model``): what they wait for may
        have come (a trained version, the model, a template)."""
        for key in evalreconcile.waiting(self, namespace, model):
            self.evaluation(*key)

    async def _dispatch(self, item: tuple[str, cache.Key]) -> None:
        kind, key = item
        work = {
            RUNS: self._reconcile_run,
            MODELS: self._reconcile_model,
            EVALUATIONS: self._reconcile_evaluation,
            TEMPLATES: self._reconcile_template,
        }[kind]
        try:
            await work(*key)
        except Exception:
            metrics.RECONCILE_ERRORS.labels(kind).inc()
            raise

    async def _reconcile_evaluation(self, namespace: str, name: str) -> None:
        await evalreconcile.reconcile(self, namespace, name)

    def forget(self, kind: str, key: cache.Key) -> None:
        """Drop what is kept for a deleted object (its retry, its failure count)."""
        self.queue.forget((kind, key))
        if kind == MODELS:  # its predictor objects go by garbage collection
            for plural in PREDICTOR_KINDS:
                self._applied.pop((plural, (key[0], serving.predictor_name(key[1]))), None)

    def runs_waiting(self, namespace: str | None = None) -> list[cache.Key]:
        """Runs without a Job yet (e.g. refused for a missing template), to retry when one appears."""
        waiting = []
        for run in self.objects.all(RUNS, namespace):
            status = run.get("status") or {}
            if not status.get("jobName") and status.get("code") not in runstatus.TERMINAL:
                meta = run["metadata"]
                waiting.append((meta["namespace"], meta["name"]))
        return waiting

    # --- TrainingRun -----------------------------------------------------------------------------

    def _reference(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get(kind, namespace, name)

    async def _plan_job(
        self, run: Mapping[str, Any], spec: trainingrun.TrainingRunSpec
    ) -> tuple[str | None, str | None, dict[str, Any] | None]:
        """(why no Job may ever be made, what the run waits for, the Job to create)."""
        namespace = run["metadata"]["namespace"]
        model_obj = self._reference(MODELS, namespace, spec.model_ref.name)
        if model_obj is None:
            return (
                None,
                f"spec.modelRef.name: TextClassifierModel {spec.model_ref.name!r} does not exist "
                f"yet in namespace {namespace}",
                None,
            )
        try:
            model = textclassifiermodel.TextClassifierModelSpec.model_validate(model_obj["spec"])
        except pydantic.ValidationError as err:
            return None, f"the model is malformed: {err}", None
        name = spec.template or model.template  # the model's template is the default of its runs
        if name is None:
            return (
                f"spec.template: the run names no template, and neither does its model "
                f"{spec.model_ref.name!r} (spec.template)",
                None,
                None,
            )
        spec = spec.model_copy(update={"template": name})
        template_obj = self._reference(TEMPLATES, "", name)
        if template_obj is None:
            return None, f"spec.template: TrainingTemplate {name!r} does not exist yet", None
        try:
            template = trainingtemplate.TrainingTemplateSpec.model_validate(template_obj["spec"])
        except pydantic.ValidationError as err:
            return None, f"the template is malformed: {err}", None
        merged = params.merge(template.defaults, model.params, spec.params)
        found = params.problems(merged, template.params_schema)
        if found:
            return f"params break template {spec.template!r}: " + "; ".join(found), None, None
        from_model: dict[str, Any] = {}
        if model.concepts:
            from_model["concepts"] = list(model.concepts)
        if model.multi_label:
            from_model["multi_label"] = True
        manifest = builders.job(
            run=run,
            spec=spec,
            template=template,
            merged_params=params.merge(merged, from_model),
            settings=self.settings,
        )
        return None, None, manifest

    def _own_job(self, run: Mapping[str, Any], job: Mapping[str, Any] | None) -> bool:
        if job is None:
            return False
        owners = (job.get("metadata") or {}).get("ownerReferences") or []
        return any(o.get("uid") == run["metadata"]["uid"] for o in owners)

    async def _reconcile_run(self, namespace: str, name: str) -> None:
        run = self.objects.get(RUNS, namespace, name)
        if run is None:
            return
        if (run.get("metadata") or {}).get("deletionTimestamp"):
            return  # garbage collection removes the Job and Pods
        previous = stored.status(run, trainingrun.TrainingRunStatus)
        try:
            spec = trainingrun.TrainingRunSpec.model_validate(run.get("spec") or {})
        except pydantic.ValidationError as err:
            await self._write_run(
                run, previous, _invalid_spec_status(previous, run, str(err), self.clock())
            )
            return
        jname = builders.job_name(name)
        job = self.objects.get(JOBS, namespace, jname)
        if job is not None and not self._own_job(run, job):
            job = None  # a Job of an earlier run of the same name, on its way out
        invalid: str | None = None
        waiting: str | None = None
        refused: str | None = None
        job_lost = False
        if job is None and not previous.job_name and previous.code not in runstatus.TERMINAL:
            invalid, waiting, manifest = await self._plan_job(run, spec)
            created = None
            if manifest is not None:
                try:
                    created = await asyncio.to_thread(kube.create_job, manifest)
                except kube.Refused as err:  # the API server refuses this Job: say why
                    invalid = f"the training Job was refused: {err}"
                except kube.Rejected as err:  # not now (quota, webhook): say why, retry
                    refused = err.describe(jname)
            if created is not None and not self._own_job(run, created):
                refused = (
                    f"Job {jname} already exists and belongs to {_owner_of(created)}, not to "
                    "this run; retrying with backoff until it is gone"
                )
            elif created is not None:
                self.objects.put(JOBS, created)
                job = created
        elif job is None and previous.code not in runstatus.TERMINAL:
            job = await asyncio.to_thread(kube.read_job, namespace, previous.job_name or jname)
            if job is not None and self._own_job(run, job):
                self.objects.put(JOBS, job)
            else:
                job, job_lost = None, True
        if job is not None and spec.queue_name is None:
            job = await self._sync_suspend(job, spec)
        pods = [
            p
            for p in self.objects.select(PODS, namespace, {builders.RUN_LABEL: name})
            if job is not None
            and (p["metadata"].get("labels") or {}).get("batch.kubernetes.io/controller-uid")
            == job["metadata"].get("uid")
        ]
        status = runstatus.compute(
            runstatus.Observed(
                run=run,
                previous=previous,
                job=job,
                pods=pods,
                invalid=invalid,
                job_lost=job_lost,
                progress=self.latest_progress((namespace, name)),
                now=self.clock(),
                waiting=waiting,
                refused=refused,
            )
        )
        await self._write_run(run, previous, status)
        if refused:
            raise workqueue.RetryLater(refused)  # the status says why; the queue backs off
        due = runstatus.expiry(status, spec.ttl_seconds_after_finished)
        if job is not None and due is not None:
            await self._expire_job((namespace, name), job, due)

    async def _expire_job(
        self, run: cache.Key, job: Mapping[str, Any], due: datetime.datetime
    ) -> None:
        """Delete a finished run's Job (and so its Pods) once ``due``: the status already holds
        the result, so nothing is lost, however long the operator was away."""
        wait = (due - self.clock()).total_seconds()
        if wait > 0:
            self.queue.add_after(wait, (RUNS, run))
            return
        meta = job["metadata"]
        await asyncio.to_thread(kube.delete, "Job", meta["namespace"], meta["name"], meta["uid"])
        self.objects.remove(JOBS, meta["namespace"], meta["name"])
        log.info("deleted Job %s/%s: its run finished and its TTL is over", *run)

    async def _sync_suspend(
        self, job: dict[str, Any], spec: trainingrun.TrainingRunSpec
    ) -> dict[str, Any]:
        finished = any(
            c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
            for c in (job.get("status") or {}).get("conditions") or []
        )
        if finished or bool((job.get("spec") or {}).get("suspend")) == spec.suspend:
            return job
        meta = job["metadata"]
        await asyncio.to_thread(kube.set_job_suspend, meta["namespace"], meta["name"], spec.suspend)
        updated = {**job, "spec": {**job["spec"], "suspend": spec.suspend}}
        self.objects.put(JOBS, updated)
        return updated

    async def _write_run(
        self,
        run: Mapping[str, Any],
        previous: trainingrun.TrainingRunStatus,
        status: trainingrun.TrainingRunStatus,
    ) -> None:
        wire = status.to_wire()
        if wire == previous.to_wire():
            return
        await self.write_status(RUNS, trainingrun.KIND, run, wire)
        if status.code != previous.code or status.detail_code != previous.detail_code:
            await self._transition(run, previous, status)
        await self.refusal_event(run, trainingrun.KIND, previous.conditions, status.conditions)
        self._count_runs()
        namespace, model = run["metadata"]["namespace"], run["spec"]["modelRef"]["name"]
        self.model(namespace, model)
        if status.code != previous.code:
            self.evaluations_waiting(namespace, model)

    async def _transition(
        self,
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
        await self.post_event(
            run,
            trainingrun.KIND,
            reason=EVENT_REASONS[code],
            message=status.description or code,
            warning=code == codes.StatusCode.FAILED,
        )

    async def refusal_event(
        self,
        body: Mapping[str, Any],
        kind: str,
        before: Sequence[conds.Condition],
        after: Sequence[conds.Condition],
    ) -> None:
        """A Warning Event when a run's or an evaluation's Job has just been refused (once per
        refusal, not per retry)."""
        refused = _refusal(after)
        if refused is not None and _refusal(before) is None:
            await self.post_event(
                body, kind, reason=conds.REASON_JOB_REFUSED, message=refused.message, warning=True
            )

    def _count_runs(self) -> None:
        counts = dict.fromkeys(codes.StatusCode, 0)
        for run in self.objects.all(RUNS):
            code = (run.get("status") or {}).get("code")
            if code in counts:
                counts[codes.StatusCode(code)] += 1
        for code, count in counts.items():
            metrics.RUNS.labels(code).set(count)

    # --- TrainingTemplate -----------------------------------------------------------------------

    async def _reconcile_template(self, _namespace: str, name: str) -> None:
        template = self.objects.get(TEMPLATES, "", name)
        if template is None or (template.get("metadata") or {}).get("deletionTimestamp"):
            return
        wire = templatestatus.compute(template, self.clock()).to_wire()
        if wire != stored.status(template, trainingtemplate.TrainingTemplateStatus).to_wire():
            await self.write_status(TEMPLATES, trainingtemplate.KIND, template, wire)

    # --- TextClassifierModel ---------------------------------------------------------------------

    async def _reconcile_model(self, namespace: str, name: str) -> None:
        model = self.objects.get(MODELS, namespace, name)
        if model is None or (model.get("metadata") or {}).get("deletionTimestamp"):
            return  # garbage collection removes the predictor Deployment and Service
        spec = textclassifiermodel.TextClassifierModelSpec.model_validate(model.get("spec") or {})
        in_namespace = self.objects.all(RUNS, namespace)
        runs = [
            r for r in in_namespace if (r.get("spec") or {}).get("modelRef", {}).get("name") == name
        ]
        now = self.clock()
        choice = servingstatus.choose(
            model, spec.serving, in_namespace, modelstatus.latest_version(runs, now)
        )
        refused: str | None = None
        if choice.served is not None:
            refused = await self._apply_predictor(model, choice.served)
        elif not choice.enabled:
            await self._remove_predictor(model)
        # else: the spec names no servable version; a predictor already running is left as it is
        observed = servingstatus.Observed(
            choice=choice, deployment=self._predictor(DEPLOYMENTS, model), refused=refused
        )
        status = modelstatus.compute(model, runs, now, observed)
        wire = status.to_wire()
        old = stored.status(model, textclassifiermodel.TextClassifierModelStatus)
        if wire == old.to_wire():
            return
        await self.write_status(MODELS, textclassifiermodel.KIND, model, wire)
        await self._model_events(model, old, status)

    async def _model_events(
        self,
        model: Mapping[str, Any],
        old: textclassifiermodel.TextClassifierModelStatus,
        status: textclassifiermodel.TextClassifierModelStatus,
    ) -> None:
        was = old.latest_version.run if old.latest_version else None
        now_latest = status.latest_version.run if status.latest_version else None
        if now_latest and now_latest != was:
            await self.post_event(
                model,
                textclassifiermodel.KIND,
                reason="VersionTrained",
                message=f"version {now_latest} is now the latest trained version",
            )
        served_before = old.serving.version if old.serving else None
        served = status.serving.version if status.serving else None
        if served and served != served_before:
            await self.post_event(
                model,
                textclassifiermodel.KIND,
                reason="ServedVersionChanged",
                message=f"the predictor rolls out version {served}"
                + (f" (was {served_before})" if served_before else ""),
            )
        before = conds.find(old.conditions, conds.SERVING)
        after = conds.find(status.conditions, conds.SERVING)
        if (
            after is not None
            and after.reason in SERVING_TROUBLE
            and (before is None or before.reason != after.reason)
        ):
            await self.post_event(
                model,
                textclassifiermodel.KIND,
                reason=f"Serving{after.reason}",
                message=after.message,
                warning=True,
            )

    def _predictor(self, plural: str, model: Mapping[str, Any]) -> dict[str, Any] | None:
        """The model's own predictor object of ``plural`` in the cache, if any."""
        meta = model["metadata"]
        held = self.objects.get(plural, meta["namespace"], serving.predictor_name(meta["name"]))
        if held is None or not predictors.controlled_by(held, meta["uid"]):
            return None
        return held

    async def _apply_predictor(
        self, model: Mapping[str, Any], served: predictors.Served
    ) -> str | None:
        """Make the predictor Service and Deployment what ``served`` wants, writing only what
        differs; why the API server refused them, if it did."""
        meta = model["metadata"]
        namespace, name = meta["namespace"], serving.predictor_name(meta["name"])
        wanted = {
            SERVICES: predictors.service(model),
            DEPLOYMENTS: predictors.deployment(served, self.settings),
        }
        for plural, manifest in wanted.items():
            kind = PREDICTOR_KINDS[plural]
            held = self.objects.get(plural, namespace, name)
            if held is not None and not predictors.controlled_by(held, meta["uid"]):
                return (
                    f"a {kind} named {name} exists that this model does not control (an earlier "
                    "model of the same name on its way out, or someone else's); it is left alone"
                )
            if held is not None and self._current(plural, held, manifest):
                continue
            try:
                applied = await asyncio.to_thread(kube.apply, manifest)
            except kube.Refused as refused:
                return f"the API server refused the predictor {kind}: {refused}"
            self.objects.put(plural, applied)
            self._applied[(plural, (namespace, name))] = (
                applied["metadata"]["uid"],
                applied["metadata"].get("generation"),
            )
        return None

    def _current(self, plural: str, held: Mapping[str, Any], manifest: Mapping[str, Any]) -> bool:
        """Whether ``held`` already is what ``manifest`` asks: the same hash, and no spec change by
        anyone else since our last apply (a Deployment's generation moves with its spec)."""
        if predictors.applied_hash(held) != predictors.applied_hash(manifest):
            return False
        meta = held["metadata"]
        last = self._applied.get((plural, (meta["namespace"], meta["name"])))
        return last is None or last == (meta["uid"], meta.get("generation"))

    async def _remove_predictor(self, model: Mapping[str, Any]) -> None:
        """Delete the model's predictor Deployment and Service, if it has them."""
        for plural, kind in PREDICTOR_KINDS.items():
            held = self._predictor(plural, model)
            if held is None:
                continue
            meta = held["metadata"]
            await asyncio.to_thread(kube.delete, kind, meta["namespace"], meta["name"], meta["uid"])
            self.objects.remove(plural, meta["namespace"], meta["name"])
            self._applied.pop((plural, (meta["namespace"], meta["name"])), None)

    # --- writes ----------------------------------------------------------------------------------

    async def write_status(
        self, plural: str, kind: str, body: Mapping[str, Any], wire: dict[str, Any]
    ) -> None:
        """The one place status is written, for every kind; the cache keeps what was stored."""
        meta = body["metadata"]
        stored = await asyncio.to_thread(
            kube.write_status, plural, meta.get("namespace") or "", meta["name"], meta["uid"], wire
        )
        metrics.STATUS_WRITES.labels(kind).inc()
        self.objects.put(plural, stored)

    async def post_event(
        self,
        body: Mapping[str, Any],
        kind: str,
        *,
        reason: str,
        message: str,
        warning: bool = False,
    ) -> None:
        """An Event about ``body``; best effort: a lost Event never blocks a status write."""
        try:
            await asyncio.to_thread(
                kube.post_event,
                {**body, "kind": kind},
                reason=reason,
                message=message,
                warning=warning,
            )
        except Exception as err:
            log.warning("could not post an Event for %s: %s", body["metadata"]["name"], err)


def _invalid_spec_status(
    previous: trainingrun.TrainingRunStatus,
    run: Mapping[str, Any],
    message: str,
    now: datetime.datetime,
) -> trainingrun.TrainingRunStatus:
    return runstatus.compute(
        runstatus.Observed(
            run=run,
            previous=previous,
            job=None,
            pods=[],
            invalid=f"spec is invalid: {message}",
            job_lost=False,
            progress=None,
            now=now,
        )
    )
