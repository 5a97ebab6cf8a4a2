"""The predictor server's command-line options, torch-free: ``python -m textclf_trainer serve`` and
``textclf serve`` register the same ones (the CLI must not import torch to build its parser)."""

from __future__ import annotations

import argparse
from typing import Literal

from textclf.api import serving

Runtime = Literal["auto", "torch", "onnx"]
Precision = Literal["auto", "fp32", "bf16"]
RUNTIMES: tuple[Runtime, ...] = ("auto", "torch", "onnx")
PRECISIONS: tuple[Precision, ...] = ("auto", "fp32", "bf16")
DEFAULT_MAX_BATCH_SIZE = 32
DEFAULT_MAX_WAIT_MS = 10.0
"""Measured on 2 cores at 32 concurrent clients: 5 ms gives 255-275 requests/s, 10 ms 308-330
(a full batch has time to gather); a lone client skips the wait (``batcher``)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``serve``'s options, shared with ``textclf serve``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=serving.CONTAINER_PORT, help="port")
    parser.add_argument(
        "--max-batch-size",
        type=int,
        default=DEFAULT_MAX_BATCH_SIZE,
        help="texts per forward pass at most, across concurrent requests",
    )
    parser.add_argument(
        "--max-wait-ms",
        type=float,
        default=DEFAULT_MAX_WAIT_MS,
        help="how long the oldest request waits for others to share its pass",
    )
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default="auto",
        help="auto (default): on a CPU, ONNX Runtime for small passes and torch bf16 for large "
        "ones where native; torch; or onnx: ONNX Runtime for every pass",
    )
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="torch passes: auto = bf16 for batches where the CPU has native bf16, else fp32; "
        "with --runtime torch, fp32 gives exactly textclf predict --local's numbers",
    )
    parser.add_argument("--threads", type=int, help="intra-op threads (default: the CPU quota)")
