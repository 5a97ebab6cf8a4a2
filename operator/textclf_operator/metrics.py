"""The operator's Prometheus metrics, served on ``/metrics`` (port ``TEXTCLF_METRICS_PORT``).

Labels stay low-cardinality: a status code, a result, a kind; never a run's or namespace's name.
"""

from __future__ import annotations

import prometheus_client

REGISTRY = prometheus_client.CollectorRegistry(auto_describe=True)

RUNS = prometheus_client.Gauge(
    "textclf_trainingruns",
    "TrainingRuns the operator watches, by status code.",
    ["code"],
    registry=REGISTRY,
)
TRANSITIONS = prometheus_client.Counter(
    "textclf_trainingrun_transitions",
    "Status code changes of TrainingRuns, by the code entered.",
    ["code"],
    registry=REGISTRY,
)
DURATION = prometheus_client.Histogram(
    "textclf_trainingrun_duration_seconds",
    "From training start to completion, by outcome.",
    ["code"],
    buckets=(60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400),
    registry=REGISTRY,
)
QUEUE_WAIT = prometheus_client.Histogram(
    "textclf_trainingrun_queue_wait_seconds",
    "From a run's creation to its training Pod running.",
    buckets=(1, 5, 15, 30, 60, 300, 900, 3600, 14400),
    registry=REGISTRY,
)
RECONCILE_ERRORS = prometheus_client.Counter(
    "textclf_reconcile_errors",
    "Reconciles that failed and will be retried, by kind.",
    ["kind"],
    registry=REGISTRY,
)
STATUS_WRITES = prometheus_client.Counter(
    "textclf_status_writes",
    "Status patches sent to the API server, by kind.",
    ["kind"],
    registry=REGISTRY,
)
PROGRESS_REQUESTS = prometheus_client.Counter(
    "textclf_progress_requests",
    "Requests to the progress endpoint, by result.",
    ["result"],
    registry=REGISTRY,
)


def serve(port: int) -> int:
    """Serve ``/metrics`` on ``port`` (0: any free port) in a background thread; the port."""
    server, _thread = prometheus_client.start_http_server(port, registry=REGISTRY)
    return int(server.server_port)
