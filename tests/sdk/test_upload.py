"""``upload_from_csv``'s check on its own: the columns it picks, and the files it refuses."""

from __future__ import annotations

import pathlib

import pytest

from textclf.sdk import upload


def _csv(path: pathlib.Path, text: str) -> pathlib.Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_columns_default_to_the_platforms_then_text_label(tmp_path: pathlib.Path) -> None:
    platform = _csv(tmp_path / "a.csv", "input,concepts\nfine,pos\n")
    plain = _csv(tmp_path / "b.csv", "id,text,label\n1,fine,pos\n")
    assert upload.columns(platform, None, None) == ("input", "concepts")
    assert upload.columns(plain, None, None) == ("text", "label")
    assert upload.columns(plain, "text", None) == ("text", "label")
    with pytest.raises(ValueError, match="header id,body has neither"):
        upload.columns(_csv(tmp_path / "c.csv", "id,body\n1,x\n"), None, None)


def test_too_many_bad_rows_are_refused_by_number(tmp_path: pathlib.Path) -> None:
    rows = "".join(f"text {i},{'' if i % 3 == 0 else 'pos'}\n" for i in range(1, 31))
    path = _csv(tmp_path / "d.csv", "input,concepts\n" + rows)
    with pytest.raises(ValueError, match="10 of 30 rows"):
        upload.check("d", path, text_column=None, label_column=None, label_separator=None)


def test_multi_label_cells_split_on_the_separator(tmp_path: pathlib.Path) -> None:
    path = _csv(tmp_path / "e.csv", "text,labels\na,joy|love\nb,anger\nc,joy\n")
    report = upload.check("e", path, text_column="text", label_column="labels", label_separator="|")
    assert report.concepts == {"anger": 1, "joy": 2, "love": 1}
    assert report.valid == 3
