"""Prometheus metrics: requests and latency by act, the database pool, live execution leases.

Under gunicorn every worker writes its samples into PROMETHEUS_MULTIPROC_DIR (the gunicorn
configuration makes a fresh one per start when none is given) and a scrape, whichever worker
answers it, reads them all. Every label comes from a closed set: the registered acts (anything
else is `unknown`), the HTTP methods (anything else is `other`) and the statuses the gateway
answers; the probes are labelled `livez` and `readyz`."""

import glob
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event
from sqlalchemy.pool import Pool

from backend.core.registry import Action, registry
from backend.db import pooling

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
# Per worker, summed over the live workers (`livesum`): a stopped worker's values leave with it.
POOL_CHECKED_OUT = Gauge(
    "gassapi_db_pool_checked_out_connections",
    "Database connections in use by a request, over the live workers",
    multiprocess_mode="livesum",
)
POOL_OPEN = Gauge(
    "gassapi_db_pool_open_connections",
    "Database connections open (in use or idle in the pool), over the live workers",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "gassapi_db_pool_size_connections",
    "Configured pool size (DB_POOL_SIZE) times the live workers",
    multiprocess_mode="livesum",
)
POOL_OVERFLOW = Gauge(
    "gassapi_db_pool_overflow_connections",
    "Connections open beyond the pool size (up to DB_MAX_OVERFLOW per worker), over the live "
    "workers",
    multiprocess_mode="livesum",
)

METHOD_LABELS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})
OTHER = "other"
UNKNOWN = "unknown"
PROBES = frozenset({"livez", "readyz"})  # backend.web.probes: not acts, labelled by their name
_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def act_label(act: str | None, action: Action | None) -> str:
    """The act a request was for, in any URL form: the act it named, the first act of the path
    a REST request matched, or `unknown` (an act that does not exist, a path that matches none)."""
    if action is not None:
        if act is not None and (act in action.acts or act == action.name):  # or a legacy script
            return act
        return action.acts[0] if action.acts else action.name
    return act if act is not None and (act in registry.acts or act in PROBES) else UNKNOWN


def observe(act: str, method: str, status: int, seconds: float) -> None:
    """One request. The labelled children are looked up once per label set, then kept: the
    sets are closed, and `labels()` costs more than the two increments."""
    key = (act, method, status)
    children = _children.get(key)
    if children is None:
        method_label = method if method in METHOD_LABELS else OTHER
        children = (
            REQUESTS.labels(act, method_label, str(status)),
            LATENCY.labels(act),
        )
        _children[key] = children
    children[0].inc()
    children[1].observe(seconds)


def watch_pool(engine: Engine) -> None:
    """Keep the pool gauges of this worker current from the pool's own events: a checkout and
    a checkin move one gauge each, opening or closing a connection moves two."""
    pool: Pool = engine.pool
    size = pool.size() if hasattr(pool, "size") else 0
    POOL_SIZE.set(size)
    opened = [0]

    def moved(by: int) -> None:
        opened[0] += by
        POOL_OPEN.inc(by)
        POOL_OVERFLOW.set(max(opened[0] - size, 0))

    listeners: dict[str, Callable[..., None]] = {
        "checkout": lambda *_: POOL_CHECKED_OUT.inc(),
        "checkin": lambda *_: POOL_CHECKED_OUT.dec(),
        "connect": lambda *_: moved(1),
        "close": lambda *_: moved(-1),
        "detach": lambda *_: moved(-1),
    }
    for name, listener in listeners.items():
        event.listen(pool, name, listener)
    pooling.watch_spares(engine, POOL_CHECKED_OUT.inc)  # a worker's spare is not in use


class LeaseCollector(Collector):
    """Executions holding a live lease, counted in the database at scrape time (one statement
    for the whole cluster; no worker keeps a copy)."""

    def __init__(self, count: Callable[[datetime], int | None], now: Callable[[], datetime]):
        self.count = count
        self.now = now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        live = self.count(self.now())
        if live is None:  # the table is missing on a legacy database (health says degraded)
            return
        yield GaugeMetricFamily(
            "gassapi_execution_leases",
            "Flow executions holding a live lease (status running, lease not expired)",
            value=live,
        )


class WorkerFiles(multiprocess.MultiProcessCollector):
    """prometheus_client's collector of the workers' files, minus a file that a worker starting
    up has created and not yet sized: it holds no value yet, and reading it raised (a scrape
    during a worker's start answered 500)."""

    def collect(self) -> Any:
        files = [path for path in glob.glob(os.path.join(self._path, "*.db")) if sized(path)]
        return self.merge(files, accumulate=True)


def sized(path: str) -> bool:
    try:
        return os.path.getsize(path) > 0
    except FileNotFoundError:  # a dead worker's live gauge, removed since the glob
        return False


def exposition(*collectors: Collector) -> tuple[bytes, str]:
    """Text format; with PROMETHEUS_MULTIPROC_DIR set, aggregated over every gunicorn worker.
    `collectors` are asked at scrape time, in this process only."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        aggregated = CollectorRegistry()
        WorkerFiles(aggregated)
        body = generate_latest(aggregated)
    else:
        body = generate_latest(REGISTRY)
    scraped = CollectorRegistry()
    for collector in collectors:
        scraped.register(collector)
    return body + generate_latest(scraped), CONTENT_TYPE_LATEST
