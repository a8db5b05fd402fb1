"""The one HTTP client to the legacy backend: a connection pool bound to LEGACY_URL's host, every
call bounded in time and size, every failure one `LegacyFailure` (never an exception leaking out).
"""

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ReadTimeoutError,
)

from config import ConfigError

CHUNK_BYTES = 65_536


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        return next((value for key, value in self.headers if key.lower() == name), "")


class LegacyFailure(Exception):
    """No usable answer from the legacy: `outcome` for metrics, `status`/`message` for clients."""

    def __init__(self, outcome: str, status: int, message: str) -> None:
        super().__init__(message)
        self.outcome, self.status, self.message = outcome, status, message


def unreachable() -> LegacyFailure:
    return LegacyFailure("unreachable", 502, "Bad gateway: legacy backend unreachable")


def timed_out() -> LegacyFailure:
    return LegacyFailure("timeout", 504, "Gateway timeout: legacy backend did not answer in time")


def invalid(what: str) -> LegacyFailure:
    return LegacyFailure("invalid", 502, f"Bad gateway: legacy backend answered {what}")


def too_large() -> LegacyFailure:
    return LegacyFailure("too_large", 502, "Bad gateway: legacy backend answer too large")


def failure_of(error: HTTPError) -> LegacyFailure:
    if isinstance(error, NewConnectionError):  # refused, no route, unknown host
        return unreachable()
    if isinstance(error, ConnectTimeoutError | ReadTimeoutError):
        return timed_out()
    return invalid("a broken HTTP response")


def check_url(url: str) -> str:
    """http(s)://host[:port]/path only: no credentials, query or fragment to leak or confuse."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("LEGACY_URL must be an http:// or https:// URL with a host")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError("LEGACY_URL must not carry credentials, a query or a fragment")
    return parts.path or "/"


class Upstream:
    def __init__(
        self, url: str, *, connect_timeout: float, timeout: float, max_bytes: int, pool_size: int
    ) -> None:
        self.path = check_url(url)
        self.timeout, self.max_bytes = timeout, max_bytes
        # One pool for one host: a request can only ever reach LEGACY_URL's host and port.
        self.pool = urllib3.connection_from_url(
            url,
            maxsize=pool_size,
            block=False,
            retries=False,
            timeout=urllib3.Timeout(connect=connect_timeout, read=timeout),
        )

    def send(self, method: str, query: str, headers: Any, body: bytes) -> Answer:
        """The legacy's answer, read whole; HTML (a PHP fatal error, a web server's error page)
        is no answer."""
        deadline = time.monotonic() + self.timeout
        target = f"{self.path}?{query}" if query else self.path
        try:
            response = self.pool.urlopen(
                method,
                target,
                body=body or None,
                headers=headers,
                redirect=False,
                preload_content=False,
                decode_content=False,
            )
            payload = self.read(response, deadline)
        except HTTPError as exc:
            raise failure_of(exc) from None
        answer = Answer(
            response.status, response.reason or "", list(response.headers.items()), payload
        )
        if answer.header("content-type").lower().startswith("text/html"):
            raise invalid("HTML")
        return answer

    def read(self, response: Any, deadline: float) -> bytes:
        declared = response.headers.get("Content-Length") or ""
        chunks, size = [], 0
        try:
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise too_large()
            for chunk in response.stream(CHUNK_BYTES, decode_content=False):
                size += len(chunk)
                if size > self.max_bytes:
                    raise too_large()
                if time.monotonic() > deadline:
                    raise timed_out()
                chunks.append(chunk)
        except Exception:
            response.close()  # a half-read connection never goes back to the pool
            raise
        response.release_conn()
        return b"".join(chunks)
