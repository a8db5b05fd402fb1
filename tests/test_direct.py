"""Hot statements on the request's DBAPI cursor (`backend.db.direct`): the same rows as through
the Session, and list times left as the text the server sent only when that is the wire text."""

import socket
from datetime import datetime
from typing import Any

import pymysql
import pytest
from flask import Flask
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import DBAPIError

from backend.db import db, direct, request_connection
from backend.db.transactions import reads_only
from backend.legacy.wire import wire_row
from backend.models import FLOWS
from services import audit
from services.flows import listing, status
from tests.factories import Factory


def test_a_legacy_datetime_stays_text_and_a_fraction_is_parsed() -> None:
    assert direct.text_datetime("2025-01-31 23:59:59") == "2025-01-31 23:59:59"
    assert direct.text_datetime("2025-01-31 23:59:59.250000") == datetime(
        2025, 1, 31, 23, 59, 59, 250000
    )


def test_the_direct_rows_answer_what_the_session_answers(app: Flask, make: Factory) -> None:
    owner = make.user()
    project = make.project(owner)
    flows = [make.flow(project) for _ in range(3)]
    params: dict[str, Any] = {"project_id": project.id, "limit": 100, "offset": 0}
    statement = listing.list_statement((), False)
    detail = {"flow_id": flows[0].id, "user_id": owner.id, "token_version": 0}
    with app.app_context():
        for chosen, values in ((statement, params), (status.FLOW_DETAIL, detail)):
            direct_rows = [wire_row(chosen.names, row) for row in direct.rows(chosen, values)]
            session_rows = [
                wire_row(chosen.names, tuple(row))
                for row in db.session.execute(chosen.statement, values)
            ]
            assert direct_rows == session_rows and direct_rows
        db.session.rollback()


RENAME = direct.Statement(
    update(FLOWS).where(FLOWS.c.id == bindparam("flow_id")).values(name=bindparam("name")),
    ["name"],
)
NAME = direct.Statement(select(FLOWS.c.name).where(FLOWS.c.id == bindparam("flow_id")))
DATA_TOO_LONG = 1406  # MariaDB's error for a value longer than its column (strict mode)


def session_name(flow_id: str) -> str:
    return db.session.execute(select(FLOWS.c.name).where(FLOWS.c.id == flow_id)).scalar_one()


def direct_names(flow_id: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in direct.rows(NAME, {"flow_id": flow_id})]


def test_a_session_used_after_direct_statements_joins_their_transaction(
    app: Flask, make: Factory
) -> None:
    flow = make.flow(make.project(make.user()), name="before")
    with app.app_context():
        direct.execute(RENAME, {"flow_id": flow.id, "name": "direct"})
        assert session_name(flow.id) == "direct"  # the same uncommitted transaction
        db.session.execute(update(FLOWS).where(FLOWS.c.id == flow.id).values(name="orm"))
        assert direct_names(flow.id) == [("orm",)]
        request_connection.rollback(db)  # one rollback undoes both
        assert direct_names(flow.id) == [("before",)]
        request_connection.rollback(db)
    assert make.flow_row(flow.id)["name"] == "before"


def test_direct_statements_use_the_transaction_a_session_began_first(
    app: Flask, make: Factory
) -> None:
    flow = make.flow(make.project(make.user()), name="before")
    with app.app_context():
        db.session.execute(update(FLOWS).where(FLOWS.c.id == flow.id).values(name="orm"))
        assert direct_names(flow.id) == [("orm",)]
        direct.execute(RENAME, {"flow_id": flow.id, "name": "direct"})
        request_connection.commit(db)  # one commit keeps both
    assert make.flow_row(flow.id)["name"] == "direct"


def test_the_request_connection_goes_back_to_the_pool_with_its_work_undone(
    app: Flask, make: Factory
) -> None:
    flow = make.flow(make.project(make.user()), name="before")
    with app.app_context():
        pool = db.engine.pool
        direct.execute(RENAME, {"flow_id": flow.id, "name": "never committed"})
    if hasattr(pool, "checkedout"):  # not kept for the next request: it held a transaction
        assert pool.checkedout() == 0
    assert make.flow_row(flow.id)["name"] == "before"


def test_a_request_connection_that_cannot_roll_back_is_discarded_at_the_end(
    app: Flask, make: Factory, mysql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = make.flow(make.project(make.user()), name="before")
    with app.app_context():
        pool, dialect = db.engine.pool, db.engine.dialect

        def lost(dbapi_connection: Any) -> None:
            raise pymysql.err.OperationalError(2013, "Lost connection to server during query")

        direct.execute(RENAME, {"flow_id": flow.id, "name": "never committed"})
        monkeypatch.setattr(dialect, "do_rollback", lost)
    monkeypatch.undo()
    assert pool.checkedout() == 0
    assert make.flow_row(flow.id)["name"] == "before"


def test_a_write_in_a_read_only_act_begins_the_transaction_the_dispatcher_ends(
    app: Flask, make: Factory
) -> None:
    flow = make.flow(make.project(make.user()), name="before")
    with app.app_context(), reads_only(True):
        assert direct_names(flow.id) == [("before",)]
        direct.execute(RENAME, {"flow_id": flow.id, "name": "undone"})
        request_connection.rollback(db)
        assert direct_names(flow.id) == [("before",)]
    with app.app_context(), reads_only(True):
        direct.execute(RENAME, {"flow_id": flow.id, "name": "kept"})
        request_connection.commit(db)
    assert make.flow_row(flow.id)["name"] == "kept"


# --- writes whose answer nobody reads (`direct.execute_later`) ---------------------------------


def test_a_deferred_write_is_seen_by_the_next_read_and_kept_by_the_commit(
    app: Flask, make: Factory
) -> None:
    flow = make.flow(make.project(make.user()), name="before")
    with app.app_context():
        direct.execute_later(RENAME, {"flow_id": flow.id, "name": "deferred"})
        assert direct_names(flow.id) == [("deferred",)]
        direct.execute_later(RENAME, {"flow_id": flow.id, "name": "at the commit"})
        request_connection.commit(db)
    assert make.flow_row(flow.id)["name"] == "at the commit"


def test_a_rollback_drops_the_deferred_writes(app: Flask, make: Factory) -> None:
    flow = make.flow(make.project(make.user()), name="before")
    with app.app_context():
        direct.execute_later(RENAME, {"flow_id": flow.id, "name": "never sent"})
        request_connection.rollback(db)
        assert direct_names(flow.id) == [("before",)]
        request_connection.commit(db)
    assert make.flow_row(flow.id)["name"] == "before"


def test_a_failed_deferred_write_fails_the_commit_and_the_connection_stays_in_step(
    app: Flask, make: Factory, mysql_url: str
) -> None:
    flow = make.flow(make.project(make.user()), name="before")
    other = make.flow(make.project(make.user()), name="other")
    with app.app_context():
        direct.execute_later(RENAME, {"flow_id": flow.id, "name": "written first"})
        direct.execute_later(RENAME, {"flow_id": flow.id, "name": "x" * 1000})  # too long
        direct.execute_later(RENAME, {"flow_id": other.id, "name": "after the failure"})
        with pytest.raises(DBAPIError) as failed:
            request_connection.commit(db)
        assert failed.value.orig.args[0] == DATA_TOO_LONG
        request_connection.rollback(db)
        assert direct_names(flow.id) == [("before",)]  # the next answer is this read's own
    assert make.flow_row(flow.id)["name"] == "before"
    assert make.flow_row(other.id)["name"] == "other"


def test_a_commit_whose_deferred_write_fails_rolls_the_transaction_back(
    app: Flask, make: Factory, mysql_url: str
) -> None:
    """Also where the COMMIT itself carries them (a commit not made by the dispatcher)."""
    flow = make.flow(make.project(make.user()), name="before")
    with app.app_context():
        connection = request_connection.current(db)
        direct.execute_later(RENAME, {"flow_id": flow.id, "name": "written first"})
        direct.execute_later(RENAME, {"flow_id": flow.id, "name": "x" * 1000})
        with pytest.raises(DBAPIError):
            connection.commit()
        assert direct_names(flow.id) == [("before",)]  # no transaction left open behind it
        request_connection.rollback(db)
    assert make.flow_row(flow.id)["name"] == "before"


def test_a_toggle_whose_audit_row_fails_answers_an_error_and_leaves_the_flow_as_it_was(
    make: Factory, call_act: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    token = make.token(owner)
    monkeypatch.setattr(audit, "audit_id", lambda: "audit_the_same_id_twice")
    assert call_act("flow_toggle_active", "PUT", id=flow.id, token=token).status_code == 200
    refused = call_act("flow_toggle_active", "PUT", id=flow.id, token=token)
    assert refused.status_code == 500 and refused.json["success"] is False
    assert make.flow_row(flow.id)["is_active"] == 0  # the second flip was rolled back
    assert len(make.audit_rows(flow.id)) == 1


def test_a_toggle_sends_its_update_and_audit_row_in_one_write(
    make: Factory, call_act: Any, mysql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    token = make.token(owner)
    call_act("flow_toggle_active", "PUT", id=flow.id, token=token)  # a warm connection
    writes: list[bytes] = []
    send = socket.socket.sendall

    def recorded(sock: socket.socket, data: bytes, *args: Any) -> None:
        writes.append(bytes(data))
        send(sock, data, *args)

    monkeypatch.setattr(socket.socket, "sendall", recorded)
    assert call_act("flow_toggle_active", "PUT", id=flow.id, token=token).status_code == 200
    monkeypatch.undo()
    commands = [data[5:].split(b" ", 1)[0].upper() for data in writes]
    assert commands == [b"SELECT", b"UPDATE", b"COMMIT"]
    assert b"INSERT INTO audit_logs" in writes[1]
    assert make.flow_row(flow.id)["is_active"] == 1
    assert len(make.audit_rows(flow.id)) == 2
