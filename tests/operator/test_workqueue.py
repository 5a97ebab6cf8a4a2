"""The work queue on a real event loop: events coalesce, one item is never worked twice at once, a
change during work is not lost, failures come back with backoff, and workers are bounded."""

from __future__ import annotations

import asyncio

import pytest

from textclf_operator import workqueue


def test_a_burst_for_one_item_is_one_piece_of_work() -> None:
    done: list[str] = []

    async def main() -> None:
        async def work(item: str) -> None:
            done.append(item)

        queue = workqueue.WorkQueue(work, workers=2)
        for _ in range(50):
            queue.add("a")
        queue.add("b")
        queue.start()
        await asyncio.sleep(0.05)
        await queue.stop()

    asyncio.run(main())
    assert sorted(done) == ["a", "b"]


def test_never_twice_at_once_and_a_change_during_work_is_worked_again() -> None:
    running: set[str] = set()
    overlaps: list[str] = []
    done: list[str] = []

    async def main() -> None:
        release = asyncio.Event()

        async def work(item: str) -> None:
            if item in running:
                overlaps.append(item)
            running.add(item)
            await release.wait()
            running.discard(item)
            done.append(item)

        queue = workqueue.WorkQueue(work, workers=4)
        queue.start()
        queue.add("a")
        await asyncio.sleep(0.01)  # a worker holds "a"
        for _ in range(10):
            queue.add("a")  # changes while it is worked: once more afterwards, not ten times
        await asyncio.sleep(0.01)
        release.set()
        await asyncio.sleep(0.05)
        await queue.stop()

    asyncio.run(main())
    assert overlaps == []
    assert done == ["a", "a"]


def test_workers_are_bounded() -> None:
    peak = 0
    now = 0

    async def main() -> None:
        async def work(_item: int) -> None:
            nonlocal peak, now
            now += 1
            peak = max(peak, now)
            await asyncio.sleep(0.01)
            now -= 1

        queue = workqueue.WorkQueue(work, workers=3)
        for i in range(30):
            queue.add(i)
        assert not queue.idle()
        queue.start()
        await asyncio.sleep(0.3)
        assert queue.idle()
        await queue.stop()

    asyncio.run(main())
    assert peak == 3


def test_failures_come_back_with_backoff_and_forget_stops_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workqueue, "BASE_DELAY", 0.01)
    calls: dict[str, list[float]] = {"flaky": [], "doomed": []}

    async def main() -> None:
        loop = asyncio.get_running_loop()

        async def work(item: str) -> None:
            calls[item].append(loop.time())
            if item == "doomed" or len(calls[item]) < 3:
                raise RuntimeError("not yet")

        queue = workqueue.WorkQueue(work, workers=1)
        queue.start()
        queue.add("flaky")
        queue.add("doomed")
        await asyncio.sleep(0.3)
        assert queue.failures("flaky") == 0  # the third try succeeded: its count is reset
        assert queue.failures("doomed") >= 3
        queue.forget("doomed")
        tries = len(calls["doomed"])
        await asyncio.sleep(0.4)
        assert len(calls["doomed"]) == tries  # no retry after forget
        await queue.stop()

    asyncio.run(main())
    flaky = calls["flaky"]
    assert len(flaky) == 3
    assert flaky[2] - flaky[1] > flaky[1] - flaky[0]  # the delay doubles
