"""The artifact's layout, its metadata file and its digest: what a trained model folder holds.

A Hugging Face model folder (``config.json`` with ``id2label``/``label2id``, weights as safetensors,
the tokenizer) plus:

- ``textclf.json``: how to run it (``kind``, concepts, multi-label, threshold, max length; for
  embedding-logreg the pooled ``layers`` and ``normalize``), so that
  ``predictor`` treats every template alike; a multi-label model's ``threshold`` is one number for
  every concept or a list with one per concept (tuned on the run's validation split);
- ``head.safetensors`` (embedding-logreg only): the logistic-regression weights as tensors, no pickle;
- ``metrics.json``, ``training_log.jsonl``, ``README.md`` (the model card);
- ``run.json``: the run that wrote it (namespace, name, uid): a retry of that run may replace the
  folder, no other run may (``storage.publish``);
- ``SHA256SUMS``: ``sha256sum``-format lines for every other file, sorted by path. The artifact's
  digest is ``sha256:`` + the sha256 of that file's bytes: stable, and checkable with ``sha256sum -c``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pathlib
from typing import Any, Literal

METADATA = "textclf.json"
HEAD = "head.safetensors"
METRICS = "metrics.json"
TRAINING_LOG = "training_log.jsonl"
MODEL_CARD = "README.md"
SUMS = "SHA256SUMS"
RUN = "run.json"
FORMAT_VERSION = 1

Kind = Literal["sequence-classification", "embedding-logreg"]
Threshold = float | tuple[float, ...]
"""A multi-label model's cut: one for every concept, or one per concept in their order."""
DEFAULT_THRESHOLD = 0.5


@dataclasses.dataclass(frozen=True)
class Metadata:
    """What ``textclf.json`` says about a model."""

    kind: Kind
    template: str
    concepts: tuple[str, ...]
    multi_label: bool
    max_length: int
    threshold: Threshold = DEFAULT_THRESHOLD
    normalize: bool = True  # embedding-logreg: L2-normalise embeddings before the head
    layers: tuple[int, ...] = (-1,)  # embedding-logreg: the hidden layers pooled, side by side

    def to_dict(self) -> dict[str, Any]:
        return {
            "formatVersion": FORMAT_VERSION,
            "kind": self.kind,
            "template": self.template,
            "concepts": list(self.concepts),
            "multiLabel": self.multi_label,
            "maxLength": self.max_length,
            "threshold": (
                self.threshold if isinstance(self.threshold, float) else list(self.threshold)
            ),
            "normalize": self.normalize,
            "layers": list(self.layers),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Metadata:
        return cls(
            kind=data["kind"],
            template=data["template"],
            concepts=tuple(data["concepts"]),
            multi_label=bool(data["multiLabel"]),
            max_length=int(data["maxLength"]),
            threshold=_threshold(data.get("threshold", DEFAULT_THRESHOLD)),
            normalize=bool(data.get("normalize", True)),
            layers=tuple(int(i) for i in data.get("layers", [-1])),
        )


def _threshold(raw: Any) -> Threshold:
    return tuple(float(t) for t in raw) if isinstance(raw, list) else float(raw)


def write_metadata(folder: pathlib.Path, metadata: Metadata) -> None:
    (folder / METADATA).write_text(json.dumps(metadata.to_dict(), indent=2) + "\n")


def read_metadata(folder: pathlib.Path) -> Metadata:
    return Metadata.from_dict(json.loads((folder / METADATA).read_text()))


def label_maps(concepts: tuple[str, ...]) -> tuple[dict[int, str], dict[str, int]]:
    """``id2label`` and ``label2id`` for a model config."""
    return dict(enumerate(concepts)), {c: i for i, c in enumerate(concepts)}


def file_sha256(path: pathlib.Path) -> str:
    """Hex SHA-256 of one file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sums(folder: pathlib.Path) -> str:
    """``SHA256SUMS`` content for every file under ``folder`` but itself, sorted by relative path."""
    files = sorted(
        p for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).as_posix() != SUMS
    )
    return "".join(f"{file_sha256(p)}  {p.relative_to(folder).as_posix()}\n" for p in files)


def seal(folder: pathlib.Path) -> str:
    """Write ``SHA256SUMS`` and return the artifact digest (``sha256:<hex>``)."""
    content = sums(folder)
    (folder / SUMS).write_text(content)
    return "sha256:" + hashlib.sha256(content.encode()).hexdigest()


def verify(folder: pathlib.Path) -> str:
    """The digest of a sealed folder; raises ``ValueError`` if a file changed since it was sealed."""
    recorded = (folder / SUMS).read_text()
    if recorded != sums(folder):
        raise ValueError(f"{folder}: files differ from {SUMS}")
    return "sha256:" + hashlib.sha256(recorded.encode()).hexdigest()


class NotVerified(ValueError):
    """An artifact that must not be loaded: unsealed (unfinished, or not ours), changed since it was
    sealed, or not the version that was asked for."""


def check(folder: pathlib.Path, where: str, expected: str | None = None) -> str:
    """The digest of the artifact in ``folder`` (fetched from ``where``), verified file by file and
    against ``expected`` when given: every load goes through here."""
    if not (folder / SUMS).exists():
        raise NotVerified(f"{where}: not a finished textclf artifact (no {SUMS})")
    try:
        digest = verify(folder)
    except ValueError as exc:
        raise NotVerified(f"{where}: changed since it was sealed ({exc})") from exc
    if expected and digest != expected:
        raise NotVerified(f"artifact digest mismatch: {where} holds {digest}, expected {expected}")
    return digest


def write_owner(folder: pathlib.Path, identity: dict[str, str]) -> None:
    (folder / RUN).write_text(json.dumps(identity, sort_keys=True) + "\n")
