"""kopf handlers: thin. Each puts what its watch saw into the cache and asks for a reconcile.

Only raw watch events are used (``kopf.on.event``): no kopf bookkeeping is written into our objects'
status, and the little kopf keeps goes to annotations under our prefix. Startup wires the runtime:
the cache, the reconciler, the progress endpoint and the metrics server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from collections.abc import Mapping
from typing import Any, cast

import kopf
from aiohttp import web

from textclf.api import GROUP, VERSION
from textclf_operator import (
    builders,
    cache,
    config,
    evaljobs,
    kube,
    leader,
    metrics,
    predictors,
    progress,
    progresstls,
    reconciler,
)

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Runtime:
    """What one running operator holds; rebuilt at every startup (tests start several in a row)."""

    settings: config.Config
    objects: cache.Cache
    endpoint: progress.Endpoint
    reconciler: reconciler.Reconciler
    web_runner: web.AppRunner | None = None
    progress_port: int = 0
    metrics_port: int = 0
    tls: progresstls.Served | None = None
    elector: leader.Elector | None = None
    tasks: dict[str, asyncio.Task[None]] = dataclasses.field(default_factory=dict)
    """The resync loop (once leading) and the election loop, cancelled at cleanup."""


RUNTIME: Runtime | None = None


def runtime() -> Runtime:
    if RUNTIME is None:
        raise kopf.TemporaryError("the operator is starting", delay=1)
    return RUNTIME


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """In a Pod, its ServiceAccount; elsewhere, the kubeconfig named by $KUBECONFIG when called."""
    return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)


class NoDiffBase(kopf.DiffBaseStorage):
    """No diff base: kopf keeps one to tell what changed for its create/update handlers, and
    builds it (a deep copy of the whole object) on every watch event of every object. The
    operator has only raw event handlers and reconciles from the cache, so that copy was
    never read, at a sixth of the event loop's time at 1,000 runs."""

    def build(self, *, body: kopf.Body, extra_fields: Any = None) -> kopf.BodyEssence:
        return cast("kopf.BodyEssence", {})

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return None

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        return None


@kopf.on.startup()
async def start(settings: kopf.OperatorSettings, **_: Any) -> None:
    global RUNTIME  # noqa: PLW0603 - one runtime per operator process
    prefix = "kopf.textclf.io"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=prefix)
    settings.persistence.diffbase_storage = NoDiffBase()
    settings.persistence.finalizer = f"{prefix}/finalizer"
    settings.posting.enabled = False  # our Events come from the reconciler, one per transition
    settings.watching.server_timeout = 300
    # kopf logs "Handler ... succeeded" at INFO for every watch event of every object: thousands a
    # minute on a busy cluster, and a tenth of the operator's CPU at 1,000 runs. Its warnings and
    # errors stay; what the operator does is logged by its own modules.
    logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    for group, version, plural in OWN_KINDS:  # ours only, filtered by the API server
        settings.watching.label_selectors[group, version, plural] = builders.MANAGED_SELECTOR
    own = config.Config.from_env()
    tls = await _progress_tls(own)
    if tls is not None:
        own = dataclasses.replace(own, progress_ca=tls.material.ca)
    objects = cache.Cache()
    holder: dict[str, reconciler.Reconciler] = {}

    def on_progress(key: cache.Key) -> None:
        holder["r"].run(*key)

    elector: leader.Elector | None = None
    endpoint = progress.Endpoint(
        objects=objects,
        review=kube.review_token,
        on_progress=on_progress,
        min_interval=own.progress_min_interval,
        leading=lambda: elector is None or elector.leading,
    )
    rec = reconciler.Reconciler(settings=own, objects=objects, latest_progress=endpoint.latest.get)
    holder["r"] = rec
    await _relist(objects)
    loop = asyncio.get_running_loop()
    tasks: dict[str, asyncio.Task[None]] = {}

    async def lead() -> None:
        """Reconcile from here on: what queued while following, then everything once more."""
        rec.start()
        tasks["resync"] = loop.create_task(_resync_forever(objects, rec, own, tls))
        if elector is not None:
            await _resync(objects, rec)

    if own.leader_election:
        elector = leader.Elector(
            namespace=own.namespace,
            name=own.leader_lease,
            identity=own.identity,
            duration=own.leader_lease_seconds,
            on_lead=lead,
            on_lost=_lost,
        )
        tasks["election"] = loop.create_task(elector.run())
        log.info("leader election: %s follows until it holds the Lease", own.identity)
    else:
        metrics.LEADER.set(1)
        await lead()
    runner = web.AppRunner(endpoint.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(
        runner,
        "0.0.0.0",
        own.progress_port,
        ssl_context=tls.context if tls is not None else None,
    )
    await site.start()
    port = own.progress_port
    server = getattr(site, "_server", None)
    if server is not None and server.sockets:
        port = int(server.sockets[0].getsockname()[1])
    metrics_port = metrics.serve(own.metrics_port)
    RUNTIME = Runtime(own, objects, endpoint, rec, runner, port, metrics_port, tls, elector, tasks)
    log.info(
        "textclf operator started: progress endpoint on :%d (%s)",
        port,
        "HTTPS" if tls is not None else "plain HTTP",
    )


def _lost(why: str) -> None:
    """Stop at once, as client-go's controllers do: another replica may be leading already, and a
    restart comes back as a follower with a fresh cache."""
    log.error("leader election: leadership lost (%s); exiting", why)
    os._exit(1)


def _tls_material(own: config.Config) -> progresstls.Material:
    return progresstls.obtain(
        namespace=own.namespace,
        name=own.progress_tls_secret,
        names=progresstls.dns_names(own.progress_url),
        generate_missing=own.progress_tls_generate,
        read=kube.read_secret,
        create=kube.create_secret,
    )


async def _progress_tls(own: config.Config) -> progresstls.Served | None:
    """The endpoint's TLS, from its Secret (made first if the install allows); None without one.
    Until cert-manager or the installer provides the Secret, startup waits and retries."""
    if not own.progress_tls_secret:
        log.warning("no TEXTCLF_PROGRESS_TLS_SECRET: the progress endpoint speaks plain HTTP")
        return None
    try:
        return progresstls.Served.of(await asyncio.to_thread(_tls_material, own))
    except progresstls.Unusable as err:
        raise kopf.TemporaryError(f"progress TLS: {err}", delay=5) from err


OWN_KINDS = (
    ("batch", "v1", "jobs"),
    ("", "v1", "pods"),
    ("apps", "v1", "deployments"),
    ("", "v1", "services"),
)
"""Built-in kinds the operator watches only for the objects it made (``builders.MANAGED_BY``)."""

WATCHED: tuple[tuple[str, str], ...] = (
    (cache.TEMPLATES, ""),
    (cache.MODELS, ""),
    (cache.RUNS, ""),
    (cache.EVALUATIONS, ""),
    *((plural, builders.MANAGED_SELECTOR) for _group, _version, plural in OWN_KINDS),
)
"""What the watches follow, as (kind, the label selector the API server applies)."""


async def _relist(objects: cache.Cache) -> int:
    """List every watched kind and bring the cache in line with it; the number of objects dropped
    as gone. At startup this runs before kopf starts any watch (it starts them after the startup
    handlers), so no reconcile sees a partial world: a model before its runs, a failed Job before
    its Pods."""
    removed = 0
    for kind, selector in WATCHED:
        listed, version = await asyncio.to_thread(kube.list_objects, kind, selector)
        removed += objects.resync(kind, listed, version, selector)
    return removed


async def _resync(objects: cache.Cache, rec: reconciler.Reconciler) -> None:
    """Re-list, drop what is gone, and reconcile everything once: a deletion whose event was lost
    (a watch re-listed after 410 Gone) is noticed, and a reconcile that depends on time (a Job's
    TTL, a Pod that never showed) runs again."""
    removed = await _relist(objects)
    for template in objects.all(cache.TEMPLATES):
        rec.template(template["metadata"]["name"])
    for kind, ask in (
        (cache.MODELS, rec.model),
        (cache.RUNS, rec.run),
        (cache.EVALUATIONS, rec.evaluation),
    ):
        for obj in objects.all(kind):
            ask(obj["metadata"]["namespace"], obj["metadata"]["name"])
    log.info("resync: %d gone object(s) dropped from the cache", removed)


async def _refresh_tls(
    own: config.Config, tls: progresstls.Served, rec: reconciler.Reconciler
) -> None:
    """Serve a renewed certificate (cert-manager's, or a remade Secret) without a restart; new
    Jobs get the CA that signs it."""
    if tls.refresh(await asyncio.to_thread(_tls_material, own)):
        rec.settings = dataclasses.replace(rec.settings, progress_ca=tls.material.ca)
        log.info("progress TLS: serving the certificate now in Secret %s", own.progress_tls_secret)


async def _resync_forever(
    objects: cache.Cache,
    rec: reconciler.Reconciler,
    own: config.Config,
    tls: progresstls.Served | None,
) -> None:
    while True:
        await asyncio.sleep(own.resync_seconds)
        try:
            await _resync(objects, rec)
            if tls is not None:
                await _refresh_tls(own, tls, rec)
        except Exception as err:  # the next period tries again
            log.warning("resync failed: %s", err)


@kopf.on.cleanup()
async def stop(**_: Any) -> None:
    global RUNTIME  # noqa: PLW0603
    if RUNTIME is not None:
        for task in RUNTIME.tasks.values():
            task.cancel()
        await RUNTIME.reconciler.stop()
        if RUNTIME.elector is not None:
            await RUNTIME.elector.release()  # the successor need not wait for it to expire
    if RUNTIME is not None and RUNTIME.web_runner is not None:
        await RUNTIME.web_runner.cleanup()
    RUNTIME = None


def _seen(kind: str, event: kopf.RawEvent) -> tuple[str, str, bool]:
    """Record a watch event in the cache; (namespace, name, deleted)."""
    body = event["object"]
    meta = body["metadata"]
    objects = runtime().objects
    deleted = event.get("type") == "DELETED"
    if deleted:
        objects.remove(kind, meta.get("namespace") or "", meta["name"])
    else:
        objects.put(kind, body)
    return meta.get("namespace") or "", meta["name"], deleted


@kopf.on.event(GROUP, VERSION, "trainingruns")
async def run_event(event: kopf.RawEvent, **_: Any) -> None:
    namespace, name, deleted = _seen(cache.RUNS, event)
    state = runtime()
    if deleted:
        state.endpoint.forget((namespace, name))
        state.reconciler.forget(cache.RUNS, (namespace, name))
        model = (event["object"].get("spec") or {}).get("modelRef", {}).get("name")
        if model:
            state.reconciler.model(namespace, model)
        return
    state.reconciler.run(namespace, name)


@kopf.on.event("batch", "v1", "jobs", labels={builders.RUN_LABEL: kopf.PRESENT})
async def job_event(event: kopf.RawEvent, **_: Any) -> None:
    namespace, _name, _deleted = _seen(cache.JOBS, event)
    run = event["object"]["metadata"]["labels"][builders.RUN_LABEL]
    runtime().reconciler.run(namespace, run)


@kopf.on.event("", "v1", "pods", labels={builders.RUN_LABEL: kopf.PRESENT})
async def pod_event(event: kopf.RawEvent, **_: Any) -> None:
    namespace, _name, _deleted = _seen(cache.PODS, event)
    run = event["object"]["metadata"]["labels"][builders.RUN_LABEL]
    runtime().reconciler.run(namespace, run)


@kopf.on.event(GROUP, VERSION, "modelevaluations")
async def evaluation_event(event: kopf.RawEvent, **_: Any) -> None:
    namespace, name, deleted = _seen(cache.EVALUATIONS, event)
    state = runtime()
    if deleted:
        state.reconciler.forget(cache.EVALUATIONS, (namespace, name))
        return
    state.reconciler.evaluation(namespace, name)


@kopf.on.event("batch", "v1", "jobs", labels={evaljobs.EVALUATION_LABEL: kopf.PRESENT})
async def evaluation_job_event(event: kopf.RawEvent, **_: Any) -> None:
    namespace, _name, _deleted = _seen(cache.JOBS, event)
    evaluation = event["object"]["metadata"]["labels"][evaljobs.EVALUATION_LABEL]
    runtime().reconciler.evaluation(namespace, evaluation)


@kopf.on.event("", "v1", "pods", labels={evaljobs.EVALUATION_LABEL: kopf.PRESENT})
async def evaluation_pod_event(event: kopf.RawEvent, **_: Any) -> None:
    namespace, _name, _deleted = _seen(cache.PODS, event)
    evaluation = event["object"]["metadata"]["labels"][evaljobs.EVALUATION_LABEL]
    runtime().reconciler.evaluation(namespace, evaluation)


PREDICTOR_LABELS: Mapping[str, Any] = {
    "app.kubernetes.io/name": predictors.NAME,
    builders.MODEL_LABEL: kopf.PRESENT,
}
"""What marks the predictor Deployments and Services the operator made (see ``predictors``)."""


async def _predictor_seen(kind: str, event: kopf.RawEvent) -> None:
    namespace, _name, _deleted = _seen(kind, event)
    model = event["object"]["metadata"]["labels"][builders.MODEL_LABEL]
    runtime().reconciler.model(namespace, model)


@kopf.on.event("apps", "v1", "deployments", labels=PREDICTOR_LABELS)
async def deployment_event(event: kopf.RawEvent, **_: Any) -> None:
    """A predictor Deployment changed (its rollout, its replicas): the model's status follows."""
    await _predictor_seen(cache.DEPLOYMENTS, event)


@kopf.on.event("", "v1", "services", labels=PREDICTOR_LABELS)
async def service_event(event: kopf.RawEvent, **_: Any) -> None:
    """A predictor Service changed or went away: the model's reconcile puts it back if needed."""
    await _predictor_seen(cache.SERVICES, event)


@kopf.on.event(GROUP, VERSION, "textclassifiermodels")
async def model_event(event: kopf.RawEvent, **_: Any) -> None:
    namespace, name, deleted = _seen(cache.MODELS, event)
    state = runtime()
    if deleted:
        state.reconciler.forget(cache.MODELS, (namespace, name))
    else:
        state.reconciler.model(namespace, name)
    for key in state.reconciler.runs_waiting(namespace, name):  # its runs only
        state.reconciler.run(*key)
    state.reconciler.evaluations_waiting(namespace, name)


@kopf.on.event(GROUP, VERSION, "trainingtemplates")
async def template_event(event: kopf.RawEvent, **_: Any) -> None:
    _namespace, name, deleted = _seen(cache.TEMPLATES, event)
    state = runtime()
    if deleted:
        state.reconciler.forget(cache.TEMPLATES, ("", name))
    else:
        state.reconciler.template(name)
    for key in state.reconciler.runs_waiting():
        state.reconciler.run(*key)
    for namespace in {e["metadata"]["namespace"] for e in state.objects.all(cache.EVALUATIONS)}:
        state.reconciler.evaluations_waiting(namespace)
