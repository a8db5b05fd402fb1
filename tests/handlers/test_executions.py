"""flow_execute, flow_execution_heartbeat, flow_execution_finish, flow_executions."""

import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from tests.factories import Factory

EXECUTION_ID = re.compile(r"exec_[0-9a-f]{32}")
STAMP = "%Y-%m-%d %H:%M:%S"


def owned_flow(make: Factory, **extra: Any) -> tuple[Any, Any, Any, str]:
    owner = make.user()
    project = make.project(owner)
    return owner, project, make.flow(project, **extra), make.token(owner)


def parse(stamp: str) -> datetime:
    return datetime.strptime(stamp, STAMP)


def start(call_act: Any, flow: Any, token: str) -> str:
    response = call_act("flow_execute", "POST", id=flow.id, token=token)
    assert response.status_code == 201
    return response.json["data"]["execution_id"]


# --- flow_execute ---------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "status"), [("GET", 200), ("DELETE", 200), ("POST", 201)])
def test_execute_registers_a_running_execution(
    make: Factory, call_act: Any, method: str, status: int
) -> None:
    _, _, flow, token = owned_flow(make)
    response = call_act("flow_execute", method, id=flow.id, token=token)
    assert response.status_code == status
    assert response.json["message"] == "Flow execution started"
    data = response.json["data"]
    assert list(data) == [
        "flow_id",
        "status",
        "message",
        "execution_time",
        "flow_data",
        "execution_id",
        "lease_expires_at",
    ]
    assert (data["flow_id"], data["status"]) == (flow.id, "running")
    assert data["flow_data"] == flow.flow_data
    assert EXECUTION_ID.fullmatch(data["execution_id"])
    lease = parse(data["lease_expires_at"]) - parse(data["execution_time"])
    assert lease == timedelta(seconds=300)


def test_execute_lease_length_comes_from_configuration(
    app: Flask, make: Factory, call_act: Any
) -> None:
    app.config["EXECUTION_LEASE_SECONDS"] = 45
    _, _, flow, token = owned_flow(make)
    data = call_act("flow_execute", "GET", id=flow.id, token=token).json["data"]
    assert parse(data["lease_expires_at"]) - parse(data["execution_time"]) == timedelta(seconds=45)


def test_execute_records_who_started_it(make: Factory, call_act: Any) -> None:
    owner, project, flow, _ = owned_flow(make)
    member = make.user()
    make.member(project, member)
    start(call_act, flow, make.token(member))
    start(call_act, flow, make.mcp_token(project))
    runs = call_act("flow_executions", "GET", id=flow.id, token=make.token(owner)).json["data"]
    assert [run["started_by"] for run in runs] == [owner.id, member.id]
    assert {run["status"] for run in runs} == {"running"}


def test_execute_refuses_an_inactive_flow_and_registers_nothing(
    make: Factory, call_act: Any
) -> None:
    _, _, flow, token = owned_flow(make, is_active=0)
    response = call_act("flow_execute", "GET", id=flow.id, token=token)
    assert response.status_code == 400
    assert response.json["message"] == "Invalid request: Flow is not active"
    assert call_act("flow_executions", "GET", id=flow.id, token=token).json["data"] == []


def test_deactivated_flow_refuses_new_executions(make: Factory, call_act: Any) -> None:
    _, _, flow, token = owned_flow(make)
    call_act("flow_toggle_active", "PUT", id=flow.id, token=token)
    assert call_act("flow_execute", "POST", id=flow.id, token=token).status_code == 400


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("unknown flow", 404, "Not found: Flow not found"),
        ("stranger", 403, "Forbidden"),
        ("no token", 401, "Authentication failed: Authentication required"),
        ("PUT", 404, "Not found: Route not found"),
    ],
)
def test_execute_errors(make: Factory, call_act: Any, case: str, status: int, message: str) -> None:
    _, _, flow, token = owned_flow(make)
    ident = "flow_missing" if case == "unknown flow" else flow.id
    token = {"stranger": make.token(make.user()), "no token": None}.get(case, token)
    method = "PUT" if case == "PUT" else "GET"
    response = call_act("flow_execute", method, id=ident, token=token)
    assert (response.status_code, response.json["message"]) == (status, message)


def test_running_execution_blocks_status_changes_until_it_finishes(
    make: Factory, call_act: Any
) -> None:
    _, _, flow, token = owned_flow(make)
    run = start(call_act, flow, token)
    assert call_act("flow_toggle_active", "PUT", id=flow.id, token=token).status_code == 409
    assert call_act("flow_deactivate", "PUT", id=flow.id, token=token).status_code == 409
    finish = {"status": "completed"}
    call_act("flow_execution_finish", "POST", id=run, token=token, json=finish)
    assert call_act("flow_deactivate", "PUT", id=flow.id, token=token).status_code == 200


def test_refused_deactivation_leaves_the_execution_running(make: Factory, call_act: Any) -> None:
    _, _, flow, token = owned_flow(make)
    run = start(call_act, flow, token)
    call_act("flow_deactivate", "PUT", id=flow.id, token=token)
    response = call_act("flow_execution_heartbeat", "POST", id=run, token=token)
    assert response.json["data"]["status"] == "running"


# --- flow_execution_heartbeat ---------------------------------------------------------------


def test_heartbeat_extends_the_lease(make: Factory, call_act: Any) -> None:
    _, _, flow, token = owned_flow(make)
    run = start(call_act, flow, token)
    make.set_lease(run, 10)
    response = call_act("flow_execution_heartbeat", "POST", id=run, token=token)
    assert response.status_code == 200
    assert response.json["message"] == "Execution lease extended"
    data = response.json["data"]
    assert (data["id"], data["status"]) == (run, "running")
    assert parse(data["lease_expires_at"]) - parse(data["heartbeat_at"]) == timedelta(seconds=300)


def test_heartbeat_keeps_an_execution_blocking_status_changes(make: Factory, call_act: Any) -> None:
    _, _, flow, token = owned_flow(make)
    run = start(call_act, flow, token)
    make.set_lease(run, 10)  # whole seconds: a 1 s lease ends whenever the clock ticks meanwhile
    call_act("flow_execution_heartbeat", "POST", id=run, token=token)
    assert call_act("flow_toggle_active", "PUT", id=flow.id, token=token).status_code == 409


def test_heartbeat_after_the_lease_expired_is_409(make: Factory, call_act: Any) -> None:
    _, _, flow, token = owned_flow(make)
    run = start(call_act, flow, token)
    make.set_lease(run, -1)
    response = call_act("flow_execution_heartbeat", "POST", id=run, token=token)
    assert response.status_code == 409
    assert response.json["message"] == "Execution is not running (status: expired)"
    assert call_act("flow_toggle_active", "PUT", id=flow.id, token=token).status_code == 200


@pytest.mark.parametrize("final", ["completed", "failed"])
def test_heartbeat_after_finish_is_409(make: Factory, call_act: Any, final: str) -> None:
    _, _, flow, token = owned_flow(make)
    run = start(call_act, flow, token)
    call_act("flow_execution_finish", "POST", id=run, token=token, json={"status": final})
    response = call_act("flow_execution_heartbeat", "POST", id=run, token=token)
    assert response.status_code == 409
    assert response.json["message"] == f"Execution is not running (status: {final})"


# --- flow_execution_finish ------------------------------------------------------------------


@pytest.mark.parametrize(
    "result", [{"steps": [{"id": "s1", "status": 200}]}, [1, "two"], "ok", 3.5, None]
)
def test_finish_records_status_and_result(make: Factory, call_act: Any, result: Any) -> None:
    _, _, flow, token = owned_flow(make)
    run = start(call_act, flow, token)
    body = {"status": "completed", "result": result}
    response = call_act("flow_execution_finish", "POST", id=run, token=token, json=body)
    assert response.status_code == 200
    assert response.json["message"] == "Execution finished"
    data = response.json["data"]
    assert (data["id"], data["status"]) == (run, "completed")
    assert data["finished_at"] is not None
    assert (json.loads(data["result"]) if data["result"] is not None else None) == result


def test_finish_as_failed_without_result(make: Factory, call_act: Any) -> None:
    _, _, flow, token = owned_flow(make)
    run = start(call_act, flow, token)
    response = call_act(
        "flow_execution_finish", "POST", id=run, token=token, json={"status": "failed"}
    )
    assert (response.json["data"]["status"], response.json["data"]["result"]) == ("failed", None)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "Invalid request: Required field: Status"),
        ({"status": None}, 400, "Invalid request: Required field: Status"),
        (
            {"status": "running"},
            422,
            "Validation failed: status: Must be one of: completed, failed.",
        ),
        (
            {"status": "expired"},
            422,
            "Validation failed: status: Must be one of: completed, failed.",
        ),
        (
            {"status": "Completed"},
            422,
            "Validation failed: status: Must be one of: completed, failed.",
        ),
        ({"status": 1}, 422, "Validation failed: status: Not a valid string."),
    ],
)
def test_finish_refuses_other_statuses(
    make: Factory, call_act: Any, body: dict[str, Any], status: int, message: str
) -> None:
    _, _, flow, token = owned_flow(make)
    run = start(call_act, flow, token)
    response = call_act("flow_execution_finish", "POST", id=run, token=token, json=body)
    assert (response.status_code, response.json["message"]) == (status, message)
    assert call_act("flow_toggle_active", "PUT", id=flow.id, token=token).status_code == 409


def test_finish_twice_is_409(make: Factory, call_act: Any) -> None:
    _, _, flow, token = owned_flow(make)
    run = start(call_act, flow, token)
    call_act("flow_execution_finish", "POST", id=run, token=token, json={"status": "completed"})
    again = call_act(
        "flow_execution_finish", "POST", id=run, token=token, json={"status": "failed"}
    )
    assert again.status_code == 409
    assert again.json["message"] == "Execution is not running (status: completed)"
    [row] = call_act("flow_executions", "GET", id=flow.id, token=token).json["data"]
    assert row["status"] == "completed"


def test_finish_after_the_lease_expired_is_409(make: Factory, call_act: Any) -> None:
    _, _, flow, token = owned_flow(make)
    run = start(call_act, flow, token)
    make.set_lease(run, -1)
    response = call_act(
        "flow_execution_finish", "POST", id=run, token=token, json={"status": "completed"}
    )
    assert response.status_code == 409
    assert response.json["message"] == "Execution is not running (status: expired)"


@pytest.mark.parametrize("act", ["flow_execution_heartbeat", "flow_execution_finish"])
@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("unknown execution", 404, "Not found: Execution not found"),
        ("stranger", 403, "Forbidden"),
        ("no token", 401, "Authentication failed: Authentication required"),
        ("GET", 404, "Not found: Route not found"),
    ],
)
def test_execution_update_errors(
    make: Factory, call_act: Any, act: str, case: str, status: int, message: str
) -> None:
    _, _, flow, token = owned_flow(make)
    run = start(call_act, flow, token)
    ident = "exec_missing" if case == "unknown execution" else run
    token = {"stranger": make.token(make.user()), "no token": None}.get(case, token)
    method = "GET" if case == "GET" else "POST"
    response = call_act(act, method, id=ident, token=token, json={"status": "completed"})
    assert (response.status_code, response.json["message"]) == (status, message)


def test_mcp_token_of_another_project_cannot_finish_an_execution(
    make: Factory, call_act: Any
) -> None:
    owner, _, flow, token = owned_flow(make)
    run = start(call_act, flow, token)
    other = make.mcp_token(make.project(owner))
    body = {"status": "completed"}
    response = call_act("flow_execution_finish", "POST", id=run, token=other, json=body)
    assert response.status_code == 403


# --- flow_executions ------------------------------------------------------------------------


def test_executions_are_listed_newest_first(make: Factory, call_act: Any) -> None:
    _, _, flow, token = owned_flow(make)
    runs = [start(call_act, flow, token) for _ in range(3)]
    response = call_act("flow_executions", "GET", id=flow.id, token=token)
    assert response.status_code == 200
    assert response.json["message"] == "Flow executions fetched"
    data = response.json["data"]
    assert [row["id"] for row in data] == runs[::-1]
    assert list(data[0]) == [
        "id",
        "flow_id",
        "project_id",
        "status",
        "started_by",
        "started_at",
        "heartbeat_at",
        "lease_expires_at",
        "finished_at",
        "result",
    ]


def test_expired_execution_is_reported_and_marked_expired(make: Factory, call_act: Any) -> None:
    _, _, flow, token = owned_flow(make)
    run = start(call_act, flow, token)
    make.set_lease(run, -1)
    expired = call_act("flow_executions", "GET", id=flow.id, token=token, status="expired")
    [row] = expired.json["data"]
    assert (row["id"], row["status"]) == (run, "expired")
    assert row["finished_at"] == row["lease_expires_at"]
    running = call_act("flow_executions", "GET", id=flow.id, token=token, status="running")
    assert running.json["data"] == []


def test_executions_filter_by_status_and_page(make: Factory, call_act: Any) -> None:
    _, _, flow, token = owned_flow(make)
    runs = [start(call_act, flow, token) for _ in range(4)]
    call_act("flow_execution_finish", "POST", id=runs[0], token=token, json={"status": "failed"})
    failed = call_act("flow_executions", "GET", id=flow.id, token=token, status="failed")
    assert [row["id"] for row in failed.json["data"]] == [runs[0]]
    paged = call_act("flow_executions", "GET", id=flow.id, token=token, limit=2, offset=1)
    assert [row["id"] for row in paged.json["data"]] == [runs[2], runs[1]]
    mcp = call_act("flow_executions", "GET", id=flow.id, token=token, status="undefined")
    assert len(mcp.json["data"]) == 4


def test_executions_list_only_that_flows_runs(make: Factory, call_act: Any) -> None:
    _, project, flow, token = owned_flow(make)
    other = make.flow(project)
    start(call_act, other, token)
    assert call_act("flow_executions", "GET", id=flow.id, token=token).json["data"] == []


def test_executions_of_an_inactive_flow_stay_readable(make: Factory, call_act: Any) -> None:
    _, _, flow, token = owned_flow(make)
    run = start(call_act, flow, token)
    call_act("flow_execution_finish", "POST", id=run, token=token, json={"status": "completed"})
    call_act("flow_deactivate", "PUT", id=flow.id, token=token)
    [row] = call_act("flow_executions", "GET", id=flow.id, token=token).json["data"]
    assert row["id"] == run


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("unknown flow", 404, "Not found: Flow not found"),
        ("stranger", 403, "Forbidden"),
        ("no token", 401, "Authentication failed: Authentication required"),
        (
            "bad status",
            400,
            "Invalid request: status must be one of: running, completed, failed, expired",
        ),
        ("bad offset", 400, "Invalid request: offset must be a whole number of at least 0"),
        ("POST", 404, "Not found: Route not found"),
    ],
)
def test_executions_list_errors(
    make: Factory, call_act: Any, case: str, status: int, message: str
) -> None:
    _, _, flow, token = owned_flow(make)
    ident = "flow_missing" if case == "unknown flow" else flow.id
    token = {"stranger": make.token(make.user()), "no token": None}.get(case, token)
    extra = {"bad status": {"status": "done"}, "bad offset": {"offset": "-3"}}.get(case, {})
    method = "POST" if case == "POST" else "GET"
    response = call_act("flow_executions", method, id=ident, token=token, **extra)
    assert (response.status_code, response.json["message"]) == (status, message)
