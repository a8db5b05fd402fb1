"""Project acts: projects (list/create), project (detail/update/delete), add member, context."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from backend.db import db
from backend.models import (
    Endpoint,
    Environment,
    Flow,
    FlowExecution,
    Folder,
    McpClientToken,
    Project,
    ProjectMember,
)
from tests.factories import Factory

PROJECT_KEYS = [
    "id",
    "name",
    "description",
    "owner_id",
    "api_key",
    "is_public",
    "settings",
    "last_sync_at",
    "created_at",
    "updated_at",
]
DENIED = "Access denied: Project access denied"
MARKUP = "Invalid request: Input contains invalid content"


def backdate(make: Factory, project: Project, days: int) -> None:
    with make.app.app_context():
        db.session.execute(
            update(Project)
            .where(Project.id == project.id)
            .values(created_at=project.created_at - timedelta(days=days))
        )
        db.session.commit()


# --- projects (GET list) ------------------------------------------------------------------


def test_projects_lists_owned_and_joined_projects_newest_first(
    make: Factory, call_act: Any
) -> None:
    user, other = make.user(), make.user()
    older = make.project(user)
    backdate(make, older, days=1)
    joined = make.project(other)
    make.member(joined, user)
    make.project(other)  # neither owned nor joined

    response = call_act("projects", token=make.token(user))

    assert response.status_code == 200
    assert response.json["message"] == "Projects fetched"
    assert [p["id"] for p in response.json["data"]] == [joined.id, older.id]
    assert list(response.json["data"][0]) == PROJECT_KEYS


def test_projects_is_an_empty_list_without_projects(make: Factory, call_act: Any) -> None:
    response = call_act("projects", token=make.token(make.user()))
    assert response.status_code == 200
    assert response.json["data"] == []


def test_projects_with_mcp_token_lists_only_the_tokens_project(
    make: Factory, call_act: Any
) -> None:
    owner = make.user()
    project = make.project(owner)
    make.project(owner)
    response = call_act("projects", token=make.mcp_token(project))
    assert [p["id"] for p in response.json["data"]] == [project.id]


@pytest.mark.parametrize("token", [None, "garbage"])
def test_projects_without_valid_token_is_401(call_act: Any, token: str | None) -> None:
    response = call_act("projects", token=token)
    assert response.status_code == 401
    assert response.json["message"] == "Authentication failed: Authentication required"


# --- projects (POST create) ---------------------------------------------------------------


def test_create_project_returns_the_legacy_row(make: Factory, call_act: Any) -> None:
    owner = make.user()
    response = call_act(
        "projects", "POST", token=make.token(owner), json={"name": "Shop", "description": "API"}
    )
    assert response.status_code == 201
    assert response.json["message"] == "Project created successfully"
    data = response.json["data"]
    assert list(data) == PROJECT_KEYS
    assert data["id"].startswith("proj_")
    assert (data["name"], data["description"], data["owner_id"]) == ("Shop", "API", owner.id)
    assert (data["is_public"], data["settings"]) == (0, '{"visibility":"private"}')


def test_create_project_adds_its_default_development_environment(
    make: Factory, call_act: Any
) -> None:
    token = make.token(make.user())
    project_id = call_act("projects", "POST", token=token, json={"name": "Shop"}).json["data"]["id"]

    envs = call_act("project_environments", id=project_id, token=token).json["data"]

    assert [(e["name"], e["is_default"], e["variables"]) for e in envs] == [
        ("development", 1, "{}")
    ]
    assert envs[0]["description"] == "Default development environment"


def test_create_project_stores_text_as_sent(make: Factory, call_act: Any) -> None:
    body = {"name": "Tom & Jerry's <b>API</b>", "description": "See https://x.io/?id=1 &amp;"}
    response = call_act("projects", "POST", token=make.token(make.user()), json=body)
    assert response.status_code == 201
    assert response.json["data"]["name"] == body["name"]
    assert response.json["data"]["description"] == body["description"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "Invalid request: Required field: Name"),
        ({"name": ""}, 400, "Invalid request: Required field: Name"),
        ({"name": "   "}, 400, "Project name cannot be empty"),
        ({"name": "x" * 256}, 400, "Invalid request: Input too long (max 255 characters)"),
        ({"name": "<script>alert(1)</script>"}, 400, MARKUP),
        ({"name": "ok", "description": "<img src=x onerror=alert(1)>"}, 400, MARKUP),
        ({"name": ["a"]}, 422, "Validation failed: name: Not a valid string."),
    ],
)
def test_create_project_refuses_bad_input(
    make: Factory, call_act: Any, body: dict[str, Any], status: int, message: str
) -> None:
    owner = make.user()
    response = call_act("projects", "POST", token=make.token(owner), json=body)
    assert response.status_code == status
    assert response.json["message"] == message
    assert make.rows(Project, owner_id=owner.id) == []


def test_create_project_with_invalid_json_is_400(make: Factory, call_act: Any) -> None:
    response = call_act("projects", "POST", token=make.token(make.user()), data="{bad")
    assert response.status_code == 400
    assert response.json["message"] == "Invalid request: Invalid JSON format"


def test_create_project_with_duplicate_name_is_409_and_writes_nothing(
    make: Factory, call_act: Any
) -> None:
    owner = make.user()
    make.project(owner, "Shop")
    response = call_act("projects", "POST", token=make.token(owner), json={"name": "Shop"})
    assert response.status_code == 409
    assert response.json["message"] == "You already have a project with this name"
    assert len(make.rows(Project, owner_id=owner.id)) == 1
    assert len(make.rows(Environment, name="development")) == 1


def test_two_owners_may_use_the_same_project_name(make: Factory, call_act: Any) -> None:
    make.project(make.user(), "Shop")
    response = call_act("projects", "POST", token=make.token(make.user()), json={"name": "Shop"})
    assert response.status_code == 201


def test_create_project_with_mcp_token_is_refused(make: Factory, call_act: Any) -> None:
    owner = make.user()
    token = make.mcp_token(make.project(owner))
    response = call_act("projects", "POST", token=token, json={"name": "Escalated"})
    assert response.status_code == 403
    assert len(make.rows(Project, owner_id=owner.id)) == 1


# --- project (GET detail) -----------------------------------------------------------------


@pytest.mark.parametrize("act", ["project", "project_detail", "project_update", "project_delete"])
def test_project_detail_answers_on_every_alias(make: Factory, call_act: Any, act: str) -> None:
    owner, member = make.user(), make.user()
    project = make.project(owner)
    make.member(project, member)
    response = call_act(act, id=project.id, token=make.token(owner))
    assert response.status_code == 200
    assert response.json["message"] == "Project detail"
    assert list(response.json["data"]) == [*PROJECT_KEYS, "member_count"]
    assert response.json["data"]["member_count"] == 1


def test_project_detail_is_readable_by_a_member(make: Factory, call_act: Any) -> None:
    owner, member = make.user(), make.user()
    project = make.project(owner)
    make.member(project, member)
    assert call_act("project", id=project.id, token=make.token(member)).status_code == 200


def test_project_detail_with_the_projects_mcp_token(make: Factory, client: Any) -> None:
    """Checklist 7, on the production URL the MCP server uses."""
    owner = make.user()
    project = make.project(owner, description="Store API")
    response = client.get(
        f"/index.php/?act=project&id={project.id}",
        headers={"Authorization": f"Bearer {make.mcp_token(project)}"},
    )
    assert response.status_code == 200
    data = response.json["data"]
    assert (data["id"], data["name"], data["description"], data["owner_id"]) == (
        project.id,
        project.name,
        "Store API",
        owner.id,
    )


@pytest.mark.parametrize("who", ["nobody", "garbage", "stranger", "unknown_project", "other_mcp"])
def test_project_detail_denied_is_the_legacy_403(make: Factory, call_act: Any, who: str) -> None:
    owner = make.user()
    project = make.project(owner)
    tokens = {
        "nobody": None,
        "garbage": "garbage",
        "stranger": make.token(make.user()),
        "unknown_project": make.token(owner),
        "other_mcp": make.mcp_token(make.project(owner)),
    }
    ident = "proj_missing" if who == "unknown_project" else project.id
    response = call_act("project", id=ident, token=tokens[who])
    assert response.status_code == 403
    assert response.json["message"] == DENIED


@pytest.mark.parametrize("ident", ["", "0"])
def test_project_without_id_is_route_not_found(make: Factory, call_act: Any, ident: str) -> None:
    response = call_act("project", id=ident, token=make.token(make.user()))
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Route not found"


# --- project_update (PUT) -----------------------------------------------------------------


def test_owner_updates_project(make: Factory, call_act: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    body = {"name": "Renamed & <i>new</i>", "description": None, "is_public": True}
    response = call_act("project_update", "PUT", id=project.id, token=make.token(owner), json=body)
    assert response.status_code == 200
    assert response.json["message"] == "Project updated"
    data = response.json["data"]
    assert list(data) == PROJECT_KEYS
    assert (data["name"], data["description"], data["is_public"]) == (body["name"], None, 1)
    assert (
        call_act("project", id=project.id, token=make.token(owner)).json["data"]["name"]
        == (body["name"])
    )


@pytest.mark.parametrize(("value", "stored"), [("false", 0), ("0", 0), ("yes", 1), (1, 1), (0, 0)])
def test_update_is_public_reads_flags(
    make: Factory, call_act: Any, value: Any, stored: int
) -> None:
    owner = make.user()
    project = make.project(owner)
    token = make.token(owner)
    call_act("project", "PUT", id=project.id, token=token, json={"is_public": 1 - stored})
    response = call_act("project", "PUT", id=project.id, token=token, json={"is_public": value})
    assert response.json["data"]["is_public"] == stored


def test_update_project_accepts_token_in_query(make: Factory, client: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    response = client.put(
        f"/gassapi2/backend/?act=project_update&id={project.id}&token={make.token(owner)}",
        json={"name": "Via query"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "Invalid request: No data to update"),
        ({"role": "x"}, 400, "Invalid request: No data to update"),
        ({"name": ""}, 400, "Project name cannot be empty"),
        ({"name": None}, 400, "Project name cannot be empty"),
        ({"name": "  "}, 400, "Project name cannot be empty"),
        ({"description": "javascript:alert(1)"}, 400, MARKUP),
        ({"is_public": None}, 422, "Validation failed: is_public: Field may not be null."),
        ({"name": "Taken"}, 409, "You already have a project with this name"),
    ],
)
def test_update_project_refuses_bad_input(
    make: Factory, call_act: Any, body: dict[str, Any], status: int, message: str
) -> None:
    owner = make.user()
    project = make.project(owner, "Mine")
    make.project(owner, "Taken")
    response = call_act("project_update", "PUT", id=project.id, token=make.token(owner), json=body)
    assert response.status_code == status
    assert response.json["message"] == message
    assert make.rows(Project, id=project.id)[0]["name"] == "Mine"


@pytest.mark.parametrize("who", ["member", "stranger", "unknown_project"])
def test_update_project_by_non_owner_is_403(make: Factory, call_act: Any, who: str) -> None:
    owner, member = make.user(), make.user()
    project = make.project(owner, "Mine")
    make.member(project, member)
    caller = {"member": member, "stranger": make.user(), "unknown_project": owner}[who]
    token = make.token(caller)
    ident = "proj_missing" if who == "unknown_project" else project.id
    response = call_act("project_update", "PUT", id=ident, token=token, json={"name": "Hijack"})
    assert response.status_code == 403
    assert response.json["message"] == "Access denied"
    assert make.rows(Project, id=project.id)[0]["name"] == "Mine"


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("none", "Authentication failed: Authentication required"),
        ("garbage", "Authentication failed: Invalid or expired access token"),
        ("mcp", "Authentication failed: Invalid or expired access token"),
    ],
)
def test_owner_only_acts_need_a_valid_jwt(
    make: Factory, call_act: Any, method: str, kind: str, message: str
) -> None:
    project = make.project(make.user())
    token = {"none": None, "garbage": "garbage", "mcp": make.mcp_token(project)}[kind]
    response = call_act("project", method, id=project.id, token=token, json={"name": "X"})
    assert response.status_code == 401
    assert response.json["message"] == message
    assert len(make.rows(Project, id=project.id)) == 1


# --- project_delete (DELETE) --------------------------------------------------------------


def test_owner_deletes_project(make: Factory, call_act: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    response = call_act("project_delete", "DELETE", id=project.id, token=make.token(owner))
    assert response.status_code == 200
    assert response.json["message"] == "Project deleted successfully"
    assert response.json["data"] == {"id": project.id}
    assert call_act("project", id=project.id, token=make.token(owner)).status_code == 403


def test_delete_through_another_alias_deletes(make: Factory, call_act: Any) -> None:
    """The act is only a path alias: DELETE ?act=project_update deletes, as in legacy."""
    owner = make.user()
    project = make.project(owner)
    response = call_act("project_update", "DELETE", id=project.id, token=make.token(owner))
    assert response.status_code == 200
    assert make.rows(Project, id=project.id) == []


def test_delete_project_cascades_and_keeps_the_audit_trail(make: Factory, call_act: Any) -> None:
    owner, member = make.user(), make.user()
    project = make.project(owner)
    make.member(project, member)
    folder = make.folder(project)
    make.endpoint(folder)
    flow = make.flow(project, folder_id=folder.id)
    loose_flow = make.flow(project)
    make.execution(loose_flow, status="completed")
    make.mcp_token(project)
    token = make.token(owner)
    assert call_act("flow_toggle_active", "PUT", id=flow.id, token=token).status_code == 200

    response = call_act("project_delete", "DELETE", id=project.id, token=token)

    assert response.status_code == 200
    for model in (Environment, Folder, Flow, FlowExecution, McpClientToken, ProjectMember):
        assert make.rows(model, project_id=project.id) == [], model.__tablename__
    assert make.rows(Endpoint, folder_id=folder.id) == []
    toggled, deleted = make.audit_rows(flow.id)
    assert (toggled["action"], deleted["action"]) == ("flow_status_changed", "flow_deleted")
    assert toggled["project_id"] is None and deleted["project_id"] is None


@pytest.mark.parametrize("who", ["member", "stranger"])
def test_delete_project_by_non_owner_is_403(make: Factory, call_act: Any, who: str) -> None:
    owner, member = make.user(), make.user()
    project = make.project(owner)
    make.member(project, member)
    token = make.token(member if who == "member" else make.user())
    response = call_act("project_delete", "DELETE", id=project.id, token=token)
    assert response.status_code == 403
    assert response.json["message"] == "Access denied"
    assert len(make.rows(Project, id=project.id)) == 1


def test_get_on_project_delete_reads_and_does_not_delete(make: Factory, call_act: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    assert call_act("project_delete", "GET", id=project.id, token=make.token(owner)).json[
        "message"
    ] == ("Project detail")
    assert len(make.rows(Project, id=project.id)) == 1


# --- project_add_member (POST) ------------------------------------------------------------


def test_owner_adds_member_who_can_then_read_the_project(make: Factory, call_act: Any) -> None:
    owner, newcomer = make.user(), make.user()
    project = make.project(owner)
    response = call_act(
        "project_add_member",
        "POST",
        id=project.id,
        token=make.token(owner),
        json={"user_id": newcomer.id, "role": "editor"},
    )
    assert response.status_code == 201
    assert response.json["message"] == "Member added"
    assert response.json["data"]["member_id"].startswith("pm_")
    [row] = make.rows(ProjectMember, project_id=project.id)
    assert (row["id"], row["user_id"], row["invited_by"]) == (
        response.json["data"]["member_id"],
        newcomer.id,
        owner.id,
    )
    assert call_act("project", id=project.id, token=make.token(newcomer)).status_code == 200


def test_a_member_may_not_add_members(make: Factory, call_act: Any) -> None:
    owner, member, newcomer = make.user(), make.user(), make.user()
    project = make.project(owner)
    make.member(project, member)
    response = call_act(
        "project_add_member",
        "POST",
        id=project.id,
        token=make.token(member),
        json={"user_id": newcomer.id},
    )
    assert (response.status_code, response.json["message"]) == (403, "Access denied")
    assert make.rows(ProjectMember, user_id=newcomer.id) == []


@pytest.mark.parametrize(
    ("target", "status", "message"),
    [
        ("self", 400, "Invalid request: Bad request"),
        ("unknown", 404, "User not found"),
        ("member", 409, "User is already a member of this project"),
        ("missing", 400, "Invalid request: Required field: User id"),
    ],
)
def test_add_member_refuses_bad_targets(
    make: Factory, call_act: Any, target: str, status: int, message: str
) -> None:
    owner, member = make.user(), make.user()
    project = make.project(owner)
    make.member(project, member)
    user_ids = {"self": owner.id, "unknown": "user_missing", "member": member.id}
    body = {"user_id": user_ids[target]} if target in user_ids else {}
    token = make.token(owner)
    response = call_act("project_add_member", "POST", id=project.id, token=token, json=body)
    assert response.status_code == status
    assert response.json["message"] == message
    assert len(make.rows(ProjectMember, project_id=project.id)) == 1


@pytest.mark.parametrize(
    ("kind", "status", "message"),
    [
        ("stranger", 403, "Access denied"),
        ("unknown_project", 403, "Access denied"),
        ("none", 401, "Authentication failed: Authentication required"),
        ("mcp", 401, "Authentication failed: Invalid or expired access token"),
    ],
)
def test_add_member_needs_a_member_jwt(
    make: Factory, call_act: Any, kind: str, status: int, message: str
) -> None:
    owner, newcomer = make.user(), make.user()
    project = make.project(owner)
    tokens = {
        "stranger": make.token(make.user()),
        "unknown_project": make.token(owner),
        "none": None,
        "mcp": make.mcp_token(project),
    }
    ident = "proj_missing" if kind == "unknown_project" else project.id
    response = call_act(
        "project_add_member", "POST", id=ident, token=tokens[kind], json={"user_id": newcomer.id}
    )
    assert response.status_code == status
    assert response.json["message"] == message
    assert make.rows(ProjectMember, project_id=project.id) == []


# --- project_context (GET) ----------------------------------------------------------------


def test_project_context_returns_what_the_mcp_server_reads(make: Factory, call_act: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    folder = make.folder(project)
    make.endpoint(folder)
    make.endpoint(folder)
    response = call_act("project_context", id=project.id, token=make.mcp_token(project))
    assert response.status_code == 200
    data = response.json["data"]
    assert list(data) == ["project", "environments", "folders", "user"]
    assert data["project"]["id"] == project.id
    assert [e["name"] for e in data["environments"]] == ["development"]
    assert isinstance(data["environments"][0]["variables"], str)
    assert [(f["id"], f["endpoint_count"]) for f in data["folders"]] == [(folder.id, 2)]
    assert data["user"] == {"id": owner.id, "token_type": "mcp"}


def test_project_context_with_jwt_reports_jwt_caller(make: Factory, call_act: Any) -> None:
    owner, member = make.user(), make.user()
    project = make.project(owner)
    make.member(project, member)
    response = call_act("project_context", id=project.id, token=make.token(member))
    assert response.json["data"]["user"] == {"id": member.id, "token_type": "jwt"}


@pytest.mark.parametrize(
    ("kind", "status", "message"),
    [
        ("none", 401, "Authentication failed: Authentication required"),
        ("stranger", 403, DENIED),
        ("unknown_project", 403, DENIED),
    ],
)
def test_project_context_errors(
    make: Factory, call_act: Any, kind: str, status: int, message: str
) -> None:
    owner = make.user()
    project = make.project(owner)
    tokens = {
        "none": None,
        "stranger": make.token(make.user()),
        "unknown_project": make.token(owner),
    }
    token = tokens[kind]
    ident = "proj_missing" if kind == "unknown_project" else project.id
    response = call_act("project_context", id=ident, token=token)
    assert response.status_code == status
    assert response.json["message"] == message


# --- a token of project A reaches nothing of project B ------------------------------------

CROSS_PROJECT_CALLS = [
    ("project", "GET", {}),
    ("project_update", "PUT", {"name": "Hijacked"}),
    ("project_delete", "DELETE", None),
    ("project_add_member", "POST", {"user_id": "newcomer"}),
    ("project_context", "GET", None),
]


@pytest.mark.parametrize("kind", ["mcp_of_a", "jwt_of_non_member"])
@pytest.mark.parametrize(("act", "method", "body"), CROSS_PROJECT_CALLS)
def test_token_of_project_a_cannot_touch_project_b(
    make: Factory, call_act: Any, kind: str, act: str, method: str, body: Any
) -> None:
    owner = make.user()
    project_a, project_b = make.project(owner), make.project(owner, "B")
    intruder = make.user()
    make.member(project_a, intruder)
    token = make.mcp_token(project_a) if kind == "mcp_of_a" else make.token(intruder)
    if body and "user_id" in body:
        body = {"user_id": make.user().id}
    before = call_act("project", id=project_b.id, token=make.token(owner)).json["data"]

    response = call_act(act, method, id=project_b.id, token=token, json=body)

    assert response.status_code in (401, 403)
    assert response.json["success"] is False
    after = call_act("project", id=project_b.id, token=make.token(owner)).json["data"]
    assert after == before


# --- client checklist: extra parameters, preflight, CORS on errors ------------------------


def test_project_reads_ignore_unknown_query_parameters(make: Factory, call_act: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    token = make.token(owner)
    plain = call_act("project", id=project.id, token=token).json["data"]
    extra = call_act("project", id=project.id, token=token, is_active="true", format="json")
    assert extra.json["data"] == plain


def test_preflight_on_a_project_act_needs_no_auth(make: Factory, client: Any) -> None:
    project = make.project(make.user())
    response = client.options(f"/?act=project_update&id={project.id}")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "PUT" in response.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]


def test_denied_project_answer_carries_cors_header(make: Factory, call_act: Any) -> None:
    project = make.project(make.user())
    response = call_act("project", id=project.id)
    assert response.status_code == 403
    assert response.headers["Access-Control-Allow-Origin"] == "*"
