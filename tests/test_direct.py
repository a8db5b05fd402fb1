"""Hot statements on the request's DBAPI cursor (`backend.db.direct`): the same rows as through
the Session, and list times left as the text the server sent only when that is the wire text."""

from datetime import datetime
from typing import Any

import pymysql
import pytest
from flask import Flask
from sqlalchemy import bindparam, select, update

from backend.db import db, direct, request_connection
from backend.db.transactions import reads_only
from backend.legacy.wire import wire_row
from backend.models import FLOWS
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
