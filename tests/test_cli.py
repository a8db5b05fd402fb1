"""Operator CLI: the same handlers, checks and audit rows as the HTTP acts."""

import json
import re
from collections.abc import Iterator
from typing import Any

import click
from flask import Flask
from sqlalchemy import select

from backend.db import db
from backend.models import AuditLog, Flow
from tests.factories import PASSWORD, Factory


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def test_toggle_as_member_flips_and_audits(app: Flask, make: Factory) -> None:
    owner = make.user(email="ops@example.com")
    flow = make.flow(make.project(owner))
    result = run(app, "flows", "toggle", flow.id, "--as", "ops@example.com", "--reason", "maint")
    assert result.exit_code == 0, result.output
    assert "Flow deactivated" in result.output
    with app.app_context():
        assert db.session.get(Flow, flow.id).is_active == 0
        audit = db.session.execute(select(AuditLog)).scalar_one()
    assert audit.user_id == owner.id
    assert json.loads(audit.metadata_)["reason"] == "maint"
    assert audit.user_agent.startswith("gassapi-gateway-cli/")


def test_toggle_json_output_is_the_flow_row(app: Flask, make: Factory) -> None:
    owner = make.user(email="json@example.com")
    flow = make.flow(make.project(owner))
    result = run(app, "flows", "toggle", flow.id, "--as", "json@example.com", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["is_active"] == 0


def test_unknown_flow_exits_non_zero_with_envelope_message(app: Flask, make: Factory) -> None:
    make.user(email="ops2@example.com")
    result = run(app, "flows", "toggle", "flow_missing", "--as", "ops2@example.com")
    assert result.exit_code == 1
    assert "Not found: Flow not found" in result.output


def test_non_member_is_forbidden(app: Flask, make: Factory) -> None:
    flow = make.flow(make.project(make.user()))
    make.user(email="stranger@example.com")
    result = run(app, "flows", "toggle", flow.id, "--as", "stranger@example.com")
    assert result.exit_code == 1
    assert "Forbidden" in result.output


def test_unknown_acting_user_is_refused(app: Flask, make: Factory) -> None:
    flow = make.flow(make.project(make.user()))
    result = run(app, "flows", "toggle", flow.id, "--as", "nobody@example.com")
    assert result.exit_code == 1
    assert "No active user" in result.output


def test_toggle_without_acting_user_is_a_usage_error_naming_as(app: Flask, make: Factory) -> None:
    flow = make.flow(make.project(make.user()))
    result = run(app, "flows", "toggle", flow.id)
    assert result.exit_code == 2
    assert "Missing option '--as'" in result.output


def test_list_prints_a_table_of_the_project_flows(app: Flask, make: Factory) -> None:
    owner = make.user(email="lister@example.com")
    project = make.project(owner)
    first, second = make.flow(project, name="Alpha"), make.flow(project, name="Beta", is_active=0)
    result = run(app, "flows", "list", "--project", project.id, "--as", "lister@example.com")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split()[:3] == ["id", "name", "is_active"]
    assert first.id in result.stdout and second.id in result.stdout


def test_list_active_json_excludes_inactive_flows(app: Flask, make: Factory) -> None:
    owner = make.user(email="active@example.com")
    project = make.project(owner)
    active, inactive = make.flow(project), make.flow(project, is_active=0)
    result = run(
        app,
        "flows",
        "list",
        "--project",
        project.id,
        "--active",
        "--json",
        "--as",
        "active@example.com",
    )
    ids = {row["id"] for row in json.loads(result.stdout)}
    assert active.id in ids and inactive.id not in ids


def test_list_inactive_json_lists_only_inactive_flows(app: Flask, make: Factory) -> None:
    owner = make.user(email="inactive@example.com")
    project = make.project(owner)
    active, inactive = make.flow(project), make.flow(project, is_active=0)
    args = ("flows", "list", "--project", project.id, "--inactive", "--json")
    result = run(app, *args, "--as", "inactive@example.com")
    assert result.exit_code == 0, result.output
    assert [row["id"] for row in json.loads(result.stdout)] == [inactive.id]
    everything = run(app, "flows", "list", "--project", project.id, "--json", "--as", owner.email)
    assert {row["id"] for row in json.loads(everything.stdout)} == {active.id, inactive.id}


def test_list_refuses_active_with_inactive(app: Flask, make: Factory) -> None:
    owner = make.user(email="both@example.com")
    project = make.project(owner)
    args = ("flows", "list", "--project", project.id, "--active", "--inactive")
    result = run(app, *args, "--as", "both@example.com")
    assert result.exit_code == 2
    assert "--active and --inactive exclude each other" in result.output


def test_show_prints_the_flow(app: Flask, make: Factory) -> None:
    owner = make.user(email="show@example.com")
    flow = make.flow(make.project(owner), name="Shown")
    result = run(app, "flows", "show", flow.id, "--as", "show@example.com", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["name"] == "Shown"


def test_deactivate_then_activate_and_history(app: Flask, make: Factory) -> None:
    owner = make.user(email="deploy@example.com")
    flow = make.flow(make.project(owner))
    as_ops = ("--as", "deploy@example.com")
    assert run(app, "flows", "deactivate", flow.id, *as_ops, "--reason", "deploy").exit_code == 0
    assert run(app, "flows", "activate", flow.id, *as_ops).exit_code == 0
    history = run(app, "flows", "history", flow.id, *as_ops, "--json")
    assert history.exit_code == 0, history.output
    changes = json.loads(history.stdout)
    assert [(c["old_status"], c["new_status"]) for c in changes] == [(0, 1), (1, 0)]
    assert changes[1]["reason"] == "deploy"


def test_deactivate_unknown_flow_fails(app: Flask, make: Factory) -> None:
    make.user(email="deact@example.com")
    result = run(app, "flows", "deactivate", "flow_nope", "--as", "deact@example.com")
    assert result.exit_code == 1
    assert "Not found: Flow not found" in result.output


def test_history_of_unknown_flow_fails(app: Flask, make: Factory) -> None:
    make.user(email="hist@example.com")
    result = run(app, "flows", "history", "flow_nope", "--as", "hist@example.com")
    assert result.exit_code == 1


def test_users_create_registers_an_account(app: Flask) -> None:
    result = run(
        app,
        "users",
        "create",
        "--email",
        "New@Example.com",
        "--name",
        "New Ops",
        "--password",
        "Secret123",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["email"] == "new@example.com"


def test_users_create_refuses_a_weak_password(app: Flask) -> None:
    result = run(
        app, "users", "create", "--email", "weak@example.com", "--name", "Weak", "--password", "x"
    )
    assert result.exit_code == 1
    assert "Password should be at least 8 characters" in result.output


def test_users_create_refuses_a_duplicate(app: Flask, make: Factory) -> None:
    make.user(email="dupe@example.com")
    result = run(
        app,
        "users",
        "create",
        "--email",
        "dupe@example.com",
        "--name",
        "Dupe",
        "--password",
        "Secret123",
    )
    assert result.exit_code == 1
    assert "User already exists" in result.output


def login_status(call_act: Any, email: str) -> int:
    return call_act("login", "POST", json={"email": email, "password": PASSWORD}).status_code


def test_users_disable_stops_the_account_and_its_tokens(
    app: Flask, make: Factory, call_act: Any
) -> None:
    user = make.user(email="leaver@example.com")
    token = make.token(user)
    result = run(app, "users", "disable", "Leaver@Example.com")
    assert result.exit_code == 0, result.output
    response = call_act("profile", "GET", token=token)
    assert (response.status_code, response.json["message"]) == (
        403,
        "Access denied: User account is disabled",
    )
    assert login_status(call_act, user.email) == 403


def test_users_enable_lets_a_disabled_account_sign_in_again(
    app: Flask, make: Factory, call_act: Any
) -> None:
    user = make.user(email="back@example.com", is_active=0)
    assert login_status(call_act, user.email) == 403
    result = run(app, "users", "enable", "back@example.com")
    assert result.exit_code == 0, result.output
    assert "back@example.com: enabled" in result.output
    assert login_status(call_act, user.email) == 200


def test_users_enable_of_an_unknown_email_fails(app: Flask) -> None:
    result = run(app, "users", "enable", "nobody@example.com")
    assert result.exit_code == 1
    assert "No user with email nobody@example.com" in result.output


def test_tokens_mcp_create_issues_a_working_token(app: Flask, make: Factory, call_act: Any) -> None:
    owner = make.user(email="mcp@example.com")
    project = make.project(owner)
    result = run(
        app, "tokens", "mcp-create", "--project", project.id, "--as", "mcp@example.com", "--json"
    )
    assert result.exit_code == 0, result.output
    token = json.loads(result.stdout)["token"]
    assert call_act("project", "GET", id=project.id, token=token).status_code == 200


def test_tokens_mcp_create_for_foreign_project_fails(app: Flask, make: Factory) -> None:
    project = make.project(make.user())
    make.user(email="outsider@example.com")
    result = run(
        app, "tokens", "mcp-create", "--project", project.id, "--as", "outsider@example.com"
    )
    assert result.exit_code == 1
    assert "Project not found" in result.output


def commands(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        yield " ".join((*prefix, name)), command
        if isinstance(command, click.Group):
            yield from commands(command, (*prefix, name))


def test_every_command_and_option_has_help(app: Flask) -> None:
    undocumented = [
        f"{path} {param.opts[0] if isinstance(param, click.Option) else ''}".strip()
        for path, command in commands(app.cli)
        for param in [None, *command.params]
        if (param is None and not command.help)
        or (isinstance(param, click.Option) and not param.help)
    ]
    assert undocumented == []


def test_as_is_marked_required_in_the_help(app: Flask) -> None:
    result = run(app, "flows", "toggle", "--help")
    assert result.exit_code == 0
    assert re.search(r"--as EMAIL\s+The acting user.*\[required\]", result.output, re.S)


def test_users_create_reads_the_password_from_stdin_without_a_tty(app: Flask) -> None:
    args = ["users", "create", "--email", "pipe@example.com", "--name", "Pipe", "--password-stdin"]
    result = app.test_cli_runner().invoke(args=[*args, "--json"], input="Piped1234\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["email"] == "pipe@example.com"


def test_users_create_without_a_password_and_no_tty_says_how(app: Flask) -> None:
    args = ["users", "create", "--email", "tty@example.com", "--name", "Tty"]
    result = app.test_cli_runner().invoke(args=args, input="")
    assert result.exit_code == 2
    assert "--password-stdin" in result.output


def test_json_errors_are_json(app: Flask, make: Factory) -> None:
    make.user(email="jsonerr@example.com")
    args = ("flows", "toggle", "flow_missing", "--as", "jsonerr@example.com", "--json")
    result = run(app, *args)
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "success": False,
        "status_code": 404,
        "message": "Not found: Flow not found",
    }


def test_projects_create_then_flows_create_as_the_acting_user(app: Flask, make: Factory) -> None:
    owner = make.user(email="maker@example.com")
    made = run(app, "projects", "create", "--name", "Made", "--as", owner.email, "--json")
    assert made.exit_code == 0, made.output
    project = json.loads(made.stdout)
    assert (project["name"], project["owner_id"]) == ("Made", owner.id)
    args = ("flows", "create", "--project", project["id"], "--name", "Export", "--json")
    flow = run(app, *args, "--as", owner.email)
    assert flow.exit_code == 0, flow.output
    created = json.loads(flow.stdout)
    assert (created["name"], created["project_id"], created["is_active"]) == (
        "Export",
        project["id"],
        1,
    )


def test_flows_create_in_a_foreign_project_is_forbidden(app: Flask, make: Factory) -> None:
    project = make.project(make.user())
    make.user(email="outsider@example.com")
    args = ("flows", "create", "--project", project.id, "--name", "X")
    result = run(app, *args, "--as", "outsider@example.com")
    assert result.exit_code == 1
    assert "Forbidden" in result.output
