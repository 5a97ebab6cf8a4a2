"""URI resolution: mount roots, relative file:// URIs, escapes refused, atomic local publish."""

from __future__ import annotations

import pathlib

import pytest

from textclf.api import codes
from textclf_trainer import errors, storage


def test_mount_roots_overridable(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    assert storage.PVC_ROOT == "/mnt/textclf/pvc"
    assert storage.CONFIGMAP_ROOT == "/mnt/textclf/configmap"
    monkeypatch.setenv(storage.PVC_ROOT_ENV, str(tmp_path / "pvc"))
    monkeypatch.setenv(storage.CONFIGMAP_ROOT_ENV, str(tmp_path / "cm"))
    assert storage.local_path("pvc://models/a/b.csv") == (tmp_path / "pvc/models/a/b.csv").resolve()
    assert (
        storage.local_path("configmap://imdb/train.csv")
        == (tmp_path / "cm/imdb/train.csv").resolve()
    )
    with pytest.raises(errors.UserError) as caught:
        storage.local_path("pvc://models/../../etc/passwd")
    assert caught.value.detail == codes.DetailCode.DATA_UNREADABLE


def test_file_uris(tmp_path: pathlib.Path) -> None:
    assert storage.local_path("file://data/x.csv", tmp_path) == tmp_path / "data/x.csv"
    assert storage.local_path("file:///abs/x.csv", tmp_path) == pathlib.Path("/abs/x.csv")
    assert storage.local_path("s3://bucket/key") is None


def test_missing_file_is_unreadable_data(tmp_path: pathlib.Path) -> None:
    with pytest.raises(errors.UserError) as caught:
        storage.read_bytes("file://nope.csv", tmp_path)
    assert caught.value.detail == codes.DetailCode.DATA_UNREADABLE


def test_publish_replaces_an_earlier_artifact_only(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "staging"
    source.mkdir()
    (source / "SHA256SUMS").write_text("x")
    (source / "model.bin").write_bytes(b"new")
    target = tmp_path / "out"
    target.mkdir()
    (target / "SHA256SUMS").write_text("old")
    (target / "stale.bin").write_bytes(b"old")
    uri = storage.publish(source, target.as_uri())
    assert uri == target.resolve().as_uri()
    assert sorted(p.name for p in target.iterdir()) == ["SHA256SUMS", "model.bin"]
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "thesis.tex").write_text("!")
    with pytest.raises(errors.UserError, match="not empty"):
        storage.publish(source, precious.as_uri())
