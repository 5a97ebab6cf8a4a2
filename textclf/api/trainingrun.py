"""The ``TrainingRun`` kind: one immutable attempt to train a version of a ``TextClassifierModel``.

The spec is what the trainer reads (mounted into the Pod as a file, or given to ``textclf train
--local``); the status is what the operator computes from the Job, its Pods and the trainer's
termination message and progress reports.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

import pydantic

from textclf.api import codes, common
from textclf.api import conditions as conds

KIND = "TrainingRun"
PLURAL = "trainingruns"
SHORT_NAMES = ("tr",)
MAX_NAME_LENGTH = 52
"""A run's name, plus the Job controller's suffixes, must fit in a 63-character label value."""
MAX_PER_CONCEPT = 128
"""Per-concept metrics kept in status; the full report stays in the artifact."""


class ModelRef(common.Model):
    """The model this run trains a version of."""

    name: common.ObjectName = common.field(
        description="Name of a TextClassifierModel in the run's namespace."
    )


class DataRef(common.Model):
    """Where a dataset file lives."""

    uri: common.DatasetUri = common.field(
        description=(
            "configmap://NAME/KEY, pvc://CLAIM/PATH, s3://BUCKET/KEY, https://... or file://... "
            "(local backend). CSV, TSV or JSON Lines."
        )
    )


class Dataset(common.Model):
    """The labelled data of a run and how to read it."""

    model_config = pydantic.ConfigDict(
        json_schema_extra=common.rules_extra(
            common.Rule(
                cel="!has(self.test) || self.test.uri != self.train.uri",
                message="test.uri must differ from train.uri: evaluating on training data hides overfitting",
                field_path=".test.uri",
            )
        )
    )

    train: DataRef = common.field(description="Training data.")
    test: DataRef | None = common.field(
        default=None, description="Held-out test data; evaluated after training."
    )
    validation_split: float | None = common.field(
        default=None,
        ge=0.0,
        lt=0.5,
        description="Fraction of train held out for validation, checkpoint selection and early "
        "stopping, in [0, 0.5). Unset: the fine-tuning templates hold out 10% (at most 2,000 rows) "
        "when train has at least 4,000 rows and no validation otherwise; 0 turns it off.",
    )
    text_column: str = common.field(
        default="input",
        min_length=1,
        max_length=256,
        description="Column with the text (hosted-platform CSVs use 'input').",
    )
    label_column: str = common.field(
        default="concepts",
        min_length=1,
        max_length=256,
        description="Column with the label(s) (hosted-platform CSVs use 'concepts').",
    )
    label_separator: str | None = common.field(
        default=None,
        min_length=1,
        max_length=8,
        description="Separator of several labels in one cell, for multi-label models.",
    )
    invalid_data_tolerance_percent: float = common.field(
        default=5.0,
        ge=0.0,
        le=100.0,
        description="Share of rows that may be dropped as invalid before the run fails, 0-100.",
    )


class Output(common.Model):
    """Where the trained model artifact goes."""

    uri: common.OutputUri = common.field(
        description="pvc://CLAIM/PATH, s3://BUCKET/PREFIX or file://... (local backend)."
    )


def store_uri(store: str, namespace: str, model: str, run: str) -> str:
    """The artifact URI of a run without ``spec.output``: its own folder in the install's store
    (``pvc://CLAIM[/PATH]`` or ``s3://BUCKET[/PREFIX]``), so no two runs share one."""
    return f"{store.rstrip('/')}/{namespace}/{model}/{run}"


class Resources(common.Model):
    """What the training Pod asks for."""

    gpu: int = common.field(default=0, ge=0, le=64, description="Number of nvidia.com/gpu.")
    cpu: common.Quantity | None = common.field(default=None, description="CPU request, e.g. 4.")
    memory: common.Quantity | None = common.field(
        default=None, description="Memory request, e.g. 16Gi."
    )


IMMUTABLE_FIELDS = (
    "modelRef",
    "template",
    "params",
    "dataset",
    "output",
    "resources",
    "queueName",
    "activeDeadlineSeconds",
    "backoffLimit",
    "ttlSecondsAfterFinished",
    "nodeSelector",
    "tolerations",
    "priorityClassName",
    "credentials",
)
"""Every spec field but ``suspend``: a run is one attempt; to change it, create another run.
``suspend`` stays mutable so a user (or a queue) can hold and release a run, as with a Job."""


def _immutable(name: str) -> common.Rule:
    return common.Rule(
        cel=(
            f"has(self.{name}) == has(oldSelf.{name}) && "
            f"(!has(self.{name}) || self.{name} == oldSelf.{name})"
        ),
        message=f"{name} is immutable: a TrainingRun is one attempt, create a new run instead",
        field_path=f".{name}",
        transition=True,
    )


class TrainingRunSpec(common.Model):
    """What to train, on which data, with which resources."""

    model_config = pydantic.ConfigDict(
        json_schema_extra=common.rules_extra(*(_immutable(f) for f in IMMUTABLE_FIELDS))
    )

    model_ref: ModelRef = common.field(description="The TextClassifierModel this run trains.")
    template: common.ObjectName | None = common.field(
        default=None,
        description=(
            "Name of a TrainingTemplate (cluster-scoped), e.g. hf-advanced; empty: the model's "
            "spec.template."
        ),
    )
    params: common.JsonObject | None = common.field(
        default=None,
        description="Template params, validated against the template's paramsSchema.",
    )
    dataset: Dataset = common.field(description="The labelled data.")
    output: Output | None = common.field(
        default=None,
        description=(
            "Where the trained model is written; left out: the install's artifact store, under "
            "<store>/<namespace>/<model>/<run>/. A folder holding another run's artifact is never "
            "overwritten: the run fails instead."
        ),
    )
    resources: Resources | None = common.field(
        default=None, description="GPUs, CPU and memory for the training Pod."
    )
    queue_name: common.LabelValue | None = common.field(
        default=None,
        description="Kueue LocalQueue; the Job is created suspended for Kueue to admit.",
    )
    suspend: bool = common.field(
        default=False, description="Hold the run: its Job is suspended until this is false."
    )
    active_deadline_seconds: int | None = common.field(
        default=None, ge=1, description="Wall-clock limit of the run, in seconds, > 0."
    )
    backoff_limit: int = common.field(
        default=3, ge=0, le=100, description="Retries after infrastructure failures."
    )
    ttl_seconds_after_finished: int | None = common.field(
        default=None,
        ge=0,
        description="Seconds after the run finished when the operator deletes its Job and Pods "
        "(never the run, never before the result is in the status).",
    )
    node_selector: common.NodeSelector | None = common.field(
        default=None, description="Node labels the training Pod must match."
    )
    tolerations: Annotated[list[common.Toleration], pydantic.Field(max_length=32)] | None = (
        common.field(default=None, description="Taints the training Pod tolerates.")
    )
    priority_class_name: common.ObjectName | None = common.field(
        default=None, description="PriorityClass of the training Pod."
    )
    credentials: common.ObjectName | None = common.field(
        default=None,
        description="Secret whose keys become the trainer's environment (S3 or Hugging Face access).",
    )


# --- status --------------------------------------------------------------------------------------

Score = Annotated[float, pydantic.Field(ge=0.0, le=1.0)]


class ConceptMetrics(common.Model):
    """Metrics of one concept on one split."""

    concept: str = common.field(max_length=256, description="Concept (label) name.")
    precision: Score | None = common.field(default=None, description="Precision.")
    recall: Score | None = common.field(default=None, description="Recall.")
    f1: Score | None = common.field(default=None, description="F1.")
    roc_auc: Score | None = common.field(default=None, description="ROC AUC (one vs rest).")
    support: int = common.field(ge=0, description="Examples of this concept in the split.")


class SplitMetrics(common.Model):
    """Headline metrics of one evaluated split."""

    examples: int = common.field(ge=0, description="Examples evaluated.")
    accuracy: Score = common.field(
        description="Accuracy (exact-match ratio for multi-label models)."
    )
    macro_precision: Score = common.field(description="Macro-averaged precision.")
    macro_recall: Score = common.field(description="Macro-averaged recall.")
    macro_f1: Score = common.field(description="Macro-averaged F1.")
    macro_roc_auc: Score | None = common.field(
        default=None, description="Macro-averaged ROC AUC, when every concept occurs."
    )
    per_concept: Annotated[list[ConceptMetrics], pydantic.Field(max_length=MAX_PER_CONCEPT)] = (
        common.field(default_factory=list, description="Per-concept metrics (bounded).")
    )


class Metrics(common.Model):
    """Metrics per evaluated split; curves and confusion matrices stay in the artifact."""

    train: SplitMetrics | None = common.field(default=None, description="On the training data.")
    validation: SplitMetrics | None = common.field(
        default=None, description="On the validation split."
    )
    test: SplitMetrics | None = common.field(default=None, description="On the test data.")


class Progress(common.Model):
    """Training progress as last reported by the trainer."""

    percent: int = common.field(ge=0, le=100, description="Percent done.")
    epoch: float | None = common.field(
        default=None, ge=0, description="Current (fractional) epoch."
    )
    step: int | None = common.field(default=None, ge=0, description="Optimizer steps done.")
    total_steps: int | None = common.field(
        default=None, ge=0, description="Optimizer steps in all."
    )
    loss: float | None = common.field(default=None, description="Latest training loss.")
    eta_seconds: int | None = common.field(
        default=None, ge=0, description="Estimated seconds to finish."
    )
    resumed_from_step: int | None = common.field(
        default=None,
        ge=0,
        description="Set when this attempt resumed from a checkpoint of an earlier one (a retried "
        "or preempted Pod): the optimizer step it started from.",
    )
    updated_at: datetime.datetime = common.field(description="When this progress was reported.")


class DataReportSummary(common.Model):
    """The headline of the run's data report (the full report is ``data_report.json`` in the artifact)."""

    train_rows: int = common.field(ge=0, description="Usable training rows.")
    validation_rows: int | None = common.field(default=None, ge=0, description="Validation rows.")
    test_rows: int | None = common.field(default=None, ge=0, description="Usable test rows.")
    dropped_rows: int = common.field(
        default=0, ge=0, description="Invalid rows dropped, all files."
    )
    duplicate_train_rows: int = common.field(
        default=0, ge=0, description="Training rows whose normalised text occurs earlier in train."
    )
    leaked_test_rows: int | None = common.field(
        default=None, ge=0, description="Test rows whose normalised text also occurs in train."
    )
    leaked_validation_rows: int | None = common.field(
        default=None,
        ge=0,
        description="Validation rows whose normalised text also occurs in train.",
    )


class Lift(common.Model):
    """How far the trained model is above the baseline on one split, in percentage points."""

    accuracy_points: float = common.field(description="Model accuracy minus baseline, x100.")
    macro_f1_points: float = common.field(description="Model macro F1 minus baseline, x100.")


class LiftPerSplit(common.Model):
    """Lift over the baseline per evaluated split."""

    train: Lift | None = common.field(default=None, description="On the training data.")
    validation: Lift | None = common.field(default=None, description="On the validation split.")
    test: Lift | None = common.field(default=None, description="On the test data.")


class Artifact(common.Model):
    """The trained model."""

    uri: str = common.field(max_length=2048, description="Where the model was written.")
    digest: str | None = common.field(
        default=None, max_length=128, description="sha256 over the artifact's files."
    )


class TrainingRunStatus(common.Model):
    """Observed state of the run; written by the operator only."""

    observed_generation: int | None = common.field(
        default=None, description="The .metadata.generation this status reflects."
    )
    code: codes.StatusCode | None = common.field(
        default=None,
        description="MODEL-QUEUED-FOR-TRAINING, MODEL-TRAINING, MODEL-TRAINED or MODEL-TRAINING-FAILED.",
    )
    detail_code: codes.DetailCode | None = common.field(
        default=None, description="Why the run failed, e.g. MODEL-TRAINING-NO-DATA."
    )
    description: str | None = common.field(
        default=None, max_length=4096, description="The code in words, with details for people."
    )
    conditions: Annotated[list[conds.Condition], pydantic.Field(max_length=16)] = common.field(
        default_factory=list,
        description="Queued, Running, Suspended, Succeeded, Failed.",
        schema={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    job_name: str | None = common.field(
        default=None, max_length=63, description="The training Job."
    )
    attempts: int | None = common.field(
        default=None, ge=0, description="Training Pods started (preempted ones do not count)."
    )
    start_time: datetime.datetime | None = common.field(
        default=None, description="When training first started."
    )
    completion_time: datetime.datetime | None = common.field(
        default=None, description="When the run finished, either way."
    )
    progress: Progress | None = common.field(default=None, description="Latest training progress.")
    metrics: Metrics | None = common.field(
        default=None, description="Evaluation metrics per split."
    )
    baseline: Metrics | None = common.field(
        default=None,
        description="TF-IDF + logistic regression trained on the same data, on the same splits.",
    )
    lift: LiftPerSplit | None = common.field(
        default=None, description="The model's lift over the baseline, per split."
    )
    data_report: DataReportSummary | None = common.field(
        default=None, description="Rows, drops, duplicates and train/test leakage."
    )
    artifact: Artifact | None = common.field(default=None, description="The trained model.")


class TrainingRun(common.Model):
    """A TrainingRun object as stored by the API server (metadata left as a plain dict)."""

    api_version: Literal["textclf.io/v1alpha1"] = pydantic.Field(
        default="textclf.io/v1alpha1", alias="apiVersion"
    )
    kind: Literal["TrainingRun"] = "TrainingRun"
    metadata: dict[str, Any] = pydantic.Field(default_factory=dict)
    spec: TrainingRunSpec
    status: TrainingRunStatus | None = None

    model_config = pydantic.ConfigDict(
        json_schema_extra=common.rules_extra(
            common.Rule(
                cel=f"size(self.metadata.name) <= {MAX_NAME_LENGTH}",
                message=(
                    f"metadata.name must be at most {MAX_NAME_LENGTH} characters, so the training "
                    "Job's name fits in a label"
                ),
            )
        )
    )


PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"name": "Model", "type": "string", "jsonPath": ".spec.modelRef.name"},
    {"name": "Template", "type": "string", "jsonPath": ".spec.template"},
    {"name": "Code", "type": "string", "jsonPath": ".status.code"},
    {"name": "Progress", "type": "integer", "jsonPath": ".status.progress.percent"},
    {"name": "Test-Accuracy", "type": "number", "jsonPath": ".status.metrics.test.accuracy"},
    {"name": "Detail", "type": "string", "jsonPath": ".status.detailCode", "priority": 1},
    {"name": "Job", "type": "string", "jsonPath": ".status.jobName", "priority": 1},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]
