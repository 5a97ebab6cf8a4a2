"""Row validation, tolerance, sufficiency and the validation split."""

from __future__ import annotations

import collections

import pytest

from textclf.api import codes
from textclf_trainer import errors, examples, tables


def table(*rows: tuple[str | None, str | None], problem_at: int | None = None) -> tables.Table:
    raw = tuple(
        tables.RawRow(i + 1, text, label, "unreadable" if i + 1 == problem_at else None)
        for i, (text, label) in enumerate(rows)
    )
    return tables.Table("t.csv", ("text", "label"), raw)


def clean(
    t: tables.Table,
    *,
    concepts: list[str] | None = None,
    multi_label: bool = False,
    tolerance_percent: float = 5.0,
) -> tuple[examples.Examples, examples.DataReport]:
    return examples.clean(
        t,
        concepts=concepts,
        multi_label=multi_label,
        separator=None,
        tolerance_percent=tolerance_percent,
    )


def test_invalid_rows_are_dropped_and_counted_within_tolerance() -> None:
    rows = [(f"text {i}", "a" if i % 2 else "b") for i in range(40)]
    rows[3] = ("  ", "a")
    rows[7] = ("x", "")
    data, report = clean(table(*rows), tolerance_percent=5.0)
    assert len(data) == 38
    assert report.dropped == {examples.EMPTY_TEXT: 1, examples.EMPTY_LABEL: 1}
    assert report.first_dropped == (4, 8)


def test_beyond_tolerance_names_counts_and_rows() -> None:
    rows = [("t", "a")] * 10 + [("", "a")] * 2
    with pytest.raises(errors.UserError) as caught:
        clean(table(*rows), tolerance_percent=10.0)
    assert caught.value.detail == codes.DetailCode.INVALID_DATA_TOLERANCE_EXCEEDED
    assert "2 of 12 rows" in caught.value.message
    assert "11, 12" in caught.value.message


def test_unknown_labels_only_when_concepts_are_fixed() -> None:
    rows = [("t", "a"), ("u", "b"), ("v", "c")]
    data, _ = clean(table(*rows))
    assert len(data) == 3
    with pytest.raises(errors.UserError) as caught:
        clean(table(*rows), concepts=["a", "b"], tolerance_percent=0.0)
    assert examples.UNKNOWN_LABEL in caught.value.message


def test_header_only_is_no_data() -> None:
    with pytest.raises(errors.UserError) as caught:
        clean(table())
    assert caught.value.detail == codes.DetailCode.NO_DATA


def test_multi_label_split_and_dedupe() -> None:
    assert examples.split_labels(" joy | love|joy||", "|") == ("joy", "love")
    assert examples.split_labels("a|b", None) == ("a|b",)


@pytest.mark.parametrize(
    ("labels", "multi"),
    [([("a",)] * 5, False), ([("a",)] * 5 + [("b",)], False), ([("a", "b")] * 4, True)],
)
def test_insufficient_data(labels: list[tuple[str, ...]], multi: bool) -> None:
    train = examples.Examples(tuple(f"t{i}" for i in range(len(labels))), tuple(labels))
    concepts = examples.decide_concepts(train, None)
    with pytest.raises(errors.UserError) as caught:
        examples.check_sufficient(train, concepts, multi)
    assert caught.value.detail == codes.DetailCode.INSUFFICIENT_DATA


def test_validation_split_is_stratified_and_seeded() -> None:
    labels = [("a",)] * 80 + [("b",)] * 20
    train = examples.Examples(tuple(f"t{i}" for i in range(100)), tuple(labels))
    fit, val = examples.split_validation(train, 0.2, seed=7)
    again, val_again = examples.split_validation(train, 0.2, seed=7)
    assert val is not None
    assert val_again is not None
    assert val.texts == val_again.texts
    assert fit.texts == again.texts
    assert collections.Counter(x[0] for x in val.labels) == {"a": 16, "b": 4}
    assert not set(fit.texts) & set(val.texts)
    assert len(fit) + len(val) == 100
    _other, other_val = examples.split_validation(train, 0.2, seed=8)
    assert other_val is not None
    assert other_val.texts != val.texts


def test_validation_split_too_small_for_the_concepts() -> None:
    train = examples.Examples(tuple("abcdef"), (("a",), ("b",), ("c",), ("a",), ("b",), ("c",)))
    with pytest.raises(errors.UserError) as caught:
        examples.split_validation(train, 0.2, seed=1)
    assert caught.value.detail == codes.DetailCode.INSUFFICIENT_DATA
