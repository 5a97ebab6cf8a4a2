"""Fixtures of the serving tests: the trainer tests' fine-tuned SST-2 model, and predictor
servers run as real processes (``python -m textclf_trainer serve``) on free loopback ports."""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests import netns
from tests.trainer import runs

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SST2 = runs.REPO / "examples" / "data" / "sst2"
MODEL = "reviews"


@pytest.fixture(scope="session")
def trained(sst2_hf_advanced: runs.Trained) -> runs.Trained:
    """The hf-advanced model the trainer tests fine-tune on the bundled SST-2 rows
    (``tests/trainer/models.py``): one training serves both folders. Tests only read it."""
    return sst2_hf_advanced


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(artifact: pathlib.Path | str, *args: str, ready: bool = True) -> Iterator[str]:
    """A predictor server process; yields its base URL once it is ready (or only live)."""
    port = free_port()
    command = [
        sys.executable, "-m", "textclf_trainer", "serve", str(artifact),
        "--name", MODEL, "--version", "v1", "--port", str(port), *args,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    path = "/v2/health/ready" if ready else "/v2/health/live"
    try:
        netns.wait_answers(base + path, process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="session")
def server(trained: runs.Trained) -> Iterator[str]:
    """The trained model served in fp32 (the same arithmetic as ``textclf predict --local``)."""
    digest = trained.outcome.result.artifact.digest if trained.outcome.result.artifact else None
    assert digest
    with serving(
        trained.artifact, "--digest", digest, "--runtime", "torch", "--precision", "fp32"
    ) as base:
        yield base


@pytest.fixture
def tampered(trained: runs.Trained, tmp_path: pathlib.Path) -> pathlib.Path:
    """A copy of the artifact with one byte of its model card changed after sealing."""
    copy = tmp_path / "artifact"
    shutil.copytree(trained.artifact, copy)
    card = copy / "README.md"
    card.write_text(card.read_text() + " ")
    return copy
