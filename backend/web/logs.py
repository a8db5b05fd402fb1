"""One JSON object per line on stderr, for every logger: the access log, the application's own
records and gunicorn's (its error log; its access log stays off, the gateway writes the one).

The access line is rendered once by `backend.web.hooks` (its fields are the request's, not the
record's) and written as it is; every other record goes through `JsonFormatter`. Both spell
`time`, `level` and `logger` the same way, so one `jq` filter reads the whole stream."""

import json
import logging
import sys
import time
import traceback
from typing import Any

import orjson
from flask import Flask
from flask.logging import default_handler

from backend.core.seconds import PerSecond

ACCESS_LOGGER = "gassapi.access"
LEVELS = {
    logging.DEBUG: "debug",
    logging.INFO: "info",
    logging.WARNING: "warning",
    logging.ERROR: "error",
    logging.CRITICAL: "critical",
}
encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_utc_second = PerSecond(lambda second, _: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
access = logging.getLogger(ACCESS_LOGGER)


def utc_time(now: float) -> str:
    """`2026-12-06T09:17:43.758+00:00` (UTC, milliseconds); the date part is built once a second."""
    second = int(now)
    return f"{_utc_second(second)}.{int((now - second) * 1000):03d}+00:00"


def level_name(level: int) -> str:
    return LEVELS.get(level) or logging.getLevelName(level).lower()


class JsonFormatter(logging.Formatter):
    """time, level, logger, pid, message, and the traceback as `exception` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": utc_time(record.created),
            "level": level_name(record.levelno),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.stack_info:
            line["stack"] = record.stack_info
        return encode(line)


class PreRendered(logging.Formatter):
    """The access line: the message is the finished JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        return record.msg


class AccessStream(logging.StreamHandler):  # type: ignore[type-arg]
    """The access logger's own handler, on stderr: a finished line needs no record."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(PreRendered())

    def write_line(self, text: str) -> bool:
        """What `emit` does with a record whose message is `text`; False when it failed."""
        try:
            with self.lock:  # type: ignore[union-attr]
                self.stream.write(text + self.terminator)
                self.flush()
        except Exception:  # noqa: BLE001 - the record path reports it the logging way
            return False
        return True


def write_access(level: int, line: dict[str, Any]) -> None:
    """One access line. On the access logger's own handler the text is written as it is (a
    `LogRecord` and the handler chain cost as much as the rest of the line); anywhere else (a
    handler a deployment or a test configured) it goes through `Logger.handle`, without
    `Logger.log`'s search for the calling frame (the line names no source file)."""
    text = render(line)
    handler = own_stream(level)
    if handler is None or not handler.write_line(text):
        access.handle(access.makeRecord(ACCESS_LOGGER, level, "", 0, text, (), None))


def render(line: dict[str, Any]) -> str:
    """`encode`'s text, by orjson (the same bytes for a line's strings, numbers and None, in a
    tenth of the time); a text orjson refuses (a lone surrogate) by `encode` itself."""
    try:
        return orjson.dumps(line).decode()
    except orjson.JSONEncodeError:
        return encode(line)


def own_stream(level: int) -> AccessStream | None:
    """The access logger's own handler, when it is the only place a line at `level` goes."""
    handlers = access.handlers
    if len(handlers) != 1 or access.filters:
        return None
    handler = handlers[0]
    if handler.__class__ is not AccessStream or level < handler.level or handler.filters:
        return None
    return handler  # type: ignore[return-value]


def stderr_handler(formatter: logging.Formatter) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    return handler


def configure(app: Flask) -> None:
    """The access logger writes its lines to stderr (unless a handler was configured for it);
    the application's records are JSON too where nothing else (gunicorn's `logconfig_dict`, a
    test's capture) gave them a handler: Flask's plain-text default handler is swapped out."""
    if not access.handlers:
        access.addHandler(AccessStream())
        access.propagate = False
    access.setLevel(app.config["ACCESS_LOG_LEVEL"])
    if default_handler in app.logger.handlers:
        app.logger.removeHandler(default_handler)
        app.logger.addHandler(stderr_handler(JsonFormatter()))


def gunicorn_logconfig(level: str) -> dict[str, Any]:
    """gunicorn's `logconfig_dict`: its error log and every other logger (the application's
    records propagate to the root) as JSON on stderr; `gunicorn.access` has no handler, so even
    an `--access-logfile` given on the command line cannot double the gateway's access line."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": "INFO", "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": level.upper(), "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
        },
    }
