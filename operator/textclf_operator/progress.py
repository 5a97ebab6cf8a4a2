"""The progress endpoint: training Pods POST their progress here; nothing else may.

A request carries a projected ServiceAccount token of the progress audience. The operator asks the API
server (TokenReview, for that audience) who it belongs to; nothing in the token is believed before
that. The review names the Pod the token is bound to, and that Pod must be a training Pod of a run,
with the same UID. The run is taken from the Pod, never from the body, which carries numbers only.

Load it can take: reviews are cached (a positive one for a minute, a refusal for ``NEGATIVE_TTL``
seconds, so a stream of bad tokens costs the API server one review each), at most
``SOURCE_LIMIT`` requests per ``SOURCE_WINDOW`` seconds are read from one address (429
``rate_limited``), and reports faster than one per ``min_interval`` per run get 429 ``throttled``.
The 202 goes back before the run's reconcile, which is only queued: a slow API server never holds a
trainer up.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime
import hashlib
import time
from collections.abc import Callable
from typing import Any

import pydantic
from aiohttp import web

from textclf.api import channels, trainingrun
from textclf_operator import builders, cache, metrics

MAX_BODY = 16 * 1024
REVIEW_TTL = 60.0
"""Seconds a positive TokenReview is reused for the same token (tokens live an hour or more)."""
NEGATIVE_TTL = 10.0
"""Seconds a refused token stays refused without another TokenReview."""
SOURCE_LIMIT = 100
SOURCE_WINDOW = 10.0
"""At most SOURCE_LIMIT requests per SOURCE_WINDOW seconds from one address are looked at."""
MAX_REMEMBERED = 10_000

Review = Callable[[str, str], dict[str, Any]]  # (token, audience) -> TokenReview status
OnProgress = Callable[[cache.Key], None]
"""Queues the run's reconcile and returns at once."""


@dataclasses.dataclass(frozen=True)
class Identity:
    namespace: str
    pod: str
    pod_uid: str


class Refused(Exception):
    """A request the endpoint turns away, with its HTTP status."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


def identity_of(review: dict[str, Any]) -> Identity:
    """The Pod a reviewed token is bound to; refuses tokens not bound to a Pod."""
    if not review.get("authenticated"):
        raise Refused(401, "unauthenticated", review.get("error") or "token not authenticated")
    if channels.PROGRESS_AUDIENCE not in (review.get("audiences") or []):
        raise Refused(401, "wrong_audience", "token is not for the progress audience")
    user = review.get("user") or {}
    parts = str(user.get("username", "")).split(":")
    extra = user.get("extra") or {}
    pods = extra.get("authentication.kubernetes.io/pod-name") or []
    uids = extra.get("authentication.kubernetes.io/pod-uid") or []
    if len(parts) != 4 or parts[:2] != ["system", "serviceaccount"] or not pods or not uids:
        raise Refused(403, "not_a_pod", "token is not a ServiceAccount token bound to a Pod")
    return Identity(namespace=parts[2], pod=str(pods[0]), pod_uid=str(uids[0]))


def _controller_uid(obj: dict[str, Any]) -> str | None:
    for owner in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if owner.get("controller"):
            return str(owner.get("uid"))
    return None


class Endpoint:
    """The aiohttp application behind ``channels.PROGRESS_PATH``."""

    def __init__(
        self,
        *,
        objects: cache.Cache,
        review: Review,
        on_progress: OnProgress,
        min_interval: float,
        clock: Callable[[], float] = time.monotonic,
        leading: Callable[[], bool] = lambda: True,
    ) -> None:
        self.objects = objects
        self.leading = leading
        """Whether this replica reconciles: another answers 503 and the trainer tries again."""
        self.review = review
        self.on_progress = on_progress
        self.min_interval = min_interval
        self.clock = clock
        self.latest: dict[cache.Key, trainingrun.Progress] = {}
        self._accepted_at: dict[cache.Key, float] = {}
        self._reviews: dict[str, tuple[float, Identity | Refused]] = {}
        self._reviewing = asyncio.Semaphore(4)
        self._sources: dict[str, collections.deque[float]] = {}  # address -> admitted at

    def app(self) -> web.Application:
        application = web.Application(client_max_size=MAX_BODY)
        application.router.add_post(channels.PROGRESS_PATH, self.handle)
        return application

    def _admit(self, source: str) -> None:
        """429 when ``SOURCE_LIMIT`` requests from this address were admitted in the last
        ``SOURCE_WINDOW`` seconds (a sliding window)."""
        now = self.clock()
        admitted = self._sources.get(source)
        if admitted is None:
            if len(self._sources) > MAX_REMEMBERED:
                self._sources.clear()
            admitted = self._sources[source] = collections.deque()
        while admitted and now - admitted[0] >= SOURCE_WINDOW:
            admitted.popleft()
        if len(admitted) >= SOURCE_LIMIT:
            raise Refused(
                429,
                "rate_limited",
                f"more than {SOURCE_LIMIT} requests in {SOURCE_WINDOW:g}s from {source}",
            )
        admitted.append(now)

    async def _identify(self, token: str) -> Identity:
        digest = hashlib.sha256(token.encode()).hexdigest()
        now = self.clock()
        cached = self._reviews.get(digest)
        if cached and cached[0] > now:
            if isinstance(cached[1], Refused):
                raise cached[1]
            return cached[1]
        async with self._reviewing:  # bounded: a flood of requests cannot starve the reconciler
            status = await asyncio.to_thread(self.review, token, channels.PROGRESS_AUDIENCE)
        if len(self._reviews) > MAX_REMEMBERED:
            self._reviews.clear()
        try:
            identity = identity_of(status)
        except Refused as refused:
            self._reviews[digest] = (now + NEGATIVE_TTL, refused)
            raise
        self._reviews[digest] = (now + REVIEW_TTL, identity)
        return identity

    def _run_of(self, identity: Identity) -> cache.Key:
        """The run whose training Pod the token is bound to. A label alone proves nothing (anyone
        who can create Pods can set it): the Pod must be controlled by the run's Job, and that Job
        by the run as it exists now."""
        pod = self.objects.get("pods", identity.namespace, identity.pod)
        if pod is None:
            raise Refused(403, "unknown_pod", f"pod {identity.pod} is not a training Pod")
        meta = pod.get("metadata") or {}
        if meta.get("uid") != identity.pod_uid:
            raise Refused(403, "pod_mismatch", "token is bound to another Pod of that name")
        run_name = (meta.get("labels") or {}).get(builders.RUN_LABEL)
        run = self.objects.get("trainingruns", identity.namespace, run_name) if run_name else None
        job = (
            self.objects.get("jobs", identity.namespace, builders.job_name(run_name))
            if run_name
            else None
        )
        if (
            run is None
            or job is None
            or _controller_uid(pod) != (job.get("metadata") or {}).get("uid")
            or _controller_uid(job) != (run.get("metadata") or {}).get("uid")
        ):
            raise Refused(
                403, "not_a_training_pod", f"pod {identity.pod} is not a run's training Pod"
            )
        return (identity.namespace, str(run_name))

    async def handle(self, request: web.Request) -> web.Response:
        try:
            key = await self._accept(request)
        except Refused as refused:
            metrics.PROGRESS_REQUESTS.labels(refused.reason).inc()
            headers = (
                {"Retry-After": str(max(1, round(self.min_interval)))}
                if refused.status in (429, 503)
                else None
            )
            return web.json_response(
                {"error": refused.reason, "message": str(refused)},
                status=refused.status,
                headers=headers,
            )
        metrics.PROGRESS_REQUESTS.labels("accepted").inc()
        self.on_progress(key)  # queued: the reconcile runs after this answer
        return web.json_response({"accepted": True}, status=202)

    async def _accept(self, request: web.Request) -> cache.Key:
        if not self.leading():  # its report would update a status this replica does not write
            raise Refused(503, "not_leader", "this operator replica is not the leader; retry")
        self._admit(request.remote or "unknown")
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            raise Refused(401, "no_token", "send a progress token as 'Authorization: Bearer ...'")
        identity = await self._identify(header[7:].strip())
        key = self._run_of(identity)
        now = self.clock()
        if now - self._accepted_at.get(key, float("-inf")) < self.min_interval:
            raise Refused(429, "throttled", f"at most one report per {self.min_interval}s per run")
        try:
            report = channels.ProgressReport.model_validate_json(await request.read())
        except (pydantic.ValidationError, ValueError) as err:
            raise Refused(400, "invalid_body", f"not a progress report: {err}") from err
        self._accepted_at[key] = now
        self.latest[key] = trainingrun.Progress(
            percent=report.percent,
            epoch=report.epoch,
            step=report.step,
            total_steps=report.total_steps,
            loss=report.loss,
            eta_seconds=report.eta_seconds,
            resumed_from_step=report.resumed_from_step,
            updated_at=datetime.datetime.now(datetime.UTC).replace(microsecond=0),
        )
        return key

    def forget(self, key: cache.Key) -> None:
        """Drop what is kept for a deleted run."""
        self.latest.pop(key, None)
        self._accepted_at.pop(key, None)
