"""Production gunicorn defaults; every value can be overridden from the environment."""

import logging
import multiprocessing
import os
import socket
import warnings
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import gunicorn.glogging
import gunicorn.http.errors
import gunicorn.http.wsgi
import gunicorn.util

from backend.core import envelope
from backend.web.logs import gunicorn_logconfig
from config import ENV_FILE, ConfigError, instance_secrets, load_config, metrics_dir, whole


def setting(name: str, default: int, minimum: int = 1) -> int:
    try:
        return whole(os.environ, name, default, minimum)
    except ConfigError as exc:
        raise SystemExit(f"configuration: {exc}") from None


bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8080')}"
workers = setting("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2)
# gevent workers: each connection is a greenlet, so a client that sends its request slowly (or
# keeps an idle keep-alive connection) holds a socket, not a worker; sync and gthread workers are
# stopped by a few of them (issue #15 item 3, docs/security.md). PyMySQL is pure Python, so it
# yields to the other greenlets while it waits for the database.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
worker_connections = setting("GUNICORN_WORKER_CONNECTIONS", 1000)
timeout = setting("GUNICORN_TIMEOUT", 30)
graceful_timeout = 20
keepalive = 5
max_requests = setting("GUNICORN_MAX_REQUESTS", 0, minimum=0)
max_requests_jitter = 100
preload_app = False
accesslog = None  # the gateway writes its own structured access log
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# gunicorn's own lines as JSON on stderr, beside the access log (backend/web/logs.py); Python's
# warnings (gevent's monkey-patching ones) become records of the same stream.
logconfig_dict = gunicorn_logconfig(loglevel)
logging.captureWarnings(True)
# A gevent worker patches ssl after the fork, and the master (importing this file imports the
# gateway's modules) already has PyJWT, whose `jwt.jwks_client` holds the unpatched SSLContext:
# gevent then warned at every worker's start. That module fetches JSON Web Key Sets over HTTPS,
# which the gateway never does (HS256 with its own secrets), so exactly that warning is dropped;
# one that names any other module still shows.
warnings.filterwarnings(
    "ignore",
    message=r"Monkey-patching ssl after ssl has already been imported .*"
    r"Modules that had direct imports \(NOT patched\): \['jwt\.jwks_client \([^()]*\)'\]\. \Z",
    category=RuntimeWarning,
)


class Logger(gunicorn.glogging.Logger):
    """gunicorn's logger without its access log. With `logconfig_dict` set gunicorn counts its
    access log as enabled and renders every request's atoms for the `gunicorn.access` logger,
    which has no handler here (the gateway writes the one access line): ~5 % of a worker's CPU
    on a flow read, for nothing."""

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return None


logger_class = Logger
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# gunicorn writes its own `Server` header and drops the application's; keep the legacy value.
gunicorn.http.wsgi.SERVER = "GASS-API"


class HeldHead:
    """A socket stand-in that keeps what gunicorn would send (the status line and headers)."""

    def __init__(self) -> None:
        self.data = b""

    def sendall(self, data: bytes) -> None:
        self.data += data


class OneSendResponse(gunicorn.http.wsgi.Response):
    """gunicorn's response, with the status line and headers sent together with the first body
    bytes: one `send` (one TCP segment on loopback, one wake-up of the client or proxy) per
    answer instead of two. A chunked body, a file sent with `sendfile` and an answer without a
    body get the head on its own first, as gunicorn sends it."""

    head: bytes | None = None

    def send_headers(self) -> None:
        if self.headers_sent:
            return
        sock, held = self.sock, HeldHead()
        self.sock = held
        try:
            super().send_headers()
        finally:
            self.sock = sock
        self.head = held.data

    def flush_head(self) -> None:
        head, self.head = self.head, None
        if head:
            gunicorn.util.write(self.sock, head)

    def _emit_body(self, data: bytes) -> None:
        if self.head is not None and not self.chunked:
            head, self.head = self.head, None
            data = head + data
        self.flush_head()
        super()._emit_body(data)

    def sendfile(self, respiter: Any) -> bool:
        self.send_headers()
        self.flush_head()
        return bool(super().sendfile(respiter))

    def close(self) -> None:
        self.send_headers()
        self.flush_head()
        super().close()


gunicorn.http.wsgi.Response = OneSendResponse  # type: ignore[misc]
# The control socket lives at one fixed path per user; several gateways on one host would collide.
control_socket_disable = True


@cache
def app_timezone() -> ZoneInfo:
    return ZoneInfo(load_config(os.environ, env_file=ENV_FILE)["APP_TIMEZONE"])


def envelope_error(sock: socket.socket, status: int, reason: str, message: str) -> None:
    """gunicorn's own refusals, before the application sees a request (a request line over 4094
    bytes: 414, headers too large: 431, a malformed request: 400), as the error envelope with a
    request id instead of gunicorn's HTML page. Same status line; the connection is closed."""
    request_id = envelope.new_request_id()
    text = f"{reason}: {message}" if message else reason
    body = envelope.fail(status, text, request_id=request_id, tz=app_timezone()).get_data()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: {envelope.JSON_TYPE}\r\nContent-Length: {len(body)}\r\n"
        f"X-Request-ID: {request_id}\r\nServer: {gunicorn.http.wsgi.SERVER}\r\n\r\n"
    )
    gunicorn.util.write_nonblock(sock, head.encode("latin-1") + body)


gunicorn.util.write_error = envelope_error
# A body the gateway refused unread (413 on its Content-Length) is read and dropped, up to this
# much, before a `Connection: close` socket is closed: closing with unread bytes resets the
# connection, and a client still sending then gets a broken pipe instead of the 413 (found by
# `make fuzz`). On keep-alive connections gunicorn reads the rest itself.
DRAIN_BYTES = 8 * 1_048_576


def post_request(worker: Any, req: Any, environ: dict[str, Any], resp: Any) -> None:
    body = environ.get("wsgi.input")
    if body is None or resp is None or not resp.should_close():
        return
    drained = 0
    try:
        while drained < DRAIN_BYTES and (chunk := body.read(65536)):
            drained += len(chunk)
    except (OSError, gunicorn.http.errors.ParseException):
        pass  # the client went away or sent a broken body: nothing left to protect


def on_starting(server: Any) -> None:
    """A bad configuration stops the master with one line naming the variable (gunicorn prints
    «Error: …»), before any worker boots; a start without keys makes the instance ones here."""
    try:
        config = load_config(os.environ, env_file=ENV_FILE)
        instance_secrets.fill_missing(config, Path(config["INSTANCE_PATH"]))
    except ConfigError as exc:
        raise RuntimeError(f"configuration: {exc}") from None
    # The workers' metrics files: the entry point made the directory (config/metrics_dir.py);
    # a configured one (the systemd unit's RuntimeDirectory) may hold an earlier run's. Made
    # here it would come too late (this module's imports already loaded prometheus_client).
    directory = os.environ.get(metrics_dir.VARIABLE)
    if not directory:
        raise RuntimeError(
            f"configuration: {metrics_dir.VARIABLE} is unset: start with "
            "`gunicorn -c gunicorn.conf.py` or `gassapi-gateway serve`, or set it"
        )
    metrics_dir.empty(Path(directory))


def child_exit(server: Any, worker: Any) -> None:
    """A stopped worker's gauges (its pool) leave the sums; its counters stay counted."""
    from prometheus_client import multiprocess  # noqa: PLC0415  (not in the master's imports)

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    metrics_dir.remove_private(Path(os.environ[metrics_dir.VARIABLE]))
