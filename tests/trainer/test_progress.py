"""Progress reporting: the HTTP reporter against a real local server, throttling, no crash on failure."""

from __future__ import annotations

import http.server
import json
import pathlib
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from textclf.api import channels
from textclf_trainer import progress


class Recorder(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, dict[str, Any]]]] = []
    refusals: ClassVar[list[str]] = []
    """Retry-After values: each of the next requests is answered ``status`` with one, as the
    operator does (429: too soon; 503: a replica that is not the leader)."""
    status: ClassVar[int] = 429

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Recorder.received.append((self.headers["Authorization"], json.loads(body)))
        if Recorder.refusals:
            self.send_response(Recorder.status)
            self.send_header("Retry-After", Recorder.refusals.pop(0))
        else:
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.received = []
    Recorder.refusals = []
    Recorder.status = 429
    httpd = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}{channels.PROGRESS_PATH}"
    httpd.shutdown()
    httpd.server_close()


def event(percent: int, phase: str = "train") -> channels.ProgressReport:
    return channels.ProgressReport(percent=percent, phase=phase, step=percent, total_steps=100)


def test_http_reporter_throttles_and_sends_the_token(server: str, tmp_path: pathlib.Path) -> None:
    token = tmp_path / "token"
    token.write_text("abc\n")
    now = [0.0]
    reporter = progress.Http(server, str(token), min_interval=5.0, clock=lambda: now[0])
    for t, percent in [(0.0, 10), (1.0, 20), (4.9, 30), (5.0, 40), (6.0, 50)]:
        now[0] = t
        reporter.report(event(percent))
    token.write_text("rotated")
    now[0] = 7.0
    reporter.report(event(100, "done"))
    assert [body["percent"] for _, body in Recorder.received] == [10, 40, 100]
    assert Recorder.received[0][0] == "Bearer abc"
    assert Recorder.received[-1][0] == "Bearer rotated"
    assert Recorder.received[0][1]["totalSteps"] == 100


def test_phase_changes_never_come_faster_than_the_endpoint_takes_them(server: str) -> None:
    now = [0.0]
    reporter = progress.Http(server, None, min_interval=5.0, min_gap=1.0, clock=lambda: now[0])
    for t, percent, phase in [(0.0, 0, "load"), (0.2, 1, "inspect"), (0.4, 3, "baseline"),
                              (1.1, 5, "train"), (1.5, 6, "train"), (2.5, 90, "evaluate")]:  # fmt: skip
        now[0] = t
        reporter.report(event(percent, phase))
    assert [body["phase"] for _, body in Recorder.received] == ["load", "train", "evaluate"]


@pytest.mark.parametrize("status", [429, 503])
def test_a_429_is_obeyed_and_the_final_event_waits_for_its_turn(server: str, status: int) -> None:
    Recorder.status = status
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    reporter = progress.Http(
        server, None, min_interval=5.0, min_gap=1.0, clock=lambda: now[0], sleep=sleep
    )
    Recorder.refusals = ["3"]
    reporter.report(event(10))  # refused: come back in 3 s
    for t, percent, phase in [(1.5, 20, "evaluate"), (2.0, 30, "save")]:
        now[0] = t
        reporter.report(event(percent, phase))  # a phase change, but still inside the 3 s
    now[0] = 2.5
    reporter.report(event(100, "done"))
    assert [body["percent"] for _, body in Recorder.received] == [10, 100]
    assert slept == [pytest.approx(0.5)]


def test_http_failures_never_raise(tmp_path: pathlib.Path) -> None:
    reporter = progress.Http("http://127.0.0.1:9/nowhere", str(tmp_path / "missing-token"))
    reporter.report(event(10))
    reporter.report(event(100, "done"))


def test_tracker_percent_and_eta() -> None:
    log = progress.Log()
    clock = [100.0]
    tracker = progress.Tracker(log, clock=lambda: clock[0])
    tracker.step(0, 10)
    clock[0] = 110.0
    tracker.step(5, 10, epoch=0.5, loss=0.7)
    last = log.records[-1]
    assert last["percent"] == progress.PHASE_START["train"] + (90 - 5) // 2
    assert last["etaSeconds"] == 10
    assert json.loads(log.to_jsonl().splitlines()[-1])["loss"] == 0.7
