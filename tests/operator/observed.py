"""Objects that the pure status tests observe: a Job with conditions and a Pod in a phase, shaped as
the API server stores them (runs and evaluations read the same Pods and Jobs)."""

from __future__ import annotations

import datetime
from typing import Any

from textclf_operator import builders

T0 = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=datetime.UTC)
JOB = {"metadata": {"name": "r-train", "uid": "j"}, "spec": {}, "status": {}}


def pod_in(phase: str, **terminated: Any) -> dict[str, Any]:
    state: dict[str, Any] = {"running": {"startedAt": "2026-11-25T12:00:05Z"}}
    if terminated:
        state = {"terminated": {"startedAt": "2026-11-25T12:00:05Z", **terminated}}
    return {
        "metadata": {"name": "p"},
        "status": {
            "phase": phase,
            "containerStatuses": [{"name": builders.CONTAINER, "state": state}],
        },
    }


def job_with(*conditions: tuple[str, str]) -> dict[str, Any]:
    return {
        **JOB,
        "status": {
            "conditions": [{"type": t, "status": "True", "reason": r} for t, r in conditions]
        },
    }
