"""Turns raw rows into labelled examples: drops and counts invalid rows, fixes the concepts, checks there
is enough data, and holds out a stratified, seeded validation split.

The rules a user sees as failure codes live here, as pure functions:

- no usable rows -> ``NO_DATA``;
- invalid rows (empty text, empty or unknown label, unreadable row) are dropped and counted; more than
  ``invalidDataTolerancePercent`` of a file -> ``INVALID_DATA_TOLERANCE_EXCEEDED`` with counts per reason
  and the first offending row numbers;
- fewer than ``MIN_CONCEPTS`` concepts, or a concept with fewer than ``MIN_EXAMPLES_PER_CONCEPT``
  training examples -> ``INSUFFICIENT_DATA``.

A label is "unknown" only when the model fixes its concepts; otherwise the concepts are the sorted
labels found in the training data, and test rows with labels never seen in training are unknown.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Sequence

from sklearn import model_selection

from textclf_trainer import catalogue, errors, tables

MIN_CONCEPTS = 2
"""A classifier needs two concepts (a multi-label model may have one: present or absent)."""
MIN_EXAMPLES_PER_CONCEPT = 2
"""Each concept needs this many training examples (one to learn from, one to hold out)."""
MAX_ROW_NUMBERS = 10
"""How many offending row numbers a failure message lists."""

EMPTY_TEXT = "empty text"
EMPTY_LABEL = "empty label"
UNKNOWN_LABEL = "unknown label"


@dataclasses.dataclass(frozen=True)
class Examples:
    """Texts with their labels (a tuple of concept names per text; one for single-label) and the
    number of the file row each came from (1-based, header not counted; 1..n when not given)."""

    texts: tuple[str, ...]
    labels: tuple[tuple[str, ...], ...]
    rows: tuple[int, ...] = ()

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def row_numbers(self) -> tuple[int, ...]:
        return self.rows or tuple(range(1, len(self.texts) + 1))

    def subset(self, indices: Sequence[int]) -> Examples:
        numbers = self.row_numbers
        return Examples(
            tuple(self.texts[i] for i in indices),
            tuple(self.labels[i] for i in indices),
            tuple(numbers[i] for i in indices),
        )


@dataclasses.dataclass(frozen=True)
class DataReport:
    """What happened to one file's rows: the model card and the failure messages use it."""

    source: str
    rows: int
    valid: int
    dropped: dict[str, int]  # reason -> count
    first_dropped: tuple[int, ...]  # row numbers, 1-based, header not counted
    label_counts: dict[str, int]
    dropped_rows: dict[str, tuple[int, ...]] = dataclasses.field(default_factory=dict)
    """Every dropped row's number, by reason (the data report lists them all)."""

    @property
    def invalid(self) -> int:
        return self.rows - self.valid

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "rows": self.rows,
            "valid": self.valid,
            "dropped": dict(self.dropped),
            "firstDroppedRows": list(self.first_dropped),
            "droppedRows": {why: list(rows) for why, rows in self.dropped_rows.items()},
            "labelCounts": dict(self.label_counts),
        }


def split_labels(cell: str, separator: str | None) -> tuple[str, ...]:
    """The label names of a cell: split on the separator (multi-label) and on JSON-list joins."""
    parts = cell.split(tables.LIST_SEPARATOR)
    if separator is not None:
        parts = [p for part in parts for p in part.split(separator)]
    names = (p.strip() for p in parts)
    return tuple(dict.fromkeys(n for n in names if n))  # ordered, de-duplicated


def _row_problem(
    row: tables.RawRow, labels: tuple[str, ...], concepts: frozenset[str] | None, multi: bool
) -> str | None:
    if row.problem is not None:
        return "unreadable row"
    if row.text is None or not row.text.strip():
        return EMPTY_TEXT
    if not labels:
        return EMPTY_LABEL
    if not multi and len(labels) > 1:
        return "several labels in a single-label dataset"
    if concepts is not None and any(label not in concepts for label in labels):
        return UNKNOWN_LABEL
    return None


def clean(
    table: tables.Table,
    *,
    concepts: Sequence[str] | None,
    multi_label: bool,
    separator: str | None,
    tolerance_percent: float,
) -> tuple[Examples, DataReport]:
    """Valid examples of a table, or a user error when there are none or too many invalid rows."""
    known = frozenset(concepts) if concepts else None
    texts: list[str] = []
    labels: list[tuple[str, ...]] = []
    numbers: list[int] = []
    dropped: collections.Counter[str] = collections.Counter()
    dropped_rows: dict[str, list[int]] = collections.defaultdict(list)
    first: list[int] = []
    for row in table.rows:
        names = split_labels(row.label, separator) if row.label is not None else ()
        problem = _row_problem(row, names, known, multi_label)
        if problem is not None:
            dropped[problem] += 1
            dropped_rows[problem].append(row.number)
            if len(first) < MAX_ROW_NUMBERS:
                first.append(row.number)
            continue
        texts.append(row.text or "")
        labels.append(names)
        numbers.append(row.number)
    counts = collections.Counter(name for names in labels for name in names)
    report = DataReport(
        source=table.source,
        rows=len(table.rows),
        valid=len(texts),
        dropped=dict(dropped),
        first_dropped=tuple(first),
        label_counts=dict(sorted(counts.items())),
        dropped_rows={why: tuple(rows) for why, rows in sorted(dropped_rows.items())},
    )
    if not table.rows:
        raise errors.no_data(f"{table.source}: the file has no data rows")
    if report.invalid and 100.0 * report.invalid / report.rows > tolerance_percent:
        raise errors.tolerance_exceeded(describe_dropped(report, tolerance_percent))
    if not texts:
        raise errors.no_data(f"{table.source}: no usable rows; {describe_dropped(report, None)}")
    return Examples(tuple(texts), tuple(labels), tuple(numbers)), report


def describe_dropped(report: DataReport, tolerance_percent: float | None) -> str:
    reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(report.dropped.items()))
    rows = ", ".join(str(n) for n in report.first_dropped)
    share = 100.0 * report.invalid / report.rows if report.rows else 0.0
    limit = f" (tolerance {tolerance_percent:g}%)" if tolerance_percent is not None else ""
    return (
        f"{report.source}: {report.invalid} of {report.rows} rows invalid ({share:.1f}%){limit}: "
        f"{reasons}; first invalid rows: {rows}"
    )


def decide_concepts(train: Examples, given: Sequence[str] | None) -> tuple[str, ...]:
    """The model's concepts when given, else the sorted labels of the training data."""
    if given:
        return tuple(given)
    return tuple(sorted({name for names in train.labels for name in names}))


def check_sufficient(train: Examples, concepts: Sequence[str], multi_label: bool) -> None:
    """Refuse to train with too few concepts or too few examples of one."""
    counts = collections.Counter(name for names in train.labels for name in names)
    if len(concepts) < (1 if multi_label else MIN_CONCEPTS):
        raise errors.insufficient_data(
            f"found {len(concepts)} concept(s) ({', '.join(concepts)}); "
            f"a classifier needs at least {MIN_CONCEPTS}"
        )
    scarce = [c for c in concepts if counts[c] < MIN_EXAMPLES_PER_CONCEPT]
    if scarce:
        listed = ", ".join(f"{c} ({counts[c]})" for c in scarce[:20])
        raise errors.insufficient_data(
            f"every concept needs at least {MIN_EXAMPLES_PER_CONCEPT} training examples; "
            f"too few for: {listed}"
        )
    if multi_label:
        full = [c for c in concepts if counts[c] == len(train)]
        if full:
            raise errors.insufficient_data(
                f"concept(s) on every training example, nothing to tell apart: {', '.join(full)}"
            )


def _strata(train: Examples) -> list[str]:
    """Stratify on each example's rarest label (the usual heuristic for multi-label data)."""
    counts = collections.Counter(name for names in train.labels for name in names)
    return [min(names, key=lambda n: (counts[n], n)) for names in train.labels]


AUTO_VALIDATION_MIN_ROWS = 4000
AUTO_VALIDATION_MIN_ROWS_THRESHOLDS = 1000
AUTO_VALIDATION_FRACTION = 0.1
AUTO_VALIDATION_MAX_ROWS = 2000


def automatic_validation(rows: int, template: str, *, tunes_thresholds: bool = False) -> float:
    """The validation fraction of a run that sets none: 10% (at most 2,000 rows) of a training set
    of 4,000 rows or more for the fine-tuning templates, and of 1,000 rows or more for any template
    of a multi-label run whose thresholds are tuned (they are worth more than the rows: bench/
    RESULTS.md, GoEmotions); none otherwise (small data is worth more in training than in
    choosing an epoch)."""
    least = AUTO_VALIDATION_MIN_ROWS if template in catalogue.FINE_TUNING else None
    if tunes_thresholds:
        least = AUTO_VALIDATION_MIN_ROWS_THRESHOLDS
    if least is None or rows < least:
        return 0.0
    return min(AUTO_VALIDATION_FRACTION, AUTO_VALIDATION_MAX_ROWS / rows)


def split_validation(
    train: Examples, fraction: float, seed: int
) -> tuple[Examples, Examples | None]:
    """Hold out ``fraction`` of train, stratified by label, seeded; (train, None) when fraction is 0."""
    if fraction <= 0:
        return train, None
    strata = _strata(train)
    classes = len(set(strata))
    n_validation = round(fraction * len(train))
    if n_validation < classes or len(train) - n_validation < classes:
        raise errors.insufficient_data(
            f"validationSplit {fraction:g} of {len(train)} rows leaves {n_validation} validation "
            f"rows for {classes} concepts; add data or lower dataset.validationSplit"
        )
    stratify = strata if min(collections.Counter(strata).values()) >= 2 else None
    train_idx, val_idx = model_selection.train_test_split(
        list(range(len(train))), test_size=n_validation, random_state=seed, stratify=stratify
    )
    return train.subset(sorted(train_idx)), train.subset(sorted(val_idx))
