"""The predictor server's Prometheus metrics, in a registry of their own (``GET /metrics``).

A registry per server, not the process-wide default, so a test or a notebook can run several servers
in one process. Route labels are route templates (``/v1/models/{name}:predict``), never raw paths, so
their number stays bounded whatever clients send.
"""

from __future__ import annotations

import prometheus_client

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Metrics:
    """What one server exports."""

    def __init__(self) -> None:
        self.registry = prometheus_client.CollectorRegistry()
        self.requests = prometheus_client.Counter(
            "textclf_predictor_requests",
            "HTTP requests by route template and status code.",
            ["route", "code"],
            registry=self.registry,
        )
        self.latency = prometheus_client.Histogram(
            "textclf_predictor_request_duration_seconds",
            "Time from a request's arrival to its response, by route template.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.texts = prometheus_client.Counter(
            "textclf_predictor_texts",
            "Texts classified.",
            registry=self.registry,
        )
        self.batch_size = prometheus_client.Histogram(
            "textclf_predictor_batch_size",
            "Texts per forward pass (across the requests batched together).",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.inference = prometheus_client.Histogram(
            "textclf_predictor_inference_duration_seconds",
            "Time of one forward pass, tokenisation included.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = prometheus_client.Gauge(
            "textclf_predictor_queue_depth",
            "Texts waiting for a forward pass.",
            registry=self.registry,
        )
        self.ready = prometheus_client.Gauge(
            "textclf_predictor_ready",
            "1 when the model is loaded and its artifact digest verified.",
            registry=self.registry,
        )

    def batch(self, texts: int, seconds: float) -> None:
        self.batch_size.observe(texts)
        self.inference.observe(seconds)
        self.texts.inc(texts)

    def exposition(self) -> bytes:
        data: bytes = prometheus_client.generate_latest(self.registry)
        return data
