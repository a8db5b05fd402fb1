"""MCP acts: mcp_generate_config, mcp_validate (and validate_token), current_project."""

import re
from typing import Any

import pytest
from flask import Flask

from backend.auth.tokens import sha256_hex
from backend.models import McpClientToken, Project
from tests.factories import Factory

UNAUTHORIZED = "Authentication failed: Unauthorized"


def owned_project(make: Factory) -> tuple[Any, Project, str]:
    owner = make.user()
    return owner, make.project(owner), make.token(owner)


# --- mcp_generate_config ------------------------------------------------------------------


def test_generate_config_returns_the_legacy_shape(make: Factory, call_act: Any) -> None:
    owner, project, token = owned_project(make)
    make.environment(project, "staging", variables='{"base":"https://s.example"}')
    response = call_act("mcp_generate_config", "POST", id=project.id, token=token)
    assert response.status_code == 201
    assert response.json["message"] == "MCP config generated"
    data = response.json["data"]
    assert list(data) == [
        "name",
        "project_id",
        "api_base_url",
        "mcp_validate_endpoint",
        "token",
        "environments",
    ]
    assert (data["name"], data["project_id"]) == (project.name, project.id)
    assert data["mcp_validate_endpoint"] == "/mcp/validate"
    assert re.fullmatch(r"[0-9a-f]{64}", data["token"])
    assert [(e["name"], e["is_default"], e["variables"]) for e in data["environments"]] == [
        ("development", True, {}),
        ("staging", False, {"base": "https://s.example"}),
    ]
    assert list(data["environments"][0]) == ["id", "name", "is_default", "variables"]


def test_generated_token_is_stored_hashed_and_works(make: Factory, call_act: Any) -> None:
    owner, project, token = owned_project(make)
    plaintext = call_act("mcp_generate_config", "POST", id=project.id, token=token).json["data"][
        "token"
    ]
    [row] = make.rows(McpClientToken, project_id=project.id)
    assert (row["token_hash"], row["created_by"], row["is_active"]) == (
        sha256_hex(plaintext),
        owner.id,
        1,
    )
    assert call_act("project", id=project.id, token=plaintext).status_code == 200


def test_each_call_issues_a_new_token_and_older_ones_stay_valid(
    make: Factory, call_act: Any
) -> None:
    _, project, token = owned_project(make)
    first, second = (
        call_act("mcp_generate_config", "POST", id=project.id, token=token).json["data"]["token"]
        for _ in range(2)
    )
    assert first != second
    assert call_act("mcp_validate", token=first).status_code == 200


def test_a_member_may_generate_a_config(make: Factory, call_act: Any) -> None:
    owner, member = make.user(), make.user()
    project = make.project(owner)
    make.member(project, member)
    response = call_act("mcp_generate_config", "POST", id=project.id, token=make.token(member))
    assert response.status_code == 201


def test_generate_config_accepts_token_in_query(make: Factory, client: Any) -> None:
    _, project, token = owned_project(make)
    response = client.post(f"/?act=mcp_generate_config&id={project.id}&token={token}")
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("app_url", "expected"),
    [
        ("localhost", "http://localhost/gassapi2/backend/"),
        ("https://mapi.gass.web.id", "https://mapi.gass.web.id/gassapi2/backend/"),
        ("https://mapi.gass.web.id/", "https://mapi.gass.web.id/gassapi2/backend/"),
        ("https://h.example/gassapi2/backend/", "https://h.example/gassapi2/backend/"),
        ("https://h.example/gassapi2/backend", "https://h.example/gassapi2/backend/"),
    ],
)
def test_api_base_url_follows_app_url(
    app: Flask, make: Factory, call_act: Any, app_url: str, expected: str
) -> None:
    app.config["APP_URL"] = app_url
    _, project, token = owned_project(make)
    response = call_act("mcp_generate_config", "POST", id=project.id, token=token)
    assert response.json["data"]["api_base_url"] == expected


@pytest.mark.parametrize(
    ("stored", "decoded"),
    [("[]", []), ("", {}), ("not json", None), ('{"a":{"b":[1]}}', {"a": {"b": [1]}})],
)
def test_generate_config_decodes_stored_variables(
    make: Factory, call_act: Any, stored: str, decoded: Any
) -> None:
    _, project, token = owned_project(make)
    make.environment(project, "legacy", variables=stored)
    data = call_act("mcp_generate_config", "POST", id=project.id, token=token).json["data"]
    assert [e["variables"] for e in data["environments"] if e["name"] == "legacy"] == [decoded]


@pytest.mark.parametrize(
    ("kind", "status", "message"),
    [
        ("none", 401, UNAUTHORIZED),
        ("garbage", 401, UNAUTHORIZED),
        ("refresh", 401, UNAUTHORIZED),
        ("mcp", 401, UNAUTHORIZED),
        ("stranger", 404, "Project not found"),
        ("unknown_project", 404, "Project not found"),
    ],
)
def test_generate_config_errors_issue_no_token(
    make: Factory, call_act: Any, kind: str, status: int, message: str
) -> None:
    owner, project, token = owned_project(make)
    tokens = {
        "none": None,
        "garbage": "garbage",
        "refresh": make.token(owner, "refresh"),
        "mcp": make.mcp_token(project),
        "stranger": make.token(make.user()),
        "unknown_project": token,
    }
    ident = "proj_missing" if kind == "unknown_project" else project.id
    response = call_act("mcp_generate_config", "POST", id=ident, token=tokens[kind])
    assert response.status_code == status
    assert response.json["message"] == message
    assert len(make.rows(McpClientToken, project_id=project.id)) == 1  # the factory's own


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_generate_config_only_answers_post(make: Factory, call_act: Any, method: str) -> None:
    _, project, token = owned_project(make)
    response = call_act("mcp_generate_config", method, id=project.id, token=token)
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Route not found"


# --- mcp_validate / validate_token --------------------------------------------------------


def test_validate_returns_project_environments_and_user(make: Factory, call_act: Any) -> None:
    owner, project, _ = owned_project(make)
    token = make.mcp_token(project)
    response = call_act("mcp_validate", token=token)
    assert response.status_code == 200
    assert response.json["message"] == "Token valid"
    data = response.json["data"]
    assert list(data) == ["project", "environments", "user"]
    assert data["project"]["id"] == project.id
    assert "member_count" not in data["project"]
    assert [(e["name"], e["variables"]) for e in data["environments"]] == [("development", "{}")]
    [row] = make.rows(McpClientToken, project_id=project.id)
    assert data["user"] == {
        "id": owner.id,
        "email": None,
        "project_id": project.id,
        "token_type": "mcp",
        "mcp_token_id": row["id"],
    }


def test_validate_records_last_validated_at(make: Factory, call_act: Any) -> None:
    _, project, _ = owned_project(make)
    token = make.mcp_token(project)
    assert make.rows(McpClientToken, project_id=project.id)[0]["last_validated_at"] is None
    call_act("mcp_validate", token=token)
    assert make.rows(McpClientToken, project_id=project.id)[0]["last_validated_at"] is not None


@pytest.mark.parametrize(
    ("act", "method", "where"),
    [
        ("mcp_validate", "GET", "query"),
        ("validate_token", "GET", "header"),
        ("validate_token", "POST", "header"),
        ("mcp_validate", "POST", "query"),
        ("validate_token", "POST", "body"),
    ],
)
def test_validate_reads_the_token_from_header_query_or_post_body(
    make: Factory, client: Any, act: str, method: str, where: str
) -> None:
    _, project, _ = owned_project(make)
    token = make.mcp_token(project)
    url, options = {
        "header": (f"/?act={act}", {"headers": {"Authorization": f"Bearer {token}"}}),
        "query": (f"/?act={act}&token={token}", {}),
        "body": (f"/?act={act}", {"json": {"token": token}}),
    }[where]
    response = client.open(url, method=method, **options)
    assert response.status_code == 200
    assert response.json["data"]["project"]["id"] == project.id


def test_validate_ignores_a_body_token_on_get(make: Factory, client: Any) -> None:
    _, project, _ = owned_project(make)
    response = client.get("/?act=mcp_validate", json={"token": make.mcp_token(project)})
    assert response.status_code == 401
    assert response.json["message"] == "No token provided"


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("none", "No token provided"),
        ("garbage", "Invalid token"),
        ("jwt", "Invalid token"),
        ("inactive", "Invalid token"),
        ("disabled_owner", "Invalid token"),
    ],
)
def test_validate_errors_are_401(make: Factory, call_act: Any, kind: str, message: str) -> None:
    owner = make.user(is_active=0) if kind == "disabled_owner" else make.user()
    project = make.project(owner)
    tokens = {
        "none": None,
        "garbage": "garbage",
        "jwt": make.token(make.user()),
        "inactive": make.mcp_token(project, active=0),
        "disabled_owner": make.mcp_token(project),
    }
    response = call_act("mcp_validate", token=tokens[kind])
    assert response.status_code == 401
    assert response.json["message"] == message


def test_validate_post_with_bad_json_is_400(make: Factory, call_act: Any) -> None:
    response = call_act("validate_token", "POST", data="{not json")
    assert response.status_code == 400
    assert response.json["message"] == "Invalid request: Invalid JSON format"


@pytest.mark.parametrize(
    ("kind", "status", "message"),
    [("mcp_of_a", 401, UNAUTHORIZED), ("jwt_of_non_member", 404, "Project not found")],
)
def test_token_of_project_a_cannot_generate_a_config_for_b(
    make: Factory, call_act: Any, kind: str, status: int, message: str
) -> None:
    owner, intruder = make.user(), make.user()
    project_a, project_b = make.project(owner), make.project(owner)
    make.member(project_a, intruder)
    token = make.mcp_token(project_a) if kind == "mcp_of_a" else make.token(intruder)
    response = call_act("mcp_generate_config", "POST", id=project_b.id, token=token)
    assert response.status_code == status
    assert response.json["message"] == message
    assert make.rows(McpClientToken, project_id=project_b.id) == []


# --- current_project ----------------------------------------------------------------------


def test_current_project_is_the_tokens_project(make: Factory, call_act: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    make.project(owner)
    response = call_act("current_project", token=make.mcp_token(project))
    assert response.status_code == 200
    assert response.json["message"] == "Project detail"
    assert response.json["data"]["id"] == project.id
    assert response.json["data"]["member_count"] == 0


@pytest.mark.parametrize(
    ("kind", "status", "message"),
    [
        ("jwt", 400, "Invalid request: current_project needs a project MCP token; "
         "with a JWT use ?act=project&id=ID"),
        ("none", 401, "Authentication failed: Authentication required"),
    ],
)  # fmt: skip
def test_current_project_errors(
    make: Factory, call_act: Any, kind: str, status: int, message: str
) -> None:
    token = make.token(make.user()) if kind == "jwt" else None
    response = call_act("current_project", token=token)
    assert response.status_code == status
    assert response.json["message"] == message
