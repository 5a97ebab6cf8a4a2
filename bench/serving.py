"""Serving benchmark: ``textclf`` predictor server against a plain ``transformers.pipeline`` server.

One run, one machine, one trained model (hf-advanced on the bundled SST-2 subset, or ``--artifact``).
The baseline is what a user would write: an aiohttp handler calling
``pipeline("text-classification")`` per request. Both are real processes on loopback, driven by the
same aiohttp client at concurrency 1, 8 and 32 with single-text requests of SST-2 sentences; the
table reports requests/s and p50/p99 latency, and our server's ratios to the baseline.

    python bench/serving.py --out bench/results/serving.md [--runtime auto|torch|onnx] [--requests 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime
import os
import pathlib
import platform
import socket
import subprocess
import sys
import tempfile
import time

import aiohttp
import numpy as np

from textclf_trainer import serveargs

REPO = pathlib.Path(__file__).resolve().parents[1]
SST2 = REPO / "examples" / "data" / "sst2"
BASELINE = """
import sys, asyncio
from aiohttp import web
import transformers
pipe = transformers.pipeline("text-classification", model=sys.argv[1], device=-1, top_k=None)
async def predict(request):
    body = await request.json()
    return web.json_response({"predictions": pipe(body["instances"])})
app = web.Application()
app.add_routes([web.post("/predict", predict), web.get("/ready", lambda r: web.Response())])
web.run_app(app, host="127.0.0.1", port=int(sys.argv[2]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def train(folder: pathlib.Path) -> pathlib.Path:
    sys.path.insert(0, str(REPO))
    from tests.trainer import runs  # noqa: PLC0415

    train = runs.write_subset(SST2 / "train.csv", folder / "train.csv", 800)
    trained = runs.train(
        folder,
        {"train": train, "test": SST2 / "validation.csv"},
        "hf-advanced",
        params={"max_length": 64, "trainer_config": {"num_train_epochs": 1, "learning_rate": 1e-4}},
        **runs.SST2,
    )
    return trained.artifact


def start(command: list[str], ready_url: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            import urllib.request  # noqa: PLC0415

            with urllib.request.urlopen(ready_url, timeout=2):
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"{command[:4]} did not become ready")


async def drive(url: str, texts: list[str], concurrency: int, requests: int) -> dict[str, float]:
    latencies: list[float] = []
    queue = list(range(requests))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def worker() -> None:
            while queue:
                i = queue.pop()
                started = time.perf_counter()
                async with session.post(url, json={"instances": [texts[i % len(texts)]]}) as r:
                    await r.read()
                    assert r.status == 200, r.status
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - began
    ms = np.array(latencies) * 1000
    return {
        "rps": requests / wall,
        "p50": float(np.percentile(ms, 50)),
        "p99": float(np.percentile(ms, 99)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--artifact", type=pathlib.Path)
    parser.add_argument("--runtime", default="auto", choices=["auto", "torch", "onnx"])
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    parser.add_argument("--max-wait-ms", type=float, default=serveargs.DEFAULT_MAX_WAIT_MS)
    parser.add_argument("--requests", type=int, default=1000)  # p99 from 10 samples, not 4
    parser.add_argument("--out", type=pathlib.Path)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    with (SST2 / "validation.csv").open(newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    work = pathlib.Path(tempfile.mkdtemp(prefix="textclf-bench-serving-"))
    artifact = args.artifact or train(work)
    ours_port, base_port = free_port(), free_port()
    ours = start(
        [sys.executable, "-m", "textclf_trainer", "serve", str(artifact), "--name", "m",
         "--port", str(ours_port), "--runtime", args.runtime, "--precision", args.precision,
         "--max-wait-ms", str(args.max_wait_ms)],
        f"http://127.0.0.1:{ours_port}/v2/health/ready",
    )  # fmt: skip
    results: dict[str, dict[int, dict[str, float]]] = {"textclf": {}, "pipeline": {}}
    try:
        for c in (1, 8, 32):
            url = f"http://127.0.0.1:{ours_port}/v1/models/m:predict"
            asyncio.run(drive(url, texts, c, 32))  # warm-up
            results["textclf"][c] = asyncio.run(drive(url, texts, c, args.requests))
    finally:
        ours.terminate()
        ours.wait()
    baseline = start(
        [sys.executable, "-c", BASELINE, str(artifact), str(base_port)],
        f"http://127.0.0.1:{base_port}/ready",
    )
    try:
        for c in (1, 8, 32):
            url = f"http://127.0.0.1:{base_port}/predict"
            asyncio.run(drive(url, texts, c, 32))
            results["pipeline"][c] = asyncio.run(drive(url, texts, c, args.requests))
    finally:
        baseline.terminate()
        baseline.wait()
    lines = [
        f"# Serving benchmark ({datetime.date.today().isoformat()})",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}. Model: hf-advanced (all-MiniLM-L6-v2) on 800 SST-2 "
        f"rows; single-text requests of SST-2 validation sentences, {args.requests} per level. "
        f"textclf: `--runtime {args.runtime} --precision {args.precision}`, max batch 32, "
        f"max wait {args.max_wait_ms:g} ms. Baseline: aiohttp + `transformers.pipeline` per request.",
        "",
        "| concurrency | textclf req/s | p50 ms | p99 ms | pipeline req/s | p50 ms | p99 ms "
        "| throughput ratio | p99 ratio |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c in (1, 8, 32):
        o, b = results["textclf"][c], results["pipeline"][c]
        lines.append(
            f"| {c} | {o['rps']:.0f} | {o['p50']:.1f} | {o['p99']:.1f} | {b['rps']:.0f} "
            f"| {b['p50']:.1f} | {b['p99']:.1f} | {o['rps'] / b['rps']:.2f}x "
            f"| {o['p99'] / b['p99']:.2f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with args.out.open("a") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
