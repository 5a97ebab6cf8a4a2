"""The run's data report: what the data looks like before a model sees it, so a number can be judged.

``runner`` builds it right after the data is read and split, before any model is trained, and writes it
to the artifact as ``data_report.json``; its headline (``summary``) goes into the run's Result and the
model card. Per split (``train`` = the rows the model is fitted on, ``validation`` = the held-out part of
the train file, ``test`` = the test file): rows, class balance, text length in tokens, duplicates; per
file: rows dropped and why (every row number); and leakage of train into validation and test.

Normalised text, the key of duplicates and leakage (``normalise``): the text casefolded (Unicode
case-insensitive), every run of whitespace collapsed to one space, and punctuation (Unicode category
P*) and whitespace stripped at both ends; punctuation inside the text stays ("don't" is not "dont").
A *duplicate* is a row whose normalised text occurs in an earlier row of the same split. A *leaked*
test row is one whose normalised text also occurs in the training data (the train file: the train
split and the validation rows held out of it); a leaked validation row is one whose normalised text
also occurs in the train split (a duplicate in the train file that the split put on both sides).
Rows are named by their data row number in their file (1-based, header not counted), as the
invalid-row messages name them; validation rows carry their train-file numbers.

Lengths are counted in tokens of the run's tokenizer (the backbone's, special tokens included, as they
count against ``max_length``), else in whitespace-separated words; at most ``MAX_LENGTH_SAMPLE`` texts
per split are counted (a seeded sample beyond that). ``truncated`` counts texts longer than
``max_length``.

Leakage above ``leakage_threshold_percent`` of a split's rows is a warning (``warning_message``), or with
``fail_on_leakage`` a ``DATA_LEAKAGE`` user error raised before training (``check``).
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import random
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from textclf.api import trainingrun
from textclf_trainer import errors, examples

LOG = logging.getLogger(__name__)

FILE = "data_report.json"
NORMALISATION = (
    "casefold; whitespace runs collapsed to one space; punctuation (Unicode P*) and whitespace "
    "stripped at both ends"
)
MAX_LENGTH_SAMPLE = 20_000
"""Texts per split whose length is counted; a seeded sample of larger splits."""
MESSAGE_ROWS = 5
"""Row numbers a warning or failure message lists (``data_report.json`` lists all)."""
WHITESPACE = "whitespace"

TokenCounter = Callable[[Sequence[str]], list[int]]


def _edge(char: str) -> bool:
    return char == " " or unicodedata.category(char).startswith("P")


def normalise(text: str) -> str:
    """The text's key for duplicates and leakage (see the module docstring)."""
    folded = " ".join(text.casefold().split())
    start, end = 0, len(folded)
    while start < end and _edge(folded[start]):
        start += 1
    while end > start and _edge(folded[end - 1]):
        end -= 1
    return folded[start:end]


def percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def _shown(value: float) -> str:
    return f"{value:.3g}%"


def _first(rows: Sequence[int]) -> str:
    more = f", ... ({len(rows) - MESSAGE_ROWS} more)" if len(rows) > MESSAGE_ROWS else ""
    return ", ".join(str(n) for n in rows[:MESSAGE_ROWS]) + more


# --- duplicates and leakage ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Duplicates:
    """Rows of a split whose normalised text occurs in an earlier row of the same split."""

    rows: tuple[int, ...]  # row numbers of the later occurrences
    texts: int  # distinct normalised texts that occur more than once
    conflicting: int  # of those, texts whose rows carry different labels

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": len(self.rows),
            "distinctTexts": self.texts,
            "conflictingLabels": self.conflicting,
            "rowNumbers": list(self.rows),
        }


def duplicates(split: examples.Examples) -> Duplicates:
    seen: dict[str, set[tuple[str, ...]]] = {}
    later: list[int] = []
    repeated: set[str] = set()
    for text, labels, number in zip(split.texts, split.labels, split.row_numbers, strict=True):
        key = normalise(text)
        if key in seen:
            later.append(number)
            repeated.add(key)
            seen[key].add(tuple(sorted(labels)))
        else:
            seen[key] = {tuple(sorted(labels))}
    conflicting = sum(1 for key in repeated if len(seen[key]) > 1)
    return Duplicates(tuple(later), len(repeated), conflicting)


@dataclasses.dataclass(frozen=True)
class Leak:
    """Rows of an evaluation split whose normalised text also occurs in the training data."""

    split: str
    total: int  # rows of the split
    rows: tuple[int, ...]  # the leaked rows' numbers
    train_rows: tuple[int, ...]  # for each, the first train-file row with that normalised text
    same_label: int  # leaked rows with the same labels as that train row

    @property
    def percent(self) -> float:
        return percent(len(self.rows), self.total)

    def describe(self) -> str:
        return (
            f"{len(self.rows)} of {self.total} {self.split} rows ({_shown(self.percent)}) also "
            "occur in the training data"
        )

    def to_dict(self, threshold_percent: float) -> dict[str, Any]:
        return {
            "rows": len(self.rows),
            "of": self.total,
            "percent": round(self.percent, 2),
            "aboveThreshold": self.percent > threshold_percent,
            "sameLabel": self.same_label,
            "rowNumbers": list(self.rows),
            "trainRowNumbers": list(self.train_rows),
        }


def leakage(train: Sequence[examples.Examples], other: examples.Examples, split: str) -> Leak:
    """The rows of ``other`` whose normalised text occurs in any of ``train``."""
    first: dict[str, tuple[int, tuple[str, ...]]] = {}
    for part in train:
        for text, labels, number in zip(part.texts, part.labels, part.row_numbers, strict=True):
            key = normalise(text)
            if key not in first or number < first[key][0]:
                first[key] = (number, tuple(sorted(labels)))
    rows: list[int] = []
    train_rows: list[int] = []
    same = 0
    for text, labels, number in zip(other.texts, other.labels, other.row_numbers, strict=True):
        found = first.get(normalise(text))
        if found is not None:
            rows.append(number)
            train_rows.append(found[0])
            same += found[1] == tuple(sorted(labels))
    return Leak(split, len(other), tuple(rows), tuple(train_rows), same)


def leaks(splits: Mapping[str, examples.Examples]) -> dict[str, Leak]:
    """Leakage of the training data into each evaluation split the run has: validation against the
    train split, test against the whole train file (train and validation splits)."""
    found: dict[str, Leak] = {}
    if "validation" in splits:
        found["validation"] = leakage([splits["train"]], splits["validation"], "validation")
    if "test" in splits:
        train_file = [splits[name] for name in ("train", "validation") if name in splits]
        found["test"] = leakage(train_file, splits["test"], "test")
    return found


def above(found: Mapping[str, Leak], threshold_percent: float) -> list[Leak]:
    """The leaks that pass the threshold (a share strictly above it)."""
    return [leak for leak in found.values() if leak.percent > threshold_percent]


def check(found: Mapping[str, Leak], threshold_percent: float, fail: bool) -> None:
    """With ``fail_on_leakage``: a ``DATA_LEAKAGE`` user error when a split passes the threshold."""
    over = above(found, threshold_percent)
    if not fail or not over:
        return
    parts = [f"{leak.describe()} (first {leak.split} rows: {_first(leak.rows)})" for leak in over]
    raise errors.data_leakage(
        "; ".join(parts) + f"; above params.leakage_threshold_percent {threshold_percent:g}% and "
        "params.fail_on_leakage is set. Texts are compared normalised ("
        + NORMALISATION
        + "). Remove those rows from the evaluation data, or unset fail_on_leakage to train "
        "with a warning"
    )


def warning_message(found: Mapping[str, Leak], threshold_percent: float) -> str | None:
    """What the DataLeakage warning says, when a split passes the threshold."""
    over = above(found, threshold_percent)
    if not over:
        return None
    parts = [
        f"{leak.describe()}: {leak.split} metrics overstate how the model does on new text "
        f"(rows {_first(leak.rows)})"
        for leak in over
    ]
    return "; ".join(parts) + "; all rows in data_report.json"


# --- lengths and balance -------------------------------------------------------------------------


def length_stats(lengths: Sequence[int], max_length: int) -> dict[str, Any]:
    """min/p50/p90/p99/max (nearest-rank percentiles: observed values), mean, and texts over
    ``max_length`` (truncated)."""
    if not lengths:
        return {"texts": 0}
    values = np.asarray(lengths, dtype=np.int64)

    def rank(q: float) -> int:
        return int(np.percentile(values, q, method="inverted_cdf"))

    truncated = int((values > max_length).sum())
    return {
        "texts": len(values),
        "min": int(values.min()),
        "p50": rank(50),
        "p90": rank(90),
        "p99": rank(99),
        "max": int(values.max()),
        "mean": round(float(values.mean()), 1),
        "maxLength": max_length,
        "truncated": truncated,
        "truncatedPercent": round(percent(truncated, len(values)), 2),
    }


def whitespace_tokens(texts: Sequence[str]) -> list[int]:
    return [len(text.split()) for text in texts]


def tokenizer_counter(tokenizer: Any, batch: int = 1000) -> TokenCounter:
    """Counts tokens as the model will see them, special tokens included, without truncation."""

    def count(texts: Sequence[str]) -> list[int]:
        lengths: list[int] = []
        for start in range(0, len(texts), batch):
            encoded = tokenizer(
                list(texts[start : start + batch]),
                add_special_tokens=True,
                truncation=False,
                verbose=False,
            )
            lengths.extend(len(ids) for ids in encoded["input_ids"])
        return lengths

    return count


def backbone_counter(backbone: str, tokenizer_kwargs: Mapping[str, Any]) -> TokenCounter | None:
    """The backbone's tokenizer as a counter; None (words are counted) when it cannot be loaded:
    the template then fails with its own message."""
    import transformers  # noqa: PLC0415  (heavy: only when a run reports lengths)

    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(backbone, **tokenizer_kwargs)
    except (OSError, ValueError, TypeError) as exc:
        LOG.warning("data report: no tokenizer from %s (%s); counting words", backbone, exc)
        return None
    return tokenizer_counter(tokenizer)


def _sample(texts: Sequence[str], seed: int) -> Sequence[str]:
    if len(texts) <= MAX_LENGTH_SAMPLE:
        return texts
    picked = sorted(random.Random(seed).sample(range(len(texts)), MAX_LENGTH_SAMPLE))
    return [texts[i] for i in picked]


def class_counts(split: examples.Examples, concepts: Sequence[str]) -> dict[str, int]:
    counts = collections.Counter(name for names in split.labels for name in names)
    return {c: counts.get(c, 0) for c in concepts}


# --- the report ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SplitReport:
    rows: int
    class_counts: dict[str, int]
    lengths: dict[str, Any]
    duplicates: Duplicates

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "classBalance": {
                c: {"rows": n, "percent": round(percent(n, self.rows), 2)}
                for c, n in self.class_counts.items()
            },
            "length": self.lengths,
            "duplicates": self.duplicates.to_dict(),
        }


@dataclasses.dataclass(frozen=True)
class Report:
    """The data report of a run (``data_report.json``); ``summary`` is its headline."""

    files: dict[str, examples.DataReport]  # per file: train, test?
    splits: dict[str, SplitReport]  # train, validation?, test?
    leaks: dict[str, Leak]  # validation?, test?
    tokens: str  # what lengths count: the tokenizer's source, or WHITESPACE
    threshold_percent: float

    def summary(self) -> trainingrun.DataReportSummary:
        def rows(name: str) -> int | None:
            split = self.splits.get(name)
            return split.rows if split is not None else None

        def leaked(name: str) -> int | None:
            leak = self.leaks.get(name)
            return len(leak.rows) if leak is not None else None

        return trainingrun.DataReportSummary(
            train_rows=self.splits["train"].rows,
            validation_rows=rows("validation"),
            test_rows=rows("test"),
            dropped_rows=sum(f.invalid for f in self.files.values()),
            duplicate_train_rows=len(self.splits["train"].duplicates.rows),
            leaked_test_rows=leaked("test"),
            leaked_validation_rows=leaked("validation"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "normalisation": NORMALISATION,
            "lengthUnit": "words" if self.tokens == WHITESPACE else f"tokens of {self.tokens}",
            "files": {name: f.to_dict() for name, f in self.files.items()},
            "splits": {name: s.to_dict() for name, s in self.splits.items()},
            "leakage": {
                "thresholdPercent": self.threshold_percent,
                **{name: leak.to_dict(self.threshold_percent) for name, leak in self.leaks.items()},
            },
            "summary": self.summary().to_wire(),
        }


def build(
    *,
    files: Mapping[str, examples.DataReport],
    splits: Mapping[str, examples.Examples],
    concepts: Sequence[str],
    found: Mapping[str, Leak],
    counter: TokenCounter | None,
    tokens: str,
    max_length: int,
    threshold_percent: float,
    seed: int,
) -> Report:
    count = counter or whitespace_tokens
    reports = {
        name: SplitReport(
            rows=len(split),
            class_counts=class_counts(split, concepts),
            lengths=length_stats(count(_sample(split.texts, seed)), max_length),
            duplicates=duplicates(split),
        )
        for name, split in splits.items()
    }
    return Report(
        files=dict(files),
        splits=reports,
        leaks=dict(found),
        tokens=tokens if counter is not None else WHITESPACE,
        threshold_percent=threshold_percent,
    )
