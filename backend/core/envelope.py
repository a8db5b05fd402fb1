"""The only module that knows the envelope keys, the message rewrite and the JSON encoding."""

import json
import random
import re
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from flask import Response

from backend.core.seconds import PerSecond

KEEP_VERBATIM = frozenset(
    {
        "Current password is incorrect",
        "Invalid or expired reset token",
        "User not found",
        "Invalid email format",
        "User updated successfully",
        "User deleted successfully",
        "User status updated successfully",
        "Project name cannot be empty",
        "Project deleted successfully",
        "Access denied",
        "Forbidden",
        "No token provided",
        "Invalid token",
        "Project not found",
        "Failed to update project",
        "Failed to delete project",
        "Failed to update user",
        "Failed to delete user",
        "Environment not found",
        "Failed to update environment",
        "Failed to delete environment",
        "Project updated",
        "Environment updated",
        "User not found for project",
    }
)
PREFIXES = {
    400: "Invalid request: ",
    401: "Authentication failed: ",
    403: "Access denied: ",
    404: "Not found: ",
    422: "Validation failed: ",
}
SUGGESTIONS = {
    400: "Check the data format sent",
    401: "Check your authentication token",
    403: "You do not have permission to access this resource",
    404: "The requested resource was not found",
    422: "Check required fields",
    429: "Wait before trying again",
    500: "Server error occurred, please try again later",
}
JSON_TYPE = "application/json; charset=utf-8"
# The keys above as a JSON Schema, for the OpenAPI document.
SCHEMA = {
    "type": "object",
    "required": ["success", "status_code", "message", "timestamp", "request_id"],
    "properties": {
        "success": {"type": "boolean"},
        "status_code": {"type": "integer"},
        "message": {"type": "string"},
        "timestamp": {"type": "string"},
        "request_id": {"type": "string"},
        "data": {},
        "debug": {"type": "object"},
        "status": {"type": "string", "enum": ["error"]},
    },
}
REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")


def wire_message(status: int, message: str) -> str:
    if message in KEEP_VERBATIM:
        return message
    return PREFIXES.get(status, "") + message


def new_request_id() -> str:
    """`req_` + PHP `uniqid('', true)`: 8 hex seconds, 5 hex microseconds, then `d.dddddddd`."""
    now = time.time()
    seconds, micros = int(now), int((now % 1) * 1_000_000)
    digit, digits = divmod(random.randrange(10**9), 10**8)  # one draw for `d.dddddddd`
    return f"req_{seconds:08x}{micros:05x}{digit}.{digits:08d}"


def accept_request_id(incoming: str | None) -> str:
    return incoming if incoming and REQUEST_ID.match(incoming) else new_request_id()


def wall_clock(second: int, tz: Any) -> str:
    return datetime.fromtimestamp(second, tz).strftime("%Y-%m-%d %H:%M:%S")


_wall_clock = PerSecond(wall_clock)


def timestamp(tz: ZoneInfo) -> str:
    """The wall-clock second in `tz` (in every answer: built once a second)."""
    return _wall_clock(int(time.time()), tz)


def timestamp_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def dumps(payload: Any) -> bytes:
    """The wire JSON: compact, UTF-8, `str()` of what JSON has no type for. Plain data (see
    `plain_json`) is written by orjson, whose bytes for it are `json.dumps`'s: a 50-flow list
    encodes in ~140 µs instead of ~480 (tests/test_envelope_encoding.py compares the two)."""
    if plain_json(payload):
        try:
            return orjson.dumps(payload)
        except orjson.JSONEncodeError:  # a key that is not a string, a lone surrogate
            pass
    return json_dumps(payload).encode()


def json_dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)


INT64 = (-(2**63), 2**63 - 1)


class PlainRows(list):  # type: ignore[type-arg]
    """Rows that are plain JSON by construction (dicts of text, 64-bit integers and None: see
    `backend.legacy.wire.RowShape`), so `plain_json` does not walk them again."""


def plain_json(value: Any) -> bool:
    """Only dicts, lists, strings, 64-bit integers, booleans and None, by exact type. orjson
    writes anything else differently from `json.dumps` without failing: a float (`1e-05` is
    `1e-5` there, NaN `null`), a datetime, an enum, a dataclass."""
    low, high = INT64
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = item.__class__
        if kind is str or item is None or kind is bool:
            continue
        if kind is int:
            if low <= item <= high:
                continue
            return False
        if kind is dict:
            extend(item.values())
        elif kind is PlainRows:
            continue
        elif kind is list:
            extend(item)
        else:
            return False
    return True


def ok(data: Any, message: str, status: int, *, request_id: str, tz: ZoneInfo) -> Response:
    body: dict[str, Any] = {
        "success": True,
        "status_code": status,
        "message": message,
        "timestamp": timestamp(tz),
        "request_id": request_id,
    }
    if data is not None:
        body["data"] = data
    return respond(body, status)


def fail(
    status: int,
    message: str,
    *,
    request_id: str,
    tz: ZoneInfo,
    data: Any = None,
    debug: bool = False,
) -> Response:
    body: dict[str, Any] = {
        "success": False,
        "status_code": status,
        "message": wire_message(status, message),
        "timestamp": timestamp(tz),
        "request_id": request_id,
    }
    if data is not None:
        body["data"] = data
    if debug:
        body["debug"] = {
            "error_type": "server_error" if status >= 500 else "client_error",
            "suggestion": SUGGESTIONS.get(status, "Contact administrator for assistance"),
        }
    body["status"] = "error"
    return respond(body, status)


def respond(body: dict[str, Any], status: int) -> Response:
    return Answer(dumps(body), status=status, content_type=JSON_TYPE)


REWRITTEN_HEADERS = frozenset({"location", "content-location"})


class Answer(Response):
    """An envelope's response. Werkzeug copies every response's headers before sending them
    (validating each again) to fix what some responses need: a Location or Content-Location
    made a URI, no length on 1xx, 204 or 304, a length added where none was set. None applies
    to an envelope as the hooks leave it, so its headers go out as they are; anything else
    still goes through Werkzeug's fix-ups."""

    def get_wsgi_headers(self, environ: Any) -> Any:
        status = self.status_code
        names = {name.lower() for name, _ in self.headers.items()}
        sized = status >= 200 and status not in (204, 304) and "content-length" in names
        if sized and not names & REWRITTEN_HEADERS:
            return self.headers
        return super().get_wsgi_headers(environ)
