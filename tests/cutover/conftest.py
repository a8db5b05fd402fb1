"""A real second HTTP server stands in for the legacy backend: a recording stub, or a second
gateway on the same database."""

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from backend import create_app
from backend.db import db
from tests.conftest import empty_all_tables, gateway_config
from tests.test_database_down import UNREACHABLE

PORTS = range(18500, 18550)
MOUNT = "/gassapi2/backend/"
ENVELOPE = b'{"success":true,"status_code":200,"message":"legacy","data":{"side":"legacy"}}'


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: bytes
    headers: dict[str, str]
    body: bytes


def legacy_envelope(request: Request) -> Response:
    return Response(ENVELOPE, 200, content_type="application/json; charset=utf-8")


class LegacyStub:
    """Records every request; answers what `answer` (settable by a test) returns."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.answer: Callable[[Request], Response] = legacy_envelope
        self.url = ""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        self.seen.append(
            Seen(request.method, request.path, request.query_string, dict(request.headers), body)
        )
        return self.answer(request)(environ, start_response)

    @property
    def last(self) -> Seen:
        return self.seen[-1]


def bind(app: Any) -> BaseWSGIServer:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            probe.listen()
            return make_server("127.0.0.1", port, app, threaded=True, fd=probe.fileno())
    raise RuntimeError(f"no free port in {PORTS}")


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """`app` on a real HTTP server in a thread; yields its mount URL."""
    server = bind(app)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}{MOUNT}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def legacy() -> Iterator[LegacyStub]:
    stub = LegacyStub()
    with serving(stub) as url:
        stub.url = url
        yield stub


def cutover_config(database: str, legacy_url: str, state: Path, **extra: Any) -> dict[str, Any]:
    settings = {"LEGACY_URL": legacy_url, "CUTOVER_STATE_DIR": str(state), "LEGACY_TIMEOUT": 2}
    return gateway_config(database, **{**settings, **extra})


@pytest.fixture
def proxy_app(legacy: LegacyStub, tmp_path: Path) -> Flask:
    """Every legacy act proxied, on a database that cannot be reached (a proxied request never
    needs it)."""
    return create_app(cutover_config(UNREACHABLE, legacy.url, tmp_path, LEGACY_ACT_MODES="*=proxy"))


@pytest.fixture
def shared_url(database_url: str, tmp_path: Path) -> str:
    """One database for the gateway and the legacy stand-in (a file, for SQLite)."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'shared.sqlite'}"
    return database_url


@pytest.fixture
def legacy_gateway(shared_url: str) -> Iterator[str]:
    """A second gateway (LEGACY_URL unset) served over HTTP, playing the legacy; yields its URL."""
    second = create_app(gateway_config(shared_url))
    with second.app_context():
        db.create_all()
        empty_all_tables()
    with serving(second) as url:
        yield url
    with second.app_context():
        empty_all_tables()
        db.session.remove()
        db.engine.dispose()


GatewayMaker = Callable[..., Flask]


@pytest.fixture
def make_gateway(tmp_path: Path) -> Iterator[GatewayMaker]:
    """`make_gateway(database, legacy_url, **settings)`: a gateway, its tables emptied after.

    In-memory SQLite is one connection shared by every thread; the shadow worker asks the gateway
    again from its own thread, so SQLite runs on a file here, as in production.
    """
    made: list[Flask] = []

    def make(database: str, legacy_url: str, **settings: Any) -> Flask:
        if database == "sqlite://":
            database = f"sqlite:///{tmp_path / 'gateway.sqlite'}"
        app = create_app(cutover_config(database, legacy_url, tmp_path / "state", **settings))
        with app.app_context():
            db.create_all()
            empty_all_tables()
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["cutover"].shadow.drain(5)
        with app.app_context():
            empty_all_tables()
            db.session.remove()
            db.engine.dispose()


def drained(app: Flask) -> Flask:
    assert app.extensions["cutover"].shadow.drain(5)
    return app


def report_row(app: Flask, token: str, act: str) -> dict[str, Any]:
    """The act's row of the `cutover_report` act, once every queued comparison is done."""
    response = (
        drained(app)
        .test_client()
        .get(MOUNT + "?act=cutover_report", headers={"Authorization": f"Bearer {token}"})
    )
    assert response.status_code == 200, response.json
    return next(row for row in response.json["data"]["acts"] if row["act"] == act)
