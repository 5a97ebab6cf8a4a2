"""kubectl against the node, and waiting: the few moves every end-to-end test makes."""

from __future__ import annotations

import json
import pathlib
import time
from collections.abc import Callable
from typing import Any

import cluster


def get(node: cluster.Cluster, *args: str) -> Any:
    """``kubectl get … -o json``, parsed; None when the object does not exist."""
    done = node.kubectl("get", *args, "-o", "json")
    if done.returncode != 0:
        assert "NotFound" in done.stderr, done.stderr
        return None
    return json.loads(done.stdout)


def ok(node: cluster.Cluster, *args: str, stdin: str | None = None) -> str:
    done = node.kubectl(*args, stdin=stdin)
    assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
    return done.stdout


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1.0)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


REPO = pathlib.Path(__file__).resolve().parents[2]
