"""From the trainer's ``Result`` to the fields of a TrainingRun's status: one mapping for both backends.

The operator (from a termination message) and the local backend (``textclf train --local``) both turn a
Result into status metrics, baseline, lift, data report and warning conditions through these pure
functions, so a run reads the same on a laptop and in a cluster.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from textclf.api import channels, trainingrun
from textclf.api import conditions as conds

SPLITS = ("train", "validation", "test")


def split_metrics(head: channels.HeadlineSplit) -> trainingrun.SplitMetrics:
    return trainingrun.SplitMetrics(
        examples=head.examples,
        accuracy=head.accuracy,
        macro_precision=head.macro_precision,
        macro_recall=head.macro_recall,
        macro_f1=head.macro_f1,
        macro_roc_auc=head.macro_roc_auc,
        per_concept=(head.per_concept or [])[: trainingrun.MAX_PER_CONCEPT],
    )


def metrics(by_split: dict[str, channels.HeadlineSplit]) -> trainingrun.Metrics | None:
    """Status metrics from a Result's per-split numbers (None when there are none)."""
    splits = {s: split_metrics(h) for s, h in by_split.items() if s in SPLITS}
    return trainingrun.Metrics(**splits) if splits else None


def lift(result: channels.Result) -> trainingrun.LiftPerSplit | None:
    """The model's lift over the baseline in percentage points, per split both evaluated."""
    found = {}
    for split in SPLITS:
        model, base = result.metrics.get(split), result.baseline.get(split)
        if model is not None and base is not None:
            found[split] = trainingrun.Lift(
                accuracy_points=round(100 * (model.accuracy - base.accuracy), 2),
                macro_f1_points=round(100 * (model.macro_f1 - base.macro_f1), 2),
            )
    return trainingrun.LiftPerSplit(**found) if found else None


def warning_conditions(
    current: Sequence[conds.Condition],
    result: channels.Result,
    now: datetime.datetime,
    generation: int | None,
) -> list[conds.Condition]:
    """``current`` with each warning condition set: True with its message if the result raised it."""
    raised = {w.type: w.message for w in result.warnings}
    updated = list(current)
    for type_ in conds.WARNINGS:
        on, off = conds.WARNING_REASONS[type_]
        updated = conds.set_condition(
            updated,
            type=type_,
            status="True" if type_ in raised else "False",
            reason=on if type_ in raised else off,
            message=raised.get(type_, ""),
            now=now,
            observed_generation=generation,
        )
    return updated
