"""MCP token lifecycle (issue 15 item 1): a token acts as its minter and dies with the minter's
sessions, access or account; list, revoke, expiry and the owner's minting policy."""

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from backend.db import db
from backend.legacy.clock import now
from backend.models import (
    AuditLog,
    McpClientToken,
    McpTokenLifecycle,
    ProjectMember,
    ProjectPolicy,
    User,
)
from tests.factories import PASSWORD, Factory

pytestmark = pytest.mark.usefixtures("deadline")
NEW_PASSWORD = "Changed456"


def mint(call_act: Any, project_id: str, jwt: str, **query: Any) -> str:
    response = call_act("mcp_generate_config", "POST", id=project_id, token=jwt, **query)
    assert response.status_code == 201, response.json
    return response.json["data"]["token"]


def alive(call_act: Any, mcp_token: str) -> bool:
    """The token still opens `mcp_validate` (and so every act of its project)."""
    return call_act("mcp_validate", token=mcp_token).status_code == 200


def shared_project(make: Factory) -> tuple[User, User, Any]:
    owner, member = make.user(), make.user()
    project = make.project(owner)
    make.member(project, member)
    return owner, member, project


def set_rows(app: Flask, model: Any, where: Any, **values: Any) -> None:
    with app.app_context():
        db.session.execute(update(model).where(where).values(**values))
        db.session.commit()


# --- who the token is ---------------------------------------------------------------------


def test_a_members_token_acts_as_the_member_in_rows_and_audit(make: Factory, call_act: Any) -> None:
    owner, member, project = shared_project(make)
    token = mint(call_act, project.id, make.token(member))
    flow = call_act("flow_create", "POST", id=project.id, token=token, json={"name": "By token"})
    assert flow.json["data"]["created_by"] == member.id
    toggled = call_act("flow_toggle_active", "PUT", id=flow.json["data"]["id"], token=token)
    assert toggled.status_code == 200
    [change] = make.rows(AuditLog, action="flow_status_changed")
    assert change["user_id"] == member.id
    [minted] = make.rows(AuditLog, action="mcp_token_created")
    assert (minted["user_id"], minted["project_id"]) == (member.id, project.id)


def test_validate_keeps_the_legacy_answer_and_names_the_minter(
    make: Factory, call_act: Any
) -> None:
    _, member, project = shared_project(make)
    token = mint(call_act, project.id, make.token(member))
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    data = call_act("mcp_validate", token=token).json["data"]
    assert list(data) == ["project", "environments", "user"]
    assert list(data["user"]) == ["id", "email", "project_id", "token_type", "mcp_token_id"]
    assert (data["user"]["id"], data["user"]["email"], data["user"]["token_type"]) == (
        member.id,
        None,
        "mcp",
    )
    [row] = make.rows(McpClientToken, id=data["user"]["mcp_token_id"])
    assert row["created_by"] == member.id


def test_a_legacy_token_without_lifecycle_row_still_works(make: Factory, call_act: Any) -> None:
    owner, _, project = shared_project(make)
    legacy = make.mcp_token(project)
    assert make.rows(McpTokenLifecycle) == []
    assert alive(call_act, legacy)
    response = call_act("flows", id=project.id, token=legacy)
    assert response.status_code == 200


# --- when a token dies --------------------------------------------------------------------


@pytest.mark.parametrize("how", ["logout-all", "change-password"])
def test_ending_the_minters_sessions_kills_their_tokens(
    make: Factory, call_act: Any, how: str
) -> None:
    owner, member, project = shared_project(make)
    jwt = make.token(member)
    mine, owners = mint(call_act, project.id, jwt), mint(call_act, project.id, make.token(owner))
    legacy = make.mcp_token(project)  # minted on the legacy backend by the owner
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    answer = call_act(how, "POST", token=jwt, json=body if how == "change-password" else None)
    assert answer.status_code == 200
    assert not alive(call_act, mine)
    assert call_act("flows", id=project.id, token=mine).status_code == 401
    assert alive(call_act, owners) and alive(call_act, legacy)
    [revoked] = make.rows(AuditLog, action="mcp_token_revoked")
    assert revoked["metadata"] == '{"reason": "sessions_ended"}'


def test_sessions_ended_elsewhere_kill_gateway_minted_tokens(
    app: Flask, make: Factory, call_act: Any
) -> None:
    """The legacy backend's logout-all only bumps token_version: the token dies all the same."""
    _, member, project = shared_project(make)
    token = mint(call_act, project.id, make.token(member))
    set_rows(app, User, User.id == member.id, token_version=User.token_version + 1)
    assert not alive(call_act, token)


@pytest.mark.parametrize("how", ["removed", "left", "removed_elsewhere"])
def test_a_minter_who_loses_access_loses_the_token(
    app: Flask, make: Factory, call_act: Any, how: str
) -> None:
    owner, member, project = shared_project(make)
    token = mint(call_act, project.id, make.token(member))
    legacy = make.mcp_token(project)
    set_rows(app, McpClientToken, McpClientToken.id != "", created_by=member.id)
    if how == "removed":
        body = {"user_id": member.id}
        answer = call_act(
            "project_remove_member", "DELETE", id=project.id, token=make.token(owner), json=body
        )
        assert answer.status_code == 200
    elif how == "left":
        left = call_act("project_leave", "POST", id=project.id, token=make.token(member))
        assert left.status_code == 200
    else:
        with app.app_context():
            db.session.query(ProjectMember).delete()
            db.session.commit()
    assert not alive(call_act, token)
    assert not alive(call_act, legacy)


def test_a_deactivated_minters_token_is_refused(app: Flask, make: Factory, call_act: Any) -> None:
    _, member, project = shared_project(make)
    token = mint(call_act, project.id, make.token(member))
    set_rows(app, User, User.id == member.id, is_active=0)
    assert not alive(call_act, token)
    response = call_act("flows", id=project.id, token=token)
    assert (response.status_code, response.json["message"]) == (
        403,
        "Access denied: User account is disabled",
    )


def test_an_expired_token_is_refused(app: Flask, make: Factory, call_act: Any) -> None:
    owner, _, project = shared_project(make)
    token = mint(call_act, project.id, make.token(owner), expires_in_days=1)
    [row] = make.rows(McpTokenLifecycle)
    with app.app_context():
        stamp = now()
    assert row["expires_at"] - stamp > timedelta(hours=23)
    assert alive(call_act, token)
    past = stamp - timedelta(seconds=1)
    set_rows(app, McpTokenLifecycle, McpTokenLifecycle.token_id == row["token_id"], expires_at=past)
    assert not alive(call_act, token)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "Invalid request: expires_in_days must be a whole number of at least 1"),
        ("soon", "Invalid request: expires_in_days must be a whole number of at least 1"),
        ("3651", "Invalid request: expires_in_days must be at most 3650"),
    ],
)
def test_a_bad_expiry_mints_nothing(make: Factory, call_act: Any, value: str, message: str) -> None:
    owner, _, project = shared_project(make)
    response = call_act(
        "mcp_generate_config", "POST", id=project.id, token=make.token(owner), expires_in_days=value
    )
    assert (response.status_code, response.json["message"]) == (400, message)
    assert make.rows(McpClientToken) == []


# --- list and revoke ----------------------------------------------------------------------


def test_the_owner_lists_every_token_without_its_secret(make: Factory, call_act: Any) -> None:
    owner, member, project = shared_project(make)
    mint(call_act, project.id, make.token(member))
    owners = mint(call_act, project.id, make.token(owner), expires_in_days=30)
    response = call_act("mcp_tokens", id=project.id, token=make.token(owner))
    assert (response.status_code, response.json["message"]) == (200, "MCP tokens fetched")
    data = response.json["data"]
    assert (data["project_id"], data["members_may_mint"]) == (project.id, True)
    assert sorted(t["created_by"] for t in data["tokens"]) == sorted([owner.id, member.id])
    assert all(t["alive"] and t["is_active"] == 1 for t in data["tokens"])
    assert owners not in response.get_data(as_text=True)
    assert "token_hash" not in response.get_data(as_text=True)
    assert {bool(t["expires_at"]) for t in data["tokens"]} == {True, False}


def test_a_member_lists_only_their_own_tokens(make: Factory, call_act: Any) -> None:
    owner, member, project = shared_project(make)
    mint(call_act, project.id, make.token(owner))
    mint(call_act, project.id, make.token(member))
    tokens = call_act("mcp_tokens", id=project.id, token=make.token(member)).json["data"]["tokens"]
    assert [t["created_by"] for t in tokens] == [member.id]


@pytest.mark.parametrize(("kind", "status"), [("stranger", 404), ("mcp", 401), ("none", 401)])
def test_outsiders_and_mcp_tokens_cannot_list_tokens(
    make: Factory, call_act: Any, kind: str, status: int
) -> None:
    owner, _, project = shared_project(make)
    tokens = {"stranger": make.token(make.user()), "mcp": make.mcp_token(project), "none": None}
    assert call_act("mcp_tokens", id=project.id, token=tokens[kind]).status_code == status


@pytest.mark.parametrize("revoker", ["owner", "minter"])
def test_the_owner_or_the_minter_revokes_a_token(
    make: Factory, call_act: Any, revoker: str
) -> None:
    owner, member, project = shared_project(make)
    token = mint(call_act, project.id, make.token(member))
    [row] = make.rows(McpClientToken)
    jwt = make.token(owner if revoker == "owner" else member)
    response = call_act("mcp_token_revoke", "DELETE", id=row["id"], token=jwt)
    assert (response.status_code, response.json["message"]) == (200, "MCP token revoked")
    assert response.json["data"] == {"id": row["id"], "project_id": project.id, "is_active": 0}
    assert not alive(call_act, token)
    again = call_act("mcp_token_revoke", "DELETE", id=row["id"], token=jwt)
    assert again.status_code == 200
    [revoked] = make.rows(AuditLog, action="mcp_token_revoked")
    assert (revoked["resource_id"], revoked["metadata"]) == (row["id"], '{"reason": "revoked"}')
    listed = call_act("mcp_tokens", id=project.id, token=make.token(owner)).json["data"]
    assert [(t["is_active"], t["alive"]) for t in listed["tokens"]] == [(0, False)]


@pytest.mark.parametrize("who", ["other_member", "stranger", "unknown_token"])
def test_anyone_else_revoking_gets_404_and_the_token_lives(
    make: Factory, call_act: Any, who: str
) -> None:
    owner, member, project = shared_project(make)
    other = make.user()
    make.member(project, other)
    token = mint(call_act, project.id, make.token(member))
    [row] = make.rows(McpClientToken)
    jwt = make.token(other if who == "other_member" else make.user())
    ident = "mcp_missing" if who == "unknown_token" else row["id"]
    response = call_act("mcp_token_revoke", "DELETE", id=ident, token=jwt)
    assert (response.status_code, response.json["message"]) == (
        404,
        "Not found: MCP token not found",
    )
    assert alive(call_act, token)


# --- the owner's minting policy -----------------------------------------------------------


def test_the_owner_can_forbid_members_to_mint(make: Factory, call_act: Any) -> None:
    owner, member, project = shared_project(make)
    body = {"members_may_mint": False}
    response = call_act(
        "mcp_token_policy", "PUT", id=project.id, token=make.token(owner), json=body
    )
    assert response.status_code == 200
    assert response.json["data"] == {"project_id": project.id, "members_may_mint": False}
    refused = call_act("mcp_generate_config", "POST", id=project.id, token=make.token(member))
    assert (refused.status_code, refused.json["message"]) == (
        403,
        "Access denied: Only the project owner may create MCP tokens for this project",
    )
    assert mint(call_act, project.id, make.token(owner))
    assert [row["created_by"] for row in make.rows(McpClientToken)] == [owner.id]
    [changed] = make.rows(AuditLog, action="mcp_token_policy_changed")
    assert changed["new_values"] == '{"members_may_mint": false}'


def test_a_member_cannot_change_the_policy(make: Factory, call_act: Any) -> None:
    _, member, project = shared_project(make)
    body = {"members_may_mint": False}
    response = call_act(
        "mcp_token_policy", "PUT", id=project.id, token=make.token(member), json=body
    )
    assert (response.status_code, response.json["message"]) == (403, "Access denied")
    assert mint(call_act, project.id, make.token(member))


@pytest.mark.parametrize("body", [{}, {"members_may_mint": "no"}, {"members_may_mint": None}])
def test_the_policy_needs_a_json_boolean(make: Factory, call_act: Any, body: Any) -> None:
    owner, _, project = shared_project(make)
    response = call_act(
        "mcp_token_policy", "PUT", id=project.id, token=make.token(owner), json=body
    )
    assert response.status_code in (400, 422)
    assert make.rows(ProjectPolicy) == []
    assert call_act("mcp_tokens", id=project.id, token=make.token(owner)).json["data"][
        "members_may_mint"
    ]


# --- the public token script mints the same way -------------------------------------------

SCRIPT = "/public/generate-mcp-token.php"


def script_token(client: Any, user: User, project_id: str) -> Any:
    body = {"email": user.email, "password": PASSWORD, "project_id": project_id}
    return client.post(SCRIPT, json=body)


def test_the_token_script_mints_as_the_member_with_a_lifecycle_and_an_audit_row(
    make: Factory, client: Any, call_act: Any
) -> None:
    _, member, project = shared_project(make)
    response = script_token(client, member, project.id)
    assert response.status_code == 201
    [row] = make.rows(McpClientToken)
    assert row["created_by"] == member.id
    assert [r["token_id"] for r in make.rows(McpTokenLifecycle)] == [row["id"]]
    [minted] = make.rows(AuditLog, action="mcp_token_created")
    assert minted["user_id"] == member.id
    assert call_act("logout-all", "POST", token=make.token(member)).status_code == 200
    assert not alive(call_act, response.json["mcpClient"]["token"])


def test_the_token_script_follows_the_owners_policy(
    make: Factory, client: Any, call_act: Any
) -> None:
    owner, member, project = shared_project(make)
    body = {"members_may_mint": False}
    call_act("mcp_token_policy", "PUT", id=project.id, token=make.token(owner), json=body)
    response = script_token(client, member, project.id)
    assert (response.status_code, response.json) == (
        403,
        {
            "success": False,
            "message": "Failed to generate MCP token",
            "error": "Access denied: Only the project owner may create MCP tokens for this project",
        },
    )
    assert make.rows(McpClientToken) == []
