"""Pure computation of a model's serving: which version ``spec.serving`` asks for, and what its
predictor Deployment says about it (``status.serving`` and the ``Serving`` condition).

Two steps, because the reconciler acts between them: ``choose`` resolves ``spec.serving`` against the
runs of the model's namespace (the reconciler then applies or removes the predictor), and
``condition`` / ``status`` read the Deployment the watch saw. ``modelstatus`` folds both into the
model's status; nothing here does I/O.

A version that cannot be resolved (a typo in ``spec.serving.version``, the latest run deleted)
leaves a running predictor as it is: the condition says why the spec is not followed, and which
version still answers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from textclf.api import codes, textclassifiermodel, trainingrun
from textclf.api import conditions as conds
from textclf_operator import predictors, stored


@dataclasses.dataclass(frozen=True)
class Choice:
    """What ``spec.serving`` resolves to: a version to serve, or why there is none."""

    enabled: bool
    served: predictors.Served | None = None
    reason: str = conds.REASON_SERVING_DISABLED  # when ``served`` is None
    message: str = "spec.serving.enabled is false"


@dataclasses.dataclass(frozen=True)
class Observed:
    """What the reconciler saw and did for the model's predictor."""

    choice: Choice
    deployment: Mapping[str, Any] | None  # the model's own predictor Deployment, as watched
    refused: str | None = None  # why the API server refused the predictor, if it did


def _model_of(run: Mapping[str, Any]) -> str | None:
    name = ((run.get("spec") or {}).get("modelRef") or {}).get("name")
    return str(name) if name is not None else None


def _unservable(run: Mapping[str, Any]) -> str | None:
    """Why ``run`` cannot be served, or None if it can."""
    status = stored.status(run, trainingrun.TrainingRunStatus)
    name = run["metadata"]["name"]
    if status.code != codes.StatusCode.TRAINED:
        return f"TrainingRun {name!r} is {status.code or 'not started'}, not MODEL-TRAINED"
    if status.artifact is None or not status.artifact.uri:
        return f"TrainingRun {name!r} is MODEL-TRAINED but reported no artifact"
    return None


def _served(
    model: Mapping[str, Any], spec: textclassifiermodel.Serving, run: Mapping[str, Any]
) -> predictors.Served:
    status = stored.status(run, trainingrun.TrainingRunStatus)
    assert status.artifact is not None  # checked by _unservable
    return predictors.Served(
        model=model,
        serving=spec,
        version=run["metadata"]["name"],
        artifact_uri=status.artifact.uri,
        digest=status.artifact.digest,
        credentials=(run.get("spec") or {}).get("credentials"),
    )


def choose(
    model: Mapping[str, Any],
    spec: textclassifiermodel.Serving | None,
    run_named: Callable[[str], Mapping[str, Any] | None],
    latest: textclassifiermodel.Version | None,
) -> Choice:
    """The version ``model`` should serve. ``run_named``: the run of that name in the model's
    namespace, or None (a named version may be a run of another model, and the message should say
    so); ``latest``: the model's latest trained version (``modelstatus``)."""
    if spec is None or not spec.enabled:
        return Choice(enabled=False)
    meta = model["metadata"]
    if not spec.version:
        run = run_named(latest.run) if latest is not None else None
        if run is None:
            return Choice(
                enabled=True,
                reason=conds.REASON_NO_TRAINED_VERSION,
                message="spec.serving.version is empty (the latest trained version) and no run "
                "of this model has trained yet",
            )
        why = _unservable(run)
        if why is not None:  # the latest version went bad: a fault of ours, not the user's
            return Choice(enabled=True, reason=conds.REASON_NO_TRAINED_VERSION, message=why)
        return Choice(enabled=True, served=_served(model, spec, run))
    run = run_named(spec.version)
    why = None
    if run is None:
        why = f"TrainingRun {spec.version!r} does not exist in namespace {meta['namespace']}"
    elif _model_of(run) != meta["name"]:
        why = f"TrainingRun {spec.version!r} trains model {_model_of(run)!r}, not {meta['name']!r}"
    else:
        why = _unservable(run)
    if why is not None or run is None:
        return Choice(
            enabled=True,
            reason=conds.REASON_VERSION_NOT_FOUND,
            message=f"spec.serving.version: {why}",
        )
    return Choice(enabled=True, served=_served(model, spec, run))


def _count(status: Mapping[str, Any], key: str) -> int:
    return int(status.get(key) or 0)


def _deployment_condition(status: Mapping[str, Any], type_: str) -> Mapping[str, Any] | None:
    return next((c for c in status.get("conditions") or [] if c.get("type") == type_), None)


def _explained(cond: Mapping[str, Any]) -> str:
    """A Deployment condition in a person's words: its message, then type=status and reason."""
    said = cond.get("message") or "no message"
    return f"{said} ({cond.get('type')}={cond.get('status')}, {cond.get('reason')})"


def _rollout(version: str, deployment: Mapping[str, Any]) -> tuple[conds.ConditionStatus, str, str]:
    """(status, reason, message) of a predictor Deployment that runs the chosen ``version``."""
    desired = int((deployment.get("spec") or {}).get("replicas", 1))
    generation = int((deployment.get("metadata") or {}).get("generation") or 0)
    status = deployment.get("status") or {}
    if desired == 0:
        return "False", conds.REASON_SCALED_TO_ZERO, "spec.serving.replicas is 0"
    if _count(status, "observedGeneration") < generation:
        return (
            "Unknown",
            conds.REASON_ROLLING_OUT,
            f"rolling out version {version}: the Deployment controller has not yet observed "
            f"generation {generation} of the predictor Deployment",
        )
    total, updated = _count(status, "replicas"), _count(status, "updatedReplicas")
    ready, available = _count(status, "readyReplicas"), _count(status, "availableReplicas")
    counted = f"{ready} of {desired} replicas ready"
    if total > updated:
        counted += f", {total - updated} of an earlier version still running"
    progressing = _deployment_condition(status, "Progressing")
    if progressing is not None and progressing.get("status") == "False":
        return (
            "False",
            conds.REASON_UNAVAILABLE,
            f"version {version}: {counted}; {_explained(progressing)}",
        )
    rolled_out = updated >= desired and total <= updated
    if rolled_out and ready >= desired and available >= desired:
        return "True", conds.REASON_PREDICTOR_READY, f"version {version}: {counted}"
    if (
        rolled_out
        and progressing is not None
        and progressing.get("reason") == "NewReplicaSetAvailable"
    ):  # the rollout finished once; replicas since went away or unready
        unavailable = _deployment_condition(status, "Available")
        why = (
            f"; {_explained(unavailable)}"
            if unavailable is not None and unavailable.get("status") == "False"
            else ""
        )
        return "False", conds.REASON_UNAVAILABLE, f"version {version}: {counted}{why}"
    return "Unknown", conds.REASON_ROLLING_OUT, f"rolling out version {version}: {counted}"


def condition(observed: Observed) -> tuple[conds.ConditionStatus, str, str]:
    """(status, reason, message) of the model's ``Serving`` condition."""
    choice, deployment = observed.choice, observed.deployment
    if not choice.enabled:
        return "False", conds.REASON_SERVING_DISABLED, choice.message
    if choice.served is None:
        message = choice.message
        running = predictors.served_version(deployment) if deployment is not None else None
        if running is not None:
            ready = _count(deployment.get("status") or {}, "readyReplicas") if deployment else 0
            message += f"; the predictor still runs version {running} ({ready} ready)"
        return "False", choice.reason, message
    if observed.refused is not None:
        return "False", conds.REASON_PREDICTOR_REFUSED, observed.refused
    version = choice.served.version
    if deployment is None:
        return (
            "Unknown",
            conds.REASON_ROLLING_OUT,
            f"rolling out version {version}: creating the predictor Deployment",
        )
    running = predictors.served_version(deployment)
    if running != version:
        return (
            "Unknown",
            conds.REASON_ROLLING_OUT,
            f"rolling out version {version}: the predictor Deployment still runs {running}",
        )
    return _rollout(version, deployment)


def status(
    model: Mapping[str, Any], observed: Observed
) -> textclassifiermodel.ServingStatus | None:
    """``status.serving`` of ``model``: read from its predictor Deployment; None while there is none."""
    deployment = observed.deployment
    if deployment is None:
        return None
    meta = model["metadata"]
    return textclassifiermodel.ServingStatus(
        url=predictors.url(meta["name"], meta["namespace"]),
        version=predictors.served_version(deployment),
        ready_replicas=_count(deployment.get("status") or {}, "readyReplicas"),
    )
