"""The optimised runtimes give the plain model's answers: on the 872 SST-2 validation sentences their
argmax agrees with fp32 PyTorch's on at least 99.5% of texts, and their scores stay close."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from tests.serving.conftest import SST2
from tests.trainer import runs
from textclf_trainer import predictor, runtimes

pytestmark = pytest.mark.training


@pytest.fixture(scope="module")
def texts() -> list[str]:
    with (SST2 / "validation.csv").open(newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


@pytest.mark.parametrize(
    ("runtime", "precision"),
    [("onnx", "fp32"), ("torch", "auto")],
)
def test_agrees_with_the_plain_model(
    trained: runs.Trained, texts: list[str], runtime: runtimes.Name, precision: runtimes.Precision
) -> None:
    plain = predictor.Predictor(trained.artifact).scores(texts)
    fast = predictor.Predictor(trained.artifact, runtime=runtime, precision=precision)
    scores = fast.scores(texts)
    agreement = float((scores.argmax(axis=1) == plain.argmax(axis=1)).mean())
    assert agreement >= 0.995, f"{fast.runtime.description}: {agreement:.4f}"
    assert float(np.abs(scores - plain).max()) < 0.1


def test_auto_uses_bf16_only_where_it_is_native(trained: runs.Trained) -> None:
    model = predictor.Predictor(trained.artifact, precision="auto")
    assert isinstance(model.runtime, runtimes.TorchRuntime)
    assert model.runtime.bf16 == runtimes.native_bf16("cpu")
    if not runtimes.native_bf16("cpu"):
        with pytest.raises(ValueError, match="no native bf16"):
            predictor.Predictor(trained.artifact, precision="bf16")


def test_embedding_logreg_through_onnx(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The frozen encoder of embedding-logreg exports too: pooling and head stay in the predictor."""
    folder = tmp_path_factory.mktemp("serving-el")
    train = runs.write_subset(SST2 / "train.csv", folder / "train.csv", 800)
    trained = runs.train(
        folder,
        {"train": train, "test": SST2 / "validation.csv"},
        "embedding-logreg",
        params={"max_length": 64},
        **runs.SST2,
    )
    with (SST2 / "validation.csv").open(newline="") as handle:
        sample = [row["text"] for row in csv.DictReader(handle)][:200]
    plain = predictor.Predictor(trained.artifact).scores(sample)
    onnx = predictor.Predictor(trained.artifact, runtime="onnx").scores(sample)
    assert float(np.abs(onnx - plain).max()) < 1e-3
