"""The data report's pure parts (normalisation, duplicates, leakage, lengths) and the warnings' detectors,
on crafted data."""

from __future__ import annotations

import numpy as np
import pytest

from textclf.api import conditions
from textclf_trainer import catalogue, datareport, evaluation, examples, params, trust


def ex(*rows: tuple[str, str], numbers: tuple[int, ...] = ()) -> examples.Examples:
    return examples.Examples(
        tuple(text for text, _ in rows), tuple((label,) for _, label in rows), numbers
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  A  Great\tfilm!\n", "a great film"),
        ("«Great film», he said.", "great film», he said"),
        ("...Don't   GO!!!", "don't go"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),  # casefold, not lower
        ("!!!", ""),
        ("$5 off :)", "$5 off"),  # symbols ($) stay; punctuation at the ends goes
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert datareport.normalise(text) == expected


def test_duplicates_count_later_rows_and_conflicts() -> None:
    split = ex(
        ("Good film", "pos"),
        ("bad film", "neg"),
        ("good  film!", "pos"),  # duplicate of row 1
        ("GOOD FILM", "neg"),  # duplicate of row 1, other label
        ("Bad film.", "neg"),  # duplicate of row 2
        numbers=(2, 3, 5, 8, 9),
    )
    found = datareport.duplicates(split)
    assert found.rows == (5, 8, 9)  # file row numbers, not positions
    assert (found.texts, found.conflicting) == (2, 1)


def test_leakage_by_row_number_against_the_train_file() -> None:
    train = ex(("alpha one", "a"), ("beta two", "b"), numbers=(1, 4))
    validation = ex(("gamma three", "a"), ("Alpha one!", "a"), numbers=(2, 3))
    test = ex(("GAMMA three", "b"), ("delta", "b"), ("beta two", "b"), numbers=(1, 2, 3))
    found = datareport.leaks({"train": train, "validation": validation, "test": test})
    assert (found["validation"].rows, found["validation"].train_rows) == ((3,), (1,))
    # test is checked against the whole train file: the validation rows held out of it too
    assert (found["test"].rows, found["test"].train_rows) == ((1, 3), (2, 4))
    assert found["test"].same_label == 1  # row 1 carries b, its train copy a
    assert round(found["test"].percent, 2) == 66.67
    assert found["test"].describe() == "2 of 3 test rows (66.7%) also occur in the training data"
    assert [leak.split for leak in datareport.above(found, 49.9)] == ["validation", "test"]
    assert [leak.split for leak in datareport.above(found, 50.0)] == ["test"]  # strictly above
    message = datareport.warning_message(found, 60.0)
    assert message is not None
    assert message.startswith("2 of 3 test rows (66.7%) also occur in the training data: test")
    assert "(rows 1, 3)" in message
    assert datareport.warning_message(found, 70.0) is None


def test_length_stats_nearest_rank_and_truncation() -> None:
    lengths = list(range(1, 101))  # 1..100
    stats = datareport.length_stats(lengths, max_length=90)
    assert (stats["min"], stats["p50"], stats["p90"], stats["p99"], stats["max"]) == (
        1,
        50,
        90,
        99,
        100,
    )
    assert (stats["truncated"], stats["truncatedPercent"]) == (10, 10.0)
    assert datareport.length_stats([7], 8)["p99"] == 7
    assert datareport.length_stats([], 8) == {"texts": 0}


def test_report_counts_words_without_a_tokenizer() -> None:
    splits = {"train": ex(("one two three", "a"), ("one two", "b"), ("One two.", "b"))}
    files = {"train": examples.DataReport("file:///t.csv", 4, 3, {"empty text": 1}, (2,), {}, {})}
    report = datareport.build(
        files=files,
        splits=splits,
        concepts=("a", "b"),
        found={},
        counter=None,
        tokens="package://x/model",
        max_length=2,
        threshold_percent=1.0,
        seed=1,
    )
    wire = report.to_dict()
    assert wire["lengthUnit"] == "words"
    assert wire["splits"]["train"]["length"]["truncated"] == 1
    assert wire["splits"]["train"]["classBalance"]["b"] == {"rows": 2, "percent": 66.67}
    summary = report.summary()
    assert (summary.train_rows, summary.dropped_rows, summary.duplicate_train_rows) == (3, 1, 1)
    assert summary.leaked_test_rows is None


# --- warnings -------------------------------------------------------------------------------------

CONCEPTS = ("neg", "pos", "neu")


def report_of(truth: list[int], predicted: list[int]) -> dict[str, object]:
    scores = np.eye(3, dtype=np.float32)[predicted]
    return evaluation.report(np.array(truth), scores, CONCEPTS, multi_label=False)


def test_single_class_detector() -> None:
    truth = [0] * 10 + [1] * 6 + [2] * 4
    one_class = report_of(truth, [0] * 19 + [1])  # 95% neg
    warning = trust.single_class(one_class, "test")
    assert warning is not None
    assert warning.type == conditions.SINGLE_CLASS
    assert warning.message.startswith("The model predicts 'neg' for 19 of 20 test texts (95.0%)")
    assert "50% of the true labels are 'neg'" in warning.message
    assert trust.single_class(report_of(truth, [0] * 18 + [1, 2]), "test") is None  # 90%


def test_single_class_detector_multi_label_sets() -> None:
    truth = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1]] * 5)
    scores = np.tile(np.array([[0.9, 0.8, 0.1]], dtype=np.float32), (20, 1))
    report = evaluation.report(truth, scores, CONCEPTS, multi_label=True)
    assert report["top_prediction"] == {"concepts": ["neg", "pos"], "count": 20, "share": 1.0}
    warning = trust.single_class(report, "validation")
    assert warning is not None
    assert "{neg, pos} for 20 of 20 validation texts" in warning.message
    nothing = evaluation.report(truth, scores * 0, CONCEPTS, multi_label=True)
    assert nothing["top_prediction"]["concepts"] == []
    silent = trust.single_class(nothing, "test")
    assert silent is not None
    assert "predicts no concept for 20 of 20 test texts" in silent.message


def test_below_baseline_on_the_headline_split() -> None:
    truth = [0] * 10 + [1] * 6 + [2] * 4
    good, weak = report_of(truth, truth), report_of(truth, [0] * 20)
    assert trust.headline_split(["train", "validation"]) == "validation"
    assert (
        trust.below_baseline({"train": good, "test": good}, {"train": good, "test": weak}) is None
    )
    warning = trust.below_baseline({"train": good, "test": weak}, {"train": weak, "test": good})
    assert warning is not None
    assert warning.type == conditions.BELOW_BASELINE
    assert "on test: macro F1 0.2222 vs 1.0000 (-77.8 points)" in warning.message
    assert trust.below_baseline({"test": good}, {}) is None  # baseline off
    found = trust.warnings(leak_message="leak", model={"test": weak}, baseline={"test": good})
    assert [w.type for w in found] == list(conditions.WARNINGS)


def test_every_template_has_the_trust_params() -> None:
    for name in catalogue.names():
        merged = params.effective(name, {"model_config": {}})
        assert merged["baseline"] is True
        assert merged["leakage_threshold_percent"] == 1.0
        assert merged["fail_on_leakage"] is False
    with pytest.raises(Exception, match=r"params\.leakage_threshold_percent"):
        params.effective("hf-advanced", {"leakage_threshold_percent": 101})
    with pytest.raises(Exception, match=r"params\.fail_on_leakage"):
        params.effective("hf-lora", {"fail_on_leakage": "yes"})
