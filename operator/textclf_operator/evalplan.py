"""Pure planning of a ModelEvaluation: which version it evaluates, where its results go, and its Job.

From the cached model, its runs and the templates, either the Job to create (with the resolved
version and output), or why not yet (``waiting``: the model, the version or its template is still to
come, as with GitOps any object may arrive first), or why never (``refused``: the version failed).
A version is pinned once resolved: a newer trained version does not change what an evaluation of
"the latest" evaluates after its Job exists.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pydantic

from textclf.api import channels, codes, modelevaluation, trainingrun, trainingtemplate
from textclf_operator import config, evaljobs, evalstatus, modelstatus


@dataclasses.dataclass(frozen=True)
class Plan:
    resolved: evalstatus.Resolved | None = None
    output: str | None = None
    waiting: str | None = None
    refused: tuple[modelevaluation.DetailCode, str] | None = None
    job: dict[str, Any] | None = None


def _version(
    spec: modelevaluation.ModelEvaluationSpec,
    pinned: str | None,
    runs: Sequence[Mapping[str, Any]],
    now: datetime.datetime,
) -> tuple[Mapping[str, Any] | None, str | None]:
    """(the run to evaluate, or None with what is awaited)."""
    name = spec.version or pinned
    model = spec.model_ref.name
    if name is None:
        latest = modelstatus.latest_version(runs, now)
        if latest is None:
            return None, f"model {model!r} has no trained version yet"
        name = latest.run
    run = next((r for r in runs if r["metadata"]["name"] == name), None)
    if run is None:
        return None, f"spec.version: TrainingRun {name!r} of model {model!r} does not exist yet"
    return run, None


def plan(
    evaluation: Mapping[str, Any],
    spec: modelevaluation.ModelEvaluationSpec,
    *,
    pinned: str | None,
    model: Mapping[str, Any] | None,
    runs: Sequence[Mapping[str, Any]],
    template: Callable[[str], Mapping[str, Any] | None],
    settings: config.Config,
    now: datetime.datetime,
) -> Plan:
    """The plan for ``evaluation``; ``runs`` are its model's, ``template`` looks one up by name."""
    meta = evaluation["metadata"]
    if model is None:
        return Plan(
            waiting=f"spec.modelRef.name: TextClassifierModel {spec.model_ref.name!r} does not "
            f"exist yet in namespace {meta['namespace']}"
        )
    run, waiting = _version(spec, pinned, runs, now)
    if run is None:
        return Plan(waiting=waiting)
    version = run["metadata"]["name"]
    status = trainingrun.TrainingRunStatus.model_validate(run.get("status") or {})
    if status.code == codes.StatusCode.FAILED:
        return Plan(
            refused=(
                modelevaluation.DetailCode.VERSION_NOT_TRAINED,
                f"version {version} failed to train ({status.detail_code}): nothing to evaluate",
            )
        )
    if status.code != codes.StatusCode.TRAINED:
        code = status.code or codes.StatusCode.QUEUED
        return Plan(
            waiting=f"version {version} is {code}: the evaluation starts once it is trained"
        )
    if status.artifact is None:
        return Plan(
            refused=(
                modelevaluation.DetailCode.VERSION_NOT_TRAINED,
                f"version {version} is trained but recorded no artifact",
            )
        )
    resolved = evalstatus.Resolved(version=version, artifact=status.artifact)
    output = (
        spec.output.uri
        if spec.output
        else evaljobs.default_output(status.artifact.uri, meta["name"])
    )
    name = (run.get("spec") or {}).get("template") or (model.get("spec") or {}).get("template")
    held = template(name) if name else None
    if held is None:
        return Plan(
            resolved=resolved,
            output=output,
            waiting=f"TrainingTemplate {name!r} of version {version} (its image evaluates) "
            "does not exist",
        )
    try:
        image = trainingtemplate.TrainingTemplateSpec.model_validate(held["spec"])
    except pydantic.ValidationError as err:
        return Plan(resolved=resolved, output=output, waiting=f"the template is malformed: {err}")
    request = channels.EvaluationRequest(
        name=meta["name"],
        namespace=meta["namespace"],
        artifact=status.artifact,
        dataset=spec.dataset,
        output=trainingrun.Output(uri=output),
    )
    manifest = evaljobs.job(
        evaluation=evaluation, spec=spec, request=request, template=image, settings=settings
    )
    return Plan(resolved=resolved, output=output, job=manifest)
