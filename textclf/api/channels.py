"""What the trainer tells the operator, and how: the two channels of DESIGN.md.

- ``ProgressReport``: POSTed by the trainer to the operator's progress endpoint while training, with a
  projected ServiceAccount token of ``PROGRESS_AUDIENCE``. The operator takes the run's identity from
  the token (via TokenReview), never from the body; the body carries numbers only.
- ``EvaluationRequest`` and ``EvaluationResult``: the same two files for ``python -m textclf_trainer
  evaluate`` (a ModelEvaluation's Job): what to evaluate, mounted as a file; how it went, in the
  termination message.
- ``Result``: the trainer's final word, written to the container's termination message file
  (``TERMINATION_MESSAGE_PATH``); the kubelet copies it into the Pod's status, where the operator
  reads it. Kept under ``MAX_TERMINATION_MESSAGE_BYTES``; full metrics live in the artifact.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Protocol, Self

import pydantic

from textclf.api import codes, common, modelevaluation, trainingrun

PROGRESS_AUDIENCE = "textclf.io/progress"
"""Audience of the projected token the trainer presents to the progress endpoint."""
PROGRESS_PATH = "/v1alpha1/progress"
"""Path of the progress endpoint on the operator's Service."""
PROGRESS_URL_ENV = "TEXTCLF_PROGRESS_URL"
PROGRESS_TOKEN_PATH_ENV = "TEXTCLF_PROGRESS_TOKEN_PATH"
PROGRESS_CA_ENV = "TEXTCLF_PROGRESS_CA"
"""PEM of the CA that signed the progress endpoint's certificate; the trainer trusts only it."""
TERMINATION_MESSAGE_PATH = "/dev/termination-log"
TERMINATION_MESSAGE_ENV = "TEXTCLF_TERMINATION_MESSAGE_PATH"
MAX_TERMINATION_MESSAGE_BYTES = 4096
"""The kubelet truncates termination messages beyond 4 KiB; the trainer stays below it."""
RUN_SPEC_ENV = "TEXTCLF_RUN_SPEC"
"""Path of the mounted TrainingRun spec file in the training container."""
NPROC_PER_NODE_ENV = "TEXTCLF_NPROC_PER_NODE"
"""Ranks the trainer runs (DDP), one per GPU: set by the operator when ``resources.gpu`` is above 1."""
MODEL_PARAMS = ("concepts", "multi_label")
"""Params the operator fills from the run's TextClassifierModel (``spec.concepts``,
``spec.multiLabel``), after checking the user's params against the template's schema."""
ARTIFACT_LOG = "train.log"
"""In every artifact: the trainer's own log of the run, for when its Pod's log is gone."""
UPLOAD_PORT = 8080
"""The uploader Pod's port (``python -m textclf_trainer receive``), reached through the pod proxy."""
UPLOAD_PATH = "/data"
"""``PUT`` the dataset file here; the answer is 201 once it is checked and in place."""
UPLOAD_HEALTH_PATH = "/healthz"
UPLOAD_TOKEN_ENV = "TEXTCLF_UPLOAD_TOKEN"
UPLOAD_TOKEN_HEADER = "X-Textclf-Upload-Token"
"""The uploader's one-time token: only the SDK that made the Pod may write through it."""
PVC_MOUNT_ROOT = "/mnt/textclf/pvc"
"""The operator mounts the claim of a ``pvc://CLAIM/PATH`` URI at ``PVC_MOUNT_ROOT/CLAIM``."""
CONFIGMAP_MOUNT_ROOT = "/mnt/textclf/configmap"
"""The operator mounts the ConfigMap of ``configmap://NAME/KEY`` at ``CONFIGMAP_MOUNT_ROOT/NAME``."""


class ProgressReport(common.Model):
    """One progress event; the trainer sends it to the progress endpoint (or prints it locally)."""

    percent: Annotated[int, pydantic.Field(ge=0, le=100)]
    epoch: Annotated[float, pydantic.Field(ge=0)] | None = None
    step: Annotated[int, pydantic.Field(ge=0)] | None = None
    total_steps: Annotated[int, pydantic.Field(ge=0)] | None = None
    loss: float | None = None
    eta_seconds: Annotated[int, pydantic.Field(ge=0)] | None = None
    phase: Annotated[str, pydantic.Field(max_length=64)] | None = None  # e.g. "train", "evaluate"
    resumed_from_step: Annotated[int, pydantic.Field(ge=0)] | None = None  # this attempt resumed


class HeadlineSplit(common.Model):
    """The numbers of one split that fit in a termination message."""

    examples: int
    accuracy: float
    macro_f1: float
    macro_precision: float
    macro_recall: float
    macro_roc_auc: float | None = None
    per_concept: list[trainingrun.ConceptMetrics] | None = None  # dropped first when too long


class Warning(common.Model):
    """Something a person should look at in a trained run; becomes a condition of that type."""

    type: Annotated[str, pydantic.Field(max_length=64)]  # one of conditions.WARNINGS
    message: Annotated[str, pydantic.Field(max_length=400)]


class Result(common.Model):
    """The trainer's final result, as JSON in the termination message."""

    code: codes.StatusCode
    detail_code: codes.DetailCode | None = None
    message: Annotated[str, pydantic.Field(max_length=1500)] = ""
    metrics: dict[str, HeadlineSplit] = pydantic.Field(default_factory=dict)  # split -> numbers
    artifact: trainingrun.Artifact | None = None
    concepts: list[str] = pydantic.Field(default_factory=list)
    baseline: dict[str, HeadlineSplit] = pydantic.Field(default_factory=dict)  # split -> numbers
    data_report: trainingrun.DataReportSummary | None = None
    warnings: list[Warning] = pydantic.Field(default_factory=list)
    """Only the warnings that hold; a warning type absent here is checked and clear."""

    def to_termination_message(self) -> str:
        """JSON that fits the kubelet's 4 KiB limit: drops per-concept metrics (the model's and the
        baseline's), then the concept list, then shortens the message."""
        result = self
        text = json.dumps(result.to_wire(), separators=(",", ":"))
        if len(text.encode()) > MAX_TERMINATION_MESSAGE_BYTES:
            result = result.model_copy(
                update={
                    field: {
                        k: v.model_copy(update={"per_concept": None})
                        for k, v in getattr(result, field).items()
                    }
                    for field in ("metrics", "baseline")
                }
            )
            text = json.dumps(result.to_wire(), separators=(",", ":"))
        if len(text.encode()) > MAX_TERMINATION_MESSAGE_BYTES and result.concepts:
            result = result.model_copy(update={"concepts": []})
            text = json.dumps(result.to_wire(), separators=(",", ":"))
        return _with_shorter_message(result)

    @classmethod
    def from_termination_message(cls, text: str) -> Result:
        """Parse a termination message; raises ``ValueError`` if it is not a trainer result."""
        return cls.model_validate_json(text)


class EvaluationRequest(common.Model):
    """What ``python -m textclf_trainer evaluate`` reads: the operator resolved the version to its
    artifact and the output to a URI, so the evaluator needs no API access."""

    name: str = common.field(max_length=253, description="The ModelEvaluation.")
    namespace: str = common.field(default="", max_length=63, description="Its namespace.")
    artifact: trainingrun.Artifact = common.field(description="The model to evaluate.")
    dataset: modelevaluation.Dataset = common.field(description="The labelled data.")
    output: trainingrun.Output = common.field(description="Where the report and scores go.")


class EvaluationResult(common.Model):
    """The evaluator's final word, as JSON in the termination message."""

    code: codes.EvaluationCode
    detail_code: codes.DetailCode | None = None
    message: Annotated[str, pydantic.Field(max_length=1500)] = ""
    summary: modelevaluation.Summary | None = None
    metrics: HeadlineSplit | None = None
    output: str | None = None
    digest: str | None = None
    """The digest of the artifact evaluated, as verified."""

    def to_termination_message(self) -> str:
        """JSON under 4 KiB: per-concept metrics go first, then the message is shortened."""
        result = self
        text = json.dumps(result.to_wire(), separators=(",", ":"))
        if len(text.encode()) > MAX_TERMINATION_MESSAGE_BYTES and result.metrics is not None:
            metrics = result.metrics.model_copy(update={"per_concept": None})
            result = result.model_copy(update={"metrics": metrics})
            text = json.dumps(result.to_wire(), separators=(",", ":"))
        return _with_shorter_message(result)

    @classmethod
    def from_termination_message(cls, text: str) -> EvaluationResult:
        """Parse a termination message; raises ``ValueError`` if it is not an evaluation result."""
        return cls.model_validate_json(text)


class _Said(Protocol):
    @property
    def message(self) -> str: ...

    def to_wire(self) -> dict[str, Any]: ...

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Self: ...


def _with_shorter_message(result: _Said) -> str:
    """``result`` as termination-message JSON, its message halved until the whole fits."""
    text = json.dumps(result.to_wire(), separators=(",", ":"))
    while len(text.encode()) > MAX_TERMINATION_MESSAGE_BYTES and result.message:
        result = result.model_copy(update={"message": result.message[: len(result.message) // 2]})
        text = json.dumps(result.to_wire(), separators=(",", ":"))
    return text
