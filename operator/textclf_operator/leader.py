"""Leader election on a ``coordination.k8s.io/v1`` Lease, so the operator can run as several replicas.

Every replica watches and keeps its cache warm; only the one holding the Lease reconciles, writes and
accepts progress. The others take over when the holder stops renewing (killed) or hands the Lease
back (a rolling update's SIGTERM). As in client-go's leaderelection, expiry is judged on this
replica's own clock, from when it first saw the holder's current renewal, never by comparing
another machine's timestamp with ours; and a leader that cannot renew within the renew deadline
stops leading (the process exits) before anyone else may take over.

``claim`` is the pure decision; ``Elector`` reads and writes the Lease through ``kube``.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from textclf_operator import kube, metrics

log = logging.getLogger(__name__)


def _stamp(now: datetime.datetime) -> str:
    """A Lease's MicroTime."""
    return now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def claim(
    spec: Mapping[str, Any] | None,
    me: str,
    *,
    seen_at: float,
    now: float,
    wall: datetime.datetime,
    duration: int,
) -> dict[str, Any] | None:
    """The Lease spec to write to keep or take the Lease, or None while another replica holds it.

    ``seen_at`` is when this replica first saw the holder's current renewal and ``now`` is the same
    monotonic clock: the holder's lease is over ``duration`` seconds after that, whatever its clock
    says. A Lease handed back (no holder) is free at once."""
    current = dict(spec or {})
    holder = current.get("holderIdentity") or ""
    if holder == me:
        return {**current, "renewTime": _stamp(wall), "leaseDurationSeconds": duration}
    if holder and now < seen_at + duration:
        return None
    transitions = int(current.get("leaseTransitions") or 0)
    return {
        "holderIdentity": me,
        "leaseDurationSeconds": duration,
        "acquireTime": _stamp(wall),
        "renewTime": _stamp(wall),
        "leaseTransitions": transitions + 1 if holder else transitions,
    }


class Elector:
    """Tries to hold the Lease ``namespace/name`` as ``identity``, every ``retry`` seconds."""

    def __init__(
        self,
        *,
        namespace: str,
        name: str,
        identity: str,
        duration: int,
        on_lead: Callable[[], Awaitable[None]],
        on_lost: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.namespace, self.name, self.identity = namespace, name, identity
        self.duration = duration
        self.retry = max(0.5, duration / 7.5)
        """How often to try: a leader renews about five times per lease."""
        self.renew_deadline = duration * 2 / 3
        """A leader that has not renewed for this long stops, before the lease can be taken."""
        self.on_lead, self.on_lost, self.clock = on_lead, on_lost, clock
        self.leading = False
        self._record: tuple[str, str] | None = None
        self._seen_at = 0.0
        self._renewed = 0.0

    async def run(self) -> None:
        while True:
            try:
                await self.attempt()
            except Exception as err:  # the API server unreachable, a conflict: try again
                log.warning("leader election: %s", err)
            if self.leading and self.clock() - self._renewed > self.renew_deadline:
                self._lose(f"could not renew the Lease for {self.renew_deadline:.0f}s")
            await asyncio.sleep(self.retry)

    async def attempt(self) -> None:
        """One read and, where ``claim`` says so, one write of the Lease."""
        lease = await asyncio.to_thread(kube.read_lease, self.namespace, self.name)
        spec = (lease or {}).get("spec") or {}
        record = (str(spec.get("holderIdentity") or ""), str(spec.get("renewTime") or ""))
        now = self.clock()
        if record != self._record:
            self._record, self._seen_at = record, now
        wanted = claim(
            spec,
            self.identity,
            seen_at=self._seen_at,
            now=now,
            wall=datetime.datetime.now(datetime.UTC),
            duration=self.duration,
        )
        if wanted is None:
            if self.leading:
                self._lose(f"the Lease is held by {record[0]}")
            return
        version = (lease or {}).get("metadata", {}).get("resourceVersion")
        await asyncio.to_thread(kube.write_lease, self.namespace, self.name, wanted, version)
        self._renewed = self.clock()
        if not self.leading:
            self.leading = True
            metrics.LEADER.set(1)
            log.info(
                "leader election: %s leads (Lease %s/%s)", self.identity, self.namespace, self.name
            )
            await self.on_lead()

    def _lose(self, why: str) -> None:
        self.leading = False
        metrics.LEADER.set(0)
        self.on_lost(why)

    async def release(self) -> None:
        """Hand the Lease back on shutdown, so a successor need not wait for it to expire."""
        if not self.leading:
            return
        self.leading = False
        metrics.LEADER.set(0)
        try:
            lease = await asyncio.to_thread(kube.read_lease, self.namespace, self.name)
            spec = (lease or {}).get("spec") or {}
            if lease is None or spec.get("holderIdentity") != self.identity:
                return
            handed = {**spec, "holderIdentity": "", "leaseDurationSeconds": 1}
            version = lease["metadata"].get("resourceVersion")
            await asyncio.to_thread(kube.write_lease, self.namespace, self.name, handed, version)
            log.info("leader election: %s handed the Lease back", self.identity)
        except Exception as err:  # it expires on its own
            log.warning("leader election: could not hand the Lease back: %s", err)
