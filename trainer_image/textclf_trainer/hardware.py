"""Which device the trainer runs on and what it supports: CUDA when present, else the CPU."""

from __future__ import annotations

import torch


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def bf16_supported() -> bool:
    """bf16 mixed precision pays off (and is exact enough) on Ampere or newer GPUs only."""
    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def describe() -> str:
    if torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)})"
    return f"cpu ({torch.get_num_threads()} threads)"
