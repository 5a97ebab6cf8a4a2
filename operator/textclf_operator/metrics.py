"""The operator's Prometheus metrics, served on ``/metrics`` (port ``TEXTCLF_METRICS_PORT``).

Labels stay low-cardinality: a status code, a result, a kind; never a run's or namespace's name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import prometheus_client
from prometheus_client.core import GaugeMetricFamily

from textclf.api import codes

REGISTRY = prometheus_client.CollectorRegistry(auto_describe=True)


class _RunsByCode(prometheus_client.registry.Collector):
    """``textclf_trainingruns``: the runs in the cache by status code, counted when scraped, so a
    status write costs nothing however many runs there are."""

    def __init__(self) -> None:
        self.source: Callable[[], Iterable[str | None]] = list

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = dict.fromkeys(codes.StatusCode, 0)
        for code in self.source():
            if code in counts:
                counts[codes.StatusCode(code)] += 1
        family = GaugeMetricFamily(
            "textclf_trainingruns",
            "TrainingRuns the operator watches, by status code.",
            labels=["code"],
        )
        for code, count in counts.items():
            family.add_metric([code], count)
        yield family


_RUNS = _RunsByCode()
REGISTRY.register(_RUNS)


def count_runs(source: Callable[[], Iterable[str | None]]) -> None:
    """Where ``textclf_trainingruns`` reads the runs' codes from (the running operator's cache)."""
    _RUNS.source = source


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
LEADER = prometheus_client.Gauge(
    "textclf_leader",
    "1 while this replica holds the leader-election Lease (or runs without election), else 0.",
    registry=REGISTRY,
)
API_REQUESTS = prometheus_client.Counter(
    "textclf_api_requests",
    "Requests the operator sent to the API server, its watches aside, by call.",
    ["call"],
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
