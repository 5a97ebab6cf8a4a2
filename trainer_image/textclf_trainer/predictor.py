"""Loads an artifact and predicts: every concept with its score, highest first, filtered with the output
config users know from Clarifai (``select_concepts``, ``min_value``, ``max_concepts``).

Scores are softmax probabilities for single-label models and independent sigmoid probabilities for
multi-label ones (a concept applies when its score >= the model's threshold, 0.5). Used by evaluation
(so the metrics are those of the shipped files), ``textclf predict --local`` and the serving image.

Output config semantics: ``select_concepts`` keeps only the named concepts (unknown names are an
error); then ``min_value`` drops scores below it; then ``max_concepts`` keeps the highest ones.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import safetensors.numpy
import torch
import transformers

from textclf.api import serving
from textclf_trainer import artifacts, batching, embeddings, hardware, runtimes, storage

DEFAULT_BATCH_SIZE = 32


Concept = serving.Concept


def softmax(logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    result: npt.NDArray[np.float32] = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
    return result


def sigmoid(logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    result: npt.NDArray[np.float32] = (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
    return result


def select(
    concepts: Sequence[str],
    row: npt.NDArray[np.float32],
    *,
    select_concepts: Sequence[str] | None = None,
    min_value: float | None = None,
    max_concepts: int | None = None,
) -> list[Concept]:
    """Apply the output config to one row of scores; highest first, ties by concept order."""
    indices = list(range(len(concepts)))
    if select_concepts:
        unknown = [c for c in select_concepts if c not in concepts]
        if unknown:
            raise ValueError(f"unknown concept(s) in select_concepts: {', '.join(unknown)}")
        wanted = set(select_concepts)
        indices = [i for i in indices if concepts[i] in wanted]
    if min_value is not None:
        indices = [i for i in indices if row[i] >= min_value]
    indices.sort(key=lambda i: (-float(row[i]), i))
    if max_concepts is not None:
        indices = indices[:max_concepts]
    return [Concept(concepts[i], float(row[i])) for i in indices]


class Predictor:
    """A loaded model folder, run by one of ``runtimes`` (plain fp32 PyTorch unless asked otherwise)."""

    def __init__(
        self,
        folder: pathlib.Path,
        device: torch.device | None = None,
        *,
        runtime: runtimes.Name = "torch",
        precision: runtimes.Precision = "fp32",
        threads: int | None = None,
    ) -> None:
        self.folder = folder
        self.digest: str | None = None
        """Set by ``load``: the verified digest of the artifact."""
        self.metadata = artifacts.read_metadata(folder)
        self.device = device or hardware.device()
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
        self._head: dict[str, npt.NDArray[np.float32]] | None = None
        self.model: torch.nn.Module
        if self.metadata.kind == "embedding-logreg":
            self.model = embeddings.SentenceEncoder(
                transformers.AutoModel.from_pretrained(str(folder)),
                self.metadata.layers,
                normalize=self.metadata.normalize,
            )
            self._head = safetensors.numpy.load_file(str(folder / artifacts.HEAD))
        else:
            self.model = transformers.AutoModelForSequenceClassification.from_pretrained(
                str(folder)
            )
        self.model.to(self.device).eval()
        self.runtime = runtimes.make(
            runtime, self.model, self.device, precision=precision, threads=threads
        )

    @classmethod
    def load(
        cls,
        uri: str,
        base_dir: pathlib.Path | None = None,
        *,
        digest: str | None = None,
        runtime: runtimes.Name = "torch",
        precision: runtimes.Precision = "fp32",
        threads: int | None = None,
    ) -> Predictor:
        """Load from a path or an artifact URI (``file://``, ``pvc://``, ``s3://``) once its files
        match its ``SHA256SUMS`` (and ``digest`` when given); raises ``artifacts.NotVerified``."""
        folder = storage.fetch_dir(uri, base_dir)
        verified = artifacts.check(folder, uri, digest)
        model = cls(folder, runtime=runtime, precision=precision, threads=threads)
        model.digest = verified
        return model

    @property
    def concepts(self) -> tuple[str, ...]:
        return self.metadata.concepts

    def _activate(self, logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        return sigmoid(logits) if self.metadata.multi_label else softmax(logits)

    def _logits(self, batch: list[str]) -> npt.NDArray[np.float32]:
        inputs = self.tokenizer(
            batch,
            padding=True,
            truncation=True,
            max_length=self.metadata.max_length,
            return_tensors="pt",
        )
        output = self.runtime.forward(inputs["input_ids"], inputs["attention_mask"])
        if self._head is None:
            logits: npt.NDArray[np.float32] = output.numpy()
            return logits
        # embedding-logreg: the frozen encoder's sentence vectors, then the logistic regression.
        vectors = output.numpy()
        result: npt.NDArray[np.float32] = (
            vectors @ self._head["weight"].T + self._head["bias"]
        ).astype(np.float32)
        return result

    def scores(
        self,
        texts: Sequence[str],
        batch_size: int = DEFAULT_BATCH_SIZE,
        on_batch: Callable[[int, int], None] | None = None,
    ) -> npt.NDArray[np.float32]:
        """Scores, shape (texts, concepts), columns in ``concepts`` order, rows in ``texts`` order;
        texts are batched by length so padding stays small."""
        if not texts:
            return np.zeros((0, len(self.concepts)), dtype=np.float32)
        logits = batching.map_in_order(texts, batch_size, self._logits, on_batch)
        return self._activate(logits)

    def predict(
        self,
        texts: Sequence[str],
        *,
        select_concepts: Sequence[str] | None = None,
        min_value: float | None = None,
        max_concepts: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> list[list[Concept]]:
        """Per text, its concepts with scores, highest first, after the output config."""
        table = self.scores(texts, batch_size)
        return [
            select(
                self.concepts,
                row,
                select_concepts=select_concepts,
                min_value=min_value,
                max_concepts=max_concepts,
            )
            for row in table
        ]
