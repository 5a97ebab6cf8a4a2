"""Every write a reconcile makes, in one place: status, Events, Jobs and predictor objects.

Reconciles plan from the cache with pure functions and then call this module, so what reaches the
API server (and so what can be refused, counted or retried) is decided here and nowhere else. Each
write puts what the API server stored back into the cache, so the next reconcile reads its own
writes. Calls run in the writer's own threads (the client is synchronous), one per reconcile
worker, apart from those of the leader election and the progress endpoint, so neither waits behind
a burst of reconciles.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

from textclf.api import conditions as conds
from textclf_operator import cache, kube, metrics
from textclf_operator.cache import JOBS

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")


def owned_by(obj: Mapping[str, Any] | None, uid: str) -> bool:
    """Whether ``obj`` names ``uid`` among its owners."""
    owners = ((obj or {}).get("metadata") or {}).get("ownerReferences") or []
    return any(o.get("uid") == uid for o in owners)


def owners(obj: Mapping[str, Any]) -> str:
    """Who owns ``obj``, in words."""
    found = (obj.get("metadata") or {}).get("ownerReferences") or []
    if not found:
        return "no owner (made by hand)"
    return ", ".join(f"{o.get('kind')} {o.get('name')} (uid {o.get('uid')})" for o in found)


def _refusal(conditions: Sequence[conds.Condition]) -> conds.Condition | None:
    """The Queued condition when it says the Job was refused."""
    return next(
        (
            c
            for c in conditions
            if c.type == conds.QUEUED
            and c.status == "True"
            and c.reason == conds.REASON_JOB_REFUSED
        ),
        None,
    )


@dataclasses.dataclass(frozen=True)
class Created:
    """What became of a Job create: the Job (ours), or why there is none."""

    job: dict[str, Any] | None = None
    invalid: str | None = None
    """Refused as invalid: the same Job can never be made."""
    rejected: str | None = None
    """Not now (a quota, a webhook, a foreign Job of the same name): retried with backoff."""


class Writer:
    """Writes to the API server on behalf of the reconciles, keeping the cache current."""

    def __init__(self, objects: cache.Cache, threads: int) -> None:
        self.objects = objects
        self._pool = concurrent.futures.ThreadPoolExecutor(
            threads, thread_name_prefix="textclf-write"
        )

    async def _call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        """Stop the threads (calls in flight finish; queued ones are dropped: the next start
        reconciles everything again)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def status(
        self, plural: str, kind: str, body: Mapping[str, Any], wire: dict[str, Any]
    ) -> None:
        """The one place status is written, for every kind; the cache keeps what was stored."""
        meta = body["metadata"]
        stored = await self._call(
            kube.write_status, plural, meta.get("namespace") or "", meta["name"], meta["uid"], wire
        )
        metrics.STATUS_WRITES.labels(kind).inc()
        self.objects.put(plural, stored)

    async def event(
        self,
        body: Mapping[str, Any],
        kind: str,
        *,
        reason: str,
        message: str,
        warning: bool = False,
    ) -> None:
        """An Event about ``body``; best effort: a lost Event never blocks a status write."""
        try:
            await self._call(
                kube.post_event,
                {**body, "kind": kind},
                reason=reason,
                message=message,
                warning=warning,
            )
        except Exception as err:
            log.warning("could not post an Event for %s: %s", body["metadata"]["name"], err)

    async def refusal_event(
        self,
        body: Mapping[str, Any],
        kind: str,
        before: Sequence[conds.Condition],
        after: Sequence[conds.Condition],
    ) -> None:
        """A Warning Event when a run's or an evaluation's Job has just been refused (once per
        refusal, not per retry)."""
        refused = _refusal(after)
        if refused is not None and _refusal(before) is None:
            await self.event(
                body, kind, reason=conds.REASON_JOB_REFUSED, message=refused.message, warning=True
            )

    async def create_job(
        self, manifest: Mapping[str, Any], owner: Mapping[str, Any], what: str
    ) -> Created:
        """Create the Job of ``owner`` (a ``what``: "run", "evaluation"); a Job of the same name that
        is not ``owner``'s is a refusal to retry, never adopted."""
        name = manifest["metadata"]["name"]
        try:
            created = await self._call(kube.create_job, manifest)
        except kube.Refused as err:  # the API server refuses this Job: say why
            return Created(invalid=f"the {what}'s Job was refused: {err}")
        except kube.Rejected as err:  # not now (quota, webhook): say why, retry
            return Created(rejected=err.describe(name))
        if not owned_by(created, owner["metadata"]["uid"]):
            return Created(
                rejected=f"Job {name} already exists and belongs to {owners(created)}, not to "
                f"this {what}; retrying with backoff until it is gone"
            )
        self.objects.put(JOBS, created)
        return Created(job=created)

    async def read_job(
        self, namespace: str, name: str, owner: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """``owner``'s Job read from the API server, when the cache has lost it; None if gone."""
        job = await self._call(kube.read_job, namespace, name)
        if job is None or not owned_by(job, owner["metadata"]["uid"]):
            return None
        self.objects.put(JOBS, job)
        return job

    async def set_job_suspend(self, job: dict[str, Any], suspend: bool) -> dict[str, Any]:
        meta = job["metadata"]
        await self._call(kube.set_job_suspend, meta["namespace"], meta["name"], suspend)
        updated = {**job, "spec": {**job["spec"], "suspend": suspend}}
        self.objects.put(JOBS, updated)
        return updated

    async def delete(self, plural: str, kind: str, obj: Mapping[str, Any]) -> None:
        """Delete ``obj`` (only the object of that uid) and drop it from the cache."""
        meta = obj["metadata"]
        await self._call(kube.delete, kind, meta["namespace"], meta["name"], meta["uid"])
        self.objects.remove(plural, meta["namespace"], meta["name"])

    async def apply(self, plural: str, manifest: Mapping[str, Any]) -> dict[str, Any]:
        """Server-side apply of ``manifest``; raises ``kube.Refused``."""
        applied = await self._call(kube.apply, manifest)
        self.objects.put(plural, applied)
        return applied
