"""The operator's cache: against a fresh list, what the list lacks goes unless it is newer; finding
objects by label; what a kept copy leaves out."""

from __future__ import annotations

from typing import Any

from textclf_operator import cache


def _object(
    name: str,
    version: int,
    namespace: str = "n",
    labels: dict[str, str] | None = None,
    spec: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{name}",
            "resourceVersion": str(version),
            "labels": labels or {},
            "managedFields": [{"manager": "kube-controller-manager"}],
        }
    }
    if spec is not None:
        body["spec"] = spec
    return body


def _pod(name: str, version: int, **labels: str) -> dict[str, Any]:
    return _object(name, version, labels=labels)


def _names(found: list[dict[str, Any]]) -> list[str]:
    return [o["metadata"]["name"] for o in found]


def test_selector_terms() -> None:
    labels = {"textclf.io/run": "r", "app.kubernetes.io/name": "textclf-predictor"}
    assert cache.matches(labels, "")
    assert cache.matches(labels, "textclf.io/run")
    assert cache.matches(labels, "app.kubernetes.io/name=textclf-predictor,textclf.io/run")
    assert not cache.matches(labels, "textclf.io/evaluation")
    assert not cache.matches(labels, "app.kubernetes.io/name=other")


def test_resync_drops_what_is_gone_and_keeps_what_is_newer() -> None:
    objects = cache.Cache()
    objects.put("pods", _pod("stale", 10, **{"textclf.io/run": "a"}))  # deleted, event lost
    objects.put("pods", _pod("fresh", 120, **{"textclf.io/run": "b"}))  # made after the list
    objects.put("pods", _pod("evaluator", 10, **{"textclf.io/evaluation": "e"}))  # other list
    objects.put("pods", _pod("kept", 20, **{"textclf.io/run": "c"}))
    listed = [
        _pod("kept", 30, **{"textclf.io/run": "c"}),
        _pod("new", 40, **{"textclf.io/run": "d"}),
    ]
    removed = objects.resync("pods", listed, "100", "textclf.io/run")
    assert removed == 1
    names = sorted(p["metadata"]["name"] for p in objects.all("pods"))
    assert names == ["evaluator", "fresh", "kept", "new"]
    kept = objects.get("pods", "n", "kept")
    assert kept is not None
    assert kept["metadata"]["resourceVersion"] == "30"


def test_select_finds_by_label_and_follows_relabels_and_removals() -> None:
    objects = cache.Cache()

    def pod(name: str, run: str, version: int, namespace: str = "a") -> dict[str, Any]:
        return _object(name, version, namespace, {"textclf.io/run": run, "app": "trainer"})

    objects.put(cache.PODS, pod("p1", "r1", 1))
    objects.put(cache.PODS, pod("p2", "r1", 2))
    objects.put(cache.PODS, pod("p3", "r2", 3))
    objects.put(cache.PODS, pod("p4", "r1", 4, namespace="b"))

    assert _names(objects.select(cache.PODS, "a", {"textclf.io/run": "r1"})) == ["p1", "p2"]
    assert _names(objects.select(cache.PODS, "a", {"textclf.io/run": "r1", "app": "x"})) == []
    assert _names(objects.select(cache.PODS, "b", {"textclf.io/run": "r1"})) == ["p4"]
    objects.put(cache.PODS, pod("p2", "r2", 5))  # relabelled
    assert _names(objects.select(cache.PODS, "a", {"textclf.io/run": "r1"})) == ["p1"]
    assert _names(objects.select(cache.PODS, "a", {"textclf.io/run": "r2"})) == ["p2", "p3"]
    objects.remove(cache.PODS, "a", "p1")
    assert objects.select(cache.PODS, "a", {"textclf.io/run": "r1"}) == []
    objects.resync(cache.PODS, [pod("p3", "r2", 3)], "6")  # p2 is gone from the list
    assert _names(objects.select(cache.PODS, "a", {"textclf.io/run": "r2"})) == ["p3"]
    # the copy kept leaves out what nothing reads
    held = objects.get(cache.PODS, "a", "p3")
    assert held is not None
    assert "managedFields" not in held["metadata"]


def test_kept_copies_leave_out_the_specs_no_reconcile_reads() -> None:
    objects = cache.Cache()
    container = {
        "name": "trainer",
        "image": "textclf/trainer",
        "env": [{"name": "A", "value": "1"}],
    }
    meta = {"namespace": "a", "uid": "u", "resourceVersion": "1", "labels": {"app": "x"}}
    pod = {
        "metadata": {"name": "p", **meta},
        "spec": {"containers": [container]},
        "status": {"phase": "Pending"},
    }
    job: dict[str, Any] = {
        "metadata": {"name": "j", **meta},
        "spec": {
            "suspend": True,
            "backoffLimit": 2,
            "template": {"spec": {"containers": [container]}},
        },
        "status": {"active": 1},
    }
    deployment = {"metadata": {"name": "d", **meta}, "spec": {"template": {"spec": {}}}}
    objects.put(cache.PODS, pod)
    objects.put(cache.JOBS, job)
    objects.put(cache.DEPLOYMENTS, deployment)
    held_pod = objects.get(cache.PODS, "a", "p")
    held_job = objects.get(cache.JOBS, "a", "j")
    assert held_pod == {"metadata": pod["metadata"], "status": {"phase": "Pending"}}
    assert held_job is not None
    assert held_job["spec"] == {"suspend": True, "backoffLimit": 2}
    assert held_job["status"] == {"active": 1}
    assert objects.get(cache.DEPLOYMENTS, "a", "d") == deployment  # compared with what we apply
    assert "template" in job["spec"]  # the caller's object is left as it was


def test_runs_and_evaluations_are_found_by_their_model() -> None:
    objects = cache.Cache()

    def run(name: str, model: str, version: int, namespace: str = "a") -> dict[str, Any]:
        labels = {"textclf.io/model": model}
        return _object(name, version, namespace, labels, {"modelRef": {"name": model}})

    objects.put(cache.RUNS, run("r1", "reviews", 1))
    objects.put(cache.RUNS, run("r2", "reviews", 2))
    objects.put(cache.RUNS, run("r3", "spam", 3))
    objects.put(cache.RUNS, run("r4", "reviews", 4, namespace="b"))
    objects.put(cache.EVALUATIONS, run("e1", "reviews", 5))
    assert _names(objects.indexed(cache.RUNS, "a", cache.MODEL, "reviews")) == ["r1", "r2"]
    assert _names(objects.indexed(cache.RUNS, "b", cache.MODEL, "reviews")) == ["r4"]
    assert _names(objects.indexed(cache.EVALUATIONS, "a", cache.MODEL, "reviews")) == ["e1"]
    assert objects.indexed(cache.RUNS, "a", cache.MODEL, "nosuch") == []
    assert _names(objects.select(cache.RUNS, "a", {"textclf.io/model": "reviews"})) == ["r1", "r2"]
    objects.put(cache.RUNS, run("r2", "spam", 6))  # its spec now names another model
    assert _names(objects.indexed(cache.RUNS, "a", cache.MODEL, "reviews")) == ["r1"]
    assert _names(objects.indexed(cache.RUNS, "a", cache.MODEL, "spam")) == ["r2", "r3"]
    objects.remove(cache.RUNS, "a", "r1")
    assert objects.indexed(cache.RUNS, "a", cache.MODEL, "reviews") == []
