"""The artifact digest: stable over file order, sensitive to content."""

from __future__ import annotations

import dataclasses
import json
import pathlib

import pytest

from textclf_trainer import artifacts


def make(folder: pathlib.Path, files: dict[str, bytes]) -> pathlib.Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return folder


def test_digest_is_stable_and_checks_content(tmp_path: pathlib.Path) -> None:
    files = {"config.json": b"{}", "sub/b.bin": b"\x00\x01", "a.txt": b"a"}
    one = artifacts.seal(make(tmp_path / "one", files))
    two = artifacts.seal(make(tmp_path / "two", dict(reversed(list(files.items())))))
    assert one == two
    assert one.startswith("sha256:")
    assert artifacts.verify(tmp_path / "one") == one
    assert (tmp_path / "one" / artifacts.SUMS).read_text().splitlines()[0].endswith("  a.txt")
    (tmp_path / "two" / "a.txt").write_bytes(b"b")
    with pytest.raises(ValueError, match="differ"):
        artifacts.verify(tmp_path / "two")


def _metadata(**changes: object) -> artifacts.Metadata:
    metadata = artifacts.Metadata(
        kind="embedding-logreg",
        template="embedding-logreg",
        concepts=("a", "b"),
        multi_label=True,
        max_length=64,
    )
    return dataclasses.replace(metadata, **changes)  # type: ignore[arg-type]


def test_metadata_round_trip(tmp_path: pathlib.Path) -> None:
    metadata = _metadata()
    artifacts.write_metadata(tmp_path, metadata)
    assert artifacts.read_metadata(tmp_path) == metadata
    per_concept = dataclasses.replace(metadata, threshold=(0.35, 0.6))
    artifacts.write_metadata(tmp_path, per_concept)
    assert json.loads((tmp_path / artifacts.METADATA).read_text())["threshold"] == [0.35, 0.6]
    assert artifacts.read_metadata(tmp_path) == per_concept


def test_metadata_keeps_the_pooled_layers_and_reads_old_artifacts_as_the_top_one(
    tmp_path: pathlib.Path,
) -> None:
    metadata = _metadata(multi_label=False, layers=(-4, -3, -2, -1))
    artifacts.write_metadata(tmp_path, metadata)
    assert artifacts.read_metadata(tmp_path) == metadata
    written = json.loads((tmp_path / artifacts.METADATA).read_text())
    del written["layers"]  # as written before layers were chosen
    (tmp_path / artifacts.METADATA).write_text(json.dumps(written))
    assert artifacts.read_metadata(tmp_path).layers == (-1,)
