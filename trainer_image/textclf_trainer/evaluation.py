"""Evaluation of scores against true labels: the full report for ``metrics.json`` and the headline that
goes into the run's status (``trainingrun.SplitMetrics``) and termination message (``HeadlineSplit``).

Pure functions over arrays, computed with ``sklearn.metrics``. Single-label: argmax prediction,
accuracy, macro/weighted precision/recall/F1 over all concepts, one-vs-rest ROC AUC per concept, a
confusion matrix. Multi-label: a concept is predicted when its score >= its threshold (one for all
concepts, 0.5 by default, or one per concept as ``tune_thresholds`` picks them on a validation split);
accuracy is the exact-match ratio; micro averages are reported too. ``macro_roc_auc`` is set only when every
concept has positives and negatives in the split. Curves are downsampled to ``MAX_CURVE_POINTS``.
``top_prediction`` (the most frequent prediction and its share) is what the single-class warning reads.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn import metrics as skm

from textclf.api import channels, trainingrun

MAX_CURVE_POINTS = 51
DIGITS = 6
THRESHOLD_GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))
"""The thresholds ``tune_thresholds`` tries for each concept: 0.05 to 0.95."""

Threshold = float | Sequence[float]
"""A multi-label decision threshold: one for every concept, or one per concept in their order."""


def targets(
    labels: Sequence[Sequence[str]], concepts: Sequence[str], multi_label: bool
) -> npt.NDArray[np.int64]:
    """Class indices (single-label) or a 0/1 indicator matrix (multi-label)."""
    index = {c: i for i, c in enumerate(concepts)}
    if not multi_label:
        return np.array([index[names[0]] for names in labels], dtype=np.int64)
    matrix = np.zeros((len(labels), len(concepts)), dtype=np.int64)
    for row, names in enumerate(labels):
        for name in names:
            matrix[row, index[name]] = 1
    return matrix


def predictions(
    scores: npt.NDArray[np.float32], multi_label: bool, threshold: Threshold = 0.5
) -> npt.NDArray[np.int64]:
    chosen: npt.NDArray[np.int64] = (
        (scores >= np.asarray(threshold, dtype=np.float32)).astype(np.int64)
        if multi_label
        else np.asarray(scores.argmax(axis=1), dtype=np.int64)
    )
    return chosen


def top_prediction(
    y_pred: npt.NDArray[np.int64], concepts: Sequence[str], multi_label: bool
) -> dict[str, Any]:
    """The most frequent prediction of a split and its share: a concept (single-label) or a set of
    concepts (multi-label; the empty set when no concept passes the threshold). On a tie either
    one is named; the share is the same."""
    if len(y_pred) == 0:
        return {"concepts": [], "count": 0, "share": 0.0}
    if multi_label:
        rows, counts = np.unique(y_pred.reshape(len(y_pred), -1), axis=0, return_counts=True)
        best = int(np.argmax(counts))
        chosen = [concepts[int(i)] for i in np.flatnonzero(rows[best])]
        count = int(counts[best])
    else:
        per_concept = np.bincount(y_pred, minlength=len(concepts))
        best = int(np.argmax(per_concept))
        chosen, count = [concepts[best]], int(per_concept[best])
    return {"concepts": chosen, "count": count, "share": _round(count / len(y_pred))}


def _round(value: float | None) -> float | None:
    if value is None or math.isnan(value):
        return None
    return round(float(value), DIGITS)


def _downsample(*series: npt.NDArray[Any]) -> list[list[float]]:
    n = len(series[0])
    if n > MAX_CURVE_POINTS:
        keep = np.unique(np.linspace(0, n - 1, MAX_CURVE_POINTS).round().astype(int))
    else:
        keep = np.arange(n)
    return [[round(float(v), 4) for v in s[keep]] for s in series]


def _binary_auc(truth: npt.NDArray[np.int64], score: npt.NDArray[np.float32]) -> float | None:
    if truth.min() == truth.max():
        return None
    return float(skm.roc_auc_score(truth, score))


def report(
    y_true: npt.NDArray[np.int64],
    scores: npt.NDArray[np.float32],
    concepts: Sequence[str],
    *,
    multi_label: bool,
    threshold: Threshold = 0.5,
) -> dict[str, Any]:
    """The full evaluation of one split."""
    n_concepts = len(concepts)
    y_pred = predictions(scores, multi_label, threshold)
    labels = list(range(n_concepts))
    truth = y_true if multi_label else np.eye(n_concepts, dtype=np.int64)[y_true]
    result: dict[str, Any] = {
        "examples": len(y_true),
        "multi_label": multi_label,
        "accuracy": _round(skm.accuracy_score(y_true, y_pred)),
    }
    averages = ("macro", "weighted", "micro") if multi_label else ("macro", "weighted")
    for average in averages:
        p, r, f, _ = skm.precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=average, zero_division=0
        )
        result[f"{average}_precision"] = _round(p)
        result[f"{average}_recall"] = _round(r)
        result[f"{average}_f1"] = _round(f)
    p, r, f, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average=None, zero_division=0
    )
    per_concept: list[dict[str, Any]] = []
    curves: dict[str, Any] = {}
    aucs: list[float | None] = []
    for i, concept in enumerate(concepts):
        auc = _binary_auc(truth[:, i], scores[:, i])
        aucs.append(auc)
        per_concept.append(
            {
                "concept": concept,
                "precision": _round(p[i]),
                "recall": _round(r[i]),
                "f1": _round(f[i]),
                "roc_auc": _round(auc),
                "support": int(support[i]),
            }
        )
        if auc is not None:
            fpr, tpr, _ = skm.roc_curve(truth[:, i], scores[:, i])
            precision, recall, _ = skm.precision_recall_curve(truth[:, i], scores[:, i])
            roc_x, roc_y = _downsample(fpr, tpr)
            pr_x, pr_y = _downsample(recall, precision)
            curves[concept] = {
                "roc": {"fpr": roc_x, "tpr": roc_y},
                "pr": {"recall": pr_x, "precision": pr_y},
                "average_precision": _round(skm.average_precision_score(truth[:, i], scores[:, i])),
            }
    defined = [a for a in aucs if a is not None]
    result["macro_roc_auc"] = (
        _round(float(np.mean(defined))) if defined and len(defined) == len(aucs) else None
    )
    result["per_concept"] = per_concept
    result["top_prediction"] = top_prediction(y_pred, concepts, multi_label)
    if not multi_label:
        result["confusion_matrix"] = {
            "labels": list(concepts),  # rows: true concept, columns: predicted concept
            "matrix": skm.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        }
    else:
        result["threshold"] = threshold if isinstance(threshold, int | float) else list(threshold)
    result["curves"] = curves
    return result


def tune_thresholds(
    y_true: npt.NDArray[np.int64], scores: npt.NDArray[np.float32], default: float = 0.5
) -> tuple[float, ...]:
    """Per concept, the threshold of ``THRESHOLD_GRID`` with the best F1 on these (validation) rows;
    ties go to the one nearest ``default``. A concept with no positive row keeps ``default``: there
    is nothing to choose it by. Rare concepts, which a single 0.5 cut almost never predicts, are
    what this recovers (bench/RESULTS.md: GoEmotions)."""
    chosen: list[float] = []
    grid = np.asarray(THRESHOLD_GRID, dtype=np.float32)
    for i in range(y_true.shape[1]):
        truth = y_true[:, i].astype(bool)
        if not truth.any():
            chosen.append(default)
            continue
        predicted = scores[:, i][:, None] >= grid[None, :]  # rows x thresholds
        tp = (predicted & truth[:, None]).sum(axis=0)
        fp = (predicted & ~truth[:, None]).sum(axis=0)
        fn = truth.sum() - tp
        f1 = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
        best = f1.max()
        ties = [float(t) for t, f in zip(THRESHOLD_GRID, f1, strict=True) if f == best]
        chosen.append(min(ties, key=lambda t: (abs(t - default), t)))
    return tuple(chosen)


def _top_concepts(full: dict[str, Any]) -> list[trainingrun.ConceptMetrics]:
    rows = sorted(full["per_concept"], key=lambda r: -r["support"])[: trainingrun.MAX_PER_CONCEPT]
    return [trainingrun.ConceptMetrics.model_validate(r) for r in rows]


def headline(full: dict[str, Any]) -> trainingrun.SplitMetrics:
    """The status summary of a split's report; per-concept rows by support, bounded."""
    return trainingrun.SplitMetrics(
        examples=full["examples"],
        accuracy=full["accuracy"],
        macro_precision=full["macro_precision"],
        macro_recall=full["macro_recall"],
        macro_f1=full["macro_f1"],
        macro_roc_auc=full["macro_roc_auc"],
        per_concept=_top_concepts(full),
    )


def headline_split(full: dict[str, Any]) -> channels.HeadlineSplit:
    """The numbers of a split for the termination message (per-concept rows are dropped there
    first when the message would pass 4 KiB)."""
    return channels.HeadlineSplit(
        examples=full["examples"],
        accuracy=full["accuracy"],
        macro_f1=full["macro_f1"],
        macro_precision=full["macro_precision"],
        macro_recall=full["macro_recall"],
        macro_roc_auc=full["macro_roc_auc"],
        per_concept=_top_concepts(full),
    )
