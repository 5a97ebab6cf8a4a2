"""What ``Dataset.upload_from_csv`` checks before a file is kept: its columns (the hosted platform's
``input,concepts`` unless named, else ``text,label``), its rows and concepts, and every bad row by its
number, with the trainer's own parser and rules, so a file that uploads is a file that trains."""

from __future__ import annotations

import csv
import dataclasses
import io
import pathlib

COLUMN_PAIRS = (("input", "concepts"), ("text", "label"))
"""Column names tried, in order, when the upload names none."""


@dataclasses.dataclass(frozen=True)
class UploadReport:
    """What an upload found: ``rows`` data rows, ``valid`` usable, each concept's count, and the
    numbers (1-based, header not counted) of the rows left out, by reason."""

    dataset_id: str
    text_column: str
    label_column: str
    label_separator: str | None
    rows: int
    valid: int
    concepts: dict[str, int]
    bad_rows: dict[str, tuple[int, ...]]

    def __str__(self) -> str:
        lines = [
            f"dataset {self.dataset_id}: {self.valid} of {self.rows} rows usable "
            f"(text column {self.text_column!r}, label column {self.label_column!r}); "
            f"{len(self.concepts)} concepts: "
            + ", ".join(f"{c} {n}" for c, n in self.concepts.items())
        ]
        for why, numbers in self.bad_rows.items():
            shown = ", ".join(str(n) for n in numbers[:20]) + (" ..." if len(numbers) > 20 else "")
            lines.append(f"  {len(numbers)} rows left out ({why}): rows {shown}")
        return "\n".join(lines)


def columns(
    path: pathlib.Path, text_column: str | None, label_column: str | None
) -> tuple[str, str]:
    """The (text, label) columns of a CSV: the named ones, or the first known pair in its header."""
    if text_column and label_column:
        return text_column, label_column
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = [c.strip() for c in next(csv.reader(io.StringIO(handle.readline())), [])]
    for text, label in COLUMN_PAIRS:
        if (text_column or text) in header and (label_column or label) in header:
            return text_column or text, label_column or label
    known = " or ".join(",".join(p) for p in COLUMN_PAIRS)
    raise ValueError(
        f"{path}: header {','.join(header) or '(empty)'} has neither {known}; "
        "name the columns with text_column= and label_column="
    )


def check(
    dataset_id: str,
    path: pathlib.Path,
    *,
    text_column: str | None,
    label_column: str | None,
    label_separator: str | None,
    tolerance_percent: float = 5.0,
) -> UploadReport:
    """The report of a file that can train; ``ValueError`` naming the problem otherwise."""
    from textclf_trainer import errors, examples, tables  # noqa: PLC0415  (the trainer's rules)

    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    text, label = columns(path, text_column, label_column)
    try:
        table = tables.parse(path.name, path.read_bytes(), text, label)
        _, report = examples.clean(
            table,
            concepts=None,
            multi_label=label_separator is not None,
            separator=label_separator,
            tolerance_percent=tolerance_percent,
        )
    except errors.TrainerError as err:
        raise ValueError(f"{path}: {err.message}") from None
    return UploadReport(
        dataset_id=dataset_id,
        text_column=text,
        label_column=label,
        label_separator=label_separator,
        rows=report.rows,
        valid=report.valid,
        concepts=dict(report.label_counts),
        bad_rows=dict(report.dropped_rows),
    )
