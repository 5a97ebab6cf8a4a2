"""The optimised runtimes give the plain model's answers: on the 872 SST-2 validation sentences their
argmax agrees with fp32 PyTorch's on at least 99.5% of texts, and their scores stay close."""

from __future__ import annotations

import csv
from typing import Any

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


@pytest.fixture(scope="module")
def plain(trained: runs.Trained, texts: list[str]) -> np.ndarray:
    """fp32 PyTorch's scores, what every runtime is compared with."""
    return predictor.Predictor(trained.artifact).scores(texts)


@pytest.mark.parametrize(
    ("runtime", "precision"),
    [("onnx", "fp32"), ("torch", "auto"), ("auto", "auto")],
)
def test_agrees_with_the_plain_model(
    trained: runs.Trained,
    texts: list[str],
    plain: np.ndarray,
    runtime: runtimes.Name,
    precision: runtimes.Precision,
) -> None:
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


def test_auto_runtime_sends_each_pass_where_it_is_faster(trained: runs.Trained) -> None:
    """The server's default: small passes on ONNX Runtime; large ones on bf16 PyTorch where bf16 is
    native, else on ONNX Runtime too."""
    model = predictor.Predictor(trained.artifact, runtime="auto", precision="auto")
    if not runtimes.native_bf16("cpu"):
        assert isinstance(model.runtime, runtimes.OnnxRuntime)
        return
    hybrid = model.runtime
    assert isinstance(hybrid, runtimes.HybridRuntime)
    assert isinstance(hybrid.small, runtimes.OnnxRuntime)
    assert isinstance(hybrid.large, runtimes.TorchRuntime)
    assert hybrid.large.bf16
    used: list[tuple[str, int]] = []
    for part in (hybrid.small, hybrid.large):
        forward = part.forward

        def recorded(ids: Any, mask: Any, part: Any = part, forward: Any = forward) -> Any:
            used.append((type(part).__name__, int(ids.shape[0])))
            return forward(ids, mask)

        part.forward = recorded  # type: ignore[method-assign,assignment]
    texts = ["good", "bad film", "an utterly charming , witty movie", "dull"]
    model.scores(texts[:1])
    model.scores(texts * 8, batch_size=32)
    model.scores((texts * 8)[: runtimes.SMALL_PASS], batch_size=runtimes.SMALL_PASS)
    small = runtimes.SMALL_PASS
    assert used == [("OnnxRuntime", 1), ("TorchRuntime", 32), ("OnnxRuntime", small)]


def test_exporting_leaves_the_torch_model_in_eval_mode(trained: runs.Trained) -> None:
    """The exporter restores the mode it found: the model ``auto`` keeps for large passes must come
    back in eval mode (no dropout), and answer as before."""
    model = predictor.Predictor(trained.artifact)
    texts = ["good", "bad film", "an utterly charming , witty movie"]
    before = model.scores(texts)
    runtimes.OnnxRuntime(model.model, 1)
    assert not any(m.training for m in model.model.modules())
    assert np.array_equal(model.scores(texts), before)


def test_embedding_logreg_through_onnx(sst2_embedding_logreg: runs.Trained) -> None:
    """The frozen encoder of embedding-logreg exports too, its pooling of several layers with it;
    the head stays in the predictor."""
    trained = sst2_embedding_logreg
    with (SST2 / "validation.csv").open(newline="") as handle:
        sample = [row["text"] for row in csv.DictReader(handle)][:200]
    model = predictor.Predictor(trained.artifact)
    assert len(model.metadata.layers) > 1  # SST-2 cross-validates better on the last four
    plain = model.scores(sample)
    onnx = predictor.Predictor(trained.artifact, runtime="onnx").scores(sample)
    assert float(np.abs(onnx - plain).max()) < 1e-3
