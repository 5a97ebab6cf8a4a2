"""Pure computation of a TextClassifierModel's status: versions, latest version, Ready, and (from
``servingstatus``) its serving.

A model's versions are the TrainingRuns that name it; the newest trained one is its latest version.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from textclf.api import codes, textclassifiermodel, trainingrun
from textclf.api import conditions as conds
from textclf_operator import servingstatus, stored


def _version(run: Mapping[str, Any]) -> textclassifiermodel.Version:
    status = stored.status(run, trainingrun.TrainingRunStatus)
    metrics = status.metrics or trainingrun.Metrics()
    headline = textclassifiermodel.HeadlineMetrics(
        test_accuracy=metrics.test.accuracy if metrics.test else None,
        test_macro_f1=metrics.test.macro_f1 if metrics.test else None,
        train_accuracy=metrics.train.accuracy if metrics.train else None,
    )
    return textclassifiermodel.Version(
        run=run["metadata"]["name"],
        code=status.code,
        artifact_uri=status.artifact.uri if status.artifact else None,
        metrics=headline if status.metrics else None,
        trained_at=status.completion_time if status.code == codes.StatusCode.TRAINED else None,
    )


def _says_trained(run: Mapping[str, Any]) -> bool:
    """Whether the stored status names the trained code: a cheap look before parsing it (a model
    with a thousand queued runs is reconciled on each of their status writes)."""
    return bool((run.get("status") or {}).get("code") == codes.StatusCode.TRAINED)


def latest_version(
    runs: Sequence[Mapping[str, Any]], now: datetime.datetime
) -> textclassifiermodel.Version | None:
    """The newest trained version among ``runs`` (the model's own) whose artifact is known, or
    None: a run trained but not yet read (its result still in its Pod) is no version to serve."""
    trained = [
        v
        for v in map(_version, filter(_says_trained, runs))
        if v.code == codes.StatusCode.TRAINED and v.artifact_uri is not None
    ]
    return max(trained, key=lambda v: (v.trained_at or now, v.run)) if trained else None


def compute(
    model: Mapping[str, Any],
    runs: Sequence[Mapping[str, Any]],
    now: datetime.datetime,
    serving: servingstatus.Observed | None = None,
) -> textclassifiermodel.TextClassifierModelStatus:
    """The status ``model`` should have, given the runs that reference it and what the reconciler
    saw of its predictor (``serving``; None: serving disabled and no predictor)."""
    previous = stored.status(model, textclassifiermodel.TextClassifierModelStatus)
    generation = (model.get("metadata") or {}).get("generation")
    newest_first = sorted(
        runs,
        key=lambda r: (str(r["metadata"].get("creationTimestamp", "")), r["metadata"]["name"]),
        reverse=True,
    )
    versions = [_version(r) for r in newest_first[: textclassifiermodel.MAX_VERSIONS]]
    latest = latest_version(runs, now)
    conditions = conds.set_condition(
        previous.conditions,
        type=conds.READY,
        status="True" if latest else "False",
        reason=conds.REASON_VERSION_AVAILABLE if latest else conds.REASON_NO_TRAINED_VERSION,
        message=f"version {latest.run} is trained"
        if latest
        else "no run of this model has trained",
        now=now,
        observed_generation=generation,
    )
    observed = serving or servingstatus.Observed(
        choice=servingstatus.Choice(enabled=False), deployment=None
    )
    serving_status, reason, message = servingstatus.condition(observed)
    conditions = conds.set_condition(
        conditions,
        type=conds.SERVING,
        status=serving_status,
        reason=reason,
        message=message,
        now=now,
        observed_generation=generation,
    )
    return textclassifiermodel.TextClassifierModelStatus(
        observed_generation=generation,
        latest_version=latest,
        versions=versions,
        serving=servingstatus.status(model, observed),
        conditions=conditions,
    )
