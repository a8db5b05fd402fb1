"""Liveness and readiness probes for systemd, Kubernetes and load balancers (docs/deploying.md).

`/livez` answers 200 while the worker can answer at all (no database); `/readyz` answers 200
when the database answers and the gateway's own tables are present, else 503. Both at the root
and under every mount, GET and HEAD, JSON. They are not acts: `?act=health` keeps the legacy's
answers (HEAD on it stays 404, as the legacy router answered)."""

from flask import Flask
from flask import Response as FlaskResponse
from sqlalchemy.exc import SQLAlchemyError

from backend.core import envelope
from backend.db import direct
from backend.models import additive
from backend.web.hooks import request_info


def answer(status: int, body: dict[str, object]) -> FlaskResponse:
    return FlaskResponse(envelope.dumps(body), status, content_type=envelope.JSON_TYPE)


def mark(name: str) -> None:
    info = request_info()
    info.act, info.path_form = name, "probe"


def livez() -> FlaskResponse:
    mark("livez")
    return answer(200, {"status": "live"})


def readyz() -> FlaskResponse:
    mark("readyz")
    try:
        direct.ping()
        missing = additive.missing_now()
    except SQLAlchemyError:
        return answer(503, {"status": "not ready", "database": "unreachable"})
    if missing:
        return answer(503, {"status": "not ready", "missing_tables": missing})
    return answer(200, {"status": "ready", "database": "connected"})


def register(app: Flask) -> None:
    for mount in app.config["MOUNTS"]:
        app.add_url_rule(f"{mount}/livez", endpoint=f"livez:{mount}", view_func=livez)
        app.add_url_rule(f"{mount}/readyz", endpoint=f"readyz:{mount}", view_func=readyz)
