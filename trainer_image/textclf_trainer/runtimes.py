"""How a loaded encoder runs a tokenised batch: plain PyTorch, PyTorch under bf16 autocast, or ONNX Runtime.

The predictor tokenises and post-processes (the logistic-regression head, softmax or sigmoid);
a runtime only maps ``input_ids``/``attention_mask`` to the model's output (logits for a
sequence-classification model, the sentence vectors of embedding-logreg's ``SentenceEncoder``), so every
runtime serves every artifact kind with the same post-processing.

- ``torch`` (default): fp32 under ``torch.inference_mode``. With ``precision="auto"`` batches of two or
  more texts run under bf16 autocast where the CPU computes bf16 natively (AMX or AVX512-BF16; a CUDA
  device with bf16), since that is where it pays; a single text stays fp32, where the casts cost more
  than they save. ``precision="fp32"`` turns that off, ``"bf16"`` forces it.
- ``onnx``: the model exported with ``torch.onnx`` at load time (a few seconds, into a temporary folder)
  and run by ONNX Runtime's CPU provider: the same fp32 arithmetic with less per-call overhead.
- ``auto`` (the server's default): on a CPU, ONNX Runtime for passes of up to ``SMALL_PASS`` texts,
  where PyTorch's per-module Python overhead dominates (a single text: 6 ms against 12 ms on 2 cores),
  and PyTorch for larger passes when the CPU has native bf16 (32 texts: 2.5 ms per text against
  6 ms); without native bf16, ONNX Runtime for every pass. On a GPU, ``torch``. It holds the weights
  twice (once per runtime), a memory cost of the encoder's size.

Agreement with the plain model's argmax on a real test set is checked by the serving tests.
"""

from __future__ import annotations

import functools
import pathlib
import tempfile
import warnings
from typing import Any, Protocol, TypeAlias

import numpy as np
import numpy.typing as npt
import torch

from textclf_trainer import serveargs

Name: TypeAlias = serveargs.Runtime
Precision: TypeAlias = serveargs.Precision


class Runtime(Protocol):
    """Runs the encoder on one tokenised batch."""

    description: str

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The encoder's output for the batch, as float32 on the CPU."""
        ...


@functools.cache
def native_bf16(device: str) -> bool:
    """Whether bf16 matrix work is native on ``device`` (not emulated, so autocast pays)."""
    if device.startswith("cuda"):
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    mkldnn = getattr(torch.ops, "mkldnn", None)
    check = getattr(mkldnn, "_is_mkldnn_bf16_supported", None) if mkldnn is not None else None
    return bool(check()) if check is not None else False


def _output(model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    out = model(input_ids=input_ids, attention_mask=attention_mask)
    if isinstance(out, torch.Tensor):  # embeddings.SentenceEncoder
        return out
    tensor: torch.Tensor = out.logits
    return tensor


class TorchRuntime:
    """The model as transformers loaded it."""

    def __init__(self, model: Any, device: torch.device, precision: Precision = "auto") -> None:
        self.model = model
        self.device = device
        native = native_bf16(device.type)
        if precision == "bf16" and not native:
            raise ValueError(
                f"--precision bf16: this {device.type.upper()} has no native bf16 support "
                "(AMX or AVX512-BF16 on a CPU); use fp32"
            )
        self.precision = precision
        self.bf16 = precision == "bf16" or (precision == "auto" and native)
        self.description = "torch " + ("bf16 autocast for batches > 1" if self.bf16 else "fp32")

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        input_ids, attention_mask = input_ids.to(self.device), attention_mask.to(self.device)
        cast = self.bf16 and (input_ids.shape[0] > 1 or self.precision == "bf16")
        with (
            torch.inference_mode(),
            torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=cast),
        ):
            return _output(self.model, input_ids, attention_mask).float().cpu()


class OnnxRuntime:
    """The model exported to ONNX and run by ONNX Runtime on the CPU."""

    def __init__(self, model: Any, threads: int, work_dir: pathlib.Path | None = None) -> None:
        import onnxruntime  # noqa: PLC0415  (an optional dependency: only when asked for)

        example = torch.ones((2, 8), dtype=torch.long)
        model = model.to("cpu").eval()
        output = "output"  # logits, or embedding-logreg's sentence vectors
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # The session holds the graph in memory; the exported file is gone once it is built.
        with tempfile.TemporaryDirectory(prefix="textclf-onnx-", dir=work_dir) as folder:
            path = pathlib.Path(folder) / "model.onnx"
            with torch.no_grad(), warnings.catch_warnings():
                # The tracer warns of every Python-level branch on shapes; the export is checked
                # by agreement with the plain model (tests/serving/test_runtimes.py), not by these.
                warnings.simplefilter("ignore")
                # In eval mode, wrapper too: the exporter puts the module back in the mode it
                # found it in, and a fresh wrapper is in training mode (dropout on, for the
                # PyTorch half of ``auto``).
                torch.onnx.export(
                    _Wrapped(model).eval(),
                    (example, example),
                    str(path),
                    input_names=["input_ids", "attention_mask"],
                    output_names=[output],
                    dynamic_axes={
                        "input_ids": {0: "batch", 1: "sequence"},
                        "attention_mask": {0: "batch", 1: "sequence"},
                        output: {0: "batch"},
                    },
                    opset_version=17,
                    dynamo=False,
                )
            self.session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        self.description = f"onnxruntime {onnxruntime.__version__} fp32 (CPU)"

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        feeds: dict[str, npt.NDArray[np.int64]] = {
            "input_ids": input_ids.cpu().numpy().astype(np.int64),
            "attention_mask": attention_mask.cpu().numpy().astype(np.int64),
        }
        (out,) = self.session.run(None, feeds)
        return torch.from_numpy(np.asarray(out, dtype=np.float32))


class _Wrapped(torch.nn.Module):
    """Positional inputs and a plain tensor output, as the ONNX exporter wants."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return _output(self.model, input_ids, attention_mask)


SMALL_PASS = 4
"""``auto``: passes of at most this many texts go to ONNX Runtime (the crossover measured on MiniLM
with AMX: 4 texts 20 ms on either, 6 texts 32 ms against 28 ms)."""


class HybridRuntime:
    """``auto``: each pass to the runtime that is faster for its size."""

    def __init__(self, small: Runtime, large: Runtime) -> None:
        self.small, self.large = small, large
        self.description = (
            f"{small.description} for passes of up to {SMALL_PASS} texts, {large.description} above"
        )

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        chosen = self.small if input_ids.shape[0] <= SMALL_PASS else self.large
        return chosen.forward(input_ids, attention_mask)


def make(
    name: Name,
    model: Any,
    device: torch.device,
    *,
    precision: Precision = "auto",
    threads: int | None = None,
) -> Runtime:
    """The runtime ``name`` for a loaded model (a transformers model, or embedding-logreg's
    ``embeddings.SentenceEncoder`` around one)."""
    if name == "auto":
        if device.type != "cpu":
            return TorchRuntime(model, device, precision)
        onnx = OnnxRuntime(model, threads or torch.get_num_threads())
        if precision == "fp32" or not native_bf16(device.type):
            return onnx
        return HybridRuntime(onnx, TorchRuntime(model, device, precision))
    if name == "onnx":
        if device.type != "cpu":
            raise ValueError("--runtime onnx runs on the CPU; use --runtime torch on a GPU")
        if precision == "bf16":
            raise ValueError("--precision bf16 applies to --runtime torch only")
        return OnnxRuntime(model, threads or torch.get_num_threads())
    return TorchRuntime(model, device, precision)
