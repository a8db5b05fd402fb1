"""Fixtures: every database test runs on SQLite and on MariaDB (mandatory under CI=true)."""

import os
import signal
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pymysql
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from backend import create_app
from backend.db import db
from tests import factories

# pytest-xdist's worker name (gw0, gw1, …); "" in a run without xdist.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def worker_mysql_url(url: str, worker: str) -> str:
    """Each xdist worker has a database of its own, `<name>_gw0`, `<name>_gw1`, …: the workers
    empty their tables between tests. A run without xdist keeps the name as configured, and so
    does a URL that already names the worker's database."""
    if not url or not worker:
        return url
    parsed = make_url(url)
    if str(parsed.database).endswith(f"_{worker}"):
        return url
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


# Written back to the environment: tests deriving scratch databases from it (`<name>_legacy`) and
# the processes they start see the worker's name too.
MYSQL_URL = worker_mysql_url(os.environ.get("GATEWAY_TEST_MYSQL_URL", ""), WORKER)
if MYSQL_URL:
    os.environ["GATEWAY_TEST_MYSQL_URL"] = MYSQL_URL
IN_CI = os.environ.get("CI", "").lower() == "true"
ACCESS_SECRET = "test-access-secret-0123456789abcdef0123456789abcdef"
REFRESH_SECRET = "test-refresh-secret-0123456789abcdef0123456789abcdef"
# Apps of an xdist worker keep their instance folder (generated keys, cut-over counts) apart.
WORKER_INSTANCE = (
    {"INSTANCE_PATH": str(Path(f"instance/tests-{WORKER}").absolute())} if WORKER else {}
)
_mysql_schema_ready: set[str] = set()
DEADLINE_SECONDS = 60
# Tests that start heavy processes (a fresh install, Chromium, gunicorn under 50 slow clients, the
# README's shell): under `--dist loadgroup` (make test) they run on one xdist worker, one after
# the other, so they never compete with each other and each module's fixtures are built once.
HEAVY = pytest.mark.xdist_group("heavy")


def mysql_unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"MariaDB leg is mandatory in CI: {reason}")
    pytest.skip(reason)


def ensure_mysql_database(url: str) -> None:
    """Create the test database named in the URL if it is missing."""
    parsed = make_url(url)
    try:
        conn = pymysql.connect(
            host=parsed.host or "127.0.0.1",
            port=parsed.port or 3306,
            user=parsed.username or "root",
            password=parsed.password or "",
            connect_timeout=3,
        )
    except pymysql.MySQLError as exc:
        mysql_unavailable(f"MariaDB unreachable: {exc}")
        return
    with conn, conn.cursor() as cursor:
        cursor.execute(
            f"CREATE DATABASE IF NOT EXISTS `{parsed.database}` "
            "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )


@pytest.fixture(scope="session", params=["sqlite", "mysql"])
def database_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return "sqlite://"
    if not MYSQL_URL:
        mysql_unavailable("GATEWAY_TEST_MYSQL_URL is not set")
    ensure_mysql_database(MYSQL_URL)
    return MYSQL_URL


@pytest.fixture
def mysql_url(database_url: str) -> str:
    """The MariaDB leg only, for what is about PyMySQL's own wire."""
    if database_url.startswith("sqlite"):
        pytest.skip("PyMySQL's wire: MariaDB leg")
    return database_url


def shared_database_url(database_url: str, folder: Path) -> str:
    """SQLite in a file instead of in memory, so a gunicorn process shares the database."""
    if database_url != "sqlite://":
        return database_url
    return f"sqlite:///{folder / 'gateway.sqlite'}"


def gateway_config(database_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "JWT_ACCESS_SECRET": ACCESS_SECRET,
        "JWT_REFRESH_SECRET": REFRESH_SECRET,
        "APP_ENV": "development",
        "DEBUG_ENVELOPE": True,
        "BCRYPT_ROUNDS": 4,
        "RESET_TOKEN_IN_RESPONSE": True,
        **WORKER_INSTANCE,
        **extra,
    }


def empty_all_tables() -> None:
    with db.engine.begin() as conn:
        if conn.dialect.name != "sqlite":
            conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
        if conn.dialect.name != "sqlite":
            conn.execute(text("SET FOREIGN_KEY_CHECKS = 1"))


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    application = create_app(gateway_config(database_url))
    with application.app_context():
        if database_url.startswith("sqlite") or database_url not in _mysql_schema_ready:
            db.create_all()
            _mysql_schema_ready.add(database_url)
        empty_all_tables()
    yield application
    with application.app_context():
        db.session.remove()
        empty_all_tables()
        db.engine.dispose()


@pytest.fixture
def app_with(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """`app_with(PROXY_COUNT=1, …)`: more apps with extra configuration, all on one database (a
    SQLite file on that leg; `app` empties the MariaDB one afterwards). Seed them with
    `Factory(app)`: on SQLite the `make` fixture writes to another database."""
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}" if database_url == "sqlite://" else database_url
    built: list[Flask] = []

    def build(**extra: Any) -> Flask:
        application = create_app(gateway_config(url, **extra))
        with application.app_context():
            db.create_all()
        built.append(application)
        return application

    yield build
    for application in built:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make(app: Flask) -> factories.Factory:
    """Row factories bound to the app: `make.user()`, `make.project(owner)`, …"""
    return factories.Factory(app)


@pytest.fixture
def call_act(client: FlaskClient) -> Callable[..., Any]:
    """`call_act("flow_toggle_active", "PUT", id=..., token=...)` → the test response."""

    def call(act: str, method: str = "GET", *, token: str | None = None, **kwargs: Any) -> Any:
        return factories.call_act(client, act, method, token=token, **kwargs)

    return call


@pytest.fixture
def owner(make: factories.Factory) -> Any:
    """A user who owns `project`."""
    return make.user()


@pytest.fixture
def project(make: factories.Factory, owner: Any) -> Any:
    return make.project(owner)


@pytest.fixture
def token(make: factories.Factory, owner: Any) -> str:
    """An access token of `owner`."""
    return make.token(owner)


@pytest.fixture
def deadline() -> Iterator[None]:
    """Bounds a test in time: past DEADLINE_SECONDS it fails instead of hanging the suite (a lock
    never released, a request that never answers). `pytestmark = usefixtures("deadline")`."""

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"test still running after {DEADLINE_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(DEADLINE_SECONDS)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


# tests/test_hostile_inputs.py prints how many cases it tried per leg; under xdist each worker
# hands its counts to the controller, which prints their sums at the end.
HOSTILE_COUNTS = "hostile_inputs"


def hostile_line(leg: str, tried: Mapping[str, int]) -> str:
    families = ", ".join(f"{name} {count}" for name, count in sorted(tried.items()))
    return f"hostile inputs [{leg}]: {sum(tried.values())} cases tried ({families})"


def add_hostile_counts(legs: dict[str, dict[str, int]], leg: str, tried: Mapping[str, int]) -> None:
    counts = legs.setdefault(leg, {})
    for family, count in tried.items():
        counts[family] = counts.get(family, 0) + count


_hostile_totals: dict[str, dict[str, int]] = {}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    for leg, tried in getattr(node, "workeroutput", {}).get(HOSTILE_COUNTS, {}).items():
        add_hostile_counts(_hostile_totals, leg, tried)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for leg in sorted(_hostile_totals, reverse=True):  # sqlite, then mysql
        terminalreporter.write_line(hostile_line(leg, _hostile_totals[leg]))
