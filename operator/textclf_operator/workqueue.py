"""The reconciler's work queue, in the manner of client-go's: what to reconcile, not how.

- One pending entry per item: a burst of watch events for one object is one reconcile.
- An item is never worked by two workers at once; asked for again while it is worked, it is queued
  once more when that work ends (so the change is not missed).
- A bounded number of workers: a thousand runs created at once are reconciled a few at a time, in
  the order they came, and watch events never wait for a reconcile.
- Failures are retried with per-item exponential backoff (``BASE_DELAY`` doubling up to
  ``MAX_DELAY``), one retry timer per item; success resets the item's count.
- ``forget`` drops an item (its object was deleted): its timer is cancelled, its count cleared.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T", bound=Hashable)

BASE_DELAY = 0.5
MAX_DELAY = 60.0


class RetryLater(Exception):
    """The world is not yet as the work needs it (a quota, a Job of the same name that lingers):
    retried with backoff like any failure, logged without a traceback."""


class WorkQueue(Generic[T]):
    """Items to work on, coalesced, with retries; ``start`` runs the workers."""

    def __init__(self, work: Callable[[T], Awaitable[None]], *, workers: int = 4) -> None:
        self._work = work
        self._workers = workers
        self._queue: asyncio.Queue[T] = asyncio.Queue()
        self._queued: set[T] = set()
        self._active: set[T] = set()
        self._again: set[T] = set()
        self._failures: dict[T, int] = {}
        self._timers: dict[T, asyncio.TimerHandle] = {}
        self._dropped: set[T] = set()  # forgotten while queued or worked: no work, no retry
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._worker()) for _ in range(self._workers)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for timer in self._timers.values():
            timer.cancel()
        self._tasks, self._timers = [], {}

    def add(self, item: T) -> None:
        """Queue ``item`` unless it is queued already; while it is worked, once more after."""
        self._dropped.discard(item)
        if item in self._active:
            self._again.add(item)
        elif item not in self._queued:
            self._queued.add(item)
            self._queue.put_nowait(item)

    def add_after(self, delay: float, item: T) -> None:
        """Queue ``item`` in ``delay`` seconds; an earlier timer of the item stands."""
        if item in self._timers:
            return
        loop = asyncio.get_running_loop()

        def due() -> None:
            self._timers.pop(item, None)
            self.add(item)

        self._timers[item] = loop.call_later(max(0.0, delay), due)

    def forget(self, item: T) -> None:
        """Drop ``item``: no retry, no queued work (until it is added again)."""
        timer = self._timers.pop(item, None)
        if timer is not None:
            timer.cancel()
        self._failures.pop(item, None)
        self._again.discard(item)
        if item in self._queued or item in self._active:
            self._dropped.add(item)

    def failures(self, item: T) -> int:
        return self._failures.get(item, 0)

    def idle(self) -> bool:
        """Nothing queued, worked, or waiting to be retried."""
        return not (self._queued or self._active or self._timers)

    async def _worker(self) -> None:
        while True:
            item = await self._queue.get()
            self._queued.discard(item)
            if item in self._dropped:
                self._dropped.discard(item)
                continue
            self._active.add(item)
            try:
                await self._work(item)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # any failure is retried, never lost
                if item in self._dropped:
                    continue  # forgotten meanwhile (``finally`` still runs)
                failures = self._failures.get(item, 0) + 1
                self._failures[item] = failures
                delay = min(MAX_DELAY, BASE_DELAY * 2**failures)
                log.warning("work on %s failed (%s); retry in %.1fs", item, err, delay)
                self.add_after(delay, item)
            else:
                self._failures.pop(item, None)
            finally:
                self._active.discard(item)
                self._dropped.discard(item)
                if item in self._again:
                    self._again.discard(item)
                    self.add(item)
