"""No round trip that tells nothing (MariaDB): the pool still replaces dead connections, and
read-only acts run without a transaction, so they send no COMMIT.

Round trips are counted on the wire (every command PyMySQL sends), never timed.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pymysql
import pymysql.connections
import pytest
from flask import Flask
from pymysql.constants import COMMAND
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from backend import create_app
from backend.db import db, spare
from backend.db.engine import engine_options
from backend.models import McpClientToken, additive
from config import load_config
from tests import conftest

HEALTH = "/gassapi2/backend/?act=health"


@contextmanager
def wire() -> Iterator[list[str]]:
    sent: list[str] = []
    original = pymysql.connections.Connection._execute_command

    def recorded(self: Any, command: int, sql: Any) -> Any:
        if command == COMMAND.COM_QUERY:
            sent.append((sql.decode() if isinstance(sql, bytes) else str(sql)).strip())
        elif command == COMMAND.COM_PING:
            sent.append("PING")
        return original(self, command, sql)

    pymysql.connections.Connection._execute_command = recorded  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        pymysql.connections.Connection._execute_command = original  # type: ignore[method-assign]


@contextmanager
def gateway(url: str, **extra: Any) -> Iterator[Flask]:
    application = create_app(conftest.gateway_config(url, **extra))
    with application.app_context():
        db.create_all()
        additive.settle()  # as a start on a database init-db made: no table check left to do
    try:
        yield application
    finally:
        with application.app_context():
            db.session.remove()
            conftest.empty_all_tables()
            db.engine.dispose()


def server_connection(url: str) -> Any:
    """A plain PyMySQL connection to `url`'s server, outside the gateway's pool."""
    parsed = make_url(url)
    return pymysql.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 3306,
        user=parsed.username or "root",
        password=parsed.password or "",
    )


def kill(url: str, connection_id: int) -> None:
    with server_connection(url) as killer, killer.cursor() as cursor:
        cursor.execute(f"KILL CONNECTION {int(connection_id)}")


def refused_write(client: Any) -> Any:
    """A write act whose token is refused (401) after the MCP-token lookup: rolled back."""
    return client.put(
        "/gassapi2/backend/?act=flow_toggle_active&id=flow_missing",
        headers={"Authorization": "Bearer not-a-token"},
    )


@contextmanager
def checkouts(application: Flask) -> Iterator[list[int]]:
    """Every pool checkout while inside (the DBAPI connection's id)."""
    seen: list[int] = []

    def checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        seen.append(id(dbapi_connection))

    with application.app_context():
        pool = db.engine.pool
    event.listen(pool, "checkout", checked_out)
    try:
        yield seen
    finally:
        event.remove(pool, "checkout", checked_out)


def test_a_workers_next_requests_reuse_its_connection_without_a_checkout(
    mysql_url: str,
) -> None:
    with gateway(mysql_url, DB_PING_IDLE_SECONDS=60) as application:  # no ping on a slow run
        client = application.test_client()
        assert client.get(HEALTH).status_code == 200
        with checkouts(application) as seen, wire() as sent:
            assert client.get(HEALTH).status_code == 200  # a direct statement
            assert refused_write(client).status_code == 401  # the ORM's token lookup
            assert client.get(HEALTH).status_code == 200
        assert seen == []  # all three ran on the connection the first request kept
        assert sent[0] == "SELECT 1" and "PING" not in sent


def test_requests_on_many_threads_share_the_kept_connection_without_an_error(
    mysql_url: str,
) -> None:
    with gateway(mysql_url) as application:
        answers: list[int] = []

        def serve() -> None:
            client = application.test_client()
            answers.extend(client.get(HEALTH).status_code for _ in range(25))

        threads = [threading.Thread(target=serve) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        with application.app_context():
            pool = db.engine.pool
        assert answers == [200] * 200
        # Nothing leaked: only kept connections are out (one; a few if threads kept at once).
        assert 1 <= pool.checkedout() <= len(threads)


def test_a_kept_connection_goes_back_to_the_pool_after_keep_seconds(
    mysql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with gateway(mysql_url) as application:
        client = application.test_client()
        assert client.get(HEALTH).status_code == 200
        with application.app_context():
            pool = db.engine.pool
        assert pool.checkedout() == 1  # kept for the next request
        monkeypatch.setattr(spare, "KEEP_SECONDS", 0.0)
        with checkouts(application) as seen:
            assert client.get(HEALTH).status_code == 200
            assert client.get(HEALTH).status_code == 200
        assert pool.checkedout() == 0 and len(seen) == 1  # each request returned its own


def server_has_connection(url: str, connection_id: int) -> bool:
    with server_connection(url) as watcher, watcher.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.processlist WHERE id = %s", (connection_id,)
        )
        return cursor.fetchone()[0] == 1


def test_disposing_the_engine_closes_the_kept_connection_on_the_server(mysql_url: str) -> None:
    with gateway(mysql_url) as application:
        kept: list[int] = []
        with application.app_context():
            event.listen(
                db.engine.pool, "checkout", lambda dbapi, *_: kept.append(dbapi.thread_id())
            )
        assert application.test_client().get(HEALTH).status_code == 200
        [own] = kept
        assert server_has_connection(mysql_url, own)
        with application.app_context():
            db.engine.dispose()
        deadline = time.monotonic() + 5
        while server_has_connection(mysql_url, own) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not server_has_connection(mysql_url, own)


def test_a_busy_connection_is_neither_pinged_nor_rolled_back_after_its_commit(
    mysql_url: str,
) -> None:
    with gateway(mysql_url) as application:
        client = application.test_client()
        assert client.get(HEALTH).status_code == 200
        with wire() as sent:
            assert client.get(HEALTH).status_code == 200
    assert sent == ["SELECT 1"]


def test_a_connection_idle_past_the_threshold_is_pinged_first(mysql_url: str) -> None:
    with gateway(mysql_url, DB_PING_IDLE_SECONDS=0.05) as application:
        client = application.test_client()
        assert client.get(HEALTH).status_code == 200
        time.sleep(0.1)
        with wire() as sent:
            assert client.get(HEALTH).status_code == 200
    assert sent == ["PING", "SELECT 1"]


def test_a_connection_killed_while_idle_is_replaced_without_an_error(mysql_url: str) -> None:
    with gateway(mysql_url, DB_PING_IDLE_SECONDS=0.05) as application:
        client = application.test_client()
        with application.app_context():
            own = db.session.execute(text("SELECT CONNECTION_ID()")).scalar_one()
            db.session.commit()
            db.session.remove()
        kill(mysql_url, own)
        time.sleep(0.1)
        response = client.get(HEALTH)
        assert response.status_code == 200, response.json
        with application.app_context():
            assert db.session.execute(text("SELECT CONNECTION_ID()")).scalar_one() != own
            db.session.remove()


def test_a_connection_returned_inside_a_transaction_is_rolled_back(mysql_url: str) -> None:
    with gateway(mysql_url) as application, application.app_context():
        raw = db.engine.raw_connection()  # outside SQLAlchemy's own transaction tracking
        cursor = raw.cursor()
        cursor.execute(
            "INSERT INTO users (id, email, password_hash, name) "
            "VALUES ('user_pool_probe', 'pool@example.com', 'x', 'Pool')"
        )
        cursor.close()
        with wire() as sent:
            raw.close()  # back to the pool, transaction still open
        assert sent == ["ROLLBACK"]
        found = db.session.execute(text("SELECT COUNT(*) FROM users WHERE id = 'user_pool_probe'"))
        assert found.scalar_one() == 0
        db.session.remove()


def test_a_failed_request_rolls_back_once_and_returns_a_clean_connection(
    mysql_url: str,
) -> None:
    with gateway(mysql_url) as application:
        client = application.test_client()
        assert client.get(HEALTH).status_code == 200
        with wire() as sent:
            response = refused_write(client)
        assert response.status_code == 401
        assert sent[-1] == "ROLLBACK" and sent.count("ROLLBACK") == 1 and "COMMIT" not in sent


def test_zero_threshold_keeps_the_stock_ping_on_every_checkout(mysql_url: str) -> None:
    config = {**load_config({}), "SQLALCHEMY_DATABASE_URI": mysql_url, "DB_PING_IDLE_SECONDS": 0}
    options = engine_options(config)
    assert options["pool_pre_ping"] is True
    assert "pool_reset_on_return" not in options
    with gateway(mysql_url, DB_PING_IDLE_SECONDS=0) as application:
        client = application.test_client()
        assert client.get(HEALTH).status_code == 200
        with wire() as sent:
            response = refused_write(client)
        assert response.status_code == 401
    assert sent[0] == "PING" and sent[-1] == "ROLLBACK"


# --- read-only acts run without a transaction ------------------------------------------------


def test_a_read_act_sends_no_commit_only_its_selects(
    mysql_url: str, client: Any, call_act: Any, make: Any, project: Any, token: str
) -> None:
    flow = make.flow(project)
    assert call_act("flow", id=flow.id, token=token).status_code == 200
    with wire() as sent:
        response = call_act("flow", id=flow.id, token=token)
    assert response.status_code == 200 and response.json["data"]["id"] == flow.id
    assert len(sent) == 1  # the flow with the caller's membership and account check
    assert sent[0].startswith("SELECT")


def test_the_hot_acts_carry_the_account_check_in_their_own_statement(
    mysql_url: str, client: Any, call_act: Any, make: Any, project: Any, token: str
) -> None:
    flow = make.flow(project)
    calls = {
        "flow_toggle_active": ("PUT", flow.id),
        "flows": ("GET", project.id),
        "projects": ("GET", None),
    }
    sent = {}
    for act, (method, ident) in calls.items():
        assert call_act(act, method, id=ident, token=token).status_code == 200
        with wire() as sent[act]:
            assert call_act(act, method, id=ident, token=token).status_code == 200
    lock, change, audit, commit = sent["flow_toggle_active"]
    assert lock.startswith("SELECT") and lock.endswith("FOR UPDATE") and "users" in lock
    assert (change[:6], audit[:6], commit) == ("UPDATE", "INSERT", "COMMIT")
    [listed] = sent["flows"]  # the list with the account and membership as its last columns
    assert "users" in listed and "project_members" in listed and "flow_data" in listed
    [projects] = sent["projects"]
    assert "users" in projects and "FROM projects" in projects


def test_a_write_after_a_read_runs_in_one_committed_transaction(
    mysql_url: str, client: Any, call_act: Any, make: Any, project: Any, token: str
) -> None:
    flow = make.flow(project, is_active=1)
    assert call_act("flow", id=flow.id, token=token).status_code == 200
    with wire() as sent:
        response = call_act("flow_toggle_active", "PUT", id=flow.id, token=token)
    assert response.status_code == 200 and response.json["data"]["is_active"] == 0
    assert sent[0] == "SET AUTOCOMMIT = 0" and sent[-1] == "COMMIT"
    assert make.flow_row(flow.id)["is_active"] == 0
    assert len(make.audit_rows(flow.id)) == 1


def test_a_read_act_that_writes_opens_the_transaction_at_its_first_write(
    mysql_url: str, client: Any, call_act: Any, make: Any, project: Any
) -> None:
    flow = make.flow(project)
    mcp_token = make.mcp_token(project)  # never validated: this read stamps last_validated_at
    with wire() as sent:
        response = call_act("flow", id=flow.id, token=mcp_token)
    assert response.status_code == 200
    first_write = next(i for i, s in enumerate(sent) if s.startswith("UPDATE mcp_client_tokens"))
    assert sent[first_write - 1] == "SET AUTOCOMMIT = 0"
    assert all(s.startswith(("SELECT", "SET AUTOCOMMIT")) for s in sent[:first_write])
    assert sent[-1] == "COMMIT"
    stamped = make.rows(McpClientToken, project_id=project.id)
    assert stamped[0]["last_validated_at"] is not None


def test_a_refused_read_leaves_nothing_open_on_the_connection(
    mysql_url: str, app: Flask, call_act: Any, make: Any, project: Any
) -> None:
    flow = make.flow(project)
    stranger = make.token(make.user())
    with wire() as sent:
        assert call_act("flow", id=flow.id, token=stranger).status_code == 403
        assert call_act("flow", id="flow_missing", token=stranger).status_code == 404
    assert "COMMIT" not in sent and "ROLLBACK" not in sent
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT @@in_transaction").scalar() == 0


def test_a_connection_that_died_before_a_mode_switch_answers_503_and_is_replaced(
    mysql_url: str,
) -> None:
    with gateway(mysql_url) as application:
        client = application.test_client()
        with application.app_context():
            own = db.session.execute(text("SELECT CONNECTION_ID()")).scalar_one()
            db.session.commit()
            db.session.remove()
        assert client.get(HEALTH).status_code == 200  # the connection is now in autocommit
        kill(mysql_url, own)
        login = {"email": "nobody@example.com", "password": "Wrong-Password1"}
        refused = client.post("/gassapi2/backend/?act=login", json=login)  # SET AUTOCOMMIT = 0
        assert refused.status_code == 503 and refused.json["success"] is False, refused.json
        assert client.post("/gassapi2/backend/?act=login", json=login).status_code == 401
