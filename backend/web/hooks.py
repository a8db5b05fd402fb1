"""What wraps every response: status line, legacy headers, CORS preflight, request id, log."""

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus

from flask import Flask, Request, g, request
from flask import Response as FlaskResponse
from werkzeug.datastructures import Headers

from backend.core import envelope
from backend.core.registry import Action
from backend.web import logs, metrics

PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, PATCH, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization, X-HTTP-Method-Override",
    "Access-Control-Max-Age": "86400",
}
RESPONSE_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization, X-CSRF-Token, X-XSRF-Token",
    "Access-Control-Max-Age": "86400",
    "Access-Control-Expose-Headers": "X-Request-ID",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": "1; mode=block",
    "Content-Security-Policy": "default-src 'self'",
    "Server": "GASS-API",
}
DEFAULT_HEADERS = tuple((name, value, name.lower()) for name, value in RESPONSE_HEADERS.items())
# A response that brings its own CORS (a legacy script) keeps it as it is.
NON_CORS_HEADERS = tuple(h for h in DEFAULT_HEADERS if not h[2].startswith("access-control-"))
DEFAULT_PAIRS = list(Headers([(name, value) for name, value, _ in DEFAULT_HEADERS]).items())
ENVELOPE_HEADERS = frozenset({"Content-Type", "Content-Length"})
GATEWAY = "gateway"  # the endpoint of the act router; other endpoints answer their own OPTIONS
HSTS = "max-age=31536000; includeSubDomains"
# Python 3.13 renamed these after RFC 9110; the wire keeps the names nginx and PHP sent.
CLASSIC_PHRASES = {
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    416: "Requested Range Not Satisfiable",
    422: "Unprocessable Entity",
}
# `404 Not Found`, not Werkzeug's upper-cased `404 NOT FOUND`: clients show the reason phrase.
# Werkzeug upper-cases the phrase, so only phrases with a lower-case letter are rewritten.
PHRASES = {status.value: CLASSIC_PHRASES.get(status.value, status.phrase) for status in HTTPStatus}
STATUS_LINES = {
    code: f"{code} {phrase}" for code, phrase in PHRASES.items() if phrase != phrase.upper()
}
LOGGED_CHARS = 512  # of the client's own strings (path, user agent) in an access line


@dataclass
class RequestInfo:
    """The facts of one request that its access-log line and metrics report, filled in as the
    view learns them (the only request state kept in `flask.g`)."""

    request_id: str
    started: float
    preflight: bool = False
    act: str | None = None
    path_form: str | None = None
    action: Action | None = None
    args: Mapping[str, str] = field(default_factory=dict)
    user_id: str | None = None


def current_request() -> Request:
    """The request itself, not the context-local proxy: every attribute read through `request`
    looks the context up again (Flask's notes on proxies)."""
    return request._get_current_object()  # type: ignore[attr-defined]


def request_info() -> RequestInfo:
    return g.info


def request_id() -> str:
    """The request's id; a fresh one for an error raised before `start_request` ran."""
    info = g.get("info")
    return info.request_id if info is not None else envelope.new_request_id()


def start_request() -> FlaskResponse | None:
    started = time.perf_counter()
    req = current_request()
    request_id = envelope.accept_request_id(req.headers.get("X-Request-ID"))
    info = g.info = RequestInfo(request_id, started)
    if req.method == "OPTIONS" and req.endpoint == GATEWAY:
        info.preflight = True
        return FlaskResponse(b"", 200, headers=PREFLIGHT_HEADERS, content_type=envelope.JSON_TYPE)
    return None


def is_https(req: Request) -> bool:
    return req.is_secure or req.headers.get("X-Forwarded-Proto", "").lower() == "https"


def finish_request(response: FlaskResponse) -> FlaskResponse:
    line = STATUS_LINES.get(response.status_code)
    if line is not None:
        response.status = line
    req = current_request()
    info = g.get("info")
    if info is None or not info.preflight:
        add_default_headers(response)
        if is_https(req):
            response.headers["Strict-Transport-Security"] = HSTS
    response.headers["X-Request-ID"] = info.request_id if info is not None else ""
    log_access(req, info or RequestInfo("", 0.0), response)
    return response


def add_default_headers(response: FlaskResponse) -> None:
    """The legacy headers, each unless the response brings its own. An envelope carries only
    Content-Type and Content-Length, so it takes the whole list in one step: the values are
    constants, checked once by `Headers` at import, not again per header and per request
    (`Headers.extend` validates each value; Werkzeug keeps the pairs in `_list`)."""
    headers = response.headers
    if all(name in ENVELOPE_HEADERS for name, _ in headers):
        headers._list.extend(DEFAULT_PAIRS)
        return
    # `setdefault` per header scans the list and raises a KeyError for each missing name.
    present = {name.lower() for name, _ in headers.items()}
    defaults = NON_CORS_HEADERS if "access-control-allow-origin" in present else DEFAULT_HEADERS
    headers.extend([(name, value) for name, value, key in defaults if key not in present])


def log_access(req: Request, info: RequestInfo, response: FlaskResponse) -> None:
    now = time.time()
    elapsed = time.perf_counter() - info.started if info.started else 0.0
    status = response.status_code
    act = metrics.act_label(info.act, info.action)
    environ = req.environ
    method = environ["REQUEST_METHOD"]
    metrics.observe(act, method, status, elapsed)
    level = logging.ERROR if status >= 500 else logging.INFO
    if not logs.access.isEnabledFor(level):
        return
    action = info.action
    line = {
        "time": logs.utc_time(now),
        "level": logs.level_name(level),
        "logger": logs.ACCESS_LOGGER,
        "request_id": info.request_id or None,
        "act": act,
        "method": method,
        "path": req.path[:LOGGED_CHARS],
        "path_form": info.path_form,
        "status": status,
        "bytes": 0 if method == "HEAD" else response.content_length,
        "duration_ms": round(elapsed * 1000, 2),
        "client": environ.get("REMOTE_ADDR"),
        "user_agent": (environ.get("HTTP_USER_AGENT") or "")[:LOGGED_CHARS] or None,
        "user_id": info.user_id,
        "flow_id": info.args.get("id") if action and action.path.startswith("/flow/") else None,
    }
    logs.write_access(level, line)


def install(app: Flask) -> None:
    app.before_request(start_request)
    app.after_request(finish_request)
