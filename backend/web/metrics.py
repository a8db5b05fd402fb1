"""Prometheus metrics: per-act request counts and latency (multi-process aware under gunicorn)."""

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "gassapi_requests_total",
    "Requests handled, by act, method and status",
    ["act", "method", "status"],
)
LATENCY = Histogram(
    "gassapi_request_duration_seconds",
    "Request latency by act",
    ["act"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


# Labels come from closed sets: a client-chosen method string must not grow memory without bound.
METHOD_LABELS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})
OTHER = "other"


def observe(act: str | None, method: str, status: int, seconds: float) -> None:
    label = act or "-"
    method_label = method if method in METHOD_LABELS else OTHER
    REQUESTS.labels(label, method_label, str(status)).inc()
    LATENCY.labels(label).observe(seconds)


def exposition() -> tuple[bytes, str]:
    """Text format; with PROMETHEUS_MULTIPROC_DIR set, aggregated over every gunicorn worker."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
