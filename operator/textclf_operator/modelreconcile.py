"""One level-based reconcile of a TextClassifierModel: resolve ``spec.serving`` to a version
(``servingstatus``), apply the predictor Deployment and Service (``predictors``) only where the
cached ones differ, remove them when serving is off, and compute the model's status from its runs
and the Deployment (``modelstatus``), written through ``writer`` with an Event on each change that
a user acts on. Scheduling is the reconciler's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from textclf.api import conditions as conds
from textclf.api import serving, textclassifiermodel
from textclf_operator import kube, modelstatus, predictors, servingstatus, stored
from textclf_operator.cache import DEPLOYMENTS, MODEL, MODELS, RUNS, SERVICES, Key

if TYPE_CHECKING:
    from textclf_operator.reconciler import Reconciler

PREDICTOR_KINDS = {DEPLOYMENTS: "Deployment", SERVICES: "Service"}
"""The objects the operator makes for a served model: cache kind -> Kubernetes kind."""
SERVING_TROUBLE = (
    conds.REASON_UNAVAILABLE,
    conds.REASON_VERSION_NOT_FOUND,
    conds.REASON_PREDICTOR_REFUSED,
)
"""Serving reasons that get a Warning Event when the condition turns to them."""

Applied = dict[tuple[str, Key], tuple[str, int | None]]
"""Per predictor object: (uid, generation) our last apply left, to notice hand edits."""


async def reconcile(rec: Reconciler, namespace: str, name: str) -> None:
    model = rec.objects.get(MODELS, namespace, name)
    if model is None or (model.get("metadata") or {}).get("deletionTimestamp"):
        return  # garbage collection removes the predictor Deployment and Service
    spec = textclassifiermodel.TextClassifierModelSpec.model_validate(model.get("spec") or {})
    runs = rec.objects.indexed(RUNS, namespace, MODEL, name)
    now = rec.clock()
    choice = servingstatus.choose(
        model,
        spec.serving,
        lambda run: rec.objects.get(RUNS, namespace, run),
        modelstatus.latest_version(runs, now),
    )
    refused: str | None = None
    if choice.served is not None:
        refused = await _apply_predictor(rec, model, choice.served)
    elif not choice.enabled:
        await _remove_predictor(rec, model)
    # else: the spec names no servable version; a predictor already running is left as it is
    observed = servingstatus.Observed(
        choice=choice, deployment=_predictor(rec, DEPLOYMENTS, model), refused=refused
    )
    status = modelstatus.compute(model, runs, now, observed)
    wire = status.to_wire()
    old = stored.status(model, textclassifiermodel.TextClassifierModelStatus)
    if wire == old.to_wire():
        return
    await rec.writer.status(MODELS, textclassifiermodel.KIND, model, wire)
    for reason, message, warning in events(old, status):
        await rec.writer.event(
            model, textclassifiermodel.KIND, reason=reason, message=message, warning=warning
        )


def forget(applied: Applied, key: Key) -> None:
    """Drop what was kept of a deleted model's predictor objects (they go by garbage collection)."""
    for plural in PREDICTOR_KINDS:
        applied.pop((plural, (key[0], serving.predictor_name(key[1]))), None)


def events(
    old: textclassifiermodel.TextClassifierModelStatus,
    status: textclassifiermodel.TextClassifierModelStatus,
) -> list[tuple[str, str, bool]]:
    """The Events a status change is worth: (reason, message, warning)."""
    found = []
    was = old.latest_version.run if old.latest_version else None
    now_latest = status.latest_version.run if status.latest_version else None
    if now_latest and now_latest != was:
        found.append(
            ("VersionTrained", f"version {now_latest} is now the latest trained version", False)
        )
    served_before = old.serving.version if old.serving else None
    served = status.serving.version if status.serving else None
    if served and served != served_before:
        found.append(
            (
                "ServedVersionChanged",
                f"the predictor rolls out version {served}"
                + (f" (was {served_before})" if served_before else ""),
                False,
            )
        )
    before = conds.find(old.conditions, conds.SERVING)
    after = conds.find(status.conditions, conds.SERVING)
    if (
        after is not None
        and after.reason in SERVING_TROUBLE
        and (before is None or before.reason != after.reason)
    ):
        found.append((f"Serving{after.reason}", after.message, True))
    return found


def _predictor(rec: Reconciler, plural: str, model: Mapping[str, Any]) -> dict[str, Any] | None:
    """The model's own predictor object of ``plural`` in the cache, if any."""
    meta = model["metadata"]
    held = rec.objects.get(plural, meta["namespace"], serving.predictor_name(meta["name"]))
    if held is None or not predictors.controlled_by(held, meta["uid"]):
        return None
    return held


async def _apply_predictor(
    rec: Reconciler, model: Mapping[str, Any], served: predictors.Served
) -> str | None:
    """Make the predictor Service and Deployment what ``served`` wants, writing only what
    differs; why the API server refused them, if it did."""
    meta = model["metadata"]
    namespace, name = meta["namespace"], serving.predictor_name(meta["name"])
    wanted = {
        SERVICES: predictors.service(model),
        DEPLOYMENTS: predictors.deployment(served, rec.settings),
    }
    for plural, manifest in wanted.items():
        kind = PREDICTOR_KINDS[plural]
        held = rec.objects.get(plural, namespace, name)
        if held is not None and not predictors.controlled_by(held, meta["uid"]):
            return (
                f"a {kind} named {name} exists that this model does not control (an earlier "
                "model of the same name on its way out, or someone else's); it is left alone"
            )
        if held is not None and current(rec.applied, plural, held, manifest):
            continue
        try:
            applied = await rec.writer.apply(plural, manifest)
        except kube.Refused as refused:
            return f"the API server refused the predictor {kind}: {refused}"
        rec.applied[(plural, (namespace, name))] = (
            applied["metadata"]["uid"],
            applied["metadata"].get("generation"),
        )
    return None


def current(
    applied: Applied, plural: str, held: Mapping[str, Any], manifest: Mapping[str, Any]
) -> bool:
    """Whether ``held`` already is what ``manifest`` asks: the same hash, and no spec change by
    anyone else since our last apply (a Deployment's generation moves with its spec)."""
    if predictors.applied_hash(held) != predictors.applied_hash(manifest):
        return False
    meta = held["metadata"]
    last = applied.get((plural, (meta["namespace"], meta["name"])))
    return last is None or last == (meta["uid"], meta.get("generation"))


async def _remove_predictor(rec: Reconciler, model: Mapping[str, Any]) -> None:
    """Delete the model's predictor Deployment and Service, if it has them."""
    for plural, kind in PREDICTOR_KINDS.items():
        held = _predictor(rec, plural, model)
        if held is None:
            continue
        await rec.writer.delete(plural, kind, held)
        meta = held["metadata"]
        rec.applied.pop((plural, (meta["namespace"], meta["name"])), None)
