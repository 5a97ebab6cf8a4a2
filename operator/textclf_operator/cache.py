"""The objects the operator's watches have seen, by kind, namespace and name: a small informer cache.

Handlers put every watch event here before they reconcile, so a reconcile reads memory instead of
asking the API server (one list+watch per kind, not one GET per object per change). At startup, and
every few minutes, it is brought in line with one list per kind (``resync``), so the first
reconciles see the whole world and a deletion whose event was lost does not linger. The cache may lag a moment behind the API server; reconciles are level-based and the
next event corrects them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

Key = tuple[str, str]  # (namespace, name); namespace is "" for cluster-scoped kinds

RUNS, JOBS, PODS, MODELS, TEMPLATES, DEPLOYMENTS, SERVICES, EVALUATIONS = (
    "trainingruns",
    "jobs",
    "pods",
    "textclassifiermodels",
    "trainingtemplates",
    "deployments",
    "services",
    "modelevaluations",
)
"""The kinds the cache holds, by their plural."""


def _newer(held: Mapping[str, Any], incoming: Mapping[str, Any]) -> bool:
    """Whether ``held`` is a later version of the same object than ``incoming``.

    resourceVersions are opaque, but etcd-backed API servers issue increasing integers; where both
    are integers and the UIDs match, the larger is newer. Anything else: take the incoming one."""
    old, new = held.get("metadata") or {}, incoming.get("metadata") or {}
    if old.get("uid") != new.get("uid"):
        return False
    try:
        return int(old.get("resourceVersion", "")) > int(new.get("resourceVersion", ""))
    except ValueError:
        return False


def _key(body: Mapping[str, Any]) -> Key:
    meta = body.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta["name"]))


def _later_than(held: Mapping[str, Any], version: str) -> bool:
    """Whether ``held`` was written after a list at ``version`` (integers on etcd; else: no)."""
    try:
        return int((held.get("metadata") or {}).get("resourceVersion", "")) > int(version)
    except ValueError:
        return False


def matches(labels: Mapping[str, str], selector: str) -> bool:
    """Whether ``labels`` satisfy a label selector of ``key`` and ``key=value`` terms joined by
    commas (the forms the operator's watches use); the empty selector matches everything."""
    for term in filter(None, selector.split(",")):
        key, sep, value = term.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    return True


def _kept(kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """A private copy of ``body`` without what no reconcile reads, which on Jobs and Pods is most
    of the object (memory, and the copy's time): ``metadata.managedFields``; a Pod's spec (its
    metadata and status are read); a Job's Pod template (its status and ``suspend`` are).
    Deployments and Services stay whole: the predictor's reconcile compares them with what it
    would apply."""
    meta = {k: v for k, v in (body.get("metadata") or {}).items() if k != "managedFields"}
    kept = {**body, "metadata": meta}
    if kind == PODS:
        kept.pop("spec", None)
    elif kind == JOBS and isinstance(kept.get("spec"), Mapping):
        kept["spec"] = {k: v for k, v in kept["spec"].items() if k != "template"}
    return copy.deepcopy(kept)


def _labels(body: Mapping[str, Any]) -> Mapping[str, str]:
    return (body.get("metadata") or {}).get("labels") or {}


def _model_ref(body: Mapping[str, Any]) -> str | None:
    name = ((body.get("spec") or {}).get("modelRef") or {}).get("name")
    return str(name) if name else None


MODEL = "model"
"""The index of runs and evaluations by the model they name (``spec.modelRef.name``)."""
INDEXES: dict[str, dict[str, Callable[[Mapping[str, Any]], str | None]]] = {
    RUNS: {MODEL: _model_ref},
    EVALUATIONS: {MODEL: _model_ref},
}
"""Per kind, indexes beside the labels (as client-go's informer indexers): name -> the value an
object is found under, or None. A model's reconcile reads its own runs, not its namespace's."""
_FIELD = "index:"  # ':' is in no label key, so an index never answers a label query


def _terms(kind: str, body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What ``body`` is indexed under: its labels, then its ``INDEXES`` values."""
    terms = list(_labels(body).items())
    for name, value_of in INDEXES.get(kind, {}).items():
        value = value_of(body)
        if value is not None:
            terms.append((_FIELD + name, value))
    return terms


class Cache:
    """Latest seen body of each object of each kind, indexed by label (and by ``INDEXES``) so
    that finding a run's Pods, or a model's runs, costs the same with ten in the cluster or ten
    thousand."""

    def __init__(self) -> None:
        self._objects: dict[str, dict[Key, dict[str, Any]]] = {}
        self._by_label: dict[str, dict[tuple[str, str, str], set[Key]]] = {}
        """Per kind: (namespace, label key or index, value) -> the objects that carry it."""

    def put(self, kind: str, body: Mapping[str, Any]) -> None:
        """Keep ``body`` unless the cache already holds a newer version of the same object (a watch
        event can arrive after the response to our own, later write)."""
        key = _key(body)
        objects = self._objects.setdefault(kind, {})
        held = objects.get(key)
        if held is not None and _newer(held, body):
            return
        if held is not None:
            self._unindex(kind, key, held)
        kept = objects[key] = _kept(kind, body)
        index = self._by_label.setdefault(kind, {})
        for term in _terms(kind, kept):
            index.setdefault((key[0], *term), set()).add(key)

    def _unindex(self, kind: str, key: Key, body: Mapping[str, Any]) -> None:
        index = self._by_label.get(kind, {})
        for term in _terms(kind, body):
            holders = index.get((key[0], *term))
            if holders is not None:
                holders.discard(key)
                if not holders:
                    del index[(key[0], *term)]

    def resync(
        self, kind: str, listed: list[dict[str, Any]], version: str, selector: str = ""
    ) -> int:
        """Bring ``kind`` in line with a fresh list taken at resourceVersion ``version`` of the
        objects ``selector`` selects: listed objects are kept (unless a newer one is held), and
        held ones the list lacks are removed (a deletion whose watch event was lost, e.g. across
        a re-list after 410 Gone), unless they are newer than the list. The number removed."""
        for body in listed:
            self.put(kind, body)
        present = {_key(body) for body in listed}
        objects = self._objects.get(kind, {})
        gone = [
            key
            for key, held in objects.items()
            if key not in present
            and matches(((held.get("metadata") or {}).get("labels") or {}), selector)
            and not _later_than(held, version)
        ]
        for key in gone:
            self.remove(kind, *key)
        return len(gone)

    def remove(self, kind: str, namespace: str, name: str) -> None:
        held = self._objects.get(kind, {}).pop((namespace, name), None)
        if held is not None:
            self._unindex(kind, (namespace, name), held)

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self._objects.get(kind, {}).get((namespace, name))

    def all(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        objects = self._objects.get(kind, {})
        return [o for (ns, _), o in objects.items() if namespace is None or ns == namespace]

    def select(self, kind: str, namespace: str, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        """Objects of ``kind`` in ``namespace`` whose labels include ``labels`` (at least one)."""
        index = self._by_label.get(kind, {})
        objects = self._objects.get(kind, {})
        candidates = set.intersection(
            *(index.get((namespace, k, v), set()) for k, v in labels.items())
        )
        return [objects[key] for key in sorted(candidates)]

    def indexed(self, kind: str, namespace: str, index: str, value: str) -> list[dict[str, Any]]:
        """Objects of ``kind`` in ``namespace`` that ``INDEXES[kind][index]`` files under
        ``value`` (e.g. the runs of one model)."""
        objects = self._objects.get(kind, {})
        keys = self._by_label.get(kind, {}).get((namespace, _FIELD + index, value), set())
        return [objects[key] for key in sorted(keys)]

    def count(self, kind: str) -> int:
        return len(self._objects.get(kind, {}))
