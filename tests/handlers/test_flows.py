"""Flow CRUD acts: list, create, detail, update, delete, duplicate, and member scoping."""

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from backend import create_app
from backend.db import db
from backend.models import Flow, Project, User
from tests.conftest import gateway_config
from tests.factories import STEPS_FLOW, Factory
from tests.factories import call_act as call_on

FLOW_COLUMNS = [column.name for column in Flow.__table__.columns]
MCP2_STEPS = {
    "version": "1.0",
    "steps": [
        {
            "id": "get_users",
            "name": "Get users",
            "method": "GET",
            "url": "https://api.example.com/users",
            "headers": '{"Accept":"application/json"}',
            "condition": "always",
        },
        {"id": "create", "method": "POST", "url": "https://api.example.com/users", "body": {}},
    ],
    "config": {"delay": 0, "retryCount": 1, "parallel": False},
}
REACT_FLOW = {
    "nodes": [
        {
            "id": "b",
            "type": "apiCall",
            "position": {"x": 5, "y": 6},
            "data": {"method": "GET", "url": ""},
        },
        {"id": "a", "data": {"name": "First", "method": "POST", "url": "https://x.test/a"}},
        {"id": "c", "data": {"method": "GET", "url": "https://x.test/c"}},
    ],
    "edges": [{"id": "e1", "source": "a", "target": "b"}],
}


def owned(make: Factory) -> tuple[User, Project, str]:
    owner = make.user()
    return owner, make.project(owner), make.token(owner)


def owned_flow(make: Factory, **extra: Any) -> tuple[Project, Flow, str]:
    owner, project, token = owned(make)
    return project, make.flow(project, **extra), token


def stored(make: Factory, flow_id: str, column: str) -> Any:
    return json.loads(make.flow_row(flow_id)[column])


# --- list -------------------------------------------------------------------------------------


def test_list_returns_rows_newest_first_with_computed_fields(make: Factory, call_act: Any) -> None:
    _, project, token = owned(make)
    folder = make.folder(project, "Smoke")
    older = make.flow(project, "Older", folder_id=folder.id)
    newer = make.flow(project, "Newer", flow_data={"nodes": [], "edges": []})
    make.stamp_created(older, datetime(2024, 1, 1, 8, 0, 0))
    make.stamp_created(newer, datetime(2024, 1, 2, 8, 0, 0))

    response = call_act("flows", "GET", id=project.id, token=token)

    assert response.status_code == 200
    assert response.json["message"] == "Flows fetched"
    first, second = response.json["data"]
    assert [first["id"], second["id"]] == [newer.id, older.id]
    assert list(second) == [*FLOW_COLUMNS, "folder_name", "step_count", "format_type"]
    computed = [
        (row["folder_name"], row["step_count"], row["format_type"]) for row in (first, second)
    ]
    assert computed == [(None, 0, "react_flow"), ("Smoke", 1, "steps")]
    assert isinstance(second["flow_data"], str)
    assert second["created_at"] == "2024-01-01 08:00:00"


def test_the_computed_fields_follow_a_definition_changed_between_two_lists(
    make: Factory, call_act: Any
) -> None:
    project, flow, token = owned_flow(make, flow_data=MCP2_STEPS)
    listed = call_act("flows", "GET", id=project.id, token=token).json["data"][0]
    assert (listed["step_count"], listed["format_type"]) == (2, "steps")

    third = {"id": "check", "method": "GET", "url": "https://api.example.com/users/1"}
    longer = {**MCP2_STEPS, "steps": [*MCP2_STEPS["steps"], third]}
    changed = call_act("flow", "PUT", id=flow.id, token=token, json={"flow_data": longer})
    assert changed.status_code == 200
    listed = call_act("flows", "GET", id=project.id, token=token).json["data"][0]
    assert (listed["step_count"], listed["format_type"]) == (3, "steps")


@pytest.mark.parametrize("act", ["flows", "flow_list", "flows_list", "flow_create"])
def test_every_list_alias_lists_on_get(make: Factory, call_act: Any, act: str) -> None:
    project, flow, token = owned_flow(make)
    response = call_act(act, "GET", id=project.id, token=token)
    assert response.status_code == 200
    assert [row["id"] for row in response.json["data"]] == [flow.id]


def test_list_of_project_without_flows_is_empty_array(make: Factory, call_act: Any) -> None:
    _, project, token = owned(make)
    response = call_act("flows", "GET", id=project.id, token=token)
    assert response.json["data"] == []


def test_list_leaves_out_other_projects_flows(make: Factory, call_act: Any) -> None:
    owner, project, token = owned(make)
    make.flow(make.project(owner))
    assert call_act("flows", "GET", id=project.id, token=token).json["data"] == []


def test_list_ignores_undefined_filters_as_mcp2_sends_them(make: Factory, call_act: Any) -> None:
    project, flow, token = owned_flow(make)
    make.flow(project, is_active=0)
    plain = call_act("flows", "GET", id=project.id, token=token).json["data"]
    filtered = call_act(
        "flows",
        "GET",
        base="/index.php/",
        id=project.id,
        token=token,
        folder_id="undefined",
        is_active="undefined",
        limit=50,
        offset=0,
    ).json["data"]
    assert len(plain) == 2
    assert filtered == plain
    assert all("is_active" in row for row in plain)


@pytest.mark.parametrize("act", ["flows", "flows_list", "flow_list"])
def test_mcp2_list_flows_active_only_false_lists_active_and_inactive_flows(
    make: Factory, client: FlaskClient, act: str
) -> None:
    """mcp2's `list_flows {activeOnly: false}` means "not only the active ones" (legacy: all)."""
    project, active, token = owned_flow(make)
    inactive = make.flow(project, is_active=0)
    response = client.get(
        f"/?act={act}&id={project.id}&is_active=false",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert {row["id"] for row in response.json["data"]} == {active.id, inactive.id}


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "On", " true "])
def test_list_with_a_true_is_active_word_lists_only_active_flows(
    make: Factory, call_act: Any, value: str
) -> None:
    project, active, token = owned_flow(make)
    make.flow(project, is_active=0)
    rows = call_act("flows", "GET", id=project.id, token=token, is_active=value).json["data"]
    assert [row["id"] for row in rows] == [active.id]


@pytest.mark.parametrize(
    "value", ["false", "FALSE", "0", "no", "off", "Off", "undefined", "null", "NULL", "", " "]
)
def test_list_with_a_false_is_active_word_lists_every_flow(
    make: Factory, call_act: Any, value: str
) -> None:
    project, active, token = owned_flow(make)
    inactive = make.flow(project, is_active=0)
    rows = call_act("flows", "GET", id=project.id, token=token, is_active=value).json["data"]
    assert {row["id"] for row in rows} == {active.id, inactive.id}


@pytest.mark.parametrize(
    ("params", "listed"),
    [
        ({"status": "inactive"}, {"inactive"}),
        ({"status": "INACTIVE", "is_active": "false"}, {"inactive"}),
        ({"status": "active"}, {"active"}),
        ({"status": "all"}, {"active", "inactive"}),
        ({"status": "undefined"}, {"active", "inactive"}),
        ({"status": "inactive", "is_active": "1"}, set()),
    ],
)
def test_list_status_filter_picks_active_or_inactive_flows(
    make: Factory, call_act: Any, params: dict[str, str], listed: set[str]
) -> None:
    project, active, token = owned_flow(make)
    inactive = make.flow(project, is_active=0)
    names = {active.id: "active", inactive.id: "inactive"}
    rows = call_act("flows", "GET", id=project.id, token=token, **params).json["data"]
    assert {names[row["id"]] for row in rows} == listed


def test_list_filters_on_folder(make: Factory, call_act: Any) -> None:
    project, _, token = owned_flow(make)
    folder = make.folder(project)
    filed = make.flow(project, folder_id=folder.id)
    rows = call_act("flows", "GET", id=project.id, token=token, folder_id=folder.id).json["data"]
    assert [row["id"] for row in rows] == [filed.id]


def test_list_pages_with_limit_and_offset(make: Factory, call_act: Any) -> None:
    _, project, token = owned(make)
    ids = make.many_flows(project, 5)
    rows = call_act("flows", "GET", id=project.id, token=token, limit=2, offset=1).json["data"]
    assert [row["id"] for row in rows] == [ids[3], ids[2]]


@pytest.mark.parametrize("limit", [None, "500"])
def test_list_returns_at_most_100_rows(make: Factory, call_act: Any, limit: str | None) -> None:
    _, project, token = owned(make)
    ids = make.many_flows(project, 101)
    extra = {"limit": limit} if limit else {}
    rows = call_act("flows", "GET", id=project.id, token=token, **extra).json["data"]
    assert len(rows) == 100
    assert rows[0]["id"] == ids[-1]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "abc"}, "limit must be a whole number of at least 1"),
        ({"limit": "0"}, "limit must be a whole number of at least 1"),
        ({"limit": "-5"}, "limit must be a whole number of at least 1"),
        ({"limit": "1.5"}, "limit must be a whole number of at least 1"),
        ({"limit": "²"}, "limit must be a whole number of at least 1"),
        ({"offset": "-1"}, "offset must be a whole number of at least 0"),
        ({"offset": "x"}, "offset must be a whole number of at least 0"),
        ({"offset": "9" * 30}, "offset is too large"),
        ({"offset": "9223372036854775808"}, "offset is too large"),
        ({"offset": "1" * 5000}, "offset is too large"),
        ({"is_active": "maybe"}, "is_active must be true, false, 1 or 0"),
        ({"is_active": "None"}, "is_active must be true, false, 1 or 0"),
        ({"status": "disabled"}, "status must be one of: active, inactive, all"),
    ],
)
@pytest.mark.parametrize("act", ["flows", "flows_active"])
def test_flow_lists_refuse_bad_filters_with_400(
    make: Factory, call_act: Any, act: str, params: dict[str, str], message: str
) -> None:
    """`flows` and `flows_active` share one query schema and one listing service."""
    _, project, token = owned(make)
    response = call_act(act, "GET", id=project.id, token=token, **params)
    assert response.status_code == 400
    assert response.json["message"] == f"Invalid request: {message}"


def test_list_of_unknown_project_is_403(make: Factory, call_act: Any) -> None:
    _, _, token = owned(make)
    response = call_act("flows", "GET", id="proj_missing", token=token)
    assert response.status_code == 403
    assert response.json["message"] == "Forbidden"


# --- create -----------------------------------------------------------------------------------


def mcp2_body(project: Project, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Users smoke test",
        "description": "Created by mcp2",
        "folder_id": None,
        "flow_data": MCP2_STEPS,
        "flow_inputs": [],
        "project_id": project.id,
        "is_active": True,
        **extra,
    }


def test_create_with_mcp2_body_and_mcp_token(make: Factory, call_act: Any) -> None:
    owner, project, _ = owned(make)
    response = call_act(
        "flow_create",
        "POST",
        base="/index.php/",
        id=project.id,
        token=make.mcp_token(project),
        json=mcp2_body(project),
    )
    assert response.status_code == 201
    assert response.json["message"] == "Flow created"
    data = response.json["data"]
    assert data["id"].startswith("flow_") and len(data["id"]) == 37
    assert list(data) == FLOW_COLUMNS
    assert (data["is_active"], data["folder_id"], data["created_by"]) == (1, None, owner.id)
    assert (data["flow_inputs"], data["project_id"]) == ("[]", project.id)
    assert isinstance(data["flow_data"], str) and isinstance(data["ui_data"], str)
    assert make.flow_row(data["id"])["name"] == "Users smoke test"


def test_create_stores_steps_as_sent_with_string_headers(make: Factory, call_act: Any) -> None:
    _, project, token = owned(make)
    created = call_act("flow_create", "POST", id=project.id, token=token, json=mcp2_body(project))
    flow_id = created.json["data"]["id"]

    data = call_act("flow", "GET", id=flow_id, token=token).json["data"]

    assert json.loads(data["flow_data"]) == MCP2_STEPS
    assert json.loads(data["flow_data"])["steps"][0]["headers"] == '{"Accept":"application/json"}'
    assert "https:\\/\\/api.example.com" in data["flow_data"]  # PHP's json_encode spelling
    ui = json.loads(data["ui_data"])
    assert [node["id"] for node in ui["nodes"]] == ["get_users", "create"]
    assert ui["edges"] == [
        {
            "id": "edge-get_users-create",
            "source": "get_users",
            "target": "create",
            "type": "smoothstep",
        }
    ]


def test_create_with_react_flow_stores_it_and_derives_steps(make: Factory, call_act: Any) -> None:
    _, project, token = owned(make)
    body = {"name": "Graph", "flow_data": REACT_FLOW}
    flow_id = call_act("flows", "POST", id=project.id, token=token, json=body).json["data"]["id"]
    assert stored(make, flow_id, "ui_data") == REACT_FLOW
    steps = stored(make, flow_id, "flow_data")
    assert [step["id"] for step in steps["steps"]] == ["a", "c", "b"]
    assert steps["steps"][1] == {
        "id": "c",
        "name": "c",
        "method": "GET",
        "url": "https://x.test/c",
        "headers": [],
        "body": None,
        "outputs": [],
        "tests": [],
    }
    assert steps["config"] == {"delay": 0, "retryCount": 1, "parallel": False}


def test_create_with_name_only_uses_the_defaults(make: Factory, call_act: Any) -> None:
    _, project, token = owned(make)
    data = call_act("flows", "POST", id=project.id, token=token, json={"name": "Bare"}).json["data"]
    assert json.loads(data["flow_data"]) == {
        "version": "1.0",
        "steps": [],
        "config": {"delay": 0, "retryCount": 1, "parallel": False},
    }
    assert json.loads(data["ui_data"]) == {"nodes": [], "edges": []}
    assert (data["is_active"], data["flow_inputs"], data["description"]) == (1, "[]", None)


@pytest.mark.parametrize("act", ["flows", "flow_create", "flow_list", "flows_list"])
def test_every_create_alias_creates_on_post(make: Factory, call_act: Any, act: str) -> None:
    _, project, token = owned(make)
    response = call_act(act, "POST", id=project.id, token=token, json={"name": "Via " + act})
    assert response.status_code == 201
    assert make.flow_row(response.json["data"]["id"])["name"] == "Via " + act


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, 1), (False, 0), (1, 1), (0, 0), ("1", 1), ("0", 0), ("false", 1), (None, 1)],
)
def test_create_takes_is_active_with_php_truthiness(
    make: Factory, call_act: Any, value: Any, expected: int
) -> None:
    _, project, token = owned(make)
    body = {"name": "Flag", "is_active": value}
    data = call_act("flows", "POST", id=project.id, token=token, json=body).json["data"]
    assert data["is_active"] == expected
    assert make.flow_row(data["id"])["is_active"] == expected


def test_create_stores_text_as_sent_but_trimmed(make: Factory, call_act: Any) -> None:
    _, project, token = owned(make)
    body = {"name": "  Tom & Jerry's <b>flow</b> ", "description": "Hotel: a < b?id=1"}
    data = call_act("flows", "POST", id=project.id, token=token, json=body).json["data"]
    assert data["name"] == "Tom & Jerry's <b>flow</b>"
    assert make.flow_row(data["id"])["description"] == "Hotel: a < b?id=1"


def test_create_accepts_bare_environment_references(make: Factory, call_act: Any) -> None:
    _, project, token = owned(make)
    steps = {"version": "1.0", "steps": [{"id": "s", "method": "GET", "url": "{{baseUrl}}/u"}]}
    body = {"name": "Env", "flow_data": steps}
    assert call_act("flows", "POST", id=project.id, token=token, json=body).status_code == 201


@pytest.mark.parametrize("folder_id", ["", None])
def test_create_without_folder_files_nowhere(make: Factory, call_act: Any, folder_id: Any) -> None:
    _, project, token = owned(make)
    body = {"name": "Loose", "folder_id": folder_id}
    response = call_act("flows", "POST", id=project.id, token=token, json=body)
    assert response.status_code == 201
    assert response.json["data"]["folder_id"] is None


def test_create_in_a_folder_of_the_project(make: Factory, call_act: Any) -> None:
    _, project, token = owned(make)
    folder = make.folder(project)
    body = {"name": "Filed", "folder_id": folder.id}
    flow_id = call_act("flows", "POST", id=project.id, token=token, json=body).json["data"]["id"]
    detail = call_act("flow", "GET", id=flow_id, token=token).json["data"]
    assert (detail["folder_id"], detail["folder_name"]) == (folder.id, folder.name)


@pytest.mark.parametrize(
    "inputs",
    [
        [{"name": "email", "type": "email", "validation": {"pattern": "/^.+@.+$/"}}],
        [],
        {},
    ],
)
def test_create_stores_flow_inputs_as_json_text(make: Factory, call_act: Any, inputs: Any) -> None:
    _, project, token = owned(make)
    body = {"name": "Inputs", "flow_inputs": inputs}
    data = call_act("flows", "POST", id=project.id, token=token, json=body).json["data"]
    assert json.loads(data["flow_inputs"]) == inputs


@pytest.mark.parametrize(
    ("minimum", "status"),
    [("12", 201), (" 12 ", 201), ("\u0661\u0662", 400), ("\uff11\uff12", 400)],
)
def test_create_reads_flow_input_numbers_as_php_is_numeric_does(
    make: Factory, call_act: Any, minimum: str, status: int
) -> None:
    """ASCII digits only: Arabic-Indic «١٢» or full-width «１２» are no number for PHP."""
    _, project, token = owned(make)
    inputs = [{"name": "count", "type": "number", "validation": {"min": minimum}}]
    body = {"name": "Numbers", "flow_inputs": inputs}
    response = call_act("flows", "POST", id=project.id, token=token, json=body)
    assert response.status_code == status
    if status == 400:
        assert response.json["message"] == (
            "Invalid request: Invalid flow inputs: Input 0: min must be numeric for number type"
        )


LEGACY_CREATE_ERRORS = [
    ({}, "Invalid request: Required field: Name"),
    ({"name": ""}, "Invalid request: Required field: Name"),
    ({"name": None}, "Invalid request: Required field: Name"),
    ({"name": "   "}, "Invalid request: Flow name cannot be empty"),
    ({"name": "<script>alert(1)</script>"}, "Invalid request: Input contains invalid content"),
    (
        {"name": "x", "description": "javascript:alert(1)"},
        "Invalid request: Input contains invalid content",
    ),
    ({"name": "n" * 256}, "Invalid request: Input too long (max 255 characters)"),
    (
        {"name": "x", "description": "d" * 1001},
        "Invalid request: Input too long (max 1000 characters)",
    ),
    (
        {"name": "x", "flow_inputs": "email"},
        "Invalid request: Invalid flow inputs: flow_inputs must be an array",
    ),
    (
        {"name": "x", "flow_inputs": [{"name": "1st", "type": "text"}]},
        "Invalid request: Invalid flow inputs: Input 0: name must be a valid variable name "
        "(start with letter/underscore, only alphanumeric and underscore), "
        "Input 0: type must be one of: string, number, boolean, email, password, object, "
        "array, file, date, json",
    ),
    (
        {"name": "x", "folder_id": "col_missing"},
        "Invalid request: Folder does not belong to this project",
    ),
    (
        {"name": "x", "flow_data": {}},
        "Invalid request: Invalid flow format: Missing steps array, Missing version",
    ),
    (
        {"name": "x", "flow_data": {"nodes": [{"id": "t", "data": {}}], "edges": []}},
        "Invalid request: Invalid flow format: Node 0 missing method, Node 0 missing URL",
    ),
    (
        {
            "name": "x",
            "flow_data": {
                "version": "1",
                "steps": [{"id": "s", "method": "GET", "url": "/{{a.b-c}}"}],
            },
        },
        "Invalid request: Invalid variable references: "
        "Step 0: Invalid field name 'b-c' in reference 'a.b-c'",
    ),
]


@pytest.mark.parametrize(("body", "message"), LEGACY_CREATE_ERRORS)
def test_create_refuses_bad_input_with_legacy_400(
    make: Factory, call_act: Any, body: dict[str, Any], message: str
) -> None:
    _, project, token = owned(make)
    response = call_act("flows", "POST", id=project.id, token=token, json=body)
    assert response.status_code == 400
    assert response.json["message"] == message
    assert make.rows(Flow, project_id=project.id) == []


@pytest.mark.parametrize(
    "body",
    [{"name": {"a": 1}}, {"name": "x", "is_active": {"a": 1}}, {"name": "x", "folder_id": [1]}],
)
def test_create_refuses_wrong_types_with_422(
    make: Factory, call_act: Any, body: dict[str, Any]
) -> None:
    _, project, token = owned(make)
    response = call_act("flows", "POST", id=project.id, token=token, json=body)
    assert response.status_code == 422
    assert response.json["data"]["field_count"] == 1


@pytest.mark.parametrize(
    ("raw", "status", "message"),
    [
        ("{bad", 400, "Invalid request: Invalid JSON format"),
        ("[1]", 400, "Invalid request: Request body must be a JSON object"),
        ('{"name":"' + "x" * 1_048_577 + '"}', 413, "Input too large"),
    ],
)
def test_create_refuses_unreadable_bodies(
    make: Factory, call_act: Any, raw: str, status: int, message: str
) -> None:
    _, project, token = owned(make)
    response = call_act("flows", "POST", id=project.id, token=token, data=raw)
    assert (response.status_code, response.json["message"]) == (status, message)


def test_create_in_a_folder_of_another_project_is_400(make: Factory, call_act: Any) -> None:
    owner, project, token = owned(make)
    foreign = make.folder(make.project(owner))
    body = {"name": "x", "folder_id": foreign.id}
    response = call_act("flows", "POST", id=project.id, token=token, json=body)
    assert response.status_code == 400
    assert response.json["message"] == "Invalid request: Folder does not belong to this project"


def test_create_with_a_taken_name_is_409(make: Factory, call_act: Any) -> None:
    project, flow, token = owned_flow(make)
    response = call_act("flows", "POST", id=project.id, token=token, json={"name": flow.name})
    assert response.status_code == 409
    assert response.json["message"] == "A flow with this name already exists in this project"
    assert len(make.rows(Flow, project_id=project.id)) == 1


def test_same_name_in_another_project_is_fine(make: Factory, call_act: Any) -> None:
    owner, project, token = owned(make)
    make.flow(make.project(owner), "Shared name")
    body = {"name": "Shared name"}
    assert call_act("flows", "POST", id=project.id, token=token, json=body).status_code == 201


# --- detail -----------------------------------------------------------------------------------


@pytest.mark.parametrize("act", ["flow", "flow_get", "flow_detail", "flow_update", "flow_delete"])
def test_detail_returns_row_with_folder_name_in_every_alias(
    make: Factory, call_act: Any, act: str
) -> None:
    _, project, token = owned(make)
    folder = make.folder(project, "Checkout")
    flow = make.flow(project, folder_id=folder.id, flow_inputs='[{"name":"x","type":"string"}]')

    response = call_act(act, "GET", id=flow.id, token=token)

    assert response.status_code == 200
    assert response.json["message"] == "Flow detail"
    data = response.json["data"]
    assert list(data) == [*FLOW_COLUMNS, "folder_name"]
    assert (data["id"], data["folder_name"], data["is_active"]) == (flow.id, "Checkout", 1)
    assert data["flow_inputs"] == '[{"name":"x","type":"string"}]'
    assert json.loads(data["flow_data"]) == STEPS_FLOW


def test_detail_of_unfiled_flow_has_null_folder_name(make: Factory, call_act: Any) -> None:
    _, flow, token = owned_flow(make)
    assert call_act("flow", "GET", id=flow.id, token=token).json["data"]["folder_name"] is None


def test_detail_with_project_mcp_token(make: Factory, call_act: Any) -> None:
    project, flow, _ = owned_flow(make)
    response = call_act(
        "flow", "GET", base="/index.php/", id=flow.id, token=make.mcp_token(project)
    )
    assert response.status_code == 200


# --- update -----------------------------------------------------------------------------------


def test_update_changes_name_and_description(make: Factory, call_act: Any) -> None:
    _, flow, token = owned_flow(make)
    body = {"name": " Renamed ", "description": ""}
    response = call_act("flow_update", "PUT", id=flow.id, token=token, json=body)
    assert response.status_code == 200
    assert response.json["message"] == "Flow updated"
    data = response.json["data"]
    assert list(data) == FLOW_COLUMNS
    assert (data["name"], data["description"]) == ("Renamed", "")
    row = make.flow_row(flow.id)
    assert (row["name"], row["description"]) == ("Renamed", "")


def test_update_with_steps_flow_data_stores_both_formats(make: Factory, call_act: Any) -> None:
    _, flow, token = owned_flow(make)
    body = {"flow_data": MCP2_STEPS}
    response = call_act("flow_update", "PUT", id=flow.id, token=token, json=body)
    assert response.status_code == 200
    assert json.loads(response.json["data"]["flow_data"]) == MCP2_STEPS
    assert stored(make, flow.id, "flow_data") == MCP2_STEPS
    assert len(stored(make, flow.id, "ui_data")["nodes"]) == 2


def test_update_with_react_flow_converts_it(make: Factory, call_act: Any) -> None:
    _, flow, token = owned_flow(make)
    call_act("flow_update", "PUT", id=flow.id, token=token, json={"flow_data": REACT_FLOW})
    assert stored(make, flow.id, "ui_data") == REACT_FLOW
    assert [step["id"] for step in stored(make, flow.id, "flow_data")["steps"]] == ["a", "c", "b"]


def test_update_honours_flow_inputs(make: Factory, call_act: Any) -> None:
    _, flow, token = owned_flow(make)
    inputs = [{"name": "user_id", "type": "number", "validation": {"min": 1, "max": 9}}]
    call_act("flow_update", "PUT", id=flow.id, token=token, json={"flow_inputs": inputs})
    assert stored(make, flow.id, "flow_inputs") == inputs


@pytest.mark.parametrize("folder_id", ["", None])
def test_update_can_take_a_flow_out_of_its_folder(
    make: Factory, call_act: Any, folder_id: Any
) -> None:
    _, project, token = owned(make)
    flow = make.flow(project, folder_id=make.folder(project).id)
    body = {"folder_id": folder_id}
    response = call_act("flow_update", "PUT", id=flow.id, token=token, json=body)
    assert response.status_code == 200
    assert make.flow_row(flow.id)["folder_id"] is None


def test_update_moves_a_flow_into_a_folder(make: Factory, call_act: Any) -> None:
    _, project, token = owned(make)
    flow, folder = make.flow(project), make.folder(project)
    call_act("flow_update", "PUT", id=flow.id, token=token, json={"folder_id": folder.id})
    assert make.flow_row(flow.id)["folder_id"] == folder.id


def test_update_with_empty_body_touches_only_updated_at(make: Factory, call_act: Any) -> None:
    _, flow, token = owned_flow(make)
    before = make.flow_row(flow.id)
    response = call_act("flow_update", "PUT", id=flow.id, token=token)
    assert response.status_code == 200
    after = make.flow_row(flow.id)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }
    assert make.audit_rows(flow.id) == []


@pytest.mark.parametrize(
    ("value", "expected"), [(False, 0), (0, 0), ("0", 0), (True, 1), (1, 1), ("1", 1)]
)
def test_update_sets_is_active_from_every_client_form(
    make: Factory, call_act: Any, value: Any, expected: int
) -> None:
    _, flow, token = owned_flow(make, is_active=1 - expected)
    body = {"is_active": value}
    response = call_act("flow_update", "PUT", id=flow.id, token=token, json=body)
    assert response.json["data"]["is_active"] == expected
    assert make.flow_row(flow.id)["is_active"] == expected


def test_update_status_change_writes_one_audit_row(make: Factory, call_act: Any) -> None:
    _, flow, token = owned_flow(make)
    body = {"is_active": False, "name": "Paused"}
    call_act("flow_update", "PUT", id=flow.id, token=token, json=body)
    (audit,) = make.audit_rows(flow.id)
    assert audit["action"] == "flow_status_changed"
    assert (json.loads(audit["old_values"]), json.loads(audit["new_values"])) == (
        {"is_active": 1},
        {"is_active": 0},
    )
    assert json.loads(audit["metadata"])["via"] == "flow_update"
    assert make.flow_row(flow.id)["name"] == "Paused"


def test_update_to_the_current_status_writes_no_audit_row(make: Factory, call_act: Any) -> None:
    _, flow, token = owned_flow(make)
    response = call_act("flow_update", "PUT", id=flow.id, token=token, json={"is_active": 1})
    assert response.status_code == 200
    assert make.audit_rows(flow.id) == []


def test_update_status_while_executing_is_409_and_writes_nothing(
    make: Factory, call_act: Any
) -> None:
    _, flow, token = owned_flow(make)
    make.execution(flow)
    body = {"is_active": False, "name": "Renamed"}
    response = call_act("flow_update", "PUT", id=flow.id, token=token, json=body)
    assert response.status_code == 409
    assert response.json["message"] == "Cannot change status: Flow is currently being executed"
    row = make.flow_row(flow.id)
    assert (row["is_active"], row["name"]) == (1, flow.name)
    assert make.audit_rows(flow.id) == []


def test_update_other_fields_while_executing_is_allowed(make: Factory, call_act: Any) -> None:
    _, flow, token = owned_flow(make)
    make.execution(flow)
    body = {"name": "Renamed", "is_active": True}
    assert call_act("flow_update", "PUT", id=flow.id, token=token, json=body).status_code == 200


def test_update_activating_an_invalid_definition_is_422(make: Factory, call_act: Any) -> None:
    broken = {"version": "1.0", "steps": [{"id": "s"}]}
    _, flow, token = owned_flow(make, is_active=0, flow_data=broken)
    response = call_act("flow_update", "PUT", id=flow.id, token=token, json={"is_active": 1})
    assert response.status_code == 422
    assert response.json["message"] == "Validation failed: Flow definition is invalid"
    assert make.flow_row(flow.id)["is_active"] == 0


def test_update_activating_with_a_fixed_definition_succeeds(make: Factory, call_act: Any) -> None:
    broken = {"version": "1.0", "steps": [{"id": "s"}]}
    _, flow, token = owned_flow(make, is_active=0, flow_data=broken)
    body = {"is_active": 1, "flow_data": STEPS_FLOW}
    response = call_act("flow_update", "PUT", id=flow.id, token=token, json=body)
    assert response.status_code == 200
    assert response.json["data"]["is_active"] == 1


def test_update_to_a_taken_name_is_409(make: Factory, call_act: Any) -> None:
    project, flow, token = owned_flow(make)
    other = make.flow(project)
    response = call_act("flow_update", "PUT", id=flow.id, token=token, json={"name": other.name})
    assert response.status_code == 409
    assert response.json["message"] == "A flow with this name already exists in this project"
    assert make.flow_row(flow.id)["name"] == flow.name


def test_update_keeping_its_own_name_is_fine(make: Factory, call_act: Any) -> None:
    _, flow, token = owned_flow(make)
    body = {"name": flow.name}
    assert call_act("flow_update", "PUT", id=flow.id, token=token, json=body).status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, "Invalid request: Flow name cannot be empty"),
        ({"name": "<iframe src=x>"}, "Invalid request: Input contains invalid content"),
        ({"folder_id": "col_missing"}, "Invalid request: Folder does not belong to this project"),
        ({"flow_inputs": 5}, "Invalid request: Invalid flow inputs: flow_inputs must be an array"),
        (
            {"flow_data": {"steps": [{"id": "s", "url": "/"}]}},
            "Invalid request: Invalid flow format: Step 0 missing method, Missing version",
        ),
        (
            {"flow_data": {"version": 1, "steps": [{"id": "s", "method": "GET", "url": "{{ }}"}]}},
            "Invalid request: Invalid variable references: Step 0: Empty variable reference",
        ),
    ],
)
def test_update_refuses_bad_input_and_keeps_the_row(
    make: Factory, call_act: Any, body: dict[str, Any], message: str
) -> None:
    _, flow, token = owned_flow(make)
    before = make.flow_row(flow.id)
    response = call_act("flow_update", "PUT", id=flow.id, token=token, json=body)
    assert response.status_code == 400
    assert response.json["message"] == message
    assert make.flow_row(flow.id) == before


@pytest.mark.parametrize("act", ["flow", "flow_get", "flow_detail", "flow_update", "flow_delete"])
def test_put_on_every_flow_alias_updates(make: Factory, call_act: Any, act: str) -> None:
    _, flow, token = owned_flow(make)
    response = call_act(act, "PUT", id=flow.id, token=token, json={"name": "Via " + act})
    assert response.status_code == 200
    assert make.flow_row(flow.id)["name"] == "Via " + act


def test_update_of_unknown_flow_is_404(make: Factory, call_act: Any) -> None:
    _, _, token = owned(make)
    response = call_act("flow_update", "PUT", id="flow_missing", token=token, json={"name": "x"})
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Flow not found"


# --- delete -----------------------------------------------------------------------------------


@pytest.mark.parametrize("act", ["flow_delete", "flow", "flow_get", "flow_detail", "flow_update"])
def test_delete_on_every_flow_alias_deletes(make: Factory, call_act: Any, act: str) -> None:
    _, flow, token = owned_flow(make)
    response = call_act(act, "DELETE", base="/index.php/", id=flow.id, token=token)
    assert response.status_code == 200
    assert response.json["message"] == "Flow deleted"
    assert response.json["data"] == {"id": flow.id}
    assert make.flow_row(flow.id) is None
    assert call_act("flow", "GET", id=flow.id, token=token).status_code == 404


def test_delete_while_executing_is_409(make: Factory, call_act: Any) -> None:
    _, flow, token = owned_flow(make)
    make.execution(flow)
    response = call_act("flow_delete", "DELETE", id=flow.id, token=token)
    assert response.status_code == 409
    assert response.json["message"] == "Cannot delete flow: Flow is currently being executed"
    assert make.flow_row(flow.id) is not None


def test_delete_after_the_lease_expired_removes_the_executions(
    make: Factory, call_act: Any
) -> None:
    _, flow, token = owned_flow(make)
    make.execution(flow, lease_seconds=-1)
    assert call_act("flow_delete", "DELETE", id=flow.id, token=token).status_code == 200
    assert make.flow_row(flow.id) is None


def test_delete_of_unknown_flow_is_404(make: Factory, call_act: Any) -> None:
    _, _, token = owned(make)
    response = call_act("flow_delete", "DELETE", id="flow_missing", token=token)
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Flow not found"


# --- duplicate --------------------------------------------------------------------------------


def test_duplicate_copies_everything_but_identity_status_and_author(
    make: Factory, call_act: Any
) -> None:
    _, project, _ = owned(make)
    member = make.user()
    make.member(project, member)
    inputs, ui = '[{"name":"sku","type":"string"}]', '{"nodes":[],"edges":[]}'
    source = make.flow(
        project, "Checkout", folder_id=make.folder(project).id, flow_inputs=inputs, ui_data=ui
    )

    response = call_act("flow_duplicate", "POST", id=source.id, token=make.token(member))

    assert response.status_code == 201
    assert response.json["message"] == "Flow duplicated"
    copy = response.json["data"]
    assert list(copy) == FLOW_COLUMNS
    assert copy["id"] != source.id
    assert (copy["name"], copy["is_active"], copy["created_by"]) == (
        "Checkout (Copy)",
        0,
        member.id,
    )
    original = make.flow_row(source.id)
    for column in ("description", "project_id", "folder_id", "flow_data", "flow_inputs", "ui_data"):
        assert copy[column] == original[column]


def test_repeated_duplicates_get_numbered_copy_names(make: Factory, call_act: Any) -> None:
    _, source, token = owned_flow(make, name="Smoke")
    names = [
        call_act("flow_duplicate", "POST", id=source.id, token=token).json["data"]["name"]
        for _ in range(3)
    ]
    assert names == ["Smoke (Copy)", "Smoke (Copy 2)", "Smoke (Copy 3)"]


def test_duplicate_of_a_long_name_stays_within_the_column(make: Factory, call_act: Any) -> None:
    _, source, token = owned_flow(make, name="L" * 255)
    response = call_act("flow_duplicate", "POST", id=source.id, token=token)
    assert response.status_code == 201
    name = response.json["data"]["name"]
    assert len(name) <= 255 and name.endswith(" (Copy)")


@pytest.mark.parametrize("name", ["", None, "   "])
def test_duplicate_with_blank_name_picks_the_copy_name(
    make: Factory, call_act: Any, name: Any
) -> None:
    _, source, token = owned_flow(make, name="Base")
    body = {"name": name}
    response = call_act("flow_duplicate", "POST", id=source.id, token=token, json=body)
    assert response.json["data"]["name"] == "Base (Copy)"


def test_duplicate_takes_name_description_and_folder(make: Factory, call_act: Any) -> None:
    project, source, token = owned_flow(make)
    folder = make.folder(project)
    body = {"name": "Fork", "description": "Forked", "folder_id": folder.id}
    copy = call_act("flow_duplicate", "POST", id=source.id, token=token, json=body).json["data"]
    assert (copy["name"], copy["description"], copy["folder_id"]) == ("Fork", "Forked", folder.id)


def test_duplicate_with_a_taken_name_is_409(make: Factory, call_act: Any) -> None:
    project, source, token = owned_flow(make)
    body = {"name": source.name}
    response = call_act("flow_duplicate", "POST", id=source.id, token=token, json=body)
    assert response.status_code == 409
    assert response.json["message"] == "A flow with this name already exists in this project"
    assert len(make.rows(Flow, project_id=project.id)) == 1


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            {"folder_id": "col_missing"},
            400,
            "Invalid request: Folder does not belong to this project",
        ),
        ({"name": "<script>"}, 400, "Invalid request: Input contains invalid content"),
        ({"name": "n" * 256}, 400, "Invalid request: Input too long (max 255 characters)"),
    ],
)
def test_duplicate_refuses_bad_input(
    make: Factory, call_act: Any, body: dict[str, Any], status: int, message: str
) -> None:
    project, source, token = owned_flow(make)
    response = call_act("flow_duplicate", "POST", id=source.id, token=token, json=body)
    assert (response.status_code, response.json["message"]) == (status, message)
    assert len(make.rows(Flow, project_id=project.id)) == 1


def test_duplicate_into_no_folder(make: Factory, call_act: Any) -> None:
    _, project, token = owned(make)
    source = make.flow(project, folder_id=make.folder(project).id)
    body = {"folder_id": ""}
    copy = call_act("flow_duplicate", "POST", id=source.id, token=token, json=body).json["data"]
    assert copy["folder_id"] is None


def test_duplicate_of_unknown_flow_is_404(make: Factory, call_act: Any) -> None:
    _, _, token = owned(make)
    response = call_act("flow_duplicate", "POST", id="flow_missing", token=token)
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Flow not found"


# --- who may call what ------------------------------------------------------------------------

FLOW_ACT_CALLS = [
    ("flows", "GET", "project", None),
    ("flow_list", "GET", "project", None),
    ("flows_list", "GET", "project", None),
    ("flows", "POST", "project", {"name": "Intruder"}),
    ("flow_create", "POST", "project", {"name": "Intruder"}),
    ("flow", "GET", "flow", None),
    ("flow_get", "GET", "flow", None),
    ("flow_detail", "GET", "flow", None),
    ("flow_update", "PUT", "flow", {"name": "Intruder"}),
    ("flow", "PUT", "flow", {"is_active": False}),
    ("flow_delete", "DELETE", "flow", None),
    ("flow_duplicate", "POST", "flow", None),
    ("flow_detail_ui", "GET", "flow", None),
    ("flow_update_ui", "GET", "flow", None),
    ("flow_detail_ui", "PUT", "flow", {"flow_data": REACT_FLOW}),
    ("flow_update_ui", "PUT", "flow", {"flow_data": REACT_FLOW}),
]


def target_id(kind: str, project: Project, flow: Flow) -> str:
    return project.id if kind == "project" else flow.id


def unchanged(make: Factory, project: Project, flow: Flow) -> bool:
    rows = make.rows(Flow, project_id=project.id)
    return len(rows) == 1 and rows[0]["name"] == flow.name and rows[0]["is_active"] == 1


@pytest.mark.parametrize(("act", "method", "kind", "body"), FLOW_ACT_CALLS)
@pytest.mark.parametrize("intruder", ["non-member JWT", "MCP token of another project"])
def test_every_flow_act_refuses_outsiders_with_403(
    make: Factory, call_act: Any, act: str, method: str, kind: str, body: Any, intruder: str
) -> None:
    owner, project, _ = owned(make)
    flow = make.flow(project)
    if intruder == "non-member JWT":
        token = make.token(make.user())
    else:
        token = make.mcp_token(make.project(owner))
    response = call_act(act, method, id=target_id(kind, project, flow), token=token, json=body)
    assert response.status_code == 403
    assert response.json["message"] == "Forbidden"
    assert unchanged(make, project, flow)


@pytest.mark.parametrize(("act", "method", "kind", "body"), FLOW_ACT_CALLS)
@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_every_flow_act_needs_a_valid_token(
    make: Factory, call_act: Any, act: str, method: str, kind: str, body: Any, token: Any
) -> None:
    _, project, _ = owned(make)
    flow = make.flow(project)
    response = call_act(act, method, id=target_id(kind, project, flow), token=token, json=body)
    assert response.status_code == 401
    assert response.json["message"] == "Authentication failed: Authentication required"
    assert unchanged(make, project, flow)


@pytest.mark.parametrize(("act", "method", "kind", "body"), FLOW_ACT_CALLS)
def test_every_flow_act_serves_a_member(
    make: Factory, call_act: Any, act: str, method: str, kind: str, body: Any
) -> None:
    _, project, _ = owned(make)
    member = make.user()
    make.member(project, member)
    flow = make.flow(project)
    response = call_act(
        act, method, id=target_id(kind, project, flow), token=make.token(member), json=body
    )
    assert 200 <= response.status_code < 300


@pytest.mark.parametrize(("act", "method", "kind", "body"), FLOW_ACT_CALLS)
def test_every_flow_act_serves_the_projects_mcp_token(
    make: Factory, call_act: Any, act: str, method: str, kind: str, body: Any
) -> None:
    _, project, _ = owned(make)
    flow = make.flow(project)
    response = call_act(
        act, method, id=target_id(kind, project, flow), token=make.mcp_token(project), json=body
    )
    assert 200 <= response.status_code < 300


@pytest.mark.parametrize(("act", "method", "kind", "body"), FLOW_ACT_CALLS)
@pytest.mark.parametrize("ident", ["", "0"])
def test_every_flow_act_without_id_is_route_not_found(
    make: Factory, call_act: Any, act: str, method: str, kind: str, body: Any, ident: str
) -> None:
    _, _, token = owned(make)
    response = call_act(act, method, id=ident, token=token, json=body)
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Route not found"


# --- concurrent writers (MariaDB: two app instances on one database) --------------------------


@pytest.fixture
def twins(app: Flask, database_url: str) -> Iterator[list[Flask]]:
    if database_url.startswith("sqlite"):
        pytest.skip("needs a database server shared by two app instances")
    apps = [create_app(gateway_config(database_url)) for _ in range(2)]
    yield apps
    for twin in apps:
        with twin.app_context():
            db.engine.dispose()


def all_at_once(twins: list[Flask], count: int, send: Callable[[Any], Any]) -> list[int]:
    """`count` requests released together, alternating between the two app instances."""
    barrier = threading.Barrier(count)

    def one(index: int) -> int:
        client = twins[index % 2].test_client()
        barrier.wait()
        return send(client).status_code

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_concurrent_creates_of_one_name_give_one_flow_and_409s(
    twins: list[Flask], make: Factory
) -> None:
    _, project, token = owned(make)
    body = {"name": "Race"}
    statuses = all_at_once(
        twins, 8, lambda c: call_on(c, "flows", "POST", id=project.id, token=token, json=body)
    )
    assert sorted(statuses) == [201] + [409] * 7
    assert len(make.rows(Flow, project_id=project.id)) == 1


def test_concurrent_duplicates_never_fail_with_5xx(twins: list[Flask], make: Factory) -> None:
    project, source, token = owned_flow(make, name="Hot")
    statuses = all_at_once(
        twins, 6, lambda c: call_on(c, "flow_duplicate", "POST", id=source.id, token=token)
    )
    assert set(statuses) <= {201, 409} and 201 in statuses
    names = [row["name"] for row in make.rows(Flow, project_id=project.id)]
    assert len(names) == 1 + statuses.count(201) == len(set(names))
