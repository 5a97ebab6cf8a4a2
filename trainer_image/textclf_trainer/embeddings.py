"""Sentence embeddings from a frozen encoder: mean pooling over real tokens, optionally L2-normalised
(the all-MiniLM/sentence-transformers recipe), of one hidden layer or several side by side.

Several layers is the feature-based recipe of the BERT paper (its best was the last four hidden layers
concatenated): a frozen sentence encoder's top layer is tuned for similarity, and the layers under it
keep word-level cues (a question's wh-word, a spam message's tokens) that a linear head can use.
``SentenceEncoder`` is the encoder as the embedding-logreg template trains its head on it and as the
predictor runs it (PyTorch or ONNX alike), so both see the same vectors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from textclf_trainer import batching

LAST = (-1,)
"""The top layer only: the sentence-transformers embedding, and what artifacts without ``layers`` use."""


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of the token vectors where the mask is 1."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)


def sentence_vectors(
    hidden: torch.Tensor, attention_mask: torch.Tensor, *, normalize: bool
) -> torch.Tensor:
    """The sentence vector of each row: mean pooling, then L2 normalisation when asked (float32)."""
    pooled = mean_pool(hidden, attention_mask).float()
    return torch.nn.functional.normalize(pooled, p=2, dim=1) if normalize else pooled


def depth(model: Any) -> int:
    """How many transformer layers the encoder has (its hidden states are one more: the embeddings)."""
    return int(model.config.num_hidden_layers)


class SentenceEncoder(torch.nn.Module):
    """A transformers ``AutoModel`` that returns sentence vectors: for each of ``layers`` (indices into
    its hidden states, -1 the top), the pooled vector (normalised on its own when asked, so k layers
    give a vector of norm sqrt(k)), concatenated in that order."""

    def __init__(self, model: Any, layers: Sequence[int] = LAST, *, normalize: bool) -> None:
        super().__init__()
        self.model = model
        self.layers = tuple(layers)
        self.normalize = normalize

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        # Always the hidden states, even for the top layer alone: the same tensor whichever set a
        # head was trained on (a model may finish ``last_hidden_state`` with a norm of its own).
        out = self.model(
            input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True
        )
        hidden = out.hidden_states
        vectors = [
            sentence_vectors(hidden[i], attention_mask, normalize=self.normalize)
            for i in self.layers
        ]
        return torch.cat(vectors, dim=1)


def encode(
    encoder: SentenceEncoder,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    max_length: int,
    batch_size: int,
    on_batch: Callable[[int, int], None] | None = None,
) -> npt.NDArray[np.float32]:
    """Sentence vectors of ``texts``, row i for ``texts[i]``."""
    device = next(encoder.parameters()).device
    encoder.eval()

    def run(batch: list[str]) -> npt.NDArray[np.float32]:
        inputs = tokenizer(
            batch, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        ).to(device)
        with torch.inference_mode():
            vectors = encoder(inputs["input_ids"], inputs["attention_mask"])
        result: npt.NDArray[np.float32] = vectors.cpu().numpy()
        return result

    return batching.map_in_order(texts, batch_size, run, on_batch)
