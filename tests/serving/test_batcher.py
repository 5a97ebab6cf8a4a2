"""The dynamic batcher's policy, on a real event loop with a scoring function that records its passes:
a lone client is never kept waiting, concurrent ones share passes, the oldest request bounds the wait,
and a failing pass fails only its own requests."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import numpy as np
import pytest

from textclf_trainer import batcher


class Recorder:
    def __init__(self, fail_on: str | None = None) -> None:
        self.passes: list[list[str]] = []
        self.fail_on = fail_on

    def __call__(self, texts: list[str]) -> batcher.Scores:
        self.passes.append(list(texts))
        if self.fail_on in texts:
            raise RuntimeError(f"cannot score {self.fail_on}")
        return np.array([[float(len(t))] for t in texts], dtype=np.float32)


def _run(body: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(body, 20))


def test_a_lone_client_does_not_wait_and_concurrent_ones_share_a_pass() -> None:
    async def body() -> None:
        score = Recorder()
        b = batcher.Batcher(score, max_batch_size=4, max_wait=60.0)
        b.start()
        try:
            # an idle server: the request goes at once, though max_wait is a minute
            rows = await asyncio.wait_for(b.submit(["one"]), 5)
            assert rows.tolist() == [[3.0]]
            # four at once fill a pass
            results = await asyncio.wait_for(
                asyncio.gather(*(b.submit([t]) for t in ("a", "bb", "ccc", "dddd"))), 5
            )
            assert [r.tolist() for r in results] == [[[1.0]], [[2.0]], [[3.0]], [[4.0]]]
            assert score.passes == [["one"], ["a", "bb", "ccc", "dddd"]]
        finally:
            await b.stop()

    _run(body())


def test_under_load_a_request_waits_for_others_up_to_max_wait() -> None:
    async def body() -> None:
        score = Recorder()
        b = batcher.Batcher(score, max_batch_size=8, max_wait=0.5)
        b.start()
        try:
            await asyncio.gather(b.submit(["x"]), b.submit(["y"]))  # a pass of two requests
            first = asyncio.ensure_future(b.submit(["late-1"]))
            await asyncio.sleep(0.1)  # within the oldest request's wait
            second = asyncio.ensure_future(b.submit(["late-2"]))
            await asyncio.gather(first, second)
            assert score.passes[-1] == ["late-1", "late-2"]
        finally:
            await b.stop()

    _run(body())


def test_a_failing_pass_fails_its_requests_and_the_batcher_goes_on() -> None:
    async def body() -> None:
        score = Recorder(fail_on="bad")
        b = batcher.Batcher(score, max_batch_size=4, max_wait=0.0)
        b.start()
        try:
            with pytest.raises(RuntimeError, match="cannot score bad"):
                await b.submit(["bad"])
            assert (await b.submit(["fine"])).tolist() == [[4.0]]
        finally:
            await b.stop()

    _run(body())
