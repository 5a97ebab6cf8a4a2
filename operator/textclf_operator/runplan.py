"""What a TrainingRun's reconcile should do, decided from what the cache holds: pure functions.

The run's model and template (and whether they exist yet) decide whether a Job can be made, why it
can never be (bad params, no template), or what the run waits for; ``runreconcile`` reads the cache,
asks here, then writes through ``writer``. Nothing here talks to the API server, so every branch is
a unit test away.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pydantic

from textclf.api import textclassifiermodel, trainingrun, trainingtemplate
from textclf_operator import builders, config, params, runstatus

CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
"""The label the Job controller puts on its Pods: which Job (by uid) made them."""


@dataclasses.dataclass(frozen=True)
class JobPlan:
    """The Job to create, or why there is none: never possible (``invalid``) or not yet (``waiting``)."""

    job: dict[str, Any] | None = None
    invalid: str | None = None
    waiting: str | None = None


def plan_job(
    run: Mapping[str, Any],
    spec: trainingrun.TrainingRunSpec,
    *,
    model_obj: Mapping[str, Any] | None,
    template_obj: Callable[[str], Mapping[str, Any] | None],
    settings: config.Config,
) -> JobPlan:
    """The run's Job from its model, its template (looked up by name) and the params of all three;
    a run without ``spec.output`` writes to its own folder of the install's artifact store."""
    namespace = run["metadata"]["namespace"]
    if spec.output is None:
        if not settings.artifact_store:
            return JobPlan(
                invalid="spec.output: left out, and this install has no artifact store to write "
                "to (the chart's artifactStore value)"
            )
        uri = trainingrun.store_uri(
            settings.artifact_store, namespace, spec.model_ref.name, run["metadata"]["name"]
        )
        spec = spec.model_copy(update={"output": trainingrun.Output(uri=uri)})
    if model_obj is None:
        return JobPlan(
            waiting=f"spec.modelRef.name: TextClassifierModel {spec.model_ref.name!r} does not "
            f"exist yet in namespace {namespace}"
        )
    try:
        model = textclassifiermodel.TextClassifierModelSpec.model_validate(model_obj["spec"])
    except pydantic.ValidationError as err:
        return JobPlan(waiting=f"the model is malformed: {err}")
    name = spec.template or model.template  # the model's template is the default of its runs
    if name is None:
        return JobPlan(
            invalid=f"spec.template: the run names no template, and neither does its model "
            f"{spec.model_ref.name!r} (spec.template)"
        )
    spec = spec.model_copy(update={"template": name})
    found_template = template_obj(name)
    if found_template is None:
        return JobPlan(waiting=f"spec.template: TrainingTemplate {name!r} does not exist yet")
    try:
        template = trainingtemplate.TrainingTemplateSpec.model_validate(found_template["spec"])
    except pydantic.ValidationError as err:
        return JobPlan(waiting=f"the template is malformed: {err}")
    merged = params.merge(template.defaults, model.params, spec.params)
    problems = params.problems(merged, template.params_schema)
    if problems:
        return JobPlan(invalid=f"params break template {name!r}: " + "; ".join(problems))
    from_model: dict[str, Any] = {}
    if model.concepts:
        from_model["concepts"] = list(model.concepts)
    if model.multi_label:
        from_model["multi_label"] = True
    return JobPlan(
        job=builders.job(
            run=run,
            spec=spec,
            template=template,
            merged_params=params.merge(merged, from_model),
            settings=settings,
        )
    )


def pods_of(job: Mapping[str, Any] | None, pods: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Pods that ``job`` made (none without a Job)."""
    uid = ((job or {}).get("metadata") or {}).get("uid")
    if not uid:
        return []
    return [p for p in pods if (p["metadata"].get("labels") or {}).get(CONTROLLER_UID) == uid]


def suspend_change(job: Mapping[str, Any], spec: trainingrun.TrainingRunSpec) -> bool | None:
    """The ``suspend`` to set on an unfinished Job whose flag differs from the run's; else None.
    Runs with a ``queueName`` leave it to their queue (Kueue)."""
    if spec.queue_name is not None:
        return None
    finished = any(
        c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
        for c in (job.get("status") or {}).get("conditions") or []
    )
    if finished or bool((job.get("spec") or {}).get("suspend")) == spec.suspend:
        return None
    return spec.suspend


def waiting_for_job(runs: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Runs without a Job yet (e.g. refused for a missing template), to retry when one appears."""
    found = []
    for run in runs:
        status = run.get("status") or {}
        if not status.get("jobName") and status.get("code") not in runstatus.TERMINAL:
            meta = run["metadata"]
            found.append((meta["namespace"], meta["name"]))
    return found


def invalid_spec_status(
    previous: trainingrun.TrainingRunStatus,
    run: Mapping[str, Any],
    message: str,
    now: datetime.datetime,
) -> trainingrun.TrainingRunStatus:
    """The status of a run whose spec does not parse (it was admitted by an older schema)."""
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
