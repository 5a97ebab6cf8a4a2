"""The predictor server as a real process, driven by a real HTTP client (aiohttp): every route, every
refusal of bad input (and the server still serving after it), batching across concurrent requests,
readiness tied to the artifact's digest, and the same answers as ``textclf predict --local``."""

from __future__ import annotations

import asyncio
import csv
import json
import pathlib
import subprocess
import sys
from typing import Any

import aiohttp
import pytest

from tests.serving.conftest import MODEL, SST2, free_port, serving
from tests.trainer import runs
from textclf.api import serving as contract

pytestmark = pytest.mark.training

TEXTS = ["A moving story with wonderful acting.", "Dull, predictable and far too long."]


async def _call(
    method: str, url: str, body: Any = None, *, raw: bytes | None = None
) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        async with session.request(method, url, data=data) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except json.JSONDecodeError:
                return response.status, text


def call(method: str, url: str, body: Any = None, *, raw: bytes | None = None) -> tuple[int, Any]:
    return asyncio.run(_call(method, url, body, raw=raw))


def predict(base: str, body: Any) -> tuple[int, Any]:
    return call("POST", base + contract.v1_predict_path(MODEL), body)


def test_routes(server: str) -> None:
    assert call("GET", server + "/v1/models") == (200, {"models": [MODEL]})
    assert call("GET", server + f"/v1/models/{MODEL}") == (200, {"name": MODEL, "ready": True})
    status, info = call("GET", server + "/v2")
    assert status == 200
    assert info["name"] == "textclf-predictor"
    assert call("GET", server + contract.LIVE_PATH) == (200, {"live": True})
    assert call("GET", server + contract.READY_PATH) == (200, {"ready": True})
    assert call("GET", server + f"/v2/models/{MODEL}/ready") == (
        200,
        {"name": MODEL, "ready": True},
    )
    status, meta = call("GET", server + f"/v2/models/{MODEL}")
    assert status == 200
    assert meta["parameters"]["concepts"] == ["negative", "positive"]
    assert meta["versions"] == ["v1"]
    assert meta["inputs"] == [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
    assert {o["name"]: o["shape"] for o in meta["outputs"]} == {"label": [-1], "scores": [-1, 2]}

    status, body = predict(server, {"instances": TEXTS})
    assert status == 200
    first, second = (p["concepts"] for p in body["predictions"])
    for concepts in (first, second):  # every concept, highest first, scores of a softmax
        assert sorted(c["id"] for c in concepts) == ["negative", "positive"]
        assert concepts[0]["value"] >= concepts[1]["value"]
        assert sum(c["value"] for c in concepts) == pytest.approx(1.0, abs=1e-5)

    status, v2 = call(
        "POST",
        server + contract.v2_infer_path(MODEL),
        {
            "id": "r1",
            "inputs": [{"name": "text", "datatype": "BYTES", "shape": [2], "data": TEXTS}],
        },
    )
    assert status == 200
    assert v2["id"] == "r1"
    assert v2["model_version"] == "v1"
    outputs = {o["name"]: o for o in v2["outputs"]}
    assert outputs["label"]["data"] == [first[0]["id"], second[0]["id"]]
    assert outputs["scores"]["shape"] == [2, 2]
    assert outputs["scores"]["datatype"] == "FP32"
    by_name = {c["id"]: c["value"] for c in first}
    assert outputs["scores"]["data"][:2] == pytest.approx(
        [by_name["negative"], by_name["positive"]], abs=1e-6
    )

    status, metrics = call("GET", server + "/metrics")
    assert status == 200
    assert (
        'textclf_predictor_requests_total{code="200",route="/v1/models/{name}:predict"}' in metrics
    )
    assert "textclf_predictor_queue_depth" in metrics
    assert "textclf_predictor_ready 1.0" in metrics


def test_output_options(server: str) -> None:
    params = {"select_concepts": ["negative"], "min_value": 0.0}
    status, body = predict(server, {"instances": [TEXTS[0]], "parameters": params})
    assert status == 200
    assert [c["id"] for c in body["predictions"][0]["concepts"]] == ["negative"]
    status, body = predict(server, {"instances": TEXTS, "parameters": {"max_concepts": 1}})
    assert [len(p["concepts"]) for p in body["predictions"]] == [1, 1]
    status, body = predict(server, {"instances": [TEXTS[0]], "parameters": {"min_value": 0.5}})
    assert len(body["predictions"][0]["concepts"]) == 1  # two concepts, softmax: one is >= 0.5
    assert body["predictions"][0]["concepts"][0]["value"] >= 0.5


BAD_REQUESTS = [
    ({"instances": "one text"}, 400, '"instances" must be an array'),
    ({"texts": ["x"]}, 400, 'missing "instances"'),
    ({"instances": ["fine", 7]}, 400, "instances[1]: expected a string, got a number"),
    ({"instances": []}, 400, "no texts"),
    ({"instances": ["x"] * 129}, 400, "129 texts in one request; at most 128"),
    ({"instances": ["x" * (contract.MAX_TEXT_BYTES + 1)]}, 400, "instances[0]: 65537 bytes"),
    (
        {"instances": ["x"], "parameters": {"select_concepts": ["neutral"]}},
        400,
        "unknown concept(s) 'neutral'",
    ),
    ({"instances": ["x"], "parameters": {"max_concept": 1}}, 400, "parameters.max_concept"),
    ({"instances": ["x"], "parameters": {"min_value": 2}}, 400, "parameters.min_value"),
]


@pytest.mark.parametrize(("body", "code", "says"), BAD_REQUESTS)
def test_bad_requests_are_refused_and_the_server_goes_on(
    server: str, body: Any, code: int, says: str
) -> None:
    status, answer = predict(server, body)
    assert status == code
    assert says in answer["error"]
    assert predict(server, {"instances": ["still serving"]})[0] == 200


def test_malformed_unknown_and_oversized(server: str) -> None:
    url = server + contract.v1_predict_path(MODEL)
    status, answer = call("POST", url, raw=b'{"instances": ["unclosed"')
    assert status == 400
    assert "not valid JSON" in answer["error"]
    status, answer = call("POST", server + contract.v1_predict_path("other"), {"instances": ["x"]})
    assert status == 404
    assert "'other' is not served here" in answer["error"]
    status, answer = call("GET", server + "/v2/models/other")
    assert status == 404
    big = b'{"instances": ["' + b"x" * contract.MAX_BODY_BYTES + b'"]}'
    status, answer = call("POST", url, raw=big)
    assert status == 413
    assert "at most" in answer["error"]
    v2 = server + contract.v2_infer_path(MODEL)
    tensor = {"name": "text", "datatype": "FP32", "shape": [1], "data": [1.0]}
    status, answer = call("POST", v2, {"inputs": [tensor]})
    assert status == 400
    assert "datatype must be BYTES" in answer["error"]
    tensor = {"name": "text", "datatype": "BYTES", "shape": [3], "data": ["a"]}
    status, answer = call("POST", v2, {"inputs": [tensor]})
    assert status == 400
    assert "shape says 3 texts, data holds 1" in answer["error"]
    assert predict(server, {"instances": ["still serving"]})[0] == 200


async def _chunked_over_limit(url: str) -> int:
    """A body with no Content-Length (chunked), larger than the limit: refused as it arrives."""

    async def chunks() -> Any:
        yield b'{"instances": ["'
        for _ in range(contract.MAX_BODY_BYTES // (1 << 20) + 2):
            yield b"x" * (1 << 20)
        yield b'"]}'

    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=chunks()) as response,
    ):
        return response.status


def test_chunked_body_over_the_limit(server: str) -> None:
    assert asyncio.run(_chunked_over_limit(server + contract.v1_predict_path(MODEL))) == 413


async def _concurrent(base: str, count: int) -> list[int]:
    url = base + contract.v1_predict_path(MODEL)
    async with aiohttp.ClientSession() as session:

        async def one(i: int) -> int:
            body = {"instances": [f"request {i}: {TEXTS[i % 2]}"]}
            async with session.post(url, json=body) as response:
                return response.status

        return await asyncio.gather(*(one(i) for i in range(count)))


def _histogram(metrics: str, name: str) -> tuple[float, float]:
    values = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in metrics.splitlines()
        if line.startswith(name)
    }
    return values[f"{name}_count"], values[f"{name}_sum"]


def test_concurrent_requests_share_forward_passes(trained: runs.Trained) -> None:
    with serving(trained.artifact, "--max-wait-ms", "50", "--max-batch-size", "16") as base:
        before = _histogram(call("GET", base + "/metrics")[1], "textclf_predictor_batch_size")
        assert asyncio.run(_concurrent(base, 48)) == [200] * 48
        after = _histogram(call("GET", base + "/metrics")[1], "textclf_predictor_batch_size")
    passes, texts = after[0] - before[0], after[1] - before[1]
    assert texts == 48
    assert passes < 48 / 2, f"{passes} forward passes for 48 concurrent single-text requests"


def test_not_ready_when_the_digest_does_not_match(trained: runs.Trained) -> None:
    wrong = "sha256:" + "0" * 64
    with serving(trained.artifact, "--digest", wrong, ready=False) as base:
        status, body = _wait_loaded(base)
        assert status == 503
        assert "digest mismatch" in body["error"]
        assert predict(base, {"instances": ["x"]})[0] == 503
        assert call("GET", base + f"/v1/models/{MODEL}") == (200, {"name": MODEL, "ready": False})


def test_not_ready_when_a_file_changed(tampered: pathlib.Path) -> None:
    with serving(tampered, ready=False) as base:
        status, body = _wait_loaded(base)
        assert status == 503
        assert "files differ from SHA256SUMS" in body["error"]


def _wait_loaded(base: str) -> tuple[int, Any]:
    """The readiness answer once the load has ended one way or the other."""
    for _ in range(300):
        status, body = call("GET", base + contract.READY_PATH)
        if status == 200 or "loading" not in body.get("error", ""):
            return status, body
        asyncio.run(asyncio.sleep(0.2))
    raise AssertionError("the server never finished loading")


def test_same_answers_as_predict_local(server: str, trained: runs.Trained) -> None:
    with (SST2 / "validation.csv").open(newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)][:20]
    local = subprocess.run(
        [sys.executable, "-m", "textclf.cli.main", "predict", "--local", "--json",
         str(trained.artifact), *texts],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    expected = [json.loads(line)["concepts"] for line in local.stdout.splitlines()]
    status, body = predict(server, {"instances": texts})
    assert status == 200
    served = [p["concepts"] for p in body["predictions"]]
    assert [[c["id"] for c in s] for s in served] == [[c["name"] for c in e] for e in expected]
    for s, e in zip(served, expected, strict=True):
        assert [c["value"] for c in s] == pytest.approx([c["value"] for c in e], abs=1e-5)


def test_textclf_serve_locally(trained: runs.Trained) -> None:
    """``textclf serve ARTIFACT`` serves the folder under its name, as a user starts it."""
    port = free_port()
    command = [sys.executable, "-m", "textclf.cli.main", "serve", str(trained.artifact),
               "--port", str(port)]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as process:
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if call("GET", base + contract.READY_PATH)[0] == 200:
                        break
                except aiohttp.ClientConnectionError:
                    pass
                asyncio.run(asyncio.sleep(0.2))
            status, body = call(
                "POST", base + contract.v1_predict_path("artifact"), {"instances": TEXTS}
            )
            assert status == 200
            assert len(body["predictions"]) == 2
        finally:
            process.terminate()
            process.wait(10)
        assert process.stdout is not None
        assert b"/v1/models/artifact:predict" in process.stdout.read()
