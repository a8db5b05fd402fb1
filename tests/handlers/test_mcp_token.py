"""`POST /public/generate-mcp-token.php`: where mcp2's `mcptoken.md` sends users for a token."""

import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from backend.models import McpClientToken, RefreshToken, User
from tests.factories import PASSWORD, Factory, call_act

SCRIPT = "/public/generate-mcp-token.php"
MOUNTED = (
    SCRIPT,
    "/gassapi2/backend" + SCRIPT,
    "/gassapi2/backend/index.php" + SCRIPT,
    "/index.php" + SCRIPT,
)
SCRIPT_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
}
INVALID_JSON = {"success": False, "message": "Invalid JSON input"}
MISSING_FIELDS = {
    "success": False,
    "message": "Missing required fields: email, password, project_id",
}
ACCESS_DENIED = {
    "success": False,
    "message": "Project not found or access denied",
    "error": "Access denied: Project access denied",
}


def post_raw(client: FlaskClient, body: bytes, path: str = SCRIPT) -> Any:
    return client.post(path, data=body, content_type="application/json")


def post(client: FlaskClient, fields: dict[str, Any], path: str = SCRIPT) -> Any:
    return post_raw(client, json.dumps(fields).encode(), path)


def mcptoken_request(user: User, project_id: Any, password: str = PASSWORD) -> dict[str, Any]:
    """The body `mcptoken.md` tells users to send."""
    return {"email": user.email, "password": password, "project_id": project_id}


def cors_of(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("Access-Control-")}


# --- the token --------------------------------------------------------------------------------


def test_mcptoken_md_request_gets_the_gassapi_json_shape_with_a_working_token(
    make: Factory, client: FlaskClient
) -> None:
    owner = make.user()
    project = make.project(owner, description="Payments")
    response = post(client, mcptoken_request(owner, project.id))
    assert response.status_code == 201
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json
    token = body["mcpClient"]["token"]
    assert body == {
        "project": {"id": project.id, "name": project.name, "description": "Payments"},
        "mcpClient": {"token": token},
    }
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    answer = call_act(client, "project", id=project.id, token=token)
    assert (answer.status_code, answer.json["data"]["id"]) == (200, project.id)


@pytest.mark.parametrize("path", MOUNTED)
def test_token_script_answers_at_the_root_and_under_every_mount(
    make: Factory, client: FlaskClient, path: str
) -> None:
    owner = make.user()
    project = make.project(owner)
    response = post(client, mcptoken_request(owner, project.id), path)
    assert response.status_code == 201
    assert response.json["project"]["id"] == project.id


def test_a_member_gets_a_token_of_the_project_stored_hashed_and_signed_in(
    make: Factory, client: FlaskClient
) -> None:
    member = make.user()
    project = make.project(make.user())
    make.member(project, member)
    response = post(client, mcptoken_request(member, project.id))
    assert response.status_code == 201
    [row] = make.rows(McpClientToken, project_id=project.id)
    assert (row["created_by"], row["is_active"]) == (member.id, 1)
    assert make.rows(User, id=member.id)[0]["last_login_at"] is not None
    assert make.rows(RefreshToken, user_id=member.id) == []  # no session nobody could use


def test_description_null_is_sent_as_null(make: Factory, client: FlaskClient) -> None:
    owner = make.user()
    project = make.project(owner)
    assert post(client, mcptoken_request(owner, project.id)).json["project"]["description"] is None


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("project_id", ["proj_unknown", 123456789012345678901234567890, ["p"]])
def test_unknown_or_non_text_project_is_403_without_a_token(
    make: Factory, client: FlaskClient, project_id: Any
) -> None:
    owner = make.user()
    make.project(owner)
    response = post(client, mcptoken_request(owner, project_id))
    assert (response.status_code, response.json) == (403, ACCESS_DENIED)
    assert make.rows(McpClientToken) == []


def test_someone_elses_project_is_403_without_a_token(make: Factory, client: FlaskClient) -> None:
    project = make.project(make.user())
    response = post(client, mcptoken_request(make.user(), project.id))
    assert (response.status_code, response.json) == (403, ACCESS_DENIED)
    assert make.rows(McpClientToken, project_id=project.id) == []


def test_wrong_password_is_401_login_failed_with_logins_message(
    make: Factory, client: FlaskClient
) -> None:
    owner = make.user()
    project = make.project(owner)
    response = post(client, mcptoken_request(owner, project.id, "Wrong1234Pass"))
    assert response.status_code == 401
    assert response.json == {
        "success": False,
        "message": "Login failed",
        "error": "Authentication failed: Invalid credentials",
    }


def test_disabled_account_is_401_login_failed(make: Factory, client: FlaskClient) -> None:
    user = make.user(is_active=0)
    project = make.project(user)
    response = post(client, mcptoken_request(user, project.id))
    assert response.status_code == 401
    assert response.json["error"] == "Access denied: Account is disabled"


@pytest.mark.parametrize("body", [b"", b"{not json", b"{}", b"[]", b"0", b"null", b'""', b"1e999"])
def test_empty_falsy_or_broken_json_is_400_invalid_json_input(
    client: FlaskClient, body: bytes
) -> None:
    response = post_raw(client, body)
    assert (response.status_code, response.json) == (400, INVALID_JSON)


@pytest.mark.parametrize(
    "body",
    [
        b'{"email": "a@example.com", "password": "Secret123"}',
        b'{"email": "a@example.com", "password": "", "project_id": "p"}',
        b'{"email": "a@example.com", "password": "Secret123", "project_id": "0"}',
        b'{"email": null, "password": "Secret123", "project_id": "p"}',
        b'{"email": "a@example.com", "password": [], "project_id": "p"}',
        b"[1, 2]",
        b'"email"',
        b"12345678901234567890",
    ],
)
def test_missing_or_falsy_fields_and_non_objects_are_400_missing_required_fields(
    client: FlaskClient, body: bytes
) -> None:
    response = post_raw(client, body)
    assert (response.status_code, response.json) == (400, MISSING_FIELDS)


@pytest.mark.parametrize(
    "fields",
    [
        {"email": 123456789012345678901234567890, "password": "Secret123", "project_id": "p"},
        {"email": ["a@example.com"], "password": "Secret123", "project_id": "p"},
        {"email": "a@example.com", "password": {"x": 1}, "project_id": "p"},
        {"email": "a@example.com", "password": 1e308, "project_id": "p"},
        {"email": "a@example.com", "password": True, "project_id": "p"},
        {"email": "not-an-address", "password": "Secret123", "project_id": "p"},
        {"email": "a@example.com", "password": "x" * 100_000, "project_id": "p"},
    ],
)
def test_wrong_types_and_huge_values_are_401_login_failed_never_500(
    client: FlaskClient, fields: dict[str, Any]
) -> None:
    response = post(client, fields)
    assert response.status_code == 401
    assert (response.json["success"], response.json["message"]) == (False, "Login failed")
    assert isinstance(response.json["error"], str)


# --- the login throttle -----------------------------------------------------------------------


def login(client: FlaskClient, email: str, password: str) -> Any:
    return call_act(client, "login", "POST", json={"email": email, "password": password})


def test_failed_script_logins_count_towards_the_login_throttle(
    make: Factory, client: FlaskClient
) -> None:
    user = make.user()
    project = make.project(user)
    statuses = [
        post(client, mcptoken_request(user, project.id, f"Wrong{n}Pass")).status_code
        for n in range(10)
    ]
    assert statuses == [401] * 10
    assert login(client, user.email, PASSWORD).status_code == 429
    throttled = post(client, mcptoken_request(user, project.id))
    assert throttled.status_code == 429
    assert throttled.json == {
        "success": False,
        "message": "Login failed",
        "error": "Too many failed login attempts, try again later",
    }
    assert 1 <= int(throttled.headers["Retry-After"]) <= 900  # issue 15: on every 429
    assert make.rows(McpClientToken) == []


def test_failed_act_logins_throttle_the_script(make: Factory, client: FlaskClient) -> None:
    user = make.user()
    project = make.project(user)
    for n in range(10):
        assert login(client, user.email, f"Wrong{n}Pass").status_code == 401
    assert post(client, mcptoken_request(user, project.id)).status_code == 429


# --- methods and CORS -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_405_use_post(client: FlaskClient, method: str) -> None:
    response = client.open(SCRIPT, method=method)
    assert response.status_code == 405
    assert response.json == {"success": False, "message": "Method not allowed. Use POST."}
    assert cors_of(response) == SCRIPT_CORS


def test_browser_preflight_gets_the_scripts_own_cors_headers(client: FlaskClient) -> None:
    response = client.options(
        SCRIPT,
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"},
    )
    assert (response.status_code, response.data) == (200, b"")
    assert cors_of(response) == SCRIPT_CORS


def test_router_preflight_is_unchanged_beside_the_script(client: FlaskClient) -> None:
    response = client.options("/gassapi2/backend/?act=login")
    assert "X-HTTP-Method-Override" in response.headers["Access-Control-Allow-Headers"]


def test_answers_carry_the_scripts_cors_headers(make: Factory, client: FlaskClient) -> None:
    owner = make.user()
    project = make.project(owner)
    created = post(client, mcptoken_request(owner, project.id))
    refused = post(client, mcptoken_request(owner, project.id, "Wrong1234Pass"))
    assert cors_of(created) == cors_of(refused) == SCRIPT_CORS
