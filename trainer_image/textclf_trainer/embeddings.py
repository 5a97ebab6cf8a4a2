"""Sentence embeddings from a frozen encoder: mean pooling over real tokens, optionally L2-normalised
(the all-MiniLM/sentence-transformers recipe). Used by the embedding-logreg template to train its head
and by the predictor to score, so both see the same vectors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from textclf_trainer import batching


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


def encode(
    model: Any,  # a transformers AutoModel
    tokenizer: Any,
    texts: Sequence[str],
    *,
    max_length: int,
    batch_size: int,
    normalize: bool,
    on_batch: Callable[[int, int], None] | None = None,
) -> npt.NDArray[np.float32]:
    """Embeddings of ``texts``, row i for ``texts[i]``."""
    device = next(model.parameters()).device
    model.eval()

    def run(batch: list[str]) -> npt.NDArray[np.float32]:
        inputs = tokenizer(
            batch, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        ).to(device)
        with torch.inference_mode():
            hidden = model(**inputs).last_hidden_state
            pooled = sentence_vectors(hidden, inputs["attention_mask"], normalize=normalize)
        result: npt.NDArray[np.float32] = pooled.cpu().numpy()
        return result

    return batching.map_in_order(texts, batch_size, run, on_batch)
