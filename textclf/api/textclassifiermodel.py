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
MAX_SERVED_NAME_LENGTH = 52
"""A served model's name: its predictor Service, ``NAME-predictor``, must be a DNS label (63)."""

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
    """Where and what is served: read from the predictor Deployment the operator made."""

    url: str | None = common.field(
        default=None,
        max_length=2048,
        description="In-cluster URL of the predictor Service (http://NAME.NAMESPACE.svc.cluster.local).",
    )
    version: str | None = common.field(
        default=None,
        max_length=253,
        description="Run the predictor Deployment runs (or rolls out to, see the Serving condition).",
    )
    ready_replicas: int | None = common.field(
        default=None, ge=0, description="Ready predictor replicas, of every version."
    )


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

    model_config = pydantic.ConfigDict(
        json_schema_extra=common.rules_extra(
            common.Rule(
                cel=(
                    "!has(self.spec.serving) || !has(self.spec.serving.enabled) "
                    "|| !self.spec.serving.enabled "
                    f"|| (size(self.metadata.name) <= {MAX_SERVED_NAME_LENGTH} "
                    "&& self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$'))"
                ),
                message=(
                    f"metadata.name of a served model must be a DNS label of at most "
                    f"{MAX_SERVED_NAME_LENGTH} characters that starts with a letter: its predictor "
                    "Service is named NAME-predictor"
                ),
            )
        )
    )

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
    {"name": "Served", "type": "string", "jsonPath": ".status.serving.version"},
    {
        "name": "Replicas",
        "type": "integer",
        "jsonPath": ".status.serving.readyReplicas",
        "description": "Ready predictor replicas.",
    },
    {"name": "Template", "type": "string", "jsonPath": ".spec.template", "priority": 1},
    {
        "name": "Serving-Reason",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Serving")].reason',
        "priority": 1,
    },
    {"name": "URL", "type": "string", "jsonPath": ".status.serving.url", "priority": 1},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]
