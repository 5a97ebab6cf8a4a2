"""The ``ModelEvaluation`` kind: a trained version of a model, evaluated on a dataset, later.

Hosted platforms evaluate a trained version on its train dataset or on a test dataset uploaded after
training, and compare the results. Here that is one immutable object per evaluation: the operator
resolves the version (empty: the model's latest trained one), runs ``python -m textclf_trainer
evaluate`` as a Job of the version's template image, and writes the summary into status; the full
report (per concept, curves, confusion matrix) and every row's scores go to the artifact store.
"""

from __future__ import annotations

import datetime
import enum
import statistics
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import pydantic

from textclf.api import codes, common, trainingrun
from textclf.api import conditions as conds

KIND = "ModelEvaluation"
PLURAL = "modelevaluations"
SHORT_NAMES = ("mev",)
MAX_NAME_LENGTH = trainingrun.MAX_NAME_LENGTH
"""As a run's: the evaluation Job's name and its Pods' labels must fit in 63 characters."""
METRICS_FILE = "metrics.json"
"""In the evaluation's output: the full report (``metrics``) and the data report (``data``)."""
PREDICTIONS_FILE = "predictions.json"
"""In the evaluation's output: per row its true concepts and every concept's score (columns in
``concepts`` order): what comparisons, curves and confusion matrices are computed from."""
EVALUATIONS_DIR = "evaluations"
"""With no ``spec.output``, results go to ``<the version's artifact>/../evaluations/<name>``: beside
the artifact, never inside it (an artifact is sealed by its digest)."""


class DetailCode(enum.StrEnum):
    """Why an evaluation failed (``status.detailCode``). The trainer's data errors keep their
    meaning under the evaluation's prefix (same names as ``codes.DetailCode``)."""

    VERSION_NOT_TRAINED = "MODEL-EVALUATION-VERSION-NOT-TRAINED"
    """The version to evaluate failed to train: there is nothing to evaluate."""
    NO_DATA = "MODEL-EVALUATION-NO-DATA"
    INSUFFICIENT_DATA = "MODEL-EVALUATION-INSUFFICIENT-DATA"
    INVALID_PARAMS = "MODEL-EVALUATION-INVALID-PARAMS"
    INVALID_DATA_TOLERANCE_EXCEEDED = "MODEL-EVALUATION-INVALID-DATA-TOLERANCE-EXCEEDED"
    DATA_UNREADABLE = "MODEL-EVALUATION-DATA-UNREADABLE"
    DATA_LEAKAGE = "MODEL-EVALUATION-DATA-LEAKAGE"
    OUT_OF_MEMORY = "MODEL-EVALUATION-OUT-OF-MEMORY"
    TIMED_OUT = "MODEL-EVALUATION-TIMED-OUT"
    BACKOFF_LIMIT_EXCEEDED = "MODEL-EVALUATION-BACKOFF-LIMIT-EXCEEDED"
    JOB_LOST = "MODEL-EVALUATION-JOB-LOST"
    INTERNAL_ERROR = "MODEL-EVALUATION-INTERNAL-ERROR"


def detail_of(trainer: codes.DetailCode) -> DetailCode:
    """The evaluation's detail code for a trainer error (same name)."""
    return DetailCode[trainer.name]


DESCRIPTIONS: dict[str, str] = {
    DetailCode.VERSION_NOT_TRAINED: "The version to evaluate is not trained",
    DetailCode.NO_DATA: "No evaluation data: the dataset has no usable rows",
    DetailCode.INSUFFICIENT_DATA: "Not enough evaluation data",
    DetailCode.INVALID_PARAMS: "Invalid evaluation request",
    DetailCode.INVALID_DATA_TOLERANCE_EXCEEDED: "Too many invalid rows in the dataset",
    DetailCode.DATA_UNREADABLE: "The dataset could not be read",
    DetailCode.DATA_LEAKAGE: "Evaluation data leaks from the training data",
    DetailCode.OUT_OF_MEMORY: "Evaluation ran out of memory",
    DetailCode.TIMED_OUT: "Evaluation exceeded its deadline",
    DetailCode.BACKOFF_LIMIT_EXCEEDED: "Evaluation failed after all retries",
    DetailCode.JOB_LOST: "The evaluation Job was deleted",
    DetailCode.INTERNAL_ERROR: "Evaluation failed with an internal error",
}


def describe(code: str) -> str:
    return DESCRIPTIONS.get(code) or codes.describe(code)


class Dataset(common.Model):
    """The labelled file to evaluate on, read as a run reads its data."""

    uri: common.DatasetUri = common.field(
        description="configmap://NAME/KEY, pvc://CLAIM/PATH, s3://BUCKET/KEY, https://... or file://..."
    )
    text_column: str = common.field(
        default="input", min_length=1, max_length=256, description="Column with the text."
    )
    label_column: str = common.field(
        default="concepts", min_length=1, max_length=256, description="Column with the label(s)."
    )
    label_separator: str | None = common.field(
        default=None, min_length=1, max_length=8, description="Separator of several labels."
    )
    invalid_data_tolerance_percent: float = common.field(
        default=5.0,
        ge=0.0,
        le=100.0,
        description="Share of rows that may be dropped as invalid (e.g. unknown concepts), 0-100.",
    )


class ModelEvaluationSpec(common.Model):
    """Which version, on which data. Immutable: to evaluate again, create another evaluation."""

    model_ref: trainingrun.ModelRef = common.field(description="The TextClassifierModel evaluated.")
    version: common.ObjectName | None = common.field(
        default=None,
        description="The TrainingRun (version) to evaluate; empty: the model's latest trained one.",
    )
    dataset: Dataset = common.field(description="The labelled data.")
    output: trainingrun.Output | None = common.field(
        default=None,
        description="Where the full report and per-row scores go; empty: beside the artifact, "
        "under evaluations/NAME.",
    )
    resources: trainingrun.Resources | None = common.field(
        default=None, description="GPUs, CPU and memory for the evaluation Pod."
    )
    active_deadline_seconds: int | None = common.field(
        default=None, ge=1, description="Wall-clock limit, in seconds, > 0."
    )
    backoff_limit: int = common.field(
        default=2, ge=0, le=100, description="Retries after infrastructure failures."
    )
    credentials: common.ObjectName | None = common.field(
        default=None, description="Secret whose keys become the evaluator's environment."
    )


class Summary(common.Model):
    """The headline numbers, under the names the hosted platform's SDK gives them."""

    examples: int = common.field(ge=0, description="Rows evaluated.")
    accuracy: trainingrun.Score = common.field(description="Accuracy (exact match if multi-label).")
    macro_avg_f1_score: trainingrun.Score = common.field(description="Macro-averaged F1.")
    macro_avg_precision: trainingrun.Score = common.field(description="Macro-averaged precision.")
    macro_avg_recall: trainingrun.Score = common.field(description="Macro-averaged recall.")
    macro_avg_roc_auc: trainingrun.Score | None = common.field(
        default=None, description="Mean of the per-concept ROC AUCs."
    )
    macro_std_roc_auc: float | None = common.field(
        default=None,
        ge=0.0,
        description="Population standard deviation of the per-concept ROC AUCs.",
    )


def summarize(report: Mapping[str, Any]) -> Summary:
    """The summary of a full evaluation report (``metrics.json``'s ``metrics``): pure, so the same
    numbers come from a cluster's evaluator and the embedded backend."""
    aucs = [r["roc_auc"] for r in report["per_concept"] if r.get("roc_auc") is not None]
    return Summary(
        examples=int(report["examples"]),
        accuracy=float(report["accuracy"]),
        macro_avg_f1_score=float(report["macro_f1"]),
        macro_avg_precision=float(report["macro_precision"]),
        macro_avg_recall=float(report["macro_recall"]),
        macro_avg_roc_auc=statistics.fmean(aucs) if aucs else None,
        macro_std_roc_auc=statistics.pstdev(aucs) if aucs else None,
    )


class ModelEvaluationStatus(common.Model):
    """Observed state of the evaluation; written by the operator only."""

    observed_generation: int | None = common.field(
        default=None, description="The .metadata.generation this status reflects."
    )
    code: codes.EvaluationCode | None = common.field(
        default=None,
        description="MODEL-QUEUED-FOR-EVALUATION, MODEL-EVALUATING, MODEL-EVALUATED or "
        "MODEL-EVALUATION-FAILED.",
    )
    detail_code: DetailCode | None = common.field(
        default=None, description="Why the evaluation failed."
    )
    description: str | None = common.field(
        default=None, max_length=4096, description="The code in words, with details for people."
    )
    conditions: Annotated[list[conds.Condition], pydantic.Field(max_length=16)] = common.field(
        default_factory=list,
        description="Queued, Running, Succeeded, Failed.",
        schema={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    version: str | None = common.field(
        default=None, max_length=253, description="The version evaluated (resolved if left empty)."
    )
    artifact: trainingrun.Artifact | None = common.field(
        default=None, description="The evaluated model artifact, as the version's status has it."
    )
    job_name: str | None = common.field(default=None, max_length=63, description="The Job.")
    start_time: datetime.datetime | None = common.field(
        default=None, description="When the evaluation Pod started."
    )
    completion_time: datetime.datetime | None = common.field(
        default=None, description="When the evaluation finished, either way."
    )
    summary: Summary | None = common.field(default=None, description="The headline numbers.")
    metrics: trainingrun.SplitMetrics | None = common.field(
        default=None, description="Accuracy, macro and per-concept metrics (bounded)."
    )
    output: trainingrun.Output | None = common.field(
        default=None, description="Where the full report and per-row scores were written."
    )


class ModelEvaluation(common.Model):
    """A ModelEvaluation object as stored by the API server (metadata left as a plain dict)."""

    api_version: Literal["textclf.io/v1alpha1"] = pydantic.Field(
        default="textclf.io/v1alpha1", alias="apiVersion"
    )
    kind: Literal["ModelEvaluation"] = "ModelEvaluation"
    metadata: dict[str, Any] = pydantic.Field(default_factory=dict)
    spec: ModelEvaluationSpec = common.field(
        description="Immutable once created.",
        rules=(
            common.Rule(
                cel="self == oldSelf",
                message="spec is immutable: a ModelEvaluation is one evaluation, create a new one",
                transition=True,
            ),
        ),
    )
    status: ModelEvaluationStatus | None = None

    model_config = pydantic.ConfigDict(
        json_schema_extra=common.rules_extra(
            common.Rule(
                cel=f"size(self.metadata.name) <= {MAX_NAME_LENGTH}",
                message=(
                    f"metadata.name must be at most {MAX_NAME_LENGTH} characters, so the "
                    "evaluation Job's name fits in a label"
                ),
            )
        )
    )


PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"name": "Model", "type": "string", "jsonPath": ".spec.modelRef.name"},
    {"name": "Version", "type": "string", "jsonPath": ".status.version"},
    {"name": "Code", "type": "string", "jsonPath": ".status.code"},
    {"name": "Accuracy", "type": "number", "jsonPath": ".status.summary.accuracy"},
    {"name": "Macro-F1", "type": "number", "jsonPath": ".status.summary.macroAvgF1Score"},
    {"name": "Dataset", "type": "string", "jsonPath": ".spec.dataset.uri", "priority": 1},
    {"name": "Detail", "type": "string", "jsonPath": ".status.detailCode", "priority": 1},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]
