"""kubectl against the node: the few moves every end-to-end test makes."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import cluster


def get(node: cluster.Cluster, *args: str) -> Any:
    """``kubectl get … -o json``, parsed; None when the object does not exist."""
    done = node.kubectl("get", *args, "-o", "json")
    if done.returncode != 0:
        # a busy API server on 2 cores may time out once: polls try again rather than fail
        transient = ("NotFound", "Unable to connect", "timeout", "TLS handshake", "refused")
        assert any(word in done.stderr for word in transient), f"kubectl get {args}: {done.stderr}"
        return None
    return json.loads(done.stdout)


def ok(node: cluster.Cluster, *args: str, stdin: str | None = None) -> str:
    done = node.kubectl(*args, stdin=stdin)
    assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
    return done.stdout


REPO = pathlib.Path(__file__).resolve().parents[2]
