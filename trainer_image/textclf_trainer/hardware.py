"""Which device the trainer runs on and what it supports: CUDA when present, else the CPU."""

from __future__ import annotations

import math
import os
import pathlib

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


def cpu_count() -> int:
    """CPUs this process may use: its affinity mask, capped by a cgroup CPU quota (a container's
    ``resources.limits.cpu``), at least 1. Threads beyond the quota only queue for it."""
    count = len(os.sched_getaffinity(0))
    for path, parse in (
        ("/sys/fs/cgroup/cpu.max", _quota_v2),
        ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", _quota_v1),
    ):
        try:
            quota = parse(pathlib.Path(path))
        except (OSError, ValueError):
            continue
        if quota is not None:
            count = min(count, max(1, math.ceil(quota)))
            break
    return max(1, count)


def _quota_v2(path: pathlib.Path) -> float | None:
    limit, period = path.read_text().split()[:2]
    return None if limit == "max" else int(limit) / int(period)


def _quota_v1(path: pathlib.Path) -> float | None:
    quota = int(path.read_text())
    period = int((path.parent / "cpu.cfs_period_us").read_text())
    return None if quota <= 0 else quota / period
