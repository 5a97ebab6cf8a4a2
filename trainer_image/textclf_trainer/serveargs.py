"""The predictor server's command-line options, torch-free: ``python -m textclf_trainer serve`` and
``textclf serve`` register the same ones (the CLI must not import torch to build its parser)."""

from __future__ import annotations

import argparse
from typing import Literal

from textclf.api import serving

Runtime = Literal["torch", "onnx"]
Precision = Literal["auto", "fp32", "bf16"]
RUNTIMES: tuple[Runtime, ...] = ("torch", "onnx")
PRECISIONS: tuple[Precision, ...] = ("auto", "fp32", "bf16")
DEFAULT_MAX_BATCH_SIZE = 32
DEFAULT_MAX_WAIT_MS = 2.0


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
        default="torch",
        help="torch (default), or onnx: ONNX Runtime on the CPU (needs onnxruntime)",
    )
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="torch runtime: auto = bf16 for batches where the CPU has native bf16, else fp32",
    )
    parser.add_argument("--threads", type=int, help="intra-op threads (default: the CPU quota)")
