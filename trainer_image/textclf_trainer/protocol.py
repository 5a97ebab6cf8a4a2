"""The predictor's two wire protocols, as pure functions: request bodies in, texts and options out,
and score tables back to response bodies. No HTTP here, so every refusal is unit-testable and the
server module only routes.

KServe V1 (``/v1/models/{name}:predict``)::

    {"instances": ["text", ...], "parameters": {"select_concepts": [...], "min_value": 0.2,
     "max_concepts": 3}}
    -> {"predictions": [{"concepts": [{"id": "pos", "name": "pos", "value": 0.93}, ...]}, ...]}

An instance may also be an object ``{"text": "..."}``. Every concept comes with its score, highest
first, after the options (``predictor.select``).

Open Inference Protocol V2 (``/v2/models/{name}/infer``): one BYTES input of shape ``[N]`` (or
``[N, 1]``) whose ``data`` holds the texts; outputs ``label`` (BYTES ``[N]``: the top concept, or for a
multi-label model the concepts at or above its threshold joined by ``,``) and ``scores`` (FP32
``[N, C]``, row-major, columns in the order of the metadata's ``concepts`` parameter).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from textclf.api import serving
from textclf_trainer import artifacts, predictor

V1_PARAMETERS = ("select_concepts", "min_value", "max_concepts")
V2_OUTPUTS = ("label", "scores")


class BadRequest(ValueError):
    """What is wrong with a request, in words for its sender; ``status`` is the HTTP code."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclasses.dataclass(frozen=True)
class Options:
    """The output config of a V1 request."""

    select_concepts: tuple[str, ...] | None = None
    min_value: float | None = None
    max_concepts: int | None = None


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadRequest(f"the body is not valid JSON: {err}") from err
    if not isinstance(data, dict):
        raise BadRequest(f"the body must be a JSON object, not {_kind(data)}")
    return data


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def check_texts(texts: Sequence[Any], where: str) -> list[str]:
    """The texts, each a string within ``serving.MAX_TEXT_BYTES``; 1 to ``MAX_INSTANCES`` of them."""
    if not texts:
        raise BadRequest(f"{where}: no texts to classify")
    if len(texts) > serving.MAX_INSTANCES:
        raise BadRequest(
            f"{where}: {len(texts)} texts in one request; at most {serving.MAX_INSTANCES} are "
            "allowed (send several requests)"
        )
    checked: list[str] = []
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise BadRequest(f"{where}[{index}]: expected a string, got {_kind(text)}")
        size = len(text.encode("utf-8"))
        if size > serving.MAX_TEXT_BYTES:
            raise BadRequest(
                f"{where}[{index}]: {size} bytes, over the limit of {serving.MAX_TEXT_BYTES} "
                "bytes per text"
            )
        checked.append(text)
    return checked


def v1_request(data: dict[str, Any], concepts: Sequence[str]) -> tuple[list[str], Options]:
    """Texts and options of a V1 predict body."""
    if "instances" not in data:
        raise BadRequest('missing "instances": expected {"instances": ["text", ...]}')
    instances = data["instances"]
    if not isinstance(instances, list):
        raise BadRequest(f'"instances" must be an array of texts, not {_kind(instances)}')
    texts = [i["text"] if isinstance(i, dict) and set(i) == {"text"} else i for i in instances]
    return check_texts(texts, "instances"), v1_options(data.get("parameters"), concepts)


def v1_options(parameters: Any, concepts: Sequence[str]) -> Options:
    if parameters is None:
        return Options()
    if not isinstance(parameters, dict):
        raise BadRequest(f'"parameters" must be an object, not {_kind(parameters)}')
    unknown = sorted(set(parameters) - set(V1_PARAMETERS))
    if unknown:
        raise BadRequest(
            f"parameters.{unknown[0]}: unknown parameter (known: {', '.join(V1_PARAMETERS)})"
        )
    select = parameters.get("select_concepts")
    if select is not None:
        if not isinstance(select, list) or not all(isinstance(c, str) for c in select):
            raise BadRequest("parameters.select_concepts: expected an array of concept names")
        missing = [c for c in select if c not in concepts]
        if missing:
            raise BadRequest(
                f"parameters.select_concepts: unknown concept(s) {', '.join(map(repr, missing))} "
                f"(the model's concepts: {', '.join(concepts)})"
            )
    min_value = parameters.get("min_value")
    if min_value is not None and (
        isinstance(min_value, bool)
        or not isinstance(min_value, int | float)
        or not 0 <= min_value <= 1
    ):
        raise BadRequest("parameters.min_value: expected a number from 0 to 1")
    max_concepts = parameters.get("max_concepts")
    if max_concepts is not None and (
        isinstance(max_concepts, bool) or not isinstance(max_concepts, int) or max_concepts < 1
    ):
        raise BadRequest("parameters.max_concepts: expected a whole number of at least 1")
    return Options(
        select_concepts=tuple(select) if select else None,
        min_value=float(min_value) if min_value is not None else None,
        max_concepts=max_concepts,
    )


def v1_response(
    scores: npt.NDArray[np.float32], concepts: Sequence[str], options: Options
) -> dict[str, Any]:
    predictions = []
    for row in scores:
        chosen = predictor.select(
            concepts,
            row,
            select_concepts=options.select_concepts,
            min_value=options.min_value,
            max_concepts=options.max_concepts,
        )
        predictions.append(
            {"concepts": [{"id": c.name, "name": c.name, "value": c.value} for c in chosen]}
        )
    return {"predictions": predictions}


@dataclasses.dataclass(frozen=True)
class InferRequest:
    """A V2 infer request, checked."""

    texts: list[str]
    outputs: tuple[str, ...]
    id: str | None = None


def _flatten(data: Any, where: str) -> list[Any]:
    if not isinstance(data, list):
        raise BadRequest(f"{where}: expected an array, not {_kind(data)}")
    flat: list[Any] = []
    for item in data:
        if isinstance(item, list):
            flat.extend(_flatten(item, where))
        else:
            flat.append(item)
    return flat


def v2_request(data: dict[str, Any]) -> InferRequest:
    """The texts of a V2 infer body (one BYTES input of shape [N] or [N, 1])."""
    inputs = data.get("inputs")
    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
        raise BadRequest('"inputs": expected exactly one input tensor (BYTES, shape [N])')
    tensor = inputs[0]
    name = tensor.get("name", "text")
    if tensor.get("datatype") != "BYTES":
        raise BadRequest(
            f"inputs[0] ({name}): datatype must be BYTES, not {tensor.get('datatype')!r}"
        )
    shape = tensor.get("shape")
    if (
        not isinstance(shape, list)
        or not all(isinstance(d, int) and not isinstance(d, bool) for d in shape)
        or len(shape) not in (1, 2)
        or (len(shape) == 2 and shape[1] != 1)
    ):
        raise BadRequest(f"inputs[0] ({name}).shape: expected [N] or [N, 1], got {shape!r}")
    texts = check_texts(_flatten(tensor.get("data"), f"inputs[0] ({name}).data"), "inputs[0].data")
    if shape[0] != len(texts):
        raise BadRequest(
            f"inputs[0] ({name}): shape says {shape[0]} texts, data holds {len(texts)}"
        )
    wanted = data.get("outputs")
    outputs: tuple[str, ...] = V2_OUTPUTS
    if wanted is not None:
        if not isinstance(wanted, list) or not all(
            isinstance(o, dict) and isinstance(o.get("name"), str) for o in wanted
        ):
            raise BadRequest('"outputs": expected an array of {"name": ...} objects')
        names = tuple(o["name"] for o in wanted)
        unknown = [n for n in names if n not in V2_OUTPUTS]
        if unknown:
            raise BadRequest(
                f"outputs: unknown output {unknown[0]!r} (known: {', '.join(V2_OUTPUTS)})"
            )
        outputs = names
    request_id = data.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise BadRequest(f'"id" must be a string, not {_kind(request_id)}')
    return InferRequest(texts, outputs, request_id)


def labels(
    scores: npt.NDArray[np.float32],
    concepts: Sequence[str],
    multi_label: bool,
    threshold: artifacts.Threshold,
) -> list[str]:
    """The label of each row: the top concept, or (multi-label) every concept at or above its
    threshold, joined by ``,``."""
    if not multi_label:
        return [concepts[int(i)] for i in scores.argmax(axis=1)] if len(scores) else []
    cut = np.broadcast_to(np.asarray(threshold, dtype=np.float32), (len(concepts),))
    return [
        ",".join(c for c, v, t in zip(concepts, row, cut, strict=True) if v >= t) for row in scores
    ]


def v2_response(
    request: InferRequest,
    scores: npt.NDArray[np.float32],
    *,
    model: str,
    version: str | None,
    concepts: Sequence[str],
    multi_label: bool,
    threshold: artifacts.Threshold,
) -> dict[str, Any]:
    tensors = {
        "label": {
            "name": "label",
            "datatype": "BYTES",
            "shape": [len(scores)],
            "data": labels(scores, concepts, multi_label, threshold),
        },
        "scores": {
            "name": "scores",
            "datatype": "FP32",
            "shape": [len(scores), len(concepts)],
            "data": [float(v) for v in scores.reshape(-1)],
        },
    }
    body: dict[str, Any] = {
        "model_name": model,
        "outputs": [tensors[name] for name in request.outputs],
    }
    if version:
        body["model_version"] = version
    if request.id is not None:
        body["id"] = request.id
    return body


def v2_metadata(
    *, model: str, version: str | None, concepts: Sequence[str], runtime: str, kind: str
) -> dict[str, Any]:
    return {
        "name": model,
        "versions": [version] if version else [],
        "platform": runtime,
        "inputs": [{"name": "text", "datatype": "BYTES", "shape": [-1]}],
        "outputs": [
            {"name": "label", "datatype": "BYTES", "shape": [-1]},
            {"name": "scores", "datatype": "FP32", "shape": [-1, len(concepts)]},
        ],
        "parameters": {"concepts": list(concepts), "kind": kind},
    }
