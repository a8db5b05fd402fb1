"""Operator CLI for members and MCP tokens: the same acts, checks and audit rows as over HTTP."""

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from backend.auth.tokens import sha256_hex
from backend.db import db
from backend.models import AuditLog, McpClientToken, ProjectMember
from tests.factories import Factory

pytestmark = pytest.mark.usefixtures("deadline")


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def test_members_add_list_remove_as_the_owner(app: Flask, make: Factory) -> None:
    owner, newcomer = make.user(email="boss@example.com"), make.user()
    project = make.project(owner)
    as_owner = ("--project", project.id, "--as", "boss@example.com")
    added = run(app, "members", "add", *as_owner, "--user", newcomer.id)
    assert added.exit_code == 0, added.output
    listed = run(app, "members", "list", *as_owner, "--json")
    assert [row["role"] for row in json.loads(listed.stdout)] == ["owner", "member"]
    removed = run(app, "members", "remove", *as_owner, "--user", newcomer.id)
    assert removed.exit_code == 0, removed.output
    assert make.rows(ProjectMember, project_id=project.id) == []
    actions = sorted(row["action"] for row in make.rows(AuditLog, project_id=project.id))
    assert actions == ["project_member_added", "project_member_removed"]


def test_members_add_by_a_member_is_refused(app: Flask, make: Factory) -> None:
    owner, member = make.user(), make.user(email="member@example.com")
    project = make.project(owner)
    make.member(project, member)
    result = run(
        app, "members", "add", "--project", project.id, "--user", make.user().id,
        "--as", "member@example.com",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Access denied" in result.output


def test_members_leave(app: Flask, make: Factory) -> None:
    owner, member = make.user(), make.user(email="leaver@example.com")
    project = make.project(owner)
    make.member(project, member)
    result = run(app, "members", "leave", "--project", project.id, "--as", "leaver@example.com")
    assert result.exit_code == 0, result.output
    assert make.rows(ProjectMember, project_id=project.id) == []


def test_tokens_create_list_revoke(app: Flask, make: Factory) -> None:
    owner = make.user(email="tokens@example.com")
    project = make.project(owner)
    as_owner = ("--as", "tokens@example.com")
    created = run(
        app, "tokens", "mcp-create", "--project", project.id, "--expires-in-days", "7", *as_owner,
        "--json",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    secret = json.loads(created.stdout)["token"]
    listed = run(app, "tokens", "mcp-list", "--project", project.id, *as_owner)
    assert listed.exit_code == 0, listed.output
    [row] = make.rows(McpClientToken, project_id=project.id)
    assert row["id"] in listed.stdout and secret not in listed.stdout
    revoked = run(app, "tokens", "mcp-revoke", row["id"], *as_owner)
    assert revoked.exit_code == 0, revoked.output
    assert make.rows(McpClientToken, id=row["id"])[0]["is_active"] == 0


def test_tokens_policy_owner_only(app: Flask, make: Factory) -> None:
    owner, member = make.user(email="pol@example.com"), make.user(email="mem@example.com")
    project = make.project(owner)
    make.member(project, member)
    policy = run(app, "tokens", "mcp-policy", "--project", project.id, "--owner-only",
                 "--as", "pol@example.com", "--json")  # fmt: skip
    assert json.loads(policy.stdout) == {"project_id": project.id, "members_may_mint": False}
    refused = run(app, "tokens", "mcp-create", "--project", project.id, "--as", "mem@example.com")
    assert refused.exit_code == 1
    assert "Only the project owner may create MCP tokens" in refused.output


def test_users_disable_ends_sessions_and_mcp_tokens_for_good(
    app: Flask, make: Factory, call_act: Any
) -> None:
    owner, member = make.user(), make.user(email="gone@example.com")
    project = make.project(owner)
    make.member(project, member)
    jwt = make.token(member)
    minted = call_act("mcp_generate_config", "POST", id=project.id, token=jwt).json["data"]
    legacy = make.mcp_token(project)
    owners = make.mcp_token(project)
    set_creator(app, legacy, member.id)
    assert run(app, "users", "disable", "gone@example.com").exit_code == 0
    assert run(app, "users", "enable", "gone@example.com").exit_code == 0
    for token in (minted["token"], legacy):
        assert call_act("mcp_validate", token=token).status_code == 401
    assert call_act("mcp_validate", token=owners).status_code == 200
    response = call_act("profile", token=jwt)
    assert (response.status_code, response.json["message"]) == (
        401,
        "Authentication failed: Token has been invalidated",
    )


def set_creator(app: Flask, plaintext: str, user_id: str) -> None:
    with app.app_context():
        db.session.execute(
            update(McpClientToken)
            .where(McpClientToken.token_hash == sha256_hex(plaintext))
            .values(created_by=user_id)
        )
        db.session.commit()
