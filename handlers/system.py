"""`help` (the registry's own table) and `health` (really asks the database)."""

import resource
import time
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import DBAPIError

from backend.auth.access import holds_metrics_token, require_operator
from backend.auth.callers import OPTIONAL
from backend.core.call import Call, Raw, Reply
from backend.core.errors import NotFound, ServiceUnavailable
from backend.core.registry import METHODS, Action, action, registry
from backend.db import db, direct
from backend.legacy.clock import now
from backend.legacy.wire import format_datetime
from backend.models import EXECUTIONS, additive
from backend.ops import openapi
from backend.ops.version import __version__
from backend.web import cutover, metrics
from schemas.base import OPENAPI_TYPES

HELP_EXAMPLES = (
    {"description": "Get API help", "url": "?act=help"},
    {"description": "Health check", "url": "?act=health"},
    {"description": "List all users", "url": "?act=users"},
    {
        "description": "Register a user (password: 8+ characters, upper, lower and a digit)",
        "method": "POST",
        "url": "?act=register",
        "body": {"email": "user@example.com", "name": "User", "password": "Password123"},
    },
    {
        "description": "Login user",
        "method": "POST",
        "url": "?act=login",
        "body": {"email": "user@example.com", "password": "Password123"},
    },
)
DEGRADED = "Health check: degraded, missing table {} (run init-db)"
STATM = Path("/proc/self/statm")
PAGE_SIZE = resource.getpagesize()
MEMORY_SECONDS = 1.0
_memory: list[Any] = [float("-inf"), (0, 0)]
LIVE_LEASES = (
    select(func.count())
    .select_from(EXECUTIONS)
    .where(EXECUTIONS.c.status == "running", EXECUTIONS.c.lease_expires_at > bindparam("now"))
)


def help_entry(method: str, act: Action, document: dict[str, Any]) -> dict[str, Any]:
    entry = {"method": method, "path": act.template, "description": act.summary}
    if act.query:
        entry["query"] = {param["name"]: param.get("description", "") for param in act.query}
    body = openapi.body_fields(document, act, method)
    if body:
        entry["body"] = body
    return {**entry, "acts": list(act.acts)}


@cache
def help_document() -> dict[str, Any]:
    entries = sorted(registry.actions(), key=lambda pair: METHODS.index(pair[0]))
    document = openapi.document(OPENAPI_TYPES)
    return {
        "api_name": "GassAPI Gateway",
        "version": __version__,
        "base_url": "/gassapi2/backend/",
        "usage": "?act=endpoint_name&id={id}",
        "endpoints": [help_entry(method, act, document) for method, act in entries],
        "examples": list(HELP_EXAMPLES),
    }


@action("/", acts=("help",), summary="API documentation")
def help_(call: Call) -> Reply:
    return Reply(cutover.help_section(help_document()), "API Documentation")


def read_memory() -> tuple[int, int]:
    """Current and peak resident memory in bytes."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    try:
        pages = int(STATM.read_text().split()[1])
    except OSError:  # no /proc (not Linux)
        return peak, peak
    return pages * PAGE_SIZE, peak


def memory() -> tuple[int, int]:
    """`read_memory()`, read at most once a second per worker: the file read and the system
    call cost more than the rest of `health` without its database round trip."""
    now = time.monotonic()
    if now - _memory[0] >= MEMORY_SECONDS:
        _memory[:] = [now, read_memory()]
    return _memory[1]


@action("/health", acts=("health",), summary="Health check")
def health(call: Call) -> Reply:
    try:
        direct.ping()
    except DBAPIError as exc:
        raise ServiceUnavailable(
            "Health check failed: database unreachable",
            {"status": "unhealthy", "database": "disconnected"},
        ) from exc
    used, peak = memory()
    missing = additive.missing_now()
    environment = current_app.config["APP_ENV"] or "unknown"  # only for the metrics scraper
    body = {
        "status": "degraded" if missing else "healthy",
        "app": "GassAPI Gateway",
        "version": __version__,
        "timestamp": format_datetime(now()),
        "environment": environment if holds_metrics_token(call) else "unknown",
        "database": "connected",
        "memory_usage": used,
        "peak_memory": peak,
    }
    if not missing:
        return Reply(body, "Health check successful")
    body["missing_tables"] = missing
    return Reply(body, DEGRADED.format(", ".join(missing)))


@action("/metrics", acts=("metrics",), auth=OPTIONAL, summary="Prometheus metrics")
def metrics_endpoint(call: Call) -> Raw:
    """Enabled by METRICS_ENABLED; guarded by METRICS_TOKEN when set, else any user token."""
    if not current_app.config["METRICS_ENABLED"]:
        raise NotFound("Metrics are disabled")
    require_operator(call)
    body, content_type = metrics.exposition(metrics.LeaseCollector(live_leases, now))
    return Raw(body, content_type)


def live_leases(at: datetime) -> int | None:
    """Executions holding a live lease now; None while their table is missing."""
    if EXECUTIONS.name in additive.missing_now():
        return None
    return db.session.execute(LIVE_LEASES, {"now": at}).scalar_one()
