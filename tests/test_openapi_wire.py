"""The OpenAPI document describes the wire: real answers of the main acts, fetched over HTTP on
both database legs, validate against the schema their operation declares for `data`."""

from typing import Any

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

from tests.factories import PASSWORD, STEPS_FLOW, Factory
from tests.factories import call_act as call_on


def declared_schema(doc: dict[str, Any], act: str, method: str, status: int) -> dict[str, Any]:
    """The success schema of the operation that answers `?act=act` with `method`."""
    for operations in doc["paths"].values():
        op = operations.get(method.lower())
        if op is not None and act in op.get("x-acts", []):
            content = op["responses"][str(status)]["content"]["application/json"]
            return {**content["schema"], "components": doc["components"]}
    raise AssertionError(f"no operation answers {method} ?act={act}")


@pytest.fixture
def check(client: FlaskClient, make: Factory, owner: Any) -> Any:
    """`check(act, method, status, id=..., json=...)`: call the act with the owner's token, then
    validate the whole envelope against the declared schema; returns `data`."""
    doc = client.get("/gassapi2/backend/openapi.json").json
    token = make.token(owner)

    def run(act: str, method: str = "GET", status: int = 200, **kwargs: Any) -> Any:
        response = call_on(client, act, method, token=token, **kwargs)
        assert response.status_code == status, response.json
        schema = declared_schema(doc, act, method, status)
        assert "data" in str(schema), f"{act}: data is not typed"
        errors = [
            error.message for error in Draft202012Validator(schema).iter_errors(response.json)
        ]
        assert not errors, (act, method, errors)
        return response.json["data"]

    return run


def test_the_main_acts_answer_what_the_document_declares(
    check: Any, make: Factory, owner: Any, project: Any
) -> None:
    folder = make.folder(project)
    endpoint = make.endpoint(folder)
    flow = make.flow(project, folder_id=folder.id)
    environment = make.environment(project, "staging")
    check("projects")
    check("project", id=project.id)
    check("projects", "POST", 201, json={"name": "Second project"})
    check("project_update", "PUT", id=project.id, json={"name": "Renamed"})
    check("flows", id=project.id)
    check("flows", id=project.id, is_active="1", limit="5")
    check("flow", id=flow.id)
    check("flow_detail_ui", id=flow.id)
    created = check(
        "flow_create", "POST", 201, id=project.id, json={"name": "n", **{"flow_data": STEPS_FLOW}}
    )
    check("flow_update", "PUT", id=created["id"], json={"name": "n2", "description": "d"})
    check("flow_duplicate", "POST", 201, id=flow.id)
    check("flow_toggle_active", "PUT", id=flow.id)
    check("flow_activate", "PUT", id=flow.id)
    check("flows_active", id=project.id)
    check("flow_status_history", id=flow.id)
    check("flow_execute", "POST", 201, id=flow.id)
    check("flow_executions", id=flow.id)
    check("project_environments", id=project.id)
    check("environment", id=environment.id)
    check("environment_create", "POST", 201, id=project.id, json={"name": "qa"})
    check("project_folders", id=project.id)
    check("folder", id=folder.id)
    check("folder_create", "POST", 201, id=project.id, json={"name": "Sub", "parent_id": folder.id})
    check("endpoints", id=folder.id)
    check("endpoint", id=endpoint.id)
    check("project_endpoints", id=project.id)
    check("project_endpoints_grouped", id=project.id)
    body = {"name": "Ping", "method": "POST", "url": "https://api.example.com/p", "body": "{}"}
    check("endpoint_create", "POST", 201, id=folder.id, json=body)


def test_the_account_acts_answer_what_the_document_declares(
    check: Any, make: Factory, owner: Any
) -> None:
    make.user(is_active=0)
    check("login", "POST", json={"email": owner.email, "password": PASSWORD})
    check("profile")
    check("users")
    check("users", search="user")
    check("users", active_only="true")
    check("users_stats")
    check("user", id=owner.id)
