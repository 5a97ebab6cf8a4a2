"""The operator's cache against a fresh list: what the list lacks goes, unless it is newer."""

from __future__ import annotations

from typing import Any

from textclf_operator import cache


def _pod(name: str, version: int, **labels: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": "n",
            "uid": f"uid-{name}",
            "resourceVersion": str(version),
            "labels": labels,
        }
    }


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
