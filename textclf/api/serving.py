"""The serving contract between the operator and the predictor server, and what clients call.

The operator builds a Deployment that runs ``python -m textclf_trainer serve`` with the arguments
below, and a Service in front of it; the CLI and SDK reach it through the API server's service
proxy. Both sides import these names, so a port or a path is changed in one place.

Routes (KServe V1 and the Open Inference Protocol V2, as KServe's own servers speak them):

- ``GET /v1/models``, ``GET /v1/models/{name}``, ``POST /v1/models/{name}:predict``
- ``GET /v2``, ``GET /v2/health/live``, ``GET /v2/health/ready``, ``GET /v2/models/{name}``,
  ``GET /v2/models/{name}/ready``, ``POST /v2/models/{name}/infer``
- ``GET /metrics`` (Prometheus)
"""

from __future__ import annotations

import dataclasses
from typing import Any

CONTAINER_PORT = 8080
"""The predictor listens here in its Pod (HTTP: both protocols and /metrics)."""
SERVICE_PORT = 80
"""The predictor Service's port, named ``PORT_NAME`` (what a ServiceMonitor selects)."""
PORT_NAME = "http"
LIVE_PATH = "/v2/health/live"
"""Liveness: the process answers (loading may still go on)."""
READY_PATH = "/v2/health/ready"
"""Readiness: the model is loaded and its artifact digest verified."""
METRICS_PATH = "/metrics"

MAX_INSTANCES = 128
"""Texts in one request at most (the hosted platform's limit)."""
MAX_TEXT_BYTES = 64 * 1024
"""One text's size at most, in UTF-8 bytes; longer texts are refused, not silently cut."""
MAX_BODY_BYTES = 10 * 1024 * 1024
"""A request body's size at most; a larger one is refused before it is read whole."""

COMPONENT = "predictor"
"""``app.kubernetes.io/component`` of the predictor's Deployment, Pods and Service."""
CONTAINER = "predictor"
ARTIFACT_DIGEST_ENV = "TEXTCLF_ARTIFACT_DIGEST"
"""The digest (``sha256:…``) the server must find before it reports ready."""


@dataclasses.dataclass(frozen=True)
class Concept:
    """One scored concept of one text, as every prediction path returns it (local, served, SDK)."""

    name: str
    value: float

    @property
    def id(self) -> str:
        """The concept's id, as the hosted platform's SDK calls it (the name here)."""
        return self.name

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value}


def predictor_name(model: str) -> str:
    """The Deployment and Service of a model (model names are at most 52 characters)."""
    return f"{model}-predictor"


def v1_predict_path(model: str) -> str:
    return f"/v1/models/{model}:predict"


def v2_infer_path(model: str) -> str:
    return f"/v2/models/{model}/infer"


def serve_args(
    *,
    artifact_uri: str,
    model: str,
    version: str,
    digest: str | None,
    port: int = CONTAINER_PORT,
) -> list[str]:
    """Arguments of ``python -m textclf_trainer serve`` for one model version."""
    args = [
        "serve",
        artifact_uri,
        "--name",
        model,
        "--version",
        version,
        "--host",
        "0.0.0.0",  # in its Pod: the Service reaches the Pod's IP
        "--port",
        str(port),
    ]
    if digest:
        args += ["--digest", digest]
    return args
