"""Scheduling of the reconciles: the one entry point for every ask to reconcile an object.

Every watch event, every resync and every accepted progress report asks here; the ask goes to a
work queue (``workqueue``) and returns at once: asks coalesce per object, a bounded set of workers
runs them, reconciles of one object never overlap, and a failed one comes back with backoff. What a
reconcile does is in one module per kind (``runreconcile``, ``modelreconcile``, ``evalreconcile``),
each planning with pure functions and writing through ``writer``, the single writer of status.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from textclf.api import trainingrun, trainingtemplate
from textclf_operator import (
    cache,
    config,
    evalreconcile,
    metrics,
    modelreconcile,
    runplan,
    runreconcile,
    stored,
    templatestatus,
    workqueue,
    writer,
)
from textclf_operator.cache import EVALUATIONS, MODELS, RUNS, TEMPLATES


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


class Reconciler:
    """Schedules the reconciles of runs, models, evaluations and templates; owned by the running
    operator. The reconciles read ``objects``, ``settings``, ``clock`` and ``latest_progress`` from
    it, write through ``writer`` and ask it for further reconciles."""

    def __init__(
        self,
        *,
        settings: config.Config,
        objects: cache.Cache,
        latest_progress: Callable[[cache.Key], trainingrun.Progress | None],
        clock: Callable[[], datetime.datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.objects = objects
        self.latest_progress = latest_progress
        self.clock = clock
        self.queue: workqueue.WorkQueue[tuple[str, cache.Key]] = workqueue.WorkQueue(
            self._dispatch, workers=settings.workers
        )
        self.writer = writer.Writer(objects, threads=settings.workers)  # a thread per worker
        self.applied: modelreconcile.Applied = {}
        metrics.count_runs(
            lambda: [(run.get("status") or {}).get("code") for run in objects.all(RUNS)]
        )

    def start(self) -> None:
        self.queue.start()

    async def stop(self) -> None:
        await self.queue.stop()
        self.writer.close()

    def run(self, namespace: str, name: str) -> None:
        self.queue.add((RUNS, (namespace, name)))

    def model(self, namespace: str, name: str) -> None:
        self.queue.add((MODELS, (namespace, name)))

    def evaluation(self, namespace: str, name: str) -> None:
        self.queue.add((EVALUATIONS, (namespace, name)))

    def template(self, name: str) -> None:
        self.queue.add((TEMPLATES, ("", name)))

    def run_after(self, seconds: float, namespace: str, name: str) -> None:
        """Reconcile a run again in ``seconds`` (its finished Job's TTL)."""
        self.queue.add_after(seconds, (RUNS, (namespace, name)))

    def evaluations_waiting(self, namespace: str, model: str | None = None) -> None:
        """Reconcile the evaluations that have no Job yet (of ``model``): what they wait for may
        have come (a trained version, the model, a template)."""
        for key in evalreconcile.waiting(self, namespace, model):
            self.evaluation(*key)

    async def _dispatch(self, item: tuple[str, cache.Key]) -> None:
        kind, key = item
        work = {
            RUNS: runreconcile.reconcile,
            MODELS: modelreconcile.reconcile,
            EVALUATIONS: evalreconcile.reconcile,
            TEMPLATES: _reconcile_template,
        }[kind]
        try:
            await work(self, *key)
        except Exception:
            metrics.RECONCILE_ERRORS.labels(kind).inc()
            raise

    def forget(self, kind: str, key: cache.Key) -> None:
        """Drop what is kept for a deleted object (its retry, its failure count)."""
        self.queue.forget((kind, key))
        if kind == MODELS:  # its predictor objects go by garbage collection
            modelreconcile.forget(self.applied, key)

    def runs_waiting(
        self, namespace: str | None = None, model: str | None = None
    ) -> list[cache.Key]:
        """Runs without a Job yet (e.g. refused for a missing model or template), to retry when it
        appears: all of them, those of ``namespace``, or of ``model`` in it."""
        if namespace is not None and model is not None:
            return runplan.waiting_for_job(
                self.objects.indexed(RUNS, namespace, cache.MODEL, model)
            )
        return runplan.waiting_for_job(self.objects.all(RUNS, namespace))


async def _reconcile_template(rec: Reconciler, _namespace: str, name: str) -> None:
    template = rec.objects.get(TEMPLATES, "", name)
    if template is None or (template.get("metadata") or {}).get("deletionTimestamp"):
        return
    wire = templatestatus.compute(template, rec.clock()).to_wire()
    if wire != stored.status(template, trainingtemplate.TrainingTemplateStatus).to_wire():
        await rec.writer.status(TEMPLATES, trainingtemplate.KIND, template, wire)
