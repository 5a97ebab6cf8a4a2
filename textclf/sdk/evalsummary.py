"""The summary of an evaluation, under the names the hosted platform's SDK gives it
(``macro_avg_roc_auc``, ``macro_std_roc_auc``, ``macro_avg_f1_score``, ``macro_avg_precision``,
``macro_avg_recall``), from the evaluation report the trainer writes (``metrics.json``'s layout).
Pure: the same numbers locally and from a cluster's stored report."""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Mapping
from typing import Any


@dataclasses.dataclass(frozen=True)
class EvalSummary:
    macro_avg_roc_auc: float | None
    macro_std_roc_auc: float | None
    """Population standard deviation of the per-concept ROC AUCs."""
    macro_avg_f1_score: float
    macro_avg_precision: float
    macro_avg_recall: float
    accuracy: float
    examples: int


def summarize(report: Mapping[str, Any]) -> EvalSummary:
    aucs = [r["roc_auc"] for r in report["per_concept"] if r.get("roc_auc") is not None]
    return EvalSummary(
        macro_avg_roc_auc=statistics.fmean(aucs) if aucs else None,
        macro_std_roc_auc=statistics.pstdev(aucs) if aucs else None,
        macro_avg_f1_score=float(report["macro_f1"]),
        macro_avg_precision=float(report["macro_precision"]),
        macro_avg_recall=float(report["macro_recall"]),
        accuracy=float(report["accuracy"]),
        examples=int(report["examples"]),
    )
