"""The warnings of a trained run: what a person should look at before trusting its numbers.

``runner`` calls ``warnings`` after evaluation; each becomes a ``channels.Warning`` in the Result (and a
True condition of that type in the run's status, via ``textclf.api.results.warning_conditions``):

- ``DataLeakage``: validation or test rows also occur in train beyond the threshold (``datareport``);
- ``BelowBaseline``: the model's macro F1 on the headline split is not above the baseline's;
- ``SingleClassPredictions``: at least ``SINGLE_CLASS_SHARE`` of the model's predictions on the headline
  split are the same concept (single-label) or the same set of concepts (multi-label).

The headline split is ``test`` when the run has one, else ``validation``, else ``train``: the most honest
split the run evaluated. Pure functions over the evaluation reports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from textclf.api import channels, conditions
from textclf_trainer import baselines, datareport

HEADLINE_ORDER = ("test", "validation", "train")
SINGLE_CLASS_SHARE = 0.95
MAX_MESSAGE = 400
"""``channels.Warning.message``'s limit."""


def headline_split(names: Sequence[str]) -> str:
    """test if present, else validation, else train."""
    return next(name for name in HEADLINE_ORDER if name in names)


def warning(type_: str, message: str) -> channels.Warning:
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 3] + "..."
    return channels.Warning(type=type_, message=message)


def below_baseline(
    model: Mapping[str, Mapping[str, Any]], baseline: Mapping[str, Mapping[str, Any]]
) -> channels.Warning | None:
    """When the model's macro F1 on the headline split is not above the baseline's."""
    split = headline_split(list(model))
    if split not in baseline:
        return None
    mine, theirs = model[split], baseline[split]
    if mine["macro_f1"] > theirs["macro_f1"]:
        return None
    points = 100 * (mine["macro_f1"] - theirs["macro_f1"])
    return warning(
        conditions.BELOW_BASELINE,
        f"The model does not beat the {baselines.NAME} baseline on {split}: macro F1 "
        f"{mine['macro_f1']:.4f} vs {theirs['macro_f1']:.4f} ({points:+.1f} points), accuracy "
        f"{mine['accuracy']:.4f} vs {theirs['accuracy']:.4f}",
    )


def _concepts(names: Sequence[str]) -> str:
    if not names:
        return "no concept"
    return repr(names[0]) if len(names) == 1 else "{" + ", ".join(names) + "}"


def single_class(report: Mapping[str, Any], split: str) -> channels.Warning | None:
    """When one prediction makes up ``SINGLE_CLASS_SHARE`` or more of a split's predictions."""
    top = report["top_prediction"]
    if not top["count"] or top["share"] < SINGLE_CLASS_SHARE:
        return None
    chosen = top["concepts"]
    truth = ""
    if len(chosen) == 1 and not report["multi_label"]:
        support = next(r["support"] for r in report["per_concept"] if r["concept"] == chosen[0])
        truth = f"; {datareport.percent(support, report['examples']):.0f}% of the true labels are"
        truth += f" {chosen[0]!r}"
    return warning(
        conditions.SINGLE_CLASS,
        f"The model predicts {_concepts(chosen)} for {top['count']} of {report['examples']} "
        f"{split} texts ({100 * top['share']:.1f}%){truth}: it has likely learned the class "
        "prior, not the texts",
    )


def warnings(
    *,
    leak_message: str | None,
    model: Mapping[str, Mapping[str, Any]],
    baseline: Mapping[str, Mapping[str, Any]],
) -> list[channels.Warning]:
    """The run's warnings, in ``conditions.WARNINGS`` order; only those that hold."""
    found = [
        warning(conditions.DATA_LEAKAGE, leak_message) if leak_message else None,
        below_baseline(model, baseline),
        single_class(model[headline_split(list(model))], headline_split(list(model))),
    ]
    return [w for w in found if w is not None]
