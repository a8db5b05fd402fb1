"""The hot acts check the caller's account inside their own first statement (one round trip less)
and still refuse a token the very next request after it was revoked, disabled or deleted, with
the same answer as every other act and before their own 404 or 403."""

import threading
import time
from typing import Any

import pymysql
import pytest
from flask import Flask

from backend.legacy.clock import now
from tests.factories import Factory
from tests.test_resilience import hold_row_lock
from tests.test_security import revoke_by

REVOKED = (401, "Authentication failed: Token has been invalidated")
DISABLED = (403, "Access denied: User account is disabled")
DELETED = (401, "User not found")


EXPECTED = {"logout-all": REVOKED, "deactivation": DISABLED, "deletion": DELETED}


def hot_calls(project: Any, flow: Any) -> list[tuple[str, str, str | None]]:
    return [
        ("flow", "GET", flow.id),
        ("flow_toggle_active", "PUT", flow.id),
        ("flows", "GET", project.id),
        ("flows_active", "GET", project.id),
        ("projects", "GET", None),
    ]


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_a_revoked_token_is_refused_by_every_hot_act_on_the_next_request(
    kind: str, make: Factory, call_act: Any
) -> None:
    user = make.user()
    project = make.project(user)
    flow = make.flow(project, is_active=1)
    token = make.token(user)
    for act, method, ident in hot_calls(project, flow):
        if kind != "deletion" or act != "flow_toggle_active":  # its audit row keeps the user
            assert call_act(act, method, id=ident, token=token).status_code == 200, act
    audited = len(make.audit_rows(flow.id))
    revoke_by(kind, make, call_act, user, token)
    for act, method, ident in hot_calls(project, flow):
        response = call_act(act, method, id=ident, token=token)
        assert (response.status_code, response.json["message"]) == EXPECTED[kind], act
    if kind != "deletion":
        assert make.flow_row(flow.id)["is_active"] == 0  # toggled once, then refused
        assert len(make.audit_rows(flow.id)) == audited


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_the_refusal_comes_before_the_acts_own_404_and_403(
    kind: str, make: Factory, call_act: Any
) -> None:
    user, stranger = make.user(), make.user()
    own = make.project(user)  # the user's only project
    foreign = make.project(stranger)
    foreign_flow = make.flow(foreign)
    token = make.token(user)
    revoke_by(kind, make, call_act, user, token)
    calls = [
        ("flow", "GET", "flow_missing"),
        ("flow", "GET", foreign_flow.id),
        ("flow_toggle_active", "PUT", "flow_missing"),
        ("flow_toggle_active", "PUT", foreign_flow.id),
        ("flows", "GET", "proj_missing"),
        ("flows", "GET", foreign.id),
        ("flows_active", "GET", foreign.id),
    ]
    for act, method, ident in calls:
        response = call_act(act, method, id=ident, token=token)
        assert (response.status_code, response.json["message"]) == EXPECTED[kind], (act, ident)
    assert make.flow_row(foreign_flow.id)["is_active"] == foreign_flow.is_active
    assert own.id  # the projects list of a user whose projects are gone or hidden:
    lonely = make.user()
    lonely_token = make.token(lonely)
    revoke_by(kind, make, call_act, lonely, lonely_token)
    response = call_act("projects", "GET", token=lonely_token)
    assert (response.status_code, response.json["message"]) == EXPECTED[kind]


def test_a_valid_token_still_gets_the_acts_own_404_and_403(make: Factory, call_act: Any) -> None:
    user, stranger = make.user(), make.user()
    foreign_flow = make.flow(make.project(stranger))
    token = make.token(user)
    assert call_act("flow", id="flow_missing", token=token).status_code == 404
    assert call_act("flow", id=foreign_flow.id, token=token).status_code == 403
    toggled = call_act("flow_toggle_active", "PUT", id=foreign_flow.id, token=token)
    assert toggled.status_code == 403
    assert call_act("flows", id=foreign_flow.project_id, token=token).status_code == 403
    assert call_act("projects", token=token).json["data"] == []


@pytest.mark.parametrize("act", ["flows", "flows_active"])
def test_a_bad_list_filter_is_answered_after_the_callers_refusal(
    act: str, make: Factory, call_act: Any
) -> None:
    user, stranger = make.user(), make.user()
    own, foreign = make.project(user), make.project(stranger)
    make.flow(own, is_active=1), make.flow(foreign, is_active=1)
    token = make.token(user)
    assert call_act(act, id=own.id, token=token, limit="abc").status_code == 400
    assert call_act(act, id=foreign.id, token=token, limit="abc").status_code == 403
    revoke_by("logout-all", make, call_act, user, token)
    refused = call_act(act, id=own.id, token=token, limit="abc")
    assert (refused.status_code, refused.json["message"]) == REVOKED


# --- a change committed while the toggle waits for the row lock (MariaDB leg) ----------------


def hold_and_change(
    database_url: str, flow: Any, changes: list[tuple[str, tuple[Any, ...]]]
) -> pymysql.Connection:
    conn = hold_row_lock(database_url, flow.id)
    with conn.cursor() as cursor:
        for sql, args in changes:
            cursor.execute(sql, args)
    return conn


def toggle_while_locked(app: Flask, holder: Any, flow: Any, token: str) -> Any:
    """The toggle starts while `holder` has the row, which commits once the toggle waits."""
    answers: list[Any] = []
    client = app.test_client()
    path = f"/gassapi2/backend/?act=flow_toggle_active&id={flow.id}"
    headers = {"Authorization": f"Bearer {token}"}
    worker = threading.Thread(target=lambda: answers.append(client.put(path, headers=headers)))
    worker.start()
    time.sleep(0.5)  # not a timing assertion: only lets the toggle reach the lock first
    holder.commit()
    holder.close()
    worker.join(timeout=20)
    return answers[0]


@pytest.fixture
def mysql_only(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        pytest.skip("a row lock held by another connection: MariaDB leg")
    return database_url


def test_an_execution_committed_during_the_lock_wait_stops_the_toggle(
    mysql_only: str, app: Flask, make: Factory
) -> None:
    user = make.user()
    flow = make.flow(make.project(user), is_active=1)
    token = make.token(user)
    with app.app_context():
        stamp = now()  # the gateway's clock: `lease_expires_at` is compared with it
    insert = (
        "INSERT INTO flow_executions (id, flow_id, project_id, status, started_by, started_at,"
        " heartbeat_at, lease_expires_at) VALUES (%s, %s, %s, 'running', %s, %s, %s,"
        " %s + INTERVAL 5 MINUTE)"
    )
    args = ("exec_during_wait", flow.id, flow.project_id, user.id, stamp, stamp, stamp)
    holder = hold_and_change(mysql_only, flow, [(insert, args)])
    response = toggle_while_locked(app, holder, flow, token)
    assert response.status_code == 409, response.json
    assert make.flow_row(flow.id)["is_active"] == 1
    assert make.audit_rows(flow.id) == []


def test_a_logout_all_committed_during_the_lock_wait_refuses_the_toggle(
    mysql_only: str, app: Flask, make: Factory
) -> None:
    user = make.user()
    flow = make.flow(make.project(user), is_active=1)
    token = make.token(user)
    bump = ("UPDATE users SET token_version = token_version + 1 WHERE id = %s", (user.id,))
    holder = hold_and_change(mysql_only, flow, [bump])
    response = toggle_while_locked(app, holder, flow, token)
    assert (response.status_code, response.json["message"]) == REVOKED
    assert make.flow_row(flow.id)["is_active"] == 1
    assert make.audit_rows(flow.id) == []
