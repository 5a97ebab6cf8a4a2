"""Status codes of a training run, in the platform's own words, and the trainer's exit codes.

A hosted text-classifier platform reports a model version as ``MODEL-QUEUED-FOR-TRAINING``,
``MODEL-TRAINING``, ``MODEL-TRAINED`` or ``MODEL-TRAINING-FAILED``, with a detail code saying why a
run failed. Users script against these strings, so they live here once; the operator writes them into
``status.code``/``status.detailCode``, the trainer puts them in its termination message, and the CLI
prints them.

The trainer's exit code carries the same split the operator needs for retries: a *user* error (bad
data, bad params) must fail the Job at once, an *infrastructure* error may be retried. The Job's
``podFailurePolicy`` is built from ``USER_ERROR_EXIT_CODES``.
"""

from __future__ import annotations

import enum


class StatusCode(enum.StrEnum):
    """The headline state of a run (``status.code``)."""

    QUEUED = "MODEL-QUEUED-FOR-TRAINING"
    TRAINING = "MODEL-TRAINING"
    TRAINED = "MODEL-TRAINED"
    FAILED = "MODEL-TRAINING-FAILED"


class DetailCode(enum.StrEnum):
    """Why a run failed (``status.detailCode``); set only with ``StatusCode.FAILED``."""

    NO_DATA = "MODEL-TRAINING-NO-DATA"
    """The dataset has no usable rows."""
    INSUFFICIENT_DATA = "MODEL-TRAINING-INSUFFICIENT-DATA"
    """Too few classes, or too few examples of some class, to train and evaluate."""
    INVALID_PARAMS = "MODEL-TRAINING-INVALID-PARAMS"
    """The params break the template's JSON Schema, or the model or template is missing."""
    INVALID_DATA_TOLERANCE_EXCEEDED = "MODEL-TRAINING-INVALID-DATA-TOLERANCE-EXCEEDED"
    """More rows were invalid than ``dataset.invalidDataTolerancePercent`` allows."""
    DATA_UNREADABLE = "MODEL-TRAINING-DATA-UNREADABLE"
    """The dataset could not be read: missing file, unknown format, missing column."""
    DATA_LEAKAGE = "MODEL-TRAINING-DATA-LEAKAGE"
    """Evaluation rows occur in the training data beyond the allowed share, and the run's params
    make that an error (``fail_on_leakage``)."""
    OUT_OF_MEMORY = "MODEL-TRAINING-OUT-OF-MEMORY"
    """The GPU (or host) ran out of memory at the run's batch size and max length: the user lowers
    them or turns on ``auto_find_batch_size``; a retry at the same settings would fail the same way."""
    TIMED_OUT = "MODEL-TRAINING-TIMED-OUT"
    """The run passed ``activeDeadlineSeconds``."""
    BACKOFF_LIMIT_EXCEEDED = "MODEL-TRAINING-BACKOFF-LIMIT-EXCEEDED"
    """Infrastructure errors used up ``backoffLimit`` retries."""
    JOB_LOST = "MODEL-TRAINING-JOB-LOST"
    """The run's Job was deleted by someone else; it is not re-created behind the user's back."""
    INTERNAL_ERROR = "MODEL-TRAINING-INTERNAL-ERROR"
    """The trainer failed in a way it could not classify; see the message and the logs."""


class EvaluationCode(enum.StrEnum):
    """The headline state of an evaluation of a trained version on a dataset."""

    QUEUED = "MODEL-QUEUED-FOR-EVALUATION"
    EVALUATING = "MODEL-EVALUATING"
    EVALUATED = "MODEL-EVALUATED"
    FAILED = "MODEL-EVALUATION-FAILED"


DESCRIPTIONS: dict[str, str] = {
    EvaluationCode.QUEUED: "Model is queued for evaluation",
    EvaluationCode.EVALUATING: "Model is evaluating",
    EvaluationCode.EVALUATED: "Model is evaluated",
    EvaluationCode.FAILED: "Model evaluation failed",
    StatusCode.QUEUED: "Model is queued for training",
    StatusCode.TRAINING: "Model is training",
    StatusCode.TRAINED: "Model is trained and ready",
    StatusCode.FAILED: "Model training failed",
    DetailCode.NO_DATA: "No training data: the dataset has no usable rows",
    DetailCode.INSUFFICIENT_DATA: "Not enough data: too few classes or examples per class",
    DetailCode.INVALID_PARAMS: "Invalid training parameters",
    DetailCode.INVALID_DATA_TOLERANCE_EXCEEDED: "Too many invalid rows in the dataset",
    DetailCode.DATA_UNREADABLE: "The dataset could not be read",
    DetailCode.DATA_LEAKAGE: "Evaluation data leaks from the training data",
    DetailCode.OUT_OF_MEMORY: "Training ran out of memory at its batch size and max length",
    DetailCode.TIMED_OUT: "Training exceeded its deadline",
    DetailCode.BACKOFF_LIMIT_EXCEEDED: "Training failed after all retries",
    DetailCode.JOB_LOST: "The training Job was deleted",
    DetailCode.INTERNAL_ERROR: "Training failed with an internal error",
}
"""Human descriptions for ``status.description``."""


class ExitCode(enum.IntEnum):
    """The trainer process's exit codes. Documented in the README; the Job's failure policy keys on them.

    0 is success; 10-19 are user errors (fail the Job at once, never retried); everything else,
    including 20 and crashes (1, signals), is treated as infrastructure and retried up to backoffLimit.
    """

    OK = 0
    INVALID_PARAMS = 10
    NO_DATA = 11
    INSUFFICIENT_DATA = 12
    INVALID_DATA_TOLERANCE_EXCEEDED = 13
    DATA_UNREADABLE = 14
    DATA_LEAKAGE = 15
    OUT_OF_MEMORY = 16
    INFRASTRUCTURE = 20


EXIT_CODE_FOR_DETAIL: dict[DetailCode, ExitCode] = {
    DetailCode.INVALID_PARAMS: ExitCode.INVALID_PARAMS,
    DetailCode.NO_DATA: ExitCode.NO_DATA,
    DetailCode.INSUFFICIENT_DATA: ExitCode.INSUFFICIENT_DATA,
    DetailCode.INVALID_DATA_TOLERANCE_EXCEEDED: ExitCode.INVALID_DATA_TOLERANCE_EXCEEDED,
    DetailCode.DATA_UNREADABLE: ExitCode.DATA_UNREADABLE,
    DetailCode.DATA_LEAKAGE: ExitCode.DATA_LEAKAGE,
    DetailCode.OUT_OF_MEMORY: ExitCode.OUT_OF_MEMORY,
}
"""User errors and the exit code the trainer leaves with for each."""

DETAIL_FOR_EXIT_CODE: dict[int, DetailCode] = {int(v): k for k, v in EXIT_CODE_FOR_DETAIL.items()}

USER_ERROR_EXIT_CODES: tuple[int, ...] = tuple(sorted(DETAIL_FOR_EXIT_CODE))
"""Exit codes that mean the user must change something: the Job fails without retrying."""


def describe(code: str) -> str:
    """The human description of a status or detail code (the code itself if unknown)."""
    return DESCRIPTIONS.get(code, code)
