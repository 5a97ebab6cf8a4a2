"""``python -m textclf_trainer receive --to PATH --sha256 HEX``: the short-lived uploader Pod's server.

A dataset too large for a ConfigMap goes to a PersistentVolumeClaim. No client outside the cluster
can write to a claim directly, so the SDK starts a restricted Pod that mounts it and runs this: one
``PUT /data`` (reached through the API server's pod proxy, with the caller's own credentials) is
streamed to a hidden file beside ``PATH``, its SHA-256 checked against the one the SDK computed,
then renamed into place, so a half-written or corrupted dataset is never visible under its name.
A wrong digest, a missing or wrong bearer token or too large a body is a 4xx with ``{"error"}``, the
partial file removed, and the server keeps waiting; after one good upload it exits 0. ``GET
/healthz`` is the readiness probe.

The token (``$TEXTCLF_UPLOAD_TOKEN``, random per upload, sent as ``X-Textclf-Upload-Token``) keeps other Pods that can reach this Pod's
address from writing; the caller's RBAC (``update`` on ``pods/proxy``: a PUT) guards the proxy route.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import logging
import os
import pathlib
import sys
import tempfile

from aiohttp import web

from textclf.api import channels

LOG = logging.getLogger(__name__)
MAX_BYTES = 16 * 1024**3
"""The largest body accepted unless ``--max-bytes`` says otherwise (16 GiB)."""
CHUNK = 1024 * 1024


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class Receiver:
    """One dataset file: received, checked, published; ``done`` is set after the publish."""

    def __init__(self, target: pathlib.Path, sha256: str, token: str, max_bytes: int) -> None:
        self.target = target
        self.sha256 = sha256.lower().removeprefix("sha256:")
        self.token = token
        self.max_bytes = max_bytes
        self.done = asyncio.Event()
        self.lock = asyncio.Lock()

    async def health(self, _request: web.Request) -> web.Response:
        return web.json_response({"ready": True})

    async def put(self, request: web.Request) -> web.Response:
        given = request.headers.get(channels.UPLOAD_TOKEN_HEADER, "")
        if not self.token or not hmac.compare_digest(given, self.token):
            return _error(401, f"{channels.UPLOAD_TOKEN_HEADER}: missing or wrong")
        if request.content_length is not None and request.content_length > self.max_bytes:
            return _error(413, f"body of {request.content_length} bytes: at most {self.max_bytes}")
        async with self.lock:  # one file at a time; after a good one, no more
            if self.done.is_set():
                return _error(409, f"{self.target.name} is already received")
            return await self._receive(request)

    async def _receive(self, request: web.Request) -> web.Response:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        # a name of its own: another receiver writing the same dataset never shares the file
        fd, name = tempfile.mkstemp(prefix=f".{self.target.name}.", dir=self.target.parent)
        partial = pathlib.Path(name)
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as handle:
                async for chunk in request.content.iter_chunked(CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        return _error(413, f"body over {self.max_bytes} bytes")
                    digest.update(chunk)
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            if digest.hexdigest() != self.sha256:
                return _error(
                    400,
                    f"received {size} bytes with sha256 {digest.hexdigest()}, expected "
                    f"{self.sha256}: the upload was cut or changed; send it again",
                )
            partial.chmod(0o644)  # as any file the claim holds (mkstemp makes it 0600)
            partial.replace(self.target)
        finally:
            partial.unlink(missing_ok=True)
        LOG.info("received %s: %d bytes, sha256 %s", self.target, size, self.sha256)
        self.done.set()
        return web.json_response(
            {"path": str(self.target), "bytes": size, "sha256": self.sha256}, status=201
        )


def app(receiver: Receiver) -> web.Application:
    application = web.Application(client_max_size=receiver.max_bytes)
    application.router.add_get(channels.UPLOAD_HEALTH_PATH, receiver.health)
    application.router.add_put(channels.UPLOAD_PATH, receiver.put)
    return application


async def serve(receiver: Receiver, host: str, port: int) -> None:
    runner = web.AppRunner(app(receiver), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    LOG.info("waiting for %s on %s:%d", receiver.target, host, port)
    await receiver.done.wait()
    await asyncio.sleep(0.2)  # the 201's bytes leave before the socket closes
    await runner.cleanup()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m textclf_trainer receive")
    parser.add_argument("--to", required=True, type=pathlib.Path, help="where the file goes")
    parser.add_argument("--sha256", required=True, help="the file's SHA-256 (hex)")
    parser.add_argument("--host", default="0.0.0.0", help="listen here (a Pod: all of its own)")
    parser.add_argument("--port", type=int, default=channels.UPLOAD_PORT)
    parser.add_argument("--max-bytes", type=int, default=MAX_BYTES)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    token = os.environ.get(channels.UPLOAD_TOKEN_ENV, "")
    if not token:
        sys.stderr.write(f"receive: ${channels.UPLOAD_TOKEN_ENV} is not set\n")
        return 2
    receiver = Receiver(args.to, args.sha256, token, args.max_bytes)
    asyncio.run(serve(receiver, args.host, args.port))
    return 0
