"""The ``TextClassifierModel`` kind: a named classifier, its concepts, defaults for its runs, its
trained versions and how it is served.

A model is long-lived (``Ready`` once a version is trained); its versions are the ``TrainingRun``
objects that reference it. The operator folds those runs into ``status.versions`` and
``status.latestVersion``.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

import pydantic

from textclf.api import common
from textclf.api import conditions as conds

KIND = "TextClassifierModel"
PLURAL = "textclassifiermodels"
SHORT_NAMES = ("tcm",)
MAX_CONCEPTS = 1024
MAX_VERSIONS = 20
"""Versions kept in status, newest first; older runs remain as TrainingRun objects."""

Concept = Annotated[str, pydantic.StringConstraints(min_length=1, max_length=256)]


class Serving(common.Model):
    """How the model is served (a KServe-compatible HTTP predictor)."""

    enabled: bool = common.field(default=False, description="Run a serving Deployment.")
    version: str | None = common.field(
        default=None,
        max_length=253,
        description="TrainingRun name to serve; empty serves the latest trained version.",
    )
    replicas: int = common.field(default=1, ge=0, le=100, description="Predictor replicas.")
    resources: common.ResourceRequirements | None = common.field(
        default=None, description="Resources of each predictor replica."
    )


class TextClassifierModelSpec(common.Model):
    """What the model classifies and the defaults its runs inherit."""

    description: str | None = common.field(
        default=None, max_length=4096, description="What the model is for."
    )
    concepts: Annotated[list[Concept], pydantic.Field(max_length=MAX_CONCEPTS)] | None = (
        common.field(
            default=None,
            description="Ordered label names; empty: taken from the first run's data.",
            schema={"x-kubernetes-list-type": "set"},
        )
    )
    multi_label: bool = common.field(
        default=False, description="Each text may carry several concepts."
    )
    template: common.ObjectName | None = common.field(
        default=None, description="Default TrainingTemplate of its runs."
    )
    params: common.JsonObject | None = common.field(
        default=None, description="Default params of its runs (a run's own params win)."
    )
    serving: Serving | None = common.field(default=None, description="Serving settings.")


class HeadlineMetrics(common.Model):
    """The few numbers a person compares versions by."""

    test_accuracy: float | None = common.field(default=None, description="Accuracy on test.")
    test_macro_f1: float | None = common.field(default=None, description="Macro F1 on test.")
    train_accuracy: float | None = common.field(default=None, description="Accuracy on train.")


class Version(common.Model):
    """One trained (or failed) version: a TrainingRun of this model."""

    run: str = common.field(max_length=253, description="The TrainingRun's name.")
    code: str | None = common.field(
        default=None, max_length=64, description="The run's status code."
    )
    artifact_uri: str | None = common.field(
        default=None, max_length=2048, description="Where the trained model is."
    )
    metrics: HeadlineMetrics | None = common.field(default=None, description="Headline metrics.")
    trained_at: datetime.datetime | None = common.field(
        default=None, description="When training finished."
    )


class ServingStatus(common.Model):
    """Where and what is served."""

    url: str | None = common.field(default=None, max_length=2048, description="Predictor URL.")
    version: str | None = common.field(default=None, max_length=253, description="Run served.")
    ready_replicas: int | None = common.field(default=None, ge=0, description="Ready replicas.")


class TextClassifierModelStatus(common.Model):
    """Observed state of the model; written by the operator only."""

    observed_generation: int | None = common.field(
        default=None, description="The .metadata.generation this status reflects."
    )
    latest_version: Version | None = common.field(
        default=None, description="The newest trained version."
    )
    versions: Annotated[list[Version], pydantic.Field(max_length=MAX_VERSIONS)] = common.field(
        default_factory=list, description="Versions, newest first (bounded)."
    )
    serving: ServingStatus | None = common.field(default=None, description="Serving state.")
    conditions: Annotated[list[conds.Condition], pydantic.Field(max_length=16)] = common.field(
        default_factory=list,
        description="Ready and Serving.",
        schema={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )


class TextClassifierModel(common.Model):
    """A TextClassifierModel object as stored by the API server."""

    api_version: Literal["textclf.io/v1alpha1"] = "textclf.io/v1alpha1"
    kind: Literal["TextClassifierModel"] = "TextClassifierModel"
    metadata: dict[str, Any] = pydantic.Field(default_factory=dict)
    spec: TextClassifierModelSpec
    status: TextClassifierModelStatus | None = None


PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"name": "Latest", "type": "string", "jsonPath": ".status.latestVersion.run"},
    {
        "name": "Test-Accuracy",
        "type": "number",
        "jsonPath": ".status.latestVersion.metrics.testAccuracy",
    },
    {
        "name": "Ready",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
    },
    {
        "name": "Serving",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Serving")].status',
    },
    {"name": "Template", "type": "string", "jsonPath": ".spec.template", "priority": 1},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]
