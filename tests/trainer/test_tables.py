"""Parsing dataset files: formats, column mapping, unreadable rows kept with their numbers."""

from __future__ import annotations

import json

import pytest

from textclf.api import codes
from textclf_trainer import errors, tables


def test_csv_input_concepts_with_quotes_and_newlines() -> None:
    data = b'input,concepts\n"a, quoted\nreview",pos\nplain,neg\n'
    table = tables.parse("file:///d/train.csv", data, "input", "concepts")
    assert [(r.number, r.text, r.label) for r in table.rows] == [
        (1, "a, quoted\nreview", "pos"),
        (2, "plain", "neg"),
    ]


def test_tsv_by_extension_and_bom() -> None:
    data = b"\xef\xbb\xbftext\tlabel\nhello\tgreeting\n"
    table = tables.parse("s3://b/k.tsv", data, "text", "label")
    assert table.columns == ("text", "label")
    assert table.rows[0].text == "hello"


def test_jsonl_with_list_labels_and_bad_lines() -> None:
    lines = [
        json.dumps({"text": "a", "labels": ["x", "y"]}),
        "{not json",
        json.dumps({"text": "b"}),
        json.dumps({"text": "c", "labels": "x"}),
    ]
    table = tables.parse("file:///d/x.jsonl", "\n".join(lines).encode(), "text", "labels")
    assert table.rows[0].label == f"x{tables.LIST_SEPARATOR}y"
    assert table.rows[1].problem is not None
    assert table.rows[1].problem.startswith("not JSON")
    assert table.rows[2].problem == "missing key"
    assert table.rows[3].label == "x"


def test_configured_columns_absent_fail_naming_the_columns_found() -> None:
    with pytest.raises(errors.UserError) as caught:
        tables.parse("file:///d/train.csv", b"text,label\nhi,a\n", "input", "concepts")
    assert caught.value.detail == codes.DetailCode.DATA_UNREADABLE
    assert "'input'" in caught.value.message
    assert "'text', 'label'" in caught.value.message


def test_undecodable_and_ragged_rows_are_marked_not_dropped() -> None:
    data = b"text,label\ngood,a\nbad \xff\xfe,b\ntoo,many,fields\n"
    rows = tables.parse("x.csv", data, "text", "label").rows
    assert [r.problem for r in rows] == [
        None,
        "bytes are not valid UTF-8",
        "3 fields, header has 2",
    ]


@pytest.mark.parametrize(
    ("uri", "head", "expected"),
    [
        ("configmap://cm/train", b'{"text": 1}\n', "jsonl"),
        ("configmap://cm/train", b"text\tlabel\n", "tsv"),
        ("configmap://cm/train", b"text,label\n", "csv"),
        ("https://h/x.ndjson?sig=1", b"", "jsonl"),
    ],
)
def test_format_detection(uri: str, head: bytes, expected: str) -> None:
    assert tables.detect_format(uri, head) == expected
