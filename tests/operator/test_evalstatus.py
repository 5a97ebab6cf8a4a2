"""Pure status computation of evaluations: how an evaluator's failure maps to its code. (The
flows around it, against the real API server, are in ``test_evaluations.py``.)"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from tests.operator.observed import T0, job_with, pod_in
from textclf.api import codes, modelevaluation
from textclf_operator import evalstatus

EVALUATION = {"metadata": {"name": "e", "namespace": "n", "uid": "u", "generation": 1}}


def _failed(job_reason: str, exit_code: int, pod_reason: str = "Error") -> Any:
    """The status of an evaluation whose Job failed for ``job_reason`` after a Pod that ended so."""
    pod = pod_in("Failed", exitCode=exit_code, reason=pod_reason, finishedAt="2026-11-25T12:01:00Z")
    return evalstatus.compute(
        evalstatus.Observed(
            evaluation=EVALUATION,
            previous=modelevaluation.ModelEvaluationStatus(),
            job=job_with(("Failed", job_reason)),
            pods=[pod],
            now=T0 + datetime.timedelta(minutes=1),
        )
    )


def test_an_evaluator_killed_at_its_memory_limit_is_out_of_memory() -> None:
    status = _failed("BackoffLimitExceeded", 137, "OOMKilled")
    assert status.detail_code == modelevaluation.DetailCode.OUT_OF_MEMORY
    assert "spec.resources.memory" in (status.description or "")
    other = _failed("BackoffLimitExceeded", 137)  # SIGKILL for another cause
    assert other.detail_code == modelevaluation.DetailCode.BACKOFF_LIMIT_EXCEEDED


@pytest.mark.parametrize("trainer", list(codes.EXIT_CODE_FOR_DETAIL))
def test_every_user_error_exit_has_an_evaluation_code(trainer: codes.DetailCode) -> None:
    """An evaluator leaves with the trainer's exit codes; each must map to an evaluation code (exit
    16 once had none, and its status could not be computed)."""
    assert modelevaluation.detail_of(trainer).name == trainer.name
    status = _failed("PodFailurePolicy", int(codes.EXIT_CODE_FOR_DETAIL[trainer]))
    assert status.detail_code == modelevaluation.detail_of(trainer)
