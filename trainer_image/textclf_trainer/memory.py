"""Out of memory is the user's to fix: the batch size and max length decide how much a step needs.

A CUDA (or host) allocation that fails during training is not an infrastructure fault a retry would
cure: the same settings fail the same way on the same GPU. ``guard`` turns it into the user error
``MODEL-TRAINING-OUT-OF-MEMORY`` (exit 16, the Job fails at once) with a message that names the params
to lower, the values they had, and ``auto_find_batch_size`` (the Trainer halves the batch until a
step fits, as the hosted platform's template does).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from textclf.api import codes
from textclf_trainer import errors

NO_BATCH_FITS = "No executable batch size found"
"""What accelerate's ``find_executable_batch_size`` raises when even a batch of one does not fit."""
HOST_ALLOCATOR = "DefaultCPUAllocator"


def is_out_of_memory(exc: BaseException) -> bool:
    """torch's ``OutOfMemoryError`` (CUDA and other accelerators), a host allocation failure, or
    ``auto_find_batch_size`` giving up."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    return isinstance(exc, RuntimeError) and (
        NO_BATCH_FITS in str(exc) or HOST_ALLOCATOR in str(exc)
    )


def advice(params: dict[str, Any], batch_key: str) -> str:
    """Which params to lower, with the values this run had."""
    trainer_config = params.get("trainer_config") or {}
    if batch_key.startswith("trainer_config."):
        batch = trainer_config.get(batch_key.split(".", 1)[1])
    else:
        batch = params.get(batch_key)
    parts = [
        f"lower params.{batch_key} (was {batch})",
        f"or params.max_length (was {params.get('max_length')})",
    ]
    if batch_key.startswith("trainer_config.") and not trainer_config.get("auto_find_batch_size"):
        parts.append(
            "or set params.trainer_config.auto_find_batch_size: true (halves the batch until a "
            "step fits; raise gradient_accumulation_steps to keep the effective batch)"
        )
    parts.append("or request a GPU with more memory")
    return ", ".join(parts)


@contextlib.contextmanager
def guard(params: dict[str, Any], batch_key: str) -> Iterator[None]:
    """Raise ``MODEL-TRAINING-OUT-OF-MEMORY`` for an out-of-memory failure inside the block."""
    try:
        yield
    except (RuntimeError, MemoryError) as exc:
        if not is_out_of_memory(exc):
            raise
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise errors.UserError(
            codes.DetailCode.OUT_OF_MEMORY,
            f"out of memory while training ({first}); {advice(params, batch_key)}",
        ) from exc
