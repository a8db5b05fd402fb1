"""Deadlocks and lock-wait timeouts are retried a bounded number of times, then answered 503."""

import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest
from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from backend import create_app
from backend.db.resilience import is_retryable, is_unavailable
from backend.runner import retry_fits
from backend.web import body
from backend.web.error_handlers import DATABASE_BUSY
from services.flows import status as flowstatus
from tests.conftest import gateway_config
from tests.factories import Factory, call_act

UNREACHABLE = "Service temporarily unavailable: database unreachable"


def db_error(code: int, message: str = "boom", *, invalidated: bool = False) -> OperationalError:
    """What SQLAlchemy raises for a PyMySQL error with this MySQL/MariaDB error code."""
    original = pymysql.err.OperationalError(code, message)
    return OperationalError("SELECT 1", {}, original, connection_invalidated=invalidated)


# --- the classifier -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "retryable", "unavailable"),
    [
        (1213, True, True),  # deadlock: retry, then 503
        (1205, True, True),  # lock wait timeout
        (1047, True, True),  # Galera: WSREP not ready
        (1180, True, True),  # error during COMMIT
        (2003, False, True),  # can't connect
        (2006, False, True),  # server has gone away
        (2013, False, True),  # lost connection during query
        (1053, False, True),  # server shutdown in progress
        (1927, False, True),  # connection killed
        (1040, False, True),  # too many connections
        (1290, False, True),  # read-only server (failover)
        (1064, False, False),  # SQL syntax: a bug, 500
        (1146, False, False),  # no such table: a bug, 500
    ],
)
def test_classifier_sorts_mysql_error_codes(code: int, retryable: bool, unavailable: bool) -> None:
    error = db_error(code)
    assert is_retryable(error) is retryable
    assert is_unavailable(error) is unavailable


def test_classifier_treats_invalidated_connections_and_sqlite_locks_as_transient() -> None:
    assert is_unavailable(db_error(0, "(0, '')", invalidated=True))
    locked = OperationalError("BEGIN", {}, Exception("database is locked"))
    assert is_retryable(locked)
    assert is_unavailable(locked)


def test_another_retry_only_while_a_full_lock_wait_still_fits() -> None:
    config = {"DB_LOCK_WAIT_TIMEOUT": 10, "DB_RETRY_DEADLINE_SECONDS": 20}
    assert retry_fits(0.05, config)  # deadlocks fail fast: every attempt fits
    assert retry_fits(10.0, config)  # one lock wait spent: one more fits
    assert not retry_fits(10.1, config)  # a third 10 s wait would pass gunicorn's 30 s


def test_database_waits_fit_inside_gunicorns_worker_timeout() -> None:
    """Past gunicorn's timeout the worker is killed and the client gets no answer at all."""
    from backend.db.engine import engine_options
    from backend.ops.gunicorn_conf import timeout as worker_timeout
    from config import load_config

    config = load_config({"DATABASE_URL": "mysql+pymysql://root@db.local/gassapi"})
    args = engine_options(config)["connect_args"]
    assert args["read_timeout"] > config["DB_LOCK_WAIT_TIMEOUT"]  # a lock wait is one read
    assert args["read_timeout"] + args["connect_timeout"] < worker_timeout  # frozen server
    assert config["DB_RETRY_DEADLINE_SECONDS"] < worker_timeout  # held row lock
    assert f"innodb_lock_wait_timeout = {config['DB_LOCK_WAIT_TIMEOUT']}" in args["init_command"]


# --- the dispatcher, with a failing handler (both legs) -------------------------------------


@pytest.fixture
def seeded(make: Factory) -> dict[str, Any]:
    owner = make.user()
    flow = make.flow(make.project(owner))
    return {"flow": flow, "token": make.token(owner)}


def failing_toggle(monkeypatch: pytest.MonkeyPatch, errors: list[Exception]) -> list[int]:
    """Make the toggle raise the given errors in turn, then behave; returns the call count."""
    calls: list[int] = []
    real = flowstatus.toggle

    def toggle(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return real(*args, **kwargs)

    monkeypatch.setattr(flowstatus, "toggle", toggle)
    return calls


def toggle(client: Any, seeded: dict[str, Any]) -> Any:
    return call_act(
        client, "flow_toggle_active", "PUT", id=seeded["flow"].id, token=seeded["token"]
    )


def test_a_deadlock_is_retried_and_the_toggle_succeeds(
    client: Any, seeded: dict[str, Any], make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = failing_toggle(monkeypatch, [db_error(1213, "Deadlock found")])
    response = toggle(client, seeded)
    assert response.status_code == 200
    assert len(calls) == 2
    assert len(make.audit_rows(seeded["flow"].id)) == 1


def test_a_retried_run_reuses_the_body_read_by_the_first(
    client: Any, seeded: dict[str, Any], make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first run reads the body, then deadlocks; the second gets the kept value."""
    reads: list[int] = []
    real_read, real_write = body.read_body, flowstatus.write_status
    errors = [db_error(1213, "Deadlock found")]

    def read_body(*args: Any) -> Any:
        reads.append(1)
        return real_read(*args)

    def write_status(*args: Any, **kwargs: Any) -> Any:
        if errors:
            raise errors.pop(0)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(body, "read_body", read_body)
    monkeypatch.setattr(flowstatus, "write_status", write_status)
    response = call_act(
        client,
        "flow_toggle_active",
        "PUT",
        id=seeded["flow"].id,
        token=seeded["token"],
        json={"reason": "retried"},
    )
    assert response.status_code == 200
    assert not errors
    assert len(reads) == 1
    assert json.loads(make.audit_rows(seeded["flow"].id)[0]["metadata"])["reason"] == "retried"


def test_deadlocks_past_the_retry_budget_answer_503_busy(
    client: Any, seeded: dict[str, Any], make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = failing_toggle(monkeypatch, [db_error(1213, "Deadlock found")] * 5)
    response = toggle(client, seeded)
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Retry-After"] == "1"
    assert response.json["success"] is False
    assert response.json["message"] == DATABASE_BUSY
    assert len(calls) == 3  # DB_RETRY_ATTEMPTS
    assert make.audit_rows(seeded["flow"].id) == []
    assert make.flow_row(seeded["flow"].id)["is_active"] == 1


@pytest.mark.parametrize("code", [2013, 1040, 1290])
def test_connection_level_errors_are_not_retried_and_answer_503(
    client: Any, seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    calls = failing_toggle(monkeypatch, [db_error(code)] * 5)
    response = toggle(client, seeded)
    assert response.status_code == 503
    assert response.json["message"] == UNREACHABLE
    assert len(calls) == 1


def test_an_exhausted_connection_pool_answers_503_busy(
    client: Any, seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    failing_toggle(monkeypatch, [PoolTimeout("QueuePool limit of size 5 overflow 5 reached")])
    response = toggle(client, seeded)
    assert response.status_code == 503
    assert response.json["message"] == DATABASE_BUSY


def test_a_failing_rollback_does_not_turn_the_503_into_a_500(
    client: Any, seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import PendingRollbackError

    from backend.db import db

    def broken_rollback() -> None:
        raise PendingRollbackError("Can't reconnect until invalid transaction is rolled back.")

    failing_toggle(monkeypatch, [db_error(2013, "Lost connection", invalidated=True)])
    monkeypatch.setattr(db.session, "rollback", broken_rollback)
    response = toggle(client, seeded)
    monkeypatch.undo()
    assert response.status_code == 503
    assert response.json["message"] == UNREACHABLE


def test_other_database_errors_stay_500(
    client: Any, seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = failing_toggle(monkeypatch, [db_error(1064, "You have an error in your SQL")])
    response = toggle(client, seeded)
    assert response.status_code == 500
    assert len(calls) == 1


# --- a real row lock held by another connection (MariaDB leg) -------------------------------


@pytest.fixture
def short_lock_app(app: Flask, database_url: str) -> Iterator[Flask]:
    """A second app on the same database whose connections wait at most 1 s for a row lock."""
    if database_url.startswith("sqlite"):
        pytest.skip("row locks held by another connection: MariaDB leg")
    short = create_app(gateway_config(database_url, DB_LOCK_WAIT_TIMEOUT=1, DB_RETRY_ATTEMPTS=2))
    yield short
    with short.app_context():
        from backend.db import db

        db.session.remove()
        db.engine.dispose()


def hold_row_lock(database_url: str, flow_id: str) -> pymysql.Connection:
    url = make_url(database_url)
    conn = pymysql.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 3306,
        user=url.username or "root",
        password=url.password or "",
        database=url.database,
        autocommit=False,
    )
    with conn.cursor() as cursor:
        cursor.execute("SELECT id FROM flows WHERE id = %s FOR UPDATE", (flow_id,))
    return conn


def test_a_row_lock_held_past_every_retry_answers_503_and_changes_nothing(
    short_lock_app: Flask, database_url: str, seeded: dict[str, Any], make: Factory
) -> None:
    holder = hold_row_lock(database_url, seeded["flow"].id)
    try:
        started = time.monotonic()
        response = toggle(short_lock_app.test_client(), seeded)
        elapsed = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 503
    assert response.json["message"] == DATABASE_BUSY
    assert 2 <= elapsed < 6  # two attempts of a 1 s lock wait, no hang
    assert make.audit_rows(seeded["flow"].id) == []
    assert make.flow_row(seeded["flow"].id)["is_active"] == 1
    again = toggle(short_lock_app.test_client(), seeded)
    assert again.status_code == 200
    assert again.json["data"]["is_active"] == 0


def test_a_row_lock_released_before_the_retry_lets_the_toggle_through_once(
    short_lock_app: Flask, database_url: str, seeded: dict[str, Any], make: Factory
) -> None:
    holder = hold_row_lock(database_url, seeded["flow"].id)
    release = threading.Timer(1.5, holder.rollback)
    release.start()
    try:
        response = toggle(short_lock_app.test_client(), seeded)
    finally:
        release.join()
        holder.close()
    assert response.status_code == 200
    assert response.json["data"]["is_active"] == 0
    assert len(make.audit_rows(seeded["flow"].id)) == 1


# --- the connection dies in the middle of a request (MariaDB leg) --------------------------


def test_a_connection_killed_mid_request_answers_503_not_500(
    app: Flask,
    database_url: str,
    seeded: dict[str, Any],
    client: Any,
    make: Factory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Authentication ran on the connection, then it died: the handler's first statement fails,
    SQLAlchemy invalidates the connection, and the rollback after it must not raise."""
    if database_url.startswith("sqlite"):
        pytest.skip("server-side connection kill: MariaDB leg")
    from sqlalchemy import text

    from backend.db import db

    url = make_url(database_url)
    real = flowstatus.toggle

    def killed_then_toggle(*args: Any, **kwargs: Any) -> Any:
        own = db.session.execute(text("SELECT CONNECTION_ID()")).scalar_one()
        killer = pymysql.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 3306,
            user=url.username or "root",
            password=url.password or "",
        )
        with killer, killer.cursor() as cursor:
            cursor.execute(f"KILL CONNECTION {int(own)}")
        return real(*args, **kwargs)

    monkeypatch.setattr(flowstatus, "toggle", killed_then_toggle)
    response = toggle(client, seeded)
    assert response.status_code == 503, response.json
    assert response.json["message"] == UNREACHABLE
    monkeypatch.setattr(flowstatus, "toggle", real)
    assert toggle(client, seeded).status_code == 200  # the pool replaced the dead connection
    assert len(make.audit_rows(seeded["flow"].id)) == 1


# --- a Galera certification failure arrives at COMMIT (both legs) --------------------------


def commit_conflict(database_url: str) -> Exception:
    """What the driver raises when the server refuses the COMMIT and has rolled back: Galera's
    certification failure (deadlock 1213) on MariaDB, a lock on SQLite."""
    if database_url.startswith("sqlite"):
        return sqlite3.OperationalError("database is locked")
    return pymysql.err.OperationalError(
        1213, "Deadlock found when trying to get lock; try restarting transaction"
    )


def retries_counted(client: Any, token: str) -> float:
    body = call_act(client, "metrics", token=token).get_data(as_text=True)
    pattern = r'^gassapi_db_retries_total\{code="[^"]*",handler="flow_toggle_active"\} (\S+)$'
    return sum(float(value) for value in re.findall(pattern, body, re.M))


def test_a_conflict_refused_at_commit_reruns_the_whole_handler_once(
    app: Flask,
    client: Any,
    database_url: str,
    seeded: dict[str, Any],
    make: Factory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from backend.db import db

    with app.app_context():
        dialect = db.engine.dialect
    real_commit, refusals = dialect.do_commit, [commit_conflict(database_url)]

    def do_commit(dbapi_connection: Any) -> None:
        if refusals:
            dialect.do_rollback(dbapi_connection)  # the server has rolled the transaction back
            raise refusals.pop()
        real_commit(dbapi_connection)

    counted = retries_counted(client, seeded["token"])
    runs = failing_toggle(monkeypatch, [])
    monkeypatch.setattr(dialect, "do_commit", do_commit)
    response = toggle(client, seeded)
    monkeypatch.setattr(dialect, "do_commit", real_commit)
    assert response.status_code == 200, response.json
    assert response.json["data"]["is_active"] == 0
    assert len(runs) == 2
    assert len(make.audit_rows(seeded["flow"].id)) == 1
    assert make.flow_row(seeded["flow"].id)["is_active"] == 0
    assert retries_counted(client, seeded["token"]) == counted + 1
