"""Progress reporters: where ``channels.ProgressReport`` events go while a run trains.

- ``JsonLines``: one JSON object per line on a stream (stdout of ``python -m textclf_trainer`` locally);
- ``Http``: POSTs to the operator's progress endpoint (``TEXTCLF_PROGRESS_URL``; HTTPS verified
  against the CA in ``TEXTCLF_PROGRESS_CA`` alone) with the projected token read from
  ``TEXTCLF_PROGRESS_TOKEN_PATH`` on every send (the kubelet rotates it), at most one event per
  ``min_interval`` seconds. A phase change goes sooner, but never within ``min_gap`` of the
  last send (the operator answers faster reports of a run with 429), and the final event waits out
  that gap rather than be refused. A 429's ``Retry-After`` is obeyed. Failures are logged and
  swallowed, never raised into training;
- ``Log``: keeps every event with a timestamp, for the artifact's ``training_log.jsonl``;
- ``Fanout``: all of them at once.

``Tracker`` turns the trainer's phases and steps into percent and ETA.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TextIO

from textclf.api import channels

LOG = logging.getLogger(__name__)
DEFAULT_MIN_INTERVAL = 5.0
"""Seconds between two POSTs to the progress endpoint."""
MIN_GAP = 1.25
"""Seconds between any two POSTs, phase changes included: above the operator's default
``progress_min_interval`` (1 s), below which it answers 429, with a margin for the network delay of
the earlier POST (at exactly 1 s, one report in a few runs arrived 0.99 s after the one before)."""
FINAL_WAIT_MAX = 5.0
"""The longest the final event waits for the endpoint to take it (Retry-After or the gap)."""
HTTP_TIMEOUT = 5.0
TOO_MANY_REQUESTS = 429
SERVICE_UNAVAILABLE = 503
"""A replica of the operator that is not the leader: the Service may pick the leader next time."""

# Overall percent at which each phase starts; training fills the span up to evaluation.
PHASE_START = {
    "load": 0,
    "inspect": 1,
    "baseline": 3,
    "train": 5,
    "evaluate": 90,
    "save": 97,
    "done": 100,
}


class Reporter(Protocol):
    def report(self, event: channels.ProgressReport) -> None: ...


def _wire(event: channels.ProgressReport) -> dict[str, Any]:
    return event.to_wire()


class JsonLines:
    """Each event as one JSON line."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def report(self, event: channels.ProgressReport) -> None:
        self.stream.write(json.dumps({"progress": _wire(event)}) + "\n")
        self.stream.flush()


def _opener(ca: str | None) -> Callable[..., Any]:
    """``urlopen``, trusting only ``ca`` (PEM) for HTTPS when it is given: the token goes to the
    operator whose certificate that CA signed, under the name in the URL, and to nobody else."""
    if not ca:
        return urllib.request.urlopen
    context = ssl.create_default_context(cadata=ca)
    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=context)).open


class Http:
    """POSTs events to the operator's progress endpoint, throttled; never raises."""

    def __init__(
        self,
        url: str,
        token_path: str | None,
        *,
        ca: str | None = None,
        min_interval: float = DEFAULT_MIN_INTERVAL,
        min_gap: float = MIN_GAP,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        opener: Callable[..., Any] | None = None,  # replaced in tests
    ) -> None:
        self.url = url
        self.token_path = token_path
        self.min_interval = min_interval
        self.min_gap = min_gap
        self.clock = clock
        self.sleep = sleep
        self.opener = opener or _opener(ca)
        self._last_sent: float | None = None
        self._last_phase: str | None = None
        self._not_before = float("-inf")  # from the endpoint's Retry-After
        self._failures = 0

    def _wait(self, event: channels.ProgressReport) -> float | None:
        """Seconds before ``event`` may go (0: now), or None to skip it: a later one says more."""
        final = event.percent >= 100
        earliest = self._not_before
        if self._last_sent is not None:
            urgent = final or event.phase != self._last_phase
            earliest = max(
                earliest, self._last_sent + (self.min_gap if urgent else self.min_interval)
            )
        wait = earliest - self.clock()
        if wait <= 0:
            return 0.0
        return min(wait, FINAL_WAIT_MAX) if final else None

    def report(self, event: channels.ProgressReport) -> None:
        wait = self._wait(event)
        if wait is None:
            return
        if wait > 0:
            self.sleep(wait)
        self._last_sent = self.clock()
        self._last_phase = event.phase
        headers = {"Content-Type": "application/json"}
        try:
            if self.token_path:
                with open(self.token_path, encoding="utf-8") as handle:
                    headers["Authorization"] = f"Bearer {handle.read().strip()}"
            request = urllib.request.Request(
                self.url, data=json.dumps(_wire(event)).encode(), headers=headers, method="POST"
            )
            with self.opener(request, timeout=HTTP_TIMEOUT) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            if exc.code not in (TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE):
                self._failed(exc)
                return
            retry = exc.headers.get("Retry-After", "") if exc.headers else ""
            delay = float(retry) if retry.replace(".", "", 1).isdigit() else self.min_gap
            self._not_before = self.clock() + delay
            LOG.debug("progress endpoint asked to wait %.1fs; later events will say more", delay)
        except (OSError, urllib.error.URLError, ValueError) as exc:
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        self._failures += 1
        if self._failures <= 3:
            LOG.warning("progress report to %s failed (%s); training goes on", self.url, exc)


class Log:
    """Keeps every event, with its time, for the artifact's training log."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def report(self, event: channels.ProgressReport) -> None:
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
        self.records.append({"time": now, **_wire(event)})

    def add(self, record: dict[str, Any]) -> None:
        """A non-progress record (e.g. the Trainer's eval metrics)."""
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
        self.records.append({"time": now, **record})

    def to_jsonl(self) -> str:
        return "".join(json.dumps(r) + "\n" for r in self.records)


class Fanout:
    def __init__(self, reporters: Sequence[Reporter]) -> None:
        self.reporters = list(reporters)

    def report(self, event: channels.ProgressReport) -> None:
        for reporter in self.reporters:
            reporter.report(event)


def from_environment(stream: TextIO) -> Reporter:
    """HTTP when ``TEXTCLF_PROGRESS_URL`` is set (in the Pod), else JSON lines on ``stream``."""
    url = os.environ.get(channels.PROGRESS_URL_ENV)
    if url:
        return Http(
            url,
            os.environ.get(channels.PROGRESS_TOKEN_PATH_ENV),
            ca=os.environ.get(channels.PROGRESS_CA_ENV),
        )
    return JsonLines(stream)


class Tracker:
    """Computes percent and ETA from phases and steps and sends events to a reporter."""

    def __init__(self, reporter: Reporter, clock: Callable[[], float] = time.monotonic) -> None:
        self.reporter = reporter
        self.clock = clock
        self._train_started: float | None = None
        self._start_step = 0
        self.resumed_from: int | None = None

    def resumed(self, step: int) -> None:
        """This attempt continues from a checkpoint at ``step``: said in every later report."""
        self.resumed_from = step
        self._start_step = step

    def phase(self, name: str) -> None:
        self.reporter.report(
            channels.ProgressReport(
                percent=PHASE_START[name], phase=name, resumed_from_step=self.resumed_from
            )
        )

    def step(
        self,
        step: int,
        total: int,
        *,
        epoch: float | None = None,
        loss: float | None = None,
    ) -> None:
        """Training progress: ``step`` of ``total`` units done (optimizer steps or batches)."""
        now = self.clock()
        if self._train_started is None or step <= self._start_step:
            self._train_started = now
        total = max(total, 1)
        done = min(step, total) / total
        start, end = PHASE_START["train"], PHASE_START["evaluate"]
        eta = None
        if step > self._start_step:  # the rate of this attempt, from where it started
            rate = (now - self._train_started) / (step - self._start_step)
            eta = int(rate * (total - min(step, total)))
        self.reporter.report(
            channels.ProgressReport(
                percent=int(start + (end - start) * done),
                epoch=epoch,
                step=step,
                total_steps=total,
                loss=loss,
                eta_seconds=eta,
                phase="train",
                resumed_from_step=self.resumed_from,
            )
        )
