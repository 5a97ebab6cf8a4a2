"""Length-sorted batching for inference: texts of similar length share a batch, so dynamic padding pads
little; results are scattered back to input order (the order callers and metrics rely on)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import numpy.typing as npt


def batches_by_length(texts: Sequence[str], batch_size: int) -> Iterator[list[int]]:
    """Index batches, longest texts first."""
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def map_in_order(
    texts: Sequence[str],
    batch_size: int,
    run: Callable[[list[str]], npt.NDArray[np.float32]],
    on_batch: Callable[[int, int], None] | None = None,  # (texts done, texts in all)
) -> npt.NDArray[np.float32]:
    """Apply ``run`` to length-sorted batches; row i of the result belongs to ``texts[i]``."""
    out: npt.NDArray[np.float32] | None = None
    done = 0
    for indices in batches_by_length(texts, batch_size):
        values = run([texts[i] for i in indices])
        if out is None:
            out = np.zeros((len(texts), values.shape[1]), dtype=np.float32)
        out[indices] = values
        done += len(indices)
        if on_batch is not None:
            on_batch(done, len(texts))
    if out is None:
        return np.zeros((0, 0), dtype=np.float32)
    return out
