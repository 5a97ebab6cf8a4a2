"""The predictor server: ``python -m textclf_trainer serve ARTIFACT`` (and ``textclf serve`` locally).

An aiohttp application that speaks KServe V1 and the Open Inference Protocol V2 (``protocol``), with
label names and every concept's score, and Prometheus metrics (``servingmetrics``). It listens at once
(liveness), then loads the artifact in a thread: fetched from a folder, a mounted PVC or S3, its
``SHA256SUMS`` checked and its digest compared with ``--digest``, the model warmed up; only then is it
ready. A load that fails (a digest mismatch, an unreadable artifact) leaves it live and not ready, the
reason in ``/v2/health/ready`` and the log, so the Deployment shows it instead of a crash loop.

Requests are batched across clients (``batcher``). Limits (``textclf.api.serving``): 128 texts per
request, 64 KiB per text, 10 MiB per body (refused from its Content-Length, or once that many bytes
have arrived, before the rest is read). Every refusal is a JSON ``{"error": "..."}`` with a 4xx code.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import dataclasses
import json
import logging
import time
from collections.abc import Awaitable, Callable

import torch
from aiohttp import web

import textclf
from textclf.api import serving
from textclf_trainer import (
    batcher,
    hardware,
    predictor,
    protocol,
    serveargs,
    servingmetrics,
)

LOG = logging.getLogger("textclf_trainer.server")
SERVER_NAME = "textclf-predictor"


@dataclasses.dataclass(frozen=True)
class Settings:
    """What ``serve`` is told on its command line."""

    artifact: str
    name: str
    version: str | None = None
    digest: str | None = None
    host: str = "127.0.0.1"
    port: int = serving.CONTAINER_PORT
    max_batch_size: int = serveargs.DEFAULT_MAX_BATCH_SIZE
    max_wait_ms: float = serveargs.DEFAULT_MAX_WAIT_MS
    runtime: serveargs.Runtime = "torch"
    precision: serveargs.Precision = "auto"
    threads: int | None = None


class Server:
    """One model, served."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = servingmetrics.Metrics()
        self.model: predictor.Predictor | None = None
        self.batcher: batcher.Batcher | None = None
        self.problem: str | None = None  # why it will never be ready
        self.digest: str | None = None
        self._loading: asyncio.Task[None] | None = None
        # Loading and every forward pass run in this one thread (see ``batcher``: OpenMP teams).
        self._inference = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="inference")

    # --- lifecycle -----------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(
            client_max_size=serving.MAX_BODY_BYTES, middlewares=[self._middleware]
        )
        name = "{name}"
        app.add_routes(
            [
                web.get("/v1/models", self.v1_models),
                web.get(f"/v1/models/{name}", self.v1_model),
                web.post(f"/v1/models/{name}:predict", self.v1_predict),
                web.get("/v2", self.v2_server),
                web.get(serving.LIVE_PATH, self.v2_live),
                web.get(serving.READY_PATH, self.v2_ready),
                web.get(f"/v2/models/{name}", self.v2_model),
                web.get(f"/v2/models/{name}/ready", self.v2_model_ready),
                web.post(f"/v2/models/{name}/infer", self.v2_infer),
                web.get(serving.METRICS_PATH, self.prometheus),
            ]
        )
        app.on_startup.append(self._start)
        app.on_cleanup.append(self._stop)
        return app

    async def _start(self, _app: web.Application) -> None:
        self._loading = asyncio.get_running_loop().create_task(self._load())

    async def _stop(self, _app: web.Application) -> None:
        if self._loading is not None:
            self._loading.cancel()
            await asyncio.gather(self._loading, return_exceptions=True)
        if self.batcher is not None:
            await self.batcher.stop()
        self._inference.shutdown(wait=False, cancel_futures=True)

    async def _load(self) -> None:
        started = time.monotonic()
        try:
            model, digest = await asyncio.get_running_loop().run_in_executor(
                self._inference, self._load_blocking
            )
        except Exception as err:
            self.problem = (
                str(err) if isinstance(err, ValueError) else f"{type(err).__name__}: {err}"
            )
            LOG.error("the model cannot be served: %s", self.problem)
            return
        max_batch = self.settings.max_batch_size
        self.batcher = batcher.Batcher(
            lambda texts: model.scores(texts, batch_size=max_batch),
            max_batch_size=max_batch,
            max_wait=self.settings.max_wait_ms / 1000,
            on_batch=self.metrics.batch,
            on_queue=self.metrics.queue_depth.set,
            executor=self._inference,
        )
        self.batcher.start()
        self.model, self.digest = model, digest
        self.metrics.ready.set(1)
        LOG.info(
            "serving %s (%s, %d concepts, %s) on %s:%d; ready in %.1fs",
            self.settings.name,
            digest,
            len(model.concepts),
            model.runtime.description,
            self.settings.host,
            self.settings.port,
            time.monotonic() - started,
        )

    def _load_blocking(self) -> tuple[predictor.Predictor, str]:
        settings = self.settings
        threads = settings.threads or hardware.cpu_count()
        torch.set_num_threads(threads)
        model = predictor.Predictor.load(
            settings.artifact,
            digest=settings.digest or None,
            runtime=settings.runtime,
            precision=settings.precision,
            threads=threads,
        )
        digest = model.digest
        assert digest is not None
        model.scores(["warm up"] * 2, batch_size=2)  # first calls allocate; not a client's
        model.scores(["warm up"], batch_size=1)
        return model, digest

    # --- plumbing ------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        started = time.monotonic()
        route = request.match_info.route.resource
        template = route.canonical if route is not None else "unmatched"
        try:
            length = request.content_length
            if length is not None and length > serving.MAX_BODY_BYTES:
                raise protocol.BadRequest(
                    f"the body is {length} bytes; at most {serving.MAX_BODY_BYTES} are accepted",
                    413,
                )
            response = await handler(request)
        except protocol.BadRequest as err:
            response = _error(err.status, err.message)
        except web.HTTPRequestEntityTooLarge:
            response = _error(413, f"the body is over the limit of {serving.MAX_BODY_BYTES} bytes")
        except web.HTTPException as err:  # unknown route, wrong method
            response = _error(err.status, err.reason)
        self.metrics.requests.labels(template, str(response.status)).inc()
        self.metrics.latency.labels(template).observe(time.monotonic() - started)
        return response

    def _known(self, request: web.Request) -> str:
        name = request.match_info["name"]
        if name != self.settings.name:
            raise protocol.BadRequest(
                f"model {name!r} is not served here (this server serves {self.settings.name!r})",
                404,
            )
        return name

    def _ready_model(self) -> tuple[predictor.Predictor, batcher.Batcher]:
        if self.model is None or self.batcher is None:
            raise protocol.BadRequest(self._not_ready_reason(), 503)
        return self.model, self.batcher

    def _not_ready_reason(self) -> str:
        return self.problem or "the model is loading"

    # --- KServe V1 -----------------------------------------------------------------------------

    async def v1_models(self, _request: web.Request) -> web.Response:
        return web.json_response({"models": [self.settings.name]})

    async def v1_model(self, request: web.Request) -> web.Response:
        name = self._known(request)
        return web.json_response({"name": name, "ready": self.model is not None})

    async def v1_predict(self, request: web.Request) -> web.Response:
        self._known(request)
        model, queue = self._ready_model()
        data = protocol.parse_json(await request.read())
        texts, options = protocol.v1_request(data, model.concepts)
        scores = await queue.submit(texts)
        return web.json_response(protocol.v1_response(scores, model.concepts, options))

    # --- Open Inference Protocol V2 ------------------------------------------------------------

    async def v2_server(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {"name": SERVER_NAME, "version": textclf.__version__, "extensions": []}
        )

    async def v2_live(self, _request: web.Request) -> web.Response:
        return web.json_response({"live": True})

    async def v2_ready(self, _request: web.Request) -> web.Response:
        if self.model is None:
            return web.json_response(
                {"ready": False, "error": self._not_ready_reason()}, status=503
            )
        return web.json_response({"ready": True})

    async def v2_model(self, request: web.Request) -> web.Response:
        name = self._known(request)
        model, _ = self._ready_model()
        return web.json_response(
            protocol.v2_metadata(
                model=name,
                version=self.settings.version,
                concepts=model.concepts,
                runtime=model.runtime.description,
                kind=model.metadata.kind,
            )
        )

    async def v2_model_ready(self, request: web.Request) -> web.Response:
        name = self._known(request)
        ready = self.model is not None
        return web.json_response({"name": name, "ready": ready}, status=200 if ready else 503)

    async def v2_infer(self, request: web.Request) -> web.Response:
        name = self._known(request)
        model, queue = self._ready_model()
        infer = protocol.v2_request(protocol.parse_json(await request.read()))
        scores = await queue.submit(infer.texts)
        return web.json_response(
            protocol.v2_response(
                infer,
                scores,
                model=name,
                version=self.settings.version,
                concepts=model.concepts,
                multi_label=model.metadata.multi_label,
                threshold=model.metadata.threshold,
            )
        )

    async def prometheus(self, _request: web.Request) -> web.Response:
        return web.Response(
            body=self.metrics.exposition(),
            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
        )


def _error(status: int, message: str) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps({"error": message}),
        content_type="application/json",
    )


def settings_from(args: argparse.Namespace, artifact: str, name: str) -> Settings:
    return Settings(
        artifact=artifact,
        name=name,
        version=getattr(args, "version", None),
        digest=getattr(args, "digest", None),
        host=args.host,
        port=args.port,
        max_batch_size=args.max_batch_size,
        max_wait_ms=args.max_wait_ms,
        runtime=args.runtime,
        precision=args.precision,
        threads=args.threads,
    )


def run(settings: Settings) -> None:
    """Serve until SIGINT or SIGTERM."""
    LOG.info("starting: %s", json.dumps(dataclasses.asdict(settings), sort_keys=True))
    web.run_app(
        Server(settings).app(),
        host=settings.host,
        port=settings.port,
        access_log=None,
        print=lambda _msg: None,
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m textclf_trainer serve",
        description="Serve a trained artifact over KServe V1 and Open Inference Protocol V2.",
    )
    parser.add_argument("artifact", help="artifact folder or URI (file://, pvc://, s3://)")
    parser.add_argument("--name", required=True, help="the model's name in the URL paths")
    parser.add_argument("--version", help="the version served (a TrainingRun name)")
    parser.add_argument("--digest", help="expected artifact digest (sha256:...)")
    serveargs.add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    run(settings_from(args, args.artifact, args.name))
    return 0
