"""Hot statements on the request's DBAPI cursor (`backend.db.direct`): the same rows as through
the Session, and list times left as the text the server sent only when that is the wire text."""

from datetime import datetime
from typing import Any

from flask import Flask

from backend.db import db, direct
from backend.legacy.wire import wire_row
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
