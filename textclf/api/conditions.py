"""Condition types and reasons of textclf's kinds, and the pure function that sets a condition.

Conditions follow ``metav1.Condition``: one CamelCase reason, a message for people, and a
``lastTransitionTime`` that moves only when the status value flips. The operator computes every
condition through ``set_condition`` so that rule holds in one place; the clock is passed in, so
tests pin it.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Literal

from textclf.api import common

# --- condition types ---------------------------------------------------------------------------

QUEUED = "Queued"
"""TrainingRun: the run waits for its Job to be admitted or its Pod to start."""
RUNNING = "Running"
"""TrainingRun: a training Pod is running."""
SUCCEEDED = "Succeeded"
"""TrainingRun: the run finished and produced a model version (bounded work: Succeeded, not Ready)."""
FAILED = "Failed"
"""TrainingRun: the run ended without a model; the reason and detail code say why."""
SUSPENDED = "Suspended"
"""TrainingRun: ``spec.suspend`` or a queue holds the run's Job."""
DATA_LEAKAGE = "DataLeakage"
"""TrainingRun: evaluation rows also occur in the training data (a warning, not a failure)."""
BELOW_BASELINE = "BelowBaseline"
"""TrainingRun: the model does not beat the TF-IDF + logistic regression baseline (a warning)."""
SINGLE_CLASS = "SingleClassPredictions"
"""TrainingRun: the model predicts one concept for nearly every text (a warning)."""
WARNINGS = (DATA_LEAKAGE, BELOW_BASELINE, SINGLE_CLASS)
"""Condition types that are True when something about a trained run deserves a person's look."""
VALID = "Valid"
"""TrainingTemplate: its paramsSchema is a valid JSON Schema and its defaults satisfy it."""
READY = "Ready"
"""TextClassifierModel: at least one trained version exists."""
SERVING = "Serving"
"""TextClassifierModel: the serving Deployment has ready replicas for the chosen version."""

# --- reasons -----------------------------------------------------------------------------------

REASON_JOB_CREATED = "JobCreated"
"""The Job exists but no Pod runs yet."""
REASON_JOB_SUSPENDED = "JobSuspended"
"""The Job is suspended (by the run's spec or by a queue such as Kueue)."""
REASON_JOB_REFUSED = "JobRefused"
"""The API server would not create the run's Job yet (a ResourceQuota, an admission webhook, a Job of
that name that belongs to something else); its message is in the condition, and the operator
retries with backoff."""
REASON_WAITING = "WaitingForDependencies"
"""The run's model or template does not exist yet; the run starts when it does."""
REASON_POD_PENDING = "PodPending"
"""The Pod waits for a node, an image or resources."""
REASON_POD_RUNNING = "PodRunning"
"""A training container runs."""
REASON_TRAINED = "Trained"
"""The trainer reported success with metrics and an artifact."""
REASON_EVALUATED = "Evaluated"
"""A ModelEvaluation's Job succeeded and the evaluator left its result."""
REASON_NO_RESULT = "NoResult"
"""The Pod succeeded but left no result in its termination message."""
REASON_USER_ERROR = "UserError"
"""The trainer rejected the data or params; retrying cannot help."""
REASON_BACKOFF_LIMIT_EXCEEDED = "BackoffLimitExceeded"
"""Infrastructure failures used up the run's retries."""
REASON_DEADLINE_EXCEEDED = "DeadlineExceeded"
"""The run passed ``activeDeadlineSeconds``."""
REASON_INVALID_SPEC = "InvalidSpec"
"""The model or template is missing, or params break the template's schema; no Job was made."""
REASON_JOB_LOST = "JobLost"
"""The Job vanished after it was created; the operator does not silently make a second one."""
REASON_NOT_QUEUED = "NotQueued"
REASON_NOT_RUNNING = "NotRunning"
REASON_NOT_SUSPENDED = "NotSuspended"
REASON_IN_PROGRESS = "InProgress"
"""Succeeded/Failed are False while the run is still going."""
REASON_NO_LEAKAGE = "NoLeakage"
REASON_LEAKAGE_FOUND = "LeakageFound"
REASON_BASELINE_BEATEN = "BaselineBeaten"
REASON_BASELINE_NOT_BEATEN = "BaselineNotBeaten"
REASON_SEVERAL_CLASSES = "SeveralClassesPredicted"
REASON_ONE_CLASS = "OneClassPredicted"
WARNING_REASONS: dict[str, tuple[str, str]] = {
    DATA_LEAKAGE: (REASON_LEAKAGE_FOUND, REASON_NO_LEAKAGE),
    BELOW_BASELINE: (REASON_BASELINE_NOT_BEATEN, REASON_BASELINE_BEATEN),
    SINGLE_CLASS: (REASON_ONE_CLASS, REASON_SEVERAL_CLASSES),
}
"""Per warning condition: (reason when True, reason when False)."""
REASON_SCHEMA_VALID = "SchemaValid"
REASON_SCHEMA_INVALID = "SchemaInvalid"
"""The template's paramsSchema is not a JSON Schema, or its defaults break it: runs naming it fail."""
REASON_VERSION_AVAILABLE = "VersionAvailable"
"""Ready: a trained version exists."""
REASON_NO_TRAINED_VERSION = "NoTrainedVersion"
"""Ready, and Serving with an empty ``spec.serving.version``: no run of the model has trained yet."""
REASON_SERVING_DISABLED = "ServingDisabled"
"""Serving: ``spec.serving.enabled`` is false (or unset); the predictor Deployment and Service are
removed."""
REASON_VERSION_NOT_FOUND = "VersionNotFound"
"""Serving: ``spec.serving.version`` names a run that does not exist, trains another model, or has
not trained (the message says which); a predictor already running is left as it is."""
REASON_ROLLING_OUT = "RollingOut"
"""Serving (Unknown): the predictor Deployment is being created or rolled out, or not yet observed by
its controller; the message counts ready and updated replicas."""
REASON_PREDICTOR_READY = "Ready"
"""Serving (True): every replica of the predictor runs the chosen version and is ready."""
REASON_UNAVAILABLE = "Unavailable"
"""Serving: the rollout stalled (Progressing=False, e.g. ProgressDeadlineExceeded) or replicas of a
finished rollout are not ready (Available=False); the message is the Deployment's own."""
REASON_SCALED_TO_ZERO = "ScaledToZero"
"""Serving: ``spec.serving.replicas`` is 0; the Deployment and Service exist, no predictor runs."""
REASON_PREDICTOR_REFUSED = "PredictorRefused"
"""Serving: the API server refused the predictor Deployment or Service (the message says why);
retrying the same object cannot help, a change of the model's spec may."""

ConditionStatus = Literal["True", "False", "Unknown"]


class Condition(common.Model):
    """A ``metav1.Condition``."""

    type: str = common.field(max_length=316, description="Type of condition in CamelCase.")
    status: ConditionStatus = common.field(description="True, False or Unknown.")
    reason: str = common.field(
        max_length=1024,
        pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
        description="One CamelCase word: why the condition is in this status.",
    )
    message: str = common.field(default="", max_length=32768, description="Details for people.")
    last_transition_time: datetime.datetime = common.field(
        description="When the status last changed value."
    )
    observed_generation: int | None = common.field(
        default=None, ge=0, description="The .metadata.generation this condition was computed from."
    )


def set_condition(
    conditions: Sequence[Condition],
    *,
    type: str,
    status: ConditionStatus,
    reason: str,
    message: str,
    now: datetime.datetime,
    observed_generation: int | None = None,
) -> list[Condition]:
    """Return ``conditions`` with ``type`` set; ``lastTransitionTime`` moves only on a status flip."""
    result: list[Condition] = []
    found = False
    for cond in conditions:
        if cond.type != type:
            result.append(cond)
            continue
        found = True
        moved = cond.status != status
        result.append(
            Condition(
                type=type,
                status=status,
                reason=reason,
                message=message,
                last_transition_time=now if moved else cond.last_transition_time,
                observed_generation=observed_generation,
            )
        )
    if not found:
        result.append(
            Condition(
                type=type,
                status=status,
                reason=reason,
                message=message,
                last_transition_time=now,
                observed_generation=observed_generation,
            )
        )
    return result


def set_conditions(
    conditions: Sequence[Condition],
    table: Sequence[tuple[str, bool, str, str]],
    *,
    now: datetime.datetime,
    observed_generation: int | None = None,
) -> list[Condition]:
    """``conditions`` with each ``(type, on, reason, message)`` of ``table`` set, in order."""
    result = list(conditions)
    for type_, on, reason, message in table:
        result = set_condition(
            result,
            type=type_,
            status="True" if on else "False",
            reason=reason,
            message=message,
            now=now,
            observed_generation=observed_generation,
        )
    return result


def find(conditions: Sequence[Condition], type: str) -> Condition | None:
    """The condition of ``type``, if present."""
    return next((c for c in conditions if c.type == type), None)


def is_true(conditions: Sequence[Condition], type: str) -> bool:
    """Whether the condition of ``type`` is present and True."""
    cond = find(conditions, type)
    return cond is not None and cond.status == "True"
