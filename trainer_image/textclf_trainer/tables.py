"""Parses a dataset file (CSV, TSV or JSON Lines) into numbered raw rows of (text, label).

Pure functions over bytes, so every format rule is unit-tested without storage. Rows keep their
1-based number (header not counted) so that failures can point at them. A row that cannot be read
(undecodable bytes, wrong field count, bad JSON) is kept with a ``problem`` instead of being dropped
here: ``examples`` decides, and counts it against ``invalidDataTolerancePercent``.

Columns are never guessed: if the configured ``textColumn``/``labelColumn`` are absent the file is
unreadable (``DATA_UNREADABLE``) and the message lists the columns found, so a ``text,label`` file
given with the default ``input,concepts`` mapping fails loudly instead of training on the wrong column.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import json
import re
from typing import Any, Literal

from textclf_trainer import errors

Format = Literal["csv", "tsv", "jsonl"]
EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
LIST_SEPARATOR = "\x1f"
"""Joins the labels of a JSON Lines list cell; ``examples`` splits on it whatever labelSeparator is."""
_SURROGATE = re.compile("[\udc80-\udcff]")


@dataclasses.dataclass(frozen=True)
class RawRow:
    number: int  # 1-based, header not counted
    text: str | None
    label: str | None
    problem: str | None = None  # why the row could not be read at all


@dataclasses.dataclass(frozen=True)
class Table:
    source: str
    columns: tuple[str, ...]
    rows: tuple[RawRow, ...]


def detect_format(uri: str, head: bytes) -> Format:
    """The format named by the file extension, else sniffed from the first bytes."""
    path = uri.split("?", 1)[0].lower()
    for ext, fmt in EXTENSIONS.items():
        if path.endswith(ext):
            return fmt
    first_line = head.lstrip(codecs.BOM_UTF8).lstrip().split(b"\n", 1)[0]
    if first_line.startswith(b"{"):
        return "jsonl"
    if b"\t" in first_line and b"," not in first_line:
        return "tsv"
    return "csv"


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    return data.decode("utf-8", errors="surrogateescape")


def _missing_columns(source: str, columns: list[str], wanted: tuple[str, str]) -> None:
    absent = [c for c in wanted if c not in columns]
    if absent:
        found = ", ".join(repr(c) for c in columns) or "none"
        raise errors.data_unreadable(
            f"{source}: column {', '.join(repr(c) for c in absent)} not found (columns found: "
            f"{found}); set dataset.textColumn and dataset.labelColumn to the file's columns"
        )


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)  # a JSON list of labels
    return str(value)


def parse_delimited(
    source: str, text: str, delimiter: str, text_column: str, label_column: str
) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        return Table(source, (), ())
    columns = [c.strip() for c in header]
    _missing_columns(source, columns, (text_column, label_column))
    ti, li = columns.index(text_column), columns.index(label_column)
    rows: list[RawRow] = []
    for number, record in enumerate(reader, start=1):
        if not record:  # a blank line: csv yields [] for it
            rows.append(RawRow(number, None, None, "blank line"))
            continue
        if len(record) != len(columns):
            rows.append(
                RawRow(number, None, None, f"{len(record)} fields, header has {len(columns)}")
            )
            continue
        if any(_SURROGATE.search(field) for field in (record[ti], record[li])):
            rows.append(RawRow(number, None, None, "bytes are not valid UTF-8"))
            continue
        rows.append(RawRow(number, record[ti], record[li]))
    return Table(source, tuple(columns), tuple(rows))


def parse_jsonl(source: str, data: bytes, text_column: str, label_column: str) -> Table:
    rows: list[RawRow] = []
    columns: list[str] = []
    lines = data.removeprefix(codecs.BOM_UTF8).split(b"\n")
    number = 0
    for line in lines:
        if not line.strip():
            continue
        number += 1
        try:
            record = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            rows.append(RawRow(number, None, None, "bytes are not valid UTF-8"))
            continue
        except json.JSONDecodeError as exc:
            rows.append(RawRow(number, None, None, f"not JSON: {exc.msg}"))
            continue
        if not isinstance(record, dict):
            rows.append(RawRow(number, None, None, "not a JSON object"))
            continue
        columns.extend(k for k in record if k not in columns)
        if text_column not in record or label_column not in record:
            rows.append(RawRow(number, None, None, "missing key"))
            continue
        rows.append(RawRow(number, _cell(record[text_column]), _cell(record[label_column])))
    if rows and all(r.problem == "missing key" for r in rows):
        _missing_columns(source, columns, (text_column, label_column))
    return Table(source, tuple(columns), tuple(rows))


def parse(source: str, data: bytes, text_column: str, label_column: str) -> Table:
    """Parse a dataset file's bytes; ``source`` names it in messages (its URI)."""
    fmt = detect_format(source, data[:4096])
    if fmt == "jsonl":
        return parse_jsonl(source, data, text_column, label_column)
    delimiter = "\t" if fmt == "tsv" else ","
    try:
        return parse_delimited(source, _decode(data), delimiter, text_column, label_column)
    except csv.Error as exc:
        raise errors.data_unreadable(
            f"{source}: not a readable {fmt.upper()} file ({exc})"
        ) from exc
