"""The React Flow view of a flow: `flow_detail_ui` GET (read) and PUT (update), `flow_update_ui`."""

import json
from typing import Any

import pytest

from backend.models import Flow, Project
from tests.factories import STEPS_FLOW, Factory

FLOW_COLUMNS = [column.name for column in Flow.__table__.columns]
UI_KEYS = [
    "id",
    "name",
    "description",
    "project_id",
    "folder_id",
    "flow_inputs",
    "flow_data",
    "is_active",
    "created_by",
    "created_at",
    "updated_at",
]
GRAPH = {
    "nodes": [
        {
            "id": "login",
            "type": "apiCall",
            "position": {"x": 40, "y": 80},
            "data": {"name": "Login", "method": "POST", "url": "https://x.test/login"},
        },
        {"id": "me", "data": {"method": "GET", "url": "https://x.test/me", "extra": True}},
    ],
    "edges": [{"id": "e", "source": "login", "target": "me", "type": "default"}],
}
TWO_STEPS = {
    "version": "1.0",
    "steps": [
        {"id": "one", "method": "GET", "url": "https://x.test/1", "condition": "x"},
        {"id": "two", "name": "Second", "method": "POST", "url": "https://x.test/2", "body": {}},
    ],
}
DERIVED_GRAPH = {
    "nodes": [
        {
            "id": "one",
            "type": "apiCall",
            "position": {"x": 0, "y": 100},
            "data": {
                "name": "one",
                "method": "GET",
                "url": "https://x.test/1",
                "headers": [],
                "body": None,
                "outputs": [],
                "tests": [],
            },
        },
        {
            "id": "two",
            "type": "apiCall",
            "position": {"x": 250, "y": 100},
            "data": {
                "name": "Second",
                "method": "POST",
                "url": "https://x.test/2",
                "headers": [],
                "body": {},
                "outputs": [],
                "tests": [],
            },
        },
    ],
    "edges": [{"id": "edge-one-two", "source": "one", "target": "two", "type": "smoothstep"}],
}


def owned_flow(make: Factory, **extra: Any) -> tuple[Project, Flow, str]:
    owner = make.user()
    project = make.project(owner)
    return project, make.flow(project, **extra), make.token(owner)


def read_ui(call_act: Any, flow: Flow, token: str, act: str = "flow_detail_ui") -> Any:
    return call_act(act, "GET", id=flow.id, token=token)


# --- read -------------------------------------------------------------------------------------


@pytest.mark.parametrize("act", ["flow_detail_ui", "flow_update_ui"])
def test_ui_read_returns_stored_graph_and_decoded_inputs(
    make: Factory, call_act: Any, act: str
) -> None:
    inputs = [{"name": "email", "type": "email"}]
    _, flow, token = owned_flow(make, ui_data=json.dumps(GRAPH), flow_inputs=json.dumps(inputs))

    response = read_ui(call_act, flow, token, act)

    assert response.status_code == 200
    assert response.json["message"] == "Flow data for UI"
    data = response.json["data"]
    assert list(data) == UI_KEYS
    assert data["flow_data"] == GRAPH
    assert data["flow_inputs"] == inputs
    assert (data["id"], data["is_active"], data["name"]) == (flow.id, 1, flow.name)


def test_ui_read_derives_the_graph_when_ui_data_is_null(make: Factory, call_act: Any) -> None:
    _, flow, token = owned_flow(make, flow_data=TWO_STEPS, ui_data=None)
    assert read_ui(call_act, flow, token).json["data"]["flow_data"] == DERIVED_GRAPH


def test_ui_read_derives_the_graph_when_migration_copied_steps_into_ui_data(
    make: Factory, call_act: Any
) -> None:
    steps_text = json.dumps(TWO_STEPS)
    _, flow, token = owned_flow(make, flow_data=steps_text, ui_data=steps_text)
    assert read_ui(call_act, flow, token).json["data"]["flow_data"] == DERIVED_GRAPH


@pytest.mark.parametrize("flow_data", ['{"version":"1.0"}', "not json", ""])
def test_ui_read_of_a_definition_without_steps_is_an_empty_graph(
    make: Factory, call_act: Any, flow_data: str
) -> None:
    _, flow, token = owned_flow(make, flow_data=flow_data, ui_data=None)
    response = read_ui(call_act, flow, token)
    assert response.status_code == 200
    assert response.json["data"]["flow_data"] == {"nodes": [], "edges": []}


@pytest.mark.parametrize("stored_inputs", [None, "", "null", "{broken", "[NaN]"])
def test_ui_read_of_missing_or_unreadable_inputs_is_an_empty_list(
    make: Factory, call_act: Any, stored_inputs: str | None
) -> None:
    _, flow, token = owned_flow(make, flow_inputs=stored_inputs)
    assert read_ui(call_act, flow, token).json["data"]["flow_inputs"] == []


def test_ui_read_of_unknown_flow_is_404(make: Factory, call_act: Any) -> None:
    owner = make.user()
    response = call_act("flow_detail_ui", "GET", id="flow_missing", token=make.token(owner))
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Flow not found"


def test_ui_read_works_in_the_rest_form(make: Factory, client: Any) -> None:
    _, flow, token = owned_flow(make, ui_data=json.dumps(GRAPH))
    response = client.get(
        f"/gassapi2/backend/flow/{flow.id}/ui", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.json["data"]["flow_data"] == GRAPH


# --- update -----------------------------------------------------------------------------------


@pytest.mark.parametrize("act", ["flow_detail_ui", "flow_update_ui"])
def test_ui_update_stores_the_graph_and_its_steps(make: Factory, call_act: Any, act: str) -> None:
    _, flow, token = owned_flow(make)

    response = call_act(act, "PUT", id=flow.id, token=token, json={"flow_data": GRAPH})

    assert response.status_code == 200
    assert response.json["message"] == "Flow updated"
    data = response.json["data"]
    assert list(data) == FLOW_COLUMNS
    assert isinstance(data["flow_data"], str) and isinstance(data["ui_data"], str)
    assert json.loads(data["ui_data"]) == GRAPH
    steps = json.loads(make.flow_row(flow.id)["flow_data"])["steps"]
    assert [step["id"] for step in steps] == ["login", "me"]
    assert list(steps[1]) == ["id", "name", "method", "url", "headers", "body", "outputs", "tests"]
    assert (data["name"], data["description"]) == (flow.name, flow.description)


def test_ui_update_then_read_round_trips_the_graph(make: Factory, call_act: Any) -> None:
    _, flow, token = owned_flow(make)
    call_act("flow_update_ui", "PUT", id=flow.id, token=token, json={"flow_data": GRAPH})
    assert read_ui(call_act, flow, token).json["data"]["flow_data"] == GRAPH


def test_ui_update_sets_the_other_fields(make: Factory, call_act: Any) -> None:
    project, flow, token = owned_flow(make)
    folder = make.folder(project)
    inputs = [{"name": "token", "type": "password"}]
    body = {
        "flow_data": GRAPH,
        "name": "Login chain",
        "description": "From the editor",
        "folder_id": folder.id,
        "flow_inputs": inputs,
    }
    call_act("flow_detail_ui", "PUT", id=flow.id, token=token, json=body)
    row = make.flow_row(flow.id)
    assert (row["name"], row["description"], row["folder_id"]) == (
        "Login chain",
        "From the editor",
        folder.id,
    )
    assert json.loads(row["flow_inputs"]) == inputs


def test_ui_update_deactivates_through_the_status_rules(make: Factory, call_act: Any) -> None:
    _, flow, token = owned_flow(make)
    body = {"flow_data": GRAPH, "is_active": False}
    response = call_act("flow_update_ui", "PUT", id=flow.id, token=token, json=body)
    assert response.json["data"]["is_active"] == 0
    (audit,) = make.audit_rows(flow.id)
    assert json.loads(audit["metadata"])["via"] == "flow_update_ui"


def test_ui_update_of_status_while_executing_is_409(make: Factory, call_act: Any) -> None:
    _, flow, token = owned_flow(make)
    make.execution(flow)
    body = {"flow_data": GRAPH, "is_active": 0}
    response = call_act("flow_update_ui", "PUT", id=flow.id, token=token, json=body)
    assert response.status_code == 409
    assert json.loads(make.flow_row(flow.id)["flow_data"]) == STEPS_FLOW


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Invalid flow format: Missing nodes array, Missing edges array"),
        (
            {"flow_data": STEPS_FLOW},
            "Invalid flow format: Missing nodes array, Missing edges array",
        ),
        (
            {"flow_data": {"nodes": [{"id": "n"}], "edges": [{"source": "n"}]}},
            "Invalid flow format: Node 0 missing data, Edge 0 missing target",
        ),
        (
            {
                "flow_data": {
                    "nodes": [{"id": "n", "data": {"method": "GET", "url": "/{{.x}}"}}],
                    "edges": [],
                }
            },
            "Invalid variable references: Step 0: Invalid variable reference format '.x'. "
            "Expected format: type.field",
        ),
        (
            {"flow_data": GRAPH, "flow_inputs": [{"type": "string"}]},
            "Invalid flow inputs: Input 0: name is required",
        ),
        (
            {"flow_data": GRAPH, "folder_id": "col_missing"},
            "Folder does not belong to this project",
        ),
        ({"flow_data": GRAPH, "name": ""}, "Flow name cannot be empty"),
        ({"flow_data": GRAPH, "name": "<svg onload=x>"}, "Input contains invalid content"),
    ],
)
def test_ui_update_refuses_bad_input_and_keeps_the_row(
    make: Factory, call_act: Any, body: dict[str, Any], message: str
) -> None:
    _, flow, token = owned_flow(make)
    before = make.flow_row(flow.id)
    response = call_act("flow_update_ui", "PUT", id=flow.id, token=token, json=body)
    assert response.status_code == 400
    assert response.json["message"] == f"Invalid request: {message}"
    assert make.flow_row(flow.id) == before


def test_ui_update_to_a_taken_name_is_409(make: Factory, call_act: Any) -> None:
    project, flow, token = owned_flow(make)
    other = make.flow(project)
    body = {"flow_data": GRAPH, "name": other.name}
    response = call_act("flow_detail_ui", "PUT", id=flow.id, token=token, json=body)
    assert response.status_code == 409
    assert response.json["message"] == "A flow with this name already exists in this project"


def test_ui_update_of_unknown_flow_is_404(make: Factory, call_act: Any) -> None:
    owner = make.user()
    response = call_act(
        "flow_update_ui",
        "PUT",
        id="flow_missing",
        token=make.token(owner),
        json={"flow_data": GRAPH},
    )
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Flow not found"


@pytest.mark.parametrize(
    ("act", "method"), [("flow_detail_ui", "POST"), ("flow_update_ui", "DELETE")]
)
def test_ui_acts_have_no_other_methods(make: Factory, call_act: Any, act: str, method: str) -> None:
    _, flow, token = owned_flow(make)
    response = call_act(act, method, id=flow.id, token=token)
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Route not found"
    assert make.flow_row(flow.id) is not None
