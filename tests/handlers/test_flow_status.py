"""flow_activate, flow_deactivate, flows_active, flows_set_active, flow_status_history."""

import json
import re
from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import insert, text, update

from backend.db import db
from backend.models import AuditLog
from services.flows import history
from services.flows import status as flowstatus
from services.paging import Page
from tests.factories import Factory

BROKEN_FLOW = {"version": "1.0", "steps": [{"id": "s1", "name": "No URL"}]}
# toggle-active.md, "Status Change Tracking", in the seed's order.
SEED_AUDIT_KEYS = [
    "event_type",
    "flow_id",
    "old_status",
    "new_status",
    "changed_by",
    "timestamp",
    "ip_address",
]


def owned_flow(make: Factory, **extra: Any) -> tuple[Any, Any, str]:
    owner = make.user()
    project = make.project(owner)
    return project, make.flow(project, **extra), make.token(owner)


# --- flow_activate / flow_deactivate ------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_activate_sets_the_flow_active(make: Factory, call_act: Any, method: str) -> None:
    _, flow, token = owned_flow(make, is_active=0)
    response = call_act("flow_activate", method, id=flow.id, token=token)
    assert response.status_code == 200
    assert response.json["message"] == "Flow activated successfully"
    assert response.json["data"]["id"] == flow.id
    assert response.json["data"]["is_active"] == 1
    assert isinstance(response.json["data"]["flow_data"], str)
    assert make.flow_row(flow.id)["is_active"] == 1


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_deactivate_sets_the_flow_inactive(make: Factory, call_act: Any, method: str) -> None:
    _, flow, token = owned_flow(make)
    response = call_act("flow_deactivate", method, id=flow.id, token=token)
    assert response.status_code == 200
    assert response.json["message"] == "Flow deactivated successfully"
    assert response.json["data"]["is_active"] == 0
    assert make.flow_row(flow.id)["is_active"] == 0


@pytest.mark.parametrize(("act", "state"), [("flow_activate", 1), ("flow_deactivate", 0)])
def test_explicit_status_is_idempotent_and_a_no_op_writes_no_audit_row(
    make: Factory, call_act: Any, act: str, state: int
) -> None:
    _, flow, token = owned_flow(make, is_active=state)
    response = call_act(act, "PUT", id=flow.id, token=token)
    assert response.status_code == 200
    assert response.json["data"]["is_active"] == state
    assert make.audit_rows(flow.id) == []


@pytest.mark.parametrize(
    ("act", "old", "new"), [("flow_activate", 0, 1), ("flow_deactivate", 1, 0)]
)
def test_explicit_status_change_writes_one_audit_row_with_the_reason(
    make: Factory, call_act: Any, act: str, old: int, new: int
) -> None:
    project, flow, token = owned_flow(make, is_active=old)
    call_act(act, "PUT", id=flow.id, token=token, json={"reason": "release 2.1"})
    [row] = make.audit_rows(flow.id)
    assert (row["action"], row["resource_type"], row["project_id"]) == (
        "flow_status_changed",
        "flow",
        project.id,
    )
    assert json.loads(row["old_values"]) == {"is_active": old}
    assert json.loads(row["new_values"]) == {"is_active": new}
    assert json.loads(row["metadata"]) == {"via": act, "reason": "release 2.1"}


def test_status_changes_without_a_body_record_no_reason_whatever_came_before(
    make: Factory, call_act: Any
) -> None:
    _, flow, token = owned_flow(make, is_active=1)
    call_act("flow_deactivate", "PUT", id=flow.id, token=token)
    call_act("flow_activate", "PUT", id=flow.id, token=token, json={"reason": "fixed"})
    call_act("flow_toggle_active", "PUT", id=flow.id, token=token)
    call_act("flow_toggle_active", "PUT", id=flow.id, token=token, data=b"")
    reasons = [json.loads(row["metadata"])["reason"] for row in make.audit_rows(flow.id)]
    assert Counter(reasons) == Counter({None: 3, "fixed": 1})
    assert make.flow_row(flow.id)["is_active"] == 1


@pytest.mark.parametrize(
    ("flow_data", "problem"),
    [
        (BROKEN_FLOW, "Invalid flow format: Step 0 missing method, Step 0 missing URL"),
        ("not json", "Invalid JSON"),
        ("", "Missing flow definition"),
    ],
)
def test_activate_refuses_an_invalid_definition_with_422(
    make: Factory, call_act: Any, flow_data: Any, problem: str
) -> None:
    _, flow, token = owned_flow(make, is_active=0, flow_data=flow_data)
    response = call_act("flow_activate", "PUT", id=flow.id, token=token)
    assert response.status_code == 422
    assert response.json["message"] == "Validation failed: Flow definition is invalid"
    assert response.json["data"]["validation_errors"] == {"flow_data": problem}
    assert make.flow_row(flow.id)["is_active"] == 0
    assert make.audit_rows(flow.id) == []


def test_activate_refuses_an_invalid_ui_definition(make: Factory, call_act: Any) -> None:
    _, flow, token = owned_flow(make, is_active=0, ui_data='{"nodes": [{}], "edges": []}')
    response = call_act("flow_activate", "PUT", id=flow.id, token=token)
    assert response.status_code == 422
    assert "ui_data" in response.json["data"]["validation_errors"]


def test_deactivate_does_not_validate_the_definition(make: Factory, call_act: Any) -> None:
    _, flow, token = owned_flow(make, flow_data=BROKEN_FLOW)
    assert call_act("flow_deactivate", "PUT", id=flow.id, token=token).status_code == 200


def test_deactivate_is_409_while_an_execution_holds_a_live_lease(
    make: Factory, call_act: Any
) -> None:
    _, flow, token = owned_flow(make)
    make.execution(flow)
    response = call_act("flow_deactivate", "PUT", id=flow.id, token=token)
    assert response.status_code == 409
    assert response.json["message"] == "Cannot change status: Flow is currently being executed"
    assert make.flow_row(flow.id)["is_active"] == 1


def test_deactivate_ignores_an_expired_execution(make: Factory, call_act: Any) -> None:
    _, flow, token = owned_flow(make)
    make.execution(flow, lease_seconds=-5)
    assert call_act("flow_deactivate", "PUT", id=flow.id, token=token).status_code == 200


@pytest.mark.parametrize("act", ["flow_activate", "flow_deactivate"])
def test_explicit_status_works_with_the_project_mcp_token(
    make: Factory, call_act: Any, act: str
) -> None:
    project, flow, _ = owned_flow(make)
    response = call_act(act, "PUT", id=flow.id, token=make.mcp_token(project))
    assert response.status_code == 200


@pytest.mark.parametrize("act", ["flow_activate", "flow_deactivate"])
@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("unknown flow", 404, "Not found: Flow not found"),
        ("stranger", 403, "Forbidden"),
        ("no token", 401, "Authentication failed: Authentication required"),
        ("POST", 404, "Not found: Route not found"),
        ("DELETE", 404, "Not found: Route not found"),
        ("long reason", 422, "Validation failed: reason: Longer than maximum length 500."),
    ],
)
def test_explicit_status_errors(
    make: Factory, call_act: Any, act: str, case: str, status: int, message: str
) -> None:
    _, flow, token = owned_flow(make, is_active=0 if act == "flow_activate" else 1)
    kwargs: dict[str, Any] = {"id": flow.id, "token": token}
    method = case if case in ("POST", "DELETE") else "PUT"
    if case == "unknown flow":
        kwargs["id"] = "flow_missing"
    elif case == "stranger":
        kwargs["token"] = make.token(make.user())
    elif case == "no token":
        kwargs["token"] = None
    elif case == "long reason":
        kwargs["json"] = {"reason": "r" * 501}
    response = call_act(act, method, **kwargs)
    assert (response.status_code, response.json["message"]) == (status, message)
    assert make.audit_rows(flow.id) == []


# --- flows_active ---------------------------------------------------------------------------


def test_flows_active_lists_only_active_flows_newest_first(make: Factory, call_act: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    older = make.flow(project, created_at=make._now().replace(year=2024))
    newer = make.flow(project)
    make.flow(project, is_active=0)
    response = call_act("flows_active", "GET", id=project.id, token=make.token(owner))
    assert response.status_code == 200
    assert response.json["message"] == "Active flows fetched"
    assert [row["id"] for row in response.json["data"]] == [newer.id, older.id]


def test_flows_active_rows_carry_the_computed_fields(make: Factory, call_act: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    folder = make.folder(project, "Checkout")
    make.flow(project, folder_id=folder.id)
    [row] = call_act("flows_active", "GET", id=project.id, token=make.token(owner)).json["data"]
    assert list(row)[-3:] == ["folder_name", "step_count", "format_type"]
    assert (row["folder_name"], row["step_count"], row["format_type"]) == (
        "Checkout",
        1,
        "steps",
    )
    assert isinstance(row["flow_data"], str)
    assert row["is_active"] == 1


def test_flows_active_is_an_empty_list_when_nothing_is_active(make: Factory, call_act: Any) -> None:
    project, _, token = owned_flow(make, is_active=0)
    response = call_act("flows_active", "GET", id=project.id, token=token)
    assert response.json["data"] == []


def test_deactivated_flow_leaves_flows_active_and_returns_when_activated(
    make: Factory, call_act: Any
) -> None:
    project, flow, token = owned_flow(make)
    call_act("flow_deactivate", "PUT", id=flow.id, token=token)
    assert call_act("flows_active", "GET", id=project.id, token=token).json["data"] == []
    call_act("flow_activate", "PUT", id=flow.id, token=token)
    listed = call_act("flows_active", "GET", id=project.id, token=token).json["data"]
    assert [row["id"] for row in listed] == [flow.id]


def test_flows_active_is_capped_at_100_rows(make: Factory, call_act: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    for _ in range(101):
        make.flow(project)
    token = make.token(owner)
    assert len(call_act("flows_active", "GET", id=project.id, token=token).json["data"]) == 100
    capped = call_act("flows_active", "GET", id=project.id, token=token, limit="500")
    assert len(capped.json["data"]) == 100


def test_flows_active_filters_by_folder_and_pages(make: Factory, call_act: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    folder = make.folder(project)
    stamp = make._now()
    filed = [
        make.flow(project, folder_id=folder.id, created_at=stamp.replace(year=2020 + i))
        for i in range(3)
    ]
    make.flow(project)
    token = make.token(owner)
    response = call_act(
        "flows_active", "GET", id=project.id, token=token, folder_id=folder.id, limit=2, offset=1
    )
    assert [row["id"] for row in response.json["data"]] == [filed[1].id, filed[0].id]


def test_flows_active_ignores_undefined_filters_like_the_mcp_client_sends(
    make: Factory, call_act: Any
) -> None:
    project, _, token = owned_flow(make)
    plain = call_act("flows_active", "GET", id=project.id, token=token).json["data"]
    mcp = call_act(
        "flows_active",
        "GET",
        id=project.id,
        token=token,
        folder_id="undefined",
        is_active="undefined",
        limit="undefined",
        offset="undefined",
    )
    assert mcp.json["data"] == plain
    assert len(plain) == 1


@pytest.mark.parametrize(
    ("params", "listed"),
    [
        ({"is_active": "1"}, True),
        ({"is_active": "true"}, True),
        ({"is_active": "0"}, True),
        ({"is_active": "false"}, True),
        ({"status": "active"}, True),
        ({"status": "inactive"}, False),
    ],
)
def test_flows_active_keeps_to_active_flows_under_any_filter(
    make: Factory, call_act: Any, params: dict[str, str], listed: bool
) -> None:
    """A false `is_active` lifts no filter the act itself sets; `status=inactive` contradicts it."""
    project, flow, token = owned_flow(make)
    make.flow(project, is_active=0)
    response = call_act("flows_active", "GET", id=project.id, token=token, **params)
    assert [row["id"] for row in response.json["data"]] == ([flow.id] if listed else [])


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("stranger", 403, "Forbidden"),
        ("unknown project", 403, "Forbidden"),
        ("no token", 401, "Authentication failed: Authentication required"),
    ],
)
def test_flows_active_errors(
    make: Factory, call_act: Any, case: str, status: int, message: str
) -> None:
    project, _, token = owned_flow(make)
    ident = "proj_missing" if case == "unknown project" else project.id
    token = {"stranger": make.token(make.user()), "no token": None}.get(case, token)
    response = call_act("flows_active", "GET", id=ident, token=token)
    assert (response.status_code, response.json["message"]) == (status, message)


def test_flows_active_answers_the_frontend_alias(make: Factory, call_act: Any) -> None:
    project, flow, token = owned_flow(make)
    response = call_act("flows_active_list", "GET", id=project.id, token=token)
    assert [row["id"] for row in response.json["data"]] == [flow.id]


# --- flows_set_active -----------------------------------------------------------------------


def project_flows(make: Factory, count: int, **extra: Any) -> tuple[Any, list[Any], str]:
    owner = make.user()
    project = make.project(owner)
    return project, [make.flow(project, **extra) for _ in range(count)], make.token(owner)


@pytest.mark.parametrize(("target", "start"), [(False, 1), (True, 0)])
def test_set_active_changes_every_flow_in_one_request(
    make: Factory, call_act: Any, target: bool, start: int
) -> None:
    project, flows, token = project_flows(make, 3, is_active=start)
    ids = [flow.id for flow in reversed(flows)]
    body = {"flow_ids": ids, "is_active": target, "reason": "A/B switch"}
    response = call_act("flows_set_active", "POST", id=project.id, token=token, json=body)
    assert response.status_code == 200
    assert response.json["message"] == ("Flows activated" if target else "Flows deactivated")
    assert [row["id"] for row in response.json["data"]] == ids
    assert {row["is_active"] for row in response.json["data"]} == {int(target)}
    for flow in flows:
        [row] = make.audit_rows(flow.id)
        assert json.loads(row["metadata"]) == {"via": "flows_set_active", "reason": "A/B switch"}


def test_set_active_skips_flows_already_in_that_state(make: Factory, call_act: Any) -> None:
    project, (done, todo), token = project_flows(make, 2)
    call_act("flow_deactivate", "PUT", id=done.id, token=token)
    body = {"flow_ids": [done.id, todo.id], "is_active": False}
    response = call_act("flows_set_active", "POST", id=project.id, token=token, json=body)
    assert response.status_code == 200
    assert len(make.audit_rows(done.id)) == 1
    assert len(make.audit_rows(todo.id)) == 1


def assert_nothing_changed(make: Factory, flows: list[Any], state: int) -> None:
    for flow in flows:
        assert make.flow_row(flow.id)["is_active"] == state
        assert make.audit_rows(flow.id) == []


def test_set_active_with_an_unknown_flow_changes_nothing(make: Factory, call_act: Any) -> None:
    project, flows, token = project_flows(make, 2)
    body = {"flow_ids": [flows[0].id, "flow_zzz", flows[1].id], "is_active": False}
    response = call_act("flows_set_active", "POST", id=project.id, token=token, json=body)
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Flow not found: flow_zzz"
    assert_nothing_changed(make, flows, 1)


def test_set_active_with_a_flow_of_another_project_changes_nothing(
    make: Factory, call_act: Any
) -> None:
    project, flows, token = project_flows(make, 1)
    foreign = make.flow(make.project(make.user()))
    body = {"flow_ids": [flows[0].id, foreign.id], "is_active": False}
    response = call_act("flows_set_active", "POST", id=project.id, token=token, json=body)
    assert response.status_code == 404
    assert response.json["message"] == f"Not found: Flow not found: {foreign.id}"
    assert_nothing_changed(make, [*flows, foreign], 1)


def test_set_active_with_one_flow_executing_changes_nothing(make: Factory, call_act: Any) -> None:
    project, flows, token = project_flows(make, 3)
    busy = flows[1]
    make.execution(busy)
    body = {"flow_ids": [flow.id for flow in flows], "is_active": False}
    response = call_act("flows_set_active", "POST", id=project.id, token=token, json=body)
    assert response.status_code == 409
    assert response.json["message"] == (
        f"Cannot change status of {busy.id}: Flow is currently being executed"
    )
    assert_nothing_changed(make, flows, 1)


def test_set_active_with_one_invalid_definition_activates_nothing(
    make: Factory, call_act: Any
) -> None:
    project, flows, token = project_flows(make, 2, is_active=0)
    broken = make.flow(project, is_active=0, flow_data=BROKEN_FLOW)
    body = {"flow_ids": [flows[0].id, broken.id, flows[1].id], "is_active": True}
    response = call_act("flows_set_active", "POST", id=project.id, token=token, json=body)
    assert response.status_code == 422
    assert response.json["message"] == f"Validation failed: Flow definition is invalid: {broken.id}"
    assert "flow_data" in response.json["data"]["validation_errors"]
    assert_nothing_changed(make, [*flows, broken], 0)


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("stranger", 403, "Forbidden"),
        ("unknown project", 403, "Forbidden"),
        ("no token", 401, "Authentication failed: Authentication required"),
    ],
)
def test_set_active_access_errors_change_nothing(
    make: Factory, call_act: Any, case: str, status: int, message: str
) -> None:
    project, flows, token = project_flows(make, 1)
    ident = "proj_missing" if case == "unknown project" else project.id
    token = {"stranger": make.token(make.user()), "no token": None}.get(case, token)
    body = {"flow_ids": [flows[0].id], "is_active": False}
    response = call_act("flows_set_active", "POST", id=ident, token=token, json=body)
    assert (response.status_code, response.json["message"]) == (status, message)
    assert_nothing_changed(make, flows, 1)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"is_active": False}, 400, "Invalid request: Required field: Flow ids"),
        ({"flow_ids": ["flow_a"]}, 400, "Invalid request: Required field: Is active"),
        ({}, 400, "Invalid request: Required field: Flow ids, Required field: Is active"),
        ({"flow_ids": [], "is_active": False}, 422, "flow_ids"),
        ({"flow_ids": ["flow_a", "flow_a"], "is_active": False}, 422, "flow_ids"),
        ({"flow_ids": ["flow_a", 7], "is_active": False}, 422, "flow_ids"),
        ({"flow_ids": [""], "is_active": False}, 422, "flow_ids"),
        ({"flow_ids": "flow_a", "is_active": False}, 422, "flow_ids"),
        ({"flow_ids": [f"flow_{i}" for i in range(101)], "is_active": False}, 422, "flow_ids"),
        ({"flow_ids": ["flow_a"], "is_active": "yes"}, 422, "is_active"),
        ({"flow_ids": ["flow_a"], "is_active": False, "reason": "r" * 501}, 422, "reason"),
    ],
)
def test_set_active_refuses_bad_bodies(
    make: Factory, call_act: Any, body: dict[str, Any], status: int, field: str
) -> None:
    project, flows, token = project_flows(make, 1)
    response = call_act("flows_set_active", "POST", id=project.id, token=token, json=body)
    assert response.status_code == status
    if status == 400:
        assert response.json["message"] == field
    else:
        assert field in response.json["data"]["validation_errors"]
    assert_nothing_changed(make, flows, 1)


def test_set_active_refuses_a_missing_body_every_time(make: Factory, call_act: Any) -> None:
    project, flows, token = project_flows(make, 1)
    for _ in range(2):
        response = call_act("flows_set_active", "POST", id=project.id, token=token)
        assert response.status_code == 400
        assert response.json["message"].endswith(
            "Required field: Flow ids, Required field: Is active"
        )
    assert_nothing_changed(make, flows, 1)


def test_set_active_accepts_exactly_100_ids(make: Factory, call_act: Any) -> None:
    project, flows, token = project_flows(make, 1)
    ids = [flows[0].id, *(f"flow_{i:03}" for i in range(99))]
    body = {"flow_ids": ids, "is_active": False}
    response = call_act("flows_set_active", "POST", id=project.id, token=token, json=body)
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Flow not found: flow_000"


def test_set_active_reports_duplicates_by_id(make: Factory, call_act: Any) -> None:
    project, _, token = project_flows(make, 1)
    body = {"flow_ids": ["flow_b", "flow_a", "flow_b"], "is_active": True}
    response = call_act("flows_set_active", "POST", id=project.id, token=token, json=body)
    assert response.json["data"]["validation_errors"]["flow_ids"] == ["Duplicate flow ids: flow_b"]


# --- flow_status_history --------------------------------------------------------------------


def test_status_history_lists_changes_newest_first(make: Factory, call_act: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    flow = make.flow(project)
    token = make.token(owner)
    call_act("flow_toggle_active", "PUT", id=flow.id, token=token)
    call_act("flow_activate", "PUT", id=flow.id, token=token, json={"reason": "fixed"})
    body = {"flow_ids": [flow.id], "is_active": False, "reason": "A/B"}
    call_act("flows_set_active", "POST", id=project.id, token=token, json=body)
    response = call_act("flow_status_history", "GET", id=flow.id, token=token)
    assert response.status_code == 200
    entries = response.json["data"]
    assert [(e["action"], e["old_status"], e["new_status"], e["reason"]) for e in entries] == [
        ("flows_set_active", 1, 0, "A/B"),
        ("flow_activate", 0, 1, "fixed"),
        ("flow_toggle_active", 1, 0, None),
    ]
    assert list(entries[0]) == [*SEED_AUDIT_KEYS, "changed_at", "user_id", "action", "reason"]
    assert {(e["user_id"], e["ip_address"]) for e in entries} == {(owner.id, "127.0.0.1")}
    assert len(entries[0]["changed_at"]) == len("2025-10-25 12:00:00")


def test_status_history_entries_carry_the_seed_audit_keys(make: Factory, call_act: Any) -> None:
    """A reader of the seed's "Status Change Tracking" finds its keys with its meanings."""
    owner = make.user()
    flow, token = make.flow(make.project(owner), is_active=0), make.token(owner)
    call_act("flow_toggle_active", "PUT", id=flow.id, token=token)
    entry = call_act("flow_status_history", "GET", id=flow.id, token=token).json["data"][0]
    assert {key: entry[key] for key in SEED_AUDIT_KEYS if key != "timestamp"} == {
        "event_type": "flow_status_changed",
        "flow_id": flow.id,
        "old_status": 0,
        "new_status": 1,
        "changed_by": owner.id,
        "ip_address": "127.0.0.1",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry["timestamp"])
    assert (entry["changed_by"], entry["old_status"]) == (entry["user_id"], 0)


@pytest.mark.parametrize(
    ("zone", "stored", "utc"),
    [
        ("Asia/Jakarta", "2025-10-25 19:00:00", "2025-10-25T12:00:00Z"),
        ("Asia/Jakarta", "2026-01-01 03:30:00", "2025-12-31T20:30:00Z"),
        ("Europe/Berlin", "2025-07-01 14:00:00", "2025-07-01T12:00:00Z"),
        ("Europe/Berlin", "2025-12-01 13:00:00", "2025-12-01T12:00:00Z"),
    ],
)
def test_status_history_timestamp_is_the_stored_local_time_in_utc(
    app: Flask, make: Factory, call_act: Any, zone: str, stored: str, utc: str
) -> None:
    """`created_at` is APP_TIMEZONE wall-clock time (as the legacy wrote it); `timestamp` is UTC."""
    app.config.update(APP_TIMEZONE=zone, TZINFO=ZoneInfo(zone))
    _, flow, token = owned_flow(make)
    call_act("flow_toggle_active", "PUT", id=flow.id, token=token)
    with app.app_context():
        db.session.execute(
            update(AuditLog.__table__)
            .where(AuditLog.__table__.c.resource_id == flow.id)
            .values(created_at=datetime.fromisoformat(stored))
        )
        db.session.commit()
    entry = call_act("flow_status_history", "GET", id=flow.id, token=token).json["data"][0]
    assert (entry["changed_at"], entry["timestamp"]) == (stored, utc)


def test_status_history_pages_and_shows_only_that_flow(make: Factory, call_act: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    flow, other = make.flow(project), make.flow(project)
    token = make.token(owner)
    for _ in range(3):
        call_act("flow_toggle_active", "PUT", id=flow.id, token=token)
    call_act("flow_toggle_active", "PUT", id=other.id, token=token)
    page = call_act("flow_status_history", "GET", id=flow.id, token=token, limit=2, offset=1)
    assert [e["new_status"] for e in page.json["data"]] == [1, 0]
    everything = call_act("flow_status_history", "GET", id=flow.id, token=token)
    assert len(everything.json["data"]) == 3


def test_status_history_reads_the_newest_audit_rows_not_the_whole_project(
    app: Flask, database_url: str, make: Factory
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("MariaDB's plan on the legacy audit_logs indexes")
    _, flow, _ = owned_flow(make)
    stamp = datetime(2026, 1, 1)
    rows = [
        {
            "id": f"audit_{i:016x}",
            "project_id": flow.project_id,
            "action": flowstatus.STATUS_CHANGED,
            "resource_type": "flow",
            "resource_id": flow.id if i % 20 == 0 else f"flow_other_{i % 20}",
            "created_at": stamp + timedelta(seconds=i),
            "category": "flow",
            "severity": "low",
        }
        for i in range(4000)
    ]
    with app.app_context():
        db.session.execute(insert(AuditLog.__table__), rows)
        db.session.commit()
        db.session.execute(text("ANALYZE TABLE audit_logs")).all()
        statement = history.history_statement(
            {"id": flow.id, "project_id": flow.project_id}, Page(10)
        )
        sql = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = db.session.execute(text(f"EXPLAIN {sql}")).mappings().one()
        db.session.remove()
    assert plan["key"] == "audit_logs_created_at_idx", plan
    assert "filesort" not in (plan["Extra"] or ""), plan


def test_status_history_of_an_unchanged_flow_is_empty(make: Factory, call_act: Any) -> None:
    _, flow, token = owned_flow(make)
    response = call_act("flow_status_history", "GET", id=flow.id, token=token)
    assert (response.status_code, response.json["data"]) == (200, [])


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("unknown flow", 404, "Not found: Flow not found"),
        ("stranger", 403, "Forbidden"),
        ("no token", 401, "Authentication failed: Authentication required"),
        ("bad limit", 400, "Invalid request: limit must be a whole number of at least 1"),
    ],
)
def test_status_history_errors(
    make: Factory, call_act: Any, case: str, status: int, message: str
) -> None:
    _, flow, token = owned_flow(make)
    ident = "flow_missing" if case == "unknown flow" else flow.id
    token = {"stranger": make.token(make.user()), "no token": None}.get(case, token)
    extra = {"limit": "0"} if case == "bad limit" else {}
    response = call_act("flow_status_history", "GET", id=ident, token=token, **extra)
    assert (response.status_code, response.json["message"]) == (status, message)
