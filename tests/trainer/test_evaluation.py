"""Evaluation reports checked against counts made by hand from the same predictions."""

from __future__ import annotations

import numpy as np

from textclf.api import trainingrun
from textclf_trainer import evaluation

CONCEPTS = ("neg", "neu", "pos")


def f1(tp: int, fp: int, fn: int) -> float:
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def test_single_label_report_matches_hand_counts() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=200)
    scores = rng.random((200, 3)).astype(np.float32)
    scores[np.arange(200), y] += rng.random(200).astype(np.float32)  # better than chance
    scores /= scores.sum(axis=1, keepdims=True)
    report = evaluation.report(y, scores, CONCEPTS, multi_label=False)
    predicted = scores.argmax(axis=1)
    assert report["accuracy"] == round(float((predicted == y).mean()), 6)
    f1s = []
    for k in range(3):
        tp = int(((predicted == k) & (y == k)).sum())
        fp = int(((predicted == k) & (y != k)).sum())
        fn = int(((predicted != k) & (y == k)).sum())
        f1s.append(f1(tp, fp, fn))
        row = report["per_concept"][k]
        assert row["support"] == int((y == k).sum())
        assert abs(row["f1"] - f1s[-1]) < 1e-6
    assert abs(report["macro_f1"] - sum(f1s) / 3) < 1e-6
    matrix = np.array(report["confusion_matrix"]["matrix"])
    assert matrix.sum() == 200
    assert np.trace(matrix) == int((predicted == y).sum())
    assert 0.5 < report["macro_roc_auc"] <= 1.0
    curve = report["curves"]["pos"]["roc"]
    assert len(curve["fpr"]) <= evaluation.MAX_CURVE_POINTS
    assert curve["fpr"][0] == 0.0
    assert curve["tpr"][-1] == 1.0


def test_multi_label_exact_match_and_threshold() -> None:
    truth = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]])
    scores = np.array(
        [[0.9, 0.1, 0.6], [0.2, 0.7, 0.1], [0.8, 0.4, 0.0], [0.1, 0.2, 0.49]], dtype=np.float32
    )
    report = evaluation.report(truth, scores, CONCEPTS, multi_label=True)
    assert report["accuracy"] == 0.5  # rows 1 and 2 exactly right
    # micro: tp = 2+1+1 = 4... counted: row0 2, row1 1, row2 1 (neu missed), row3 0 (pos missed)
    assert abs(report["micro_recall"] - 4 / 6) < 1e-6
    assert report["micro_precision"] == 1.0
    assert "confusion_matrix" not in report
    assert report["threshold"] == 0.5


def test_macro_auc_absent_when_a_concept_has_no_positives() -> None:
    y = np.array([0, 2, 0, 2])
    scores = np.array(
        [[0.8, 0.1, 0.1], [0.1, 0.1, 0.8], [0.6, 0.2, 0.2], [0.3, 0.3, 0.4]], dtype=np.float32
    )
    report = evaluation.report(y, scores, CONCEPTS, multi_label=False)
    assert report["macro_roc_auc"] is None
    assert report["per_concept"][1]["roc_auc"] is None


def test_headline_maps_into_the_status_models() -> None:
    y = np.array([0, 1, 2, 1])
    scores = np.eye(3, dtype=np.float32)[[0, 1, 2, 2]]
    full = evaluation.report(y, scores, CONCEPTS, multi_label=False)
    split = evaluation.headline(full)
    assert isinstance(split, trainingrun.SplitMetrics)
    assert split.accuracy == 0.75
    assert next(c.concept for c in split.per_concept) == "neu"  # by support, highest first
    assert evaluation.headline_split(full).macro_f1 == split.macro_f1
    wire = split.to_wire()
    assert wire["macroF1"] == split.macro_f1


def test_per_concept_thresholds_cut_each_concept_at_its_own_score() -> None:
    truth = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]])
    scores = np.array(
        [[0.9, 0.1, 0.6], [0.2, 0.7, 0.1], [0.8, 0.4, 0.0], [0.1, 0.2, 0.49]], dtype=np.float32
    )
    # neu at 0.3 catches row 2's 0.4; pos at 0.45 catches row 3's 0.49: every row right.
    report = evaluation.report(
        truth, scores, CONCEPTS, multi_label=True, threshold=(0.5, 0.3, 0.45)
    )
    assert report["accuracy"] == 1.0
    assert report["threshold"] == [0.5, 0.3, 0.45]


def test_tuned_thresholds_maximise_each_concepts_f1() -> None:
    rng = np.random.default_rng(1)
    rows = 400
    truth = np.zeros((rows, 3), dtype=np.int64)
    truth[:, 0] = rng.random(rows) < 0.5  # common: its scores centre on 0.5
    truth[:, 1] = rng.random(rows) < 0.05  # rare: a weighted-down model scores it low
    scores = np.empty((rows, 3), dtype=np.float32)
    scores[:, 0] = np.where(truth[:, 0], 0.7, 0.3) + rng.normal(0, 0.1, rows)
    scores[:, 1] = np.where(truth[:, 1], 0.25, 0.05) + rng.normal(0, 0.03, rows)
    scores[:, 2] = rng.random(rows)  # no positives in these rows
    scores = np.clip(scores, 0, 1)
    chosen = evaluation.tune_thresholds(truth, scores)
    assert len(chosen) == 3
    assert 0.4 <= chosen[0] <= 0.6
    assert 0.1 <= chosen[1] <= 0.2  # 0.5 would never predict the rare concept
    assert chosen[2] == 0.5  # nothing to choose by: the default stays
    tuned = evaluation.report(truth, scores, CONCEPTS, multi_label=True, threshold=chosen)
    flat = evaluation.report(truth, scores, CONCEPTS, multi_label=True)
    assert tuned["per_concept"][1]["f1"] > 0.9 > flat["per_concept"][1]["f1"]
    for grid_value in evaluation.THRESHOLD_GRID:  # no threshold of the grid does better
        other = evaluation.predictions(scores[:, 1:2], True, grid_value)[:, 0]
        tp = int((other & truth[:, 1]).sum())
        fp = int((other & (1 - truth[:, 1])).sum())
        fn = int(truth[:, 1].sum()) - tp
        assert f1(tp, fp, fn) <= tuned["per_concept"][1]["f1"] + 1e-6
