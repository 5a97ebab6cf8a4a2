"""URI resolution: mount roots, relative file:// URIs, escapes refused; publishing: atomic, sealed
last on an object store, never over another run's artifact, and every load verified."""

from __future__ import annotations

import json
import pathlib
import shutil
from typing import Any, ClassVar

import pytest
from fsspec.implementations.memory import MemoryFileSystem

from textclf.api import codes
from textclf_trainer import artifacts, errors, predictor, storage

RUN_A = {"kind": "TrainingRun", "namespace": "demo", "name": "reviews-v1", "uid": "uid-a"}
RUN_B = {"kind": "TrainingRun", "namespace": "demo", "name": "reviews-v1", "uid": "uid-b"}


def _artifact(folder: pathlib.Path, owner: dict[str, str], weights: bytes) -> pathlib.Path:
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(weights)
    (folder / "tokenizer").mkdir()
    (folder / "tokenizer" / "vocab.txt").write_text("[PAD]\n")
    artifacts.write_owner(folder, owner)
    artifacts.seal(folder)
    return folder


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


def test_publish_replaces_only_an_artifact_of_the_same_run(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "out"
    first = _artifact(tmp_path / "attempt-1", RUN_A, b"first")
    (first / "stale.bin").write_bytes(b"old")  # only in the first attempt's artifact
    artifacts.seal(first)
    assert storage.publish(first, target.as_uri()) == target.resolve().as_uri()
    # a retry of the same run replaces its own artifact, stale files and all
    retry = _artifact(tmp_path / "attempt-2", RUN_A, b"second")
    storage.publish(retry, target.as_uri())
    assert (target / "model.safetensors").read_bytes() == b"second"
    assert not (target / "stale.bin").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out-")]  # no staging left
    # another run (same name, recreated: another uid) is refused, and the artifact is untouched
    other = _artifact(tmp_path / "other", RUN_B, b"other")
    with pytest.raises(errors.UserError) as caught:
        storage.publish(other, target.as_uri())
    assert caught.value.detail == codes.DetailCode.INVALID_PARAMS
    assert "holds the artifact of another run (demo/reviews-v1, uid uid-a)" in str(caught.value)
    assert (target / "model.safetensors").read_bytes() == b"second"
    assert artifacts.verify(target) == artifacts.verify(retry)
    # a folder that is not an artifact of this run (someone's files, an older artifact) neither
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "thesis.tex").write_text("!")
    with pytest.raises(errors.UserError, match="not empty and holds no artifact of this run"):
        storage.publish(other, precious.as_uri())
    assert sorted(p.name for p in precious.iterdir()) == ["thesis.tex"]


class _CutShort(MemoryFileSystem):  # type: ignore[misc]
    """An object store whose connection drops after ``budget`` uploads (a real in-memory fsspec
    store otherwise)."""

    store: ClassVar[dict[str, Any]] = {}  # its own, not every MemoryFileSystem's
    pseudo_dirs: ClassVar[list[str]] = [""]
    budget = 1_000

    def put_file(self, lpath: str, rpath: str, *args: Any, **kwargs: Any) -> None:
        if self.budget == 0:
            raise ConnectionError("connection reset")
        self.budget -= 1
        super().put_file(lpath, rpath, *args, **kwargs)


def test_an_upload_cut_short_is_never_loaded_and_its_retry_completes(
    tmp_path: pathlib.Path,
) -> None:
    fs = _CutShort(skip_instance_cache=True)
    local = _artifact(tmp_path / "artifact", RUN_A, b"weights")
    fs.budget = 2  # run.json and one more file, then the connection drops
    with pytest.raises(ConnectionError):
        storage.publish_remote(fs, "/bucket/reviews", local, "s3://bucket/reviews")
    uploaded = sorted(p.rsplit("/", 1)[1] for p in fs.find("/bucket/reviews"))
    assert artifacts.RUN in uploaded
    assert artifacts.SUMS not in uploaded  # unsealed: no reader takes it for an artifact
    fetched = tmp_path / "fetched"
    fs.get("/bucket/reviews/", str(fetched) + "/", recursive=True)
    with pytest.raises(artifacts.NotVerified, match="not a finished textclf artifact"):
        artifacts.check(fetched, "s3://bucket/reviews")
    # another run may not take over the half-written folder; the run's own retry replaces it
    other = _artifact(tmp_path / "other", RUN_B, b"other")
    fs.budget = 1_000
    with pytest.raises(errors.UserError, match="another run"):
        storage.publish_remote(fs, "/bucket/reviews", other, "s3://bucket/reviews")
    storage.publish_remote(fs, "/bucket/reviews", local, "s3://bucket/reviews")
    complete = tmp_path / "complete"
    fs.get("/bucket/reviews/", str(complete) + "/", recursive=True)
    assert artifacts.check(complete, "s3://bucket/reviews") == artifacts.verify(local)
    assert json.loads((complete / artifacts.RUN).read_text()) == RUN_A


def test_every_load_checks_the_seal(tmp_path: pathlib.Path) -> None:
    folder = _artifact(tmp_path / "a", RUN_A, b"weights")
    digest = artifacts.check(folder, "file://a")
    assert digest == artifacts.verify(folder)
    with pytest.raises(artifacts.NotVerified, match="digest mismatch"):
        artifacts.check(folder, "file://a", "sha256:" + "0" * 64)
    (folder / "model.safetensors").write_bytes(b"tampered")
    with pytest.raises(artifacts.NotVerified, match="changed since it was sealed"):
        predictor.Predictor.load(folder.as_uri())
    unsealed = tmp_path / "b"
    shutil.copytree(folder, unsealed)
    (unsealed / artifacts.SUMS).unlink()
    with pytest.raises(artifacts.NotVerified, match="no SHA256SUMS"):
        predictor.Predictor.load(str(unsealed))
