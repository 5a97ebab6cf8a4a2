"""The uploader Pod's receiver as the SDK meets it: a real process on loopback and a real HTTP client.
A wrong token, a cut or changed file and too large a body are refused with a JSON error, nothing is
left under the dataset's name, and the server keeps waiting; the first whole file ends it."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator

import pytest

from tests import netns
from textclf.api import channels

TOKEN = "a-one-time-token"
BODY = b"input,concepts\nA fine film,pos\nDull,neg\n"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def receiver(tmp_path: pathlib.Path) -> Iterator[tuple[subprocess.Popen[bytes], str, pathlib.Path]]:
    port = _free_port()
    target = tmp_path / "claim" / "reviews" / "data.csv"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "textclf_trainer", "receive", "--to", str(target),
            "--sha256", hashlib.sha256(BODY).hexdigest(), "--host", "127.0.0.1",
            "--port", str(port), "--max-bytes", "1000",
        ],
        env={**os.environ, channels.UPLOAD_TOKEN_ENV: TOKEN},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    netns.wait_answers(url + channels.UPLOAD_HEALTH_PATH, process, timeout=30)
    yield process, url, target
    if process.poll() is None:
        process.kill()
        process.wait()


def _put(
    url: str, body: bytes | Iterable[bytes], token: str | None = TOKEN
) -> tuple[int, dict[str, object]]:
    headers = {"Content-Type": "application/octet-stream"}
    if token is not None:
        headers[channels.UPLOAD_TOKEN_HEADER] = token
    request = urllib.request.Request(
        url + channels.UPLOAD_PATH, data=body, method="PUT", headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_refusals_leave_nothing_and_the_first_whole_file_ends_it(
    receiver: tuple[subprocess.Popen[bytes], str, pathlib.Path],
) -> None:
    process, url, target = receiver
    assert _put(url, BODY, token=None) == (
        401,
        {"error": f"{channels.UPLOAD_TOKEN_HEADER}: missing or wrong"},
    )
    assert _put(url, BODY, token="guessed")[0] == 401
    status, said = _put(url, BODY[:-5])  # cut short
    assert status == 400
    assert f"received {len(BODY) - 5} bytes" in str(said["error"])
    assert "send it again" in str(said["error"])
    status, said = _put(url, b"x" * 1001)
    assert status == 413
    assert "at most 1000" in str(said["error"])
    status, said = _put(url, iter([b"x" * 600, b"x" * 600]))  # chunked: no length to refuse by
    assert status == 413
    assert "over 1000 bytes" in str(said["error"])
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # no partial file left
    assert process.poll() is None  # still waiting

    status, said = _put(url, BODY)
    assert status == 201
    assert said == {
        "path": str(target),
        "bytes": len(BODY),
        "sha256": hashlib.sha256(BODY).hexdigest(),
    }
    assert target.read_bytes() == BODY
    assert process.wait(10) == 0
