"""Operator commands (`flask --app wsgi …` or `gassapi-gateway …`), acting through the same handlers
as the HTTP acts: same checks, same audit rows, the acting user named by `--as EMAIL`."""

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from marshmallow import ValidationError
from sqlalchemy import func, select, update

from backend.core import envelope
from backend.core.call import Call, Caller, Client, Raw, Reply
from backend.core.errors import GatewayError, ValidationFailed
from backend.core.registry import Action, registry, schema_instance
from backend.db import db, request_connection
from backend.db.indexes import add_indexes
from backend.db.tables import create_missing
from backend.legacy.clock import now
from backend.models import McpClientToken, User
from backend.ops.acts import acts_command
from backend.ops.version import __version__
from backend.runner import run
from backend.web import cutover
from backend.web.cutover.report import TABLE_COLUMNS, details
from config import ConfigError, metrics_dir, whole

CLI_CLIENT = Client(ip=None, user_agent=f"gassapi-gateway-cli/{__version__}")
FLOW_COLUMNS = ("id", "name", "is_active", "folder_id", "updated_at")


class CommandFailed(click.ClickException):
    """A refused command: exit 1 with the envelope message (as JSON under `--json`)."""

    exit_code = 1

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.as_json = False

    def show(self, file: Any = None) -> None:
        if not self.as_json:
            super().show(file)
            return
        failure = {"success": False, "status_code": self.status, "message": self.message}
        click.echo(json.dumps({k: v for k, v in failure.items() if v is not None}))


def acting_user(email: str | None) -> Caller | None:
    if email is None:
        return None
    row = db.session.execute(
        select(User.id, User.email, User.is_active).where(func.lower(User.email) == email.lower())
    ).first()
    if row is None or not row.is_active:
        raise CommandFailed(f"No active user with email {email}")
    return Caller(user_id=row.id, email=row.email)


def caller(action: Action, as_email: str | None) -> Caller | None:
    user = acting_user(as_email)
    if user is None and action.auth is not None and not action.auth.optional:
        raise action.auth.error("missing")
    return user


def invoke(
    act: str,
    method: str,
    ident: str | None = None,
    *,
    data: dict[str, Any] | None = None,
    as_email: str | None = None,
    query: dict[str, str] | None = None,
) -> Reply:
    """Run one act exactly as the HTTP dispatcher would, minus HTTP."""
    try:
        action, args = registry.resolve_act(act, method, ident)
        loaded = data or {}
        if action.schema is not None:
            loaded = schema_instance(action.schema).load(loaded)
        call = Call(
            loaded,
            args=args,
            user=caller(action, as_email),
            query=query or {},
            client=CLI_CLIENT,
        )
        result = run(action, call)
    except ValidationError as exc:
        raise refused(ValidationFailed(exc.messages_dict)) from exc
    except GatewayError as exc:
        request_connection.rollback(db)
        raise refused(exc) from exc
    return result if isinstance(result, Reply | Raw) else Reply(result)


def refused(error: GatewayError) -> CommandFailed:
    return CommandFailed(envelope.wire_message(error.status, error.message), error.status)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def show(reply: Reply, as_json: bool, columns: Sequence[str] = FLOW_COLUMNS) -> None:
    if as_json:
        click.echo(json.dumps(reply.data, ensure_ascii=False, indent=2))
        return
    click.echo(reply.message, err=True)
    rows = reply.data if isinstance(reply.data, list) else [reply.data]
    if not rows:
        return
    keys = [c for c in columns if any(c in r for r in rows)] or list(rows[0])
    click.echo(table(rows, keys))


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--json`: the data as JSON on stdout, and a refusal as `{"success": false, …}` too."""

    @functools.wraps(func)
    def command(*args: Any, as_json: bool, **kwargs: Any) -> Any:
        try:
            return func(*args, as_json=as_json, **kwargs)
        except CommandFailed as exc:
            exc.as_json = as_json
            raise

    help_text = "Print the data (or the error) as JSON."
    return click.option("--json", "as_json", is_flag=True, help=help_text)(command)


def common(func: Callable[..., Any]) -> Callable[..., Any]:
    """`--json`, and `--as EMAIL`: every act a command runs needs an acting user."""
    func = json_option(func)
    as_help = "The acting user's e-mail (checks and audit rows as for their token)."
    return click.option("--as", "as_email", metavar="EMAIL", required=True, help=as_help)(func)


flows = AppGroup("flows", help="Flows: create, list, inspect and change active status.")
projects = AppGroup("projects", help="Projects.")
users = AppGroup("users", help="User accounts.")
tokens = AppGroup("tokens", help="MCP project tokens: create, list, revoke, minting policy.")
members = AppGroup("members", help="Project members: list, add, remove, leave.")
MCP_TOKEN_COLUMNS = ("id", "created_by_email", "created_at", "expires_at", "is_active", "alive")
MEMBER_COLUMNS = ("user_id", "email", "name", "role", "joined_at")
cutover_group = AppGroup("cutover", help="Cut-over from the legacy backend (docs/cutover.md).")


@flows.command("list")
@click.option("--project", required=True, help="Project id.")
@click.option("--active", is_flag=True, help="Only active flows.")
@click.option("--inactive", is_flag=True, help="Only inactive flows (status=inactive).")
@common
def flows_list(
    project: str, active: bool, inactive: bool, as_json: bool, as_email: str | None
) -> None:
    """List a project's flows, newest first."""
    if active and inactive:
        raise click.UsageError("--active and --inactive exclude each other")
    query = {"status": "inactive"} if inactive else None
    act = "flows_active" if active else "flows"
    show(invoke(act, "GET", project, as_email=as_email, query=query), as_json)


@flows.command("create")
@click.option("--project", required=True, help="Project id.")
@click.option("--name", required=True, help="The flow's name.")
@click.option("--description", help="Free text.")
@click.option("--folder", "folder_id", help="Folder id in the project.")
@common
def flows_create(
    project: str,
    name: str,
    description: str | None,
    folder_id: str | None,
    as_json: bool,
    as_email: str | None,
) -> None:
    """Create a flow in a project (as `flow_create`: active, an empty definition)."""
    data = {"name": name, "description": description, "folder_id": folder_id}
    given = {key: value for key, value in data.items() if value is not None}
    show(invoke("flow_create", "POST", project, data=given, as_email=as_email), as_json)


@projects.command("create")
@click.option("--name", required=True, help="The project's name.")
@click.option("--description", help="Free text.")
@common
def projects_create(
    name: str, description: str | None, as_json: bool, as_email: str | None
) -> None:
    """Create a project owned by the acting user (as the `projects` POST act)."""
    data = {"name": name, **({"description": description} if description else {})}
    reply = invoke("projects", "POST", data=data, as_email=as_email)
    show(reply, as_json, ("id", "name", "owner_id", "created_at"))


@flows.command("show")
@click.argument("flow_id")
@common
def flows_show(flow_id: str, as_json: bool, as_email: str | None) -> None:
    """Print one flow."""
    show(invoke("flow", "GET", flow_id, as_email=as_email), as_json)


def status_command(name: str, act: str, help_text: str) -> None:
    @flows.command(name, help=help_text)
    @click.argument("flow_id")
    @click.option("--reason", help="Why (stored in the audit log).")
    @common
    def command(flow_id: str, reason: str | None, as_json: bool, as_email: str | None) -> None:
        data = {"reason": reason} if reason else {}
        show(invoke(act, "PUT", flow_id, data=data, as_email=as_email), as_json)


status_command("toggle", "flow_toggle_active", "Toggle a flow's active status.")
status_command("activate", "flow_activate", "Activate a flow (validates it first).")
status_command("deactivate", "flow_deactivate", "Deactivate a flow.")


@flows.command("history")
@click.argument("flow_id")
@common
def flows_history(flow_id: str, as_json: bool, as_email: str | None) -> None:
    """A flow's status changes, newest first."""
    reply = invoke("flow_status_history", "GET", flow_id, as_email=as_email)
    show(reply, as_json, ("changed_at", "user_id", "old_status", "new_status", "reason"))


def new_password(password: str | None, from_stdin: bool) -> str:
    """From `--password`, the first line of stdin (`--password-stdin`), or a prompt on a TTY."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise click.UsageError("no terminal to ask the password on: use --password-stdin")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users.command("create")
@click.option("--email", required=True, help="The account's e-mail (its login).")
@click.option("--name", required=True, help="The account's display name.")
@click.option("--password", help="The password (visible to other local users: prefer stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin's first line.")
@json_option
def users_create(
    email: str, name: str, password: str | None, password_stdin: bool, as_json: bool
) -> None:
    """Create an account as `register` does (same rules: 8+ characters, upper, lower, digit)."""
    data = {"email": email, "name": name, "password": new_password(password, password_stdin)}
    reply = invoke("register", "POST", data=data)
    user = reply.data.get("user", reply.data) if isinstance(reply.data, dict) else reply.data
    show(Reply(user, reply.message), as_json, ("id", "email", "name", "is_active"))


def account_command(name: str, active: int, help_text: str) -> None:
    """Operator-only: no act may switch an account on or off (a user cannot turn themself off,
    and a disabled user cannot sign in to turn themself back on)."""

    @users.command(name, help=help_text)
    @click.argument("email", metavar="EMAIL")
    def command(email: str) -> None:
        found = select(User.id).where(func.lower(User.email) == email.lower())
        user_id = db.session.execute(found).scalar()
        if user_id is None:
            raise CommandFailed(f"No user with email {email}")
        values: dict[str, Any] = {"is_active": active, "updated_at": now()}
        if not active:
            values["token_version"] = User.token_version + 1
            end_mcp_tokens(user_id)
        db.session.execute(update(User).where(User.id == user_id).values(**values))
        db.session.commit()
        click.echo(f"{email}: {'enabled' if active else 'disabled'}")


def end_mcp_tokens(user_id: str) -> None:
    """Disabling ends the account's sessions and the MCP tokens it minted for good: enabling it
    again revives neither (the legacy backend honours `is_active = 0` too)."""
    db.session.execute(
        update(McpClientToken)
        .where(McpClientToken.created_by == user_id, McpClientToken.is_active == 1)
        .values(is_active=0, updated_at=now())
    )


account_command("enable", 1, "Let a disabled account sign in again.")
account_command(
    "disable", 0, "Stop an account: its sessions and the MCP tokens it minted end for good."
)


@tokens.command("mcp-create")
@click.option("--project", required=True, help="Project id.")
@click.option("--expires-in-days", type=click.IntRange(min=1), help="Expire after N days.")
@common
def tokens_mcp_create(
    project: str, expires_in_days: int | None, as_json: bool, as_email: str | None
) -> None:
    """Mint the project's MCP token (a long-lived credential for scripts and CI)."""
    query = {"expires_in_days": str(expires_in_days)} if expires_in_days else {}
    reply = invoke("mcp_generate_config", "POST", project, as_email=as_email, query=query)
    show(reply, as_json, ("project_id", "name", "api_base_url", "token"))


@tokens.command("mcp-list")
@click.option("--project", required=True, help="Project id.")
@common
def tokens_mcp_list(project: str, as_json: bool, as_email: str | None) -> None:
    """A project's MCP tokens (never their secret): all for the owner, a member's own."""
    reply = invoke("mcp_tokens", "GET", project, as_email=as_email)
    if as_json:
        show(reply, as_json)
        return
    show(Reply(reply.data["tokens"], reply.message), False, MCP_TOKEN_COLUMNS)


@tokens.command("mcp-revoke")
@click.argument("token_id")
@common
def tokens_mcp_revoke(token_id: str, as_json: bool, as_email: str | None) -> None:
    """Revoke an MCP token (the project's owner or the token's minter)."""
    show(invoke("mcp_token_revoke", "DELETE", token_id, as_email=as_email), as_json, ("id",))


@tokens.command("mcp-policy")
@click.option("--project", required=True, help="Project id.")
@click.option(
    "--members-may-mint/--owner-only",
    required=True,
    help="Whether members may create MCP tokens for the project.",
)
@common
def tokens_mcp_policy(
    project: str, members_may_mint: bool, as_json: bool, as_email: str | None
) -> None:
    """Let members mint MCP tokens for the project, or reserve minting to the owner."""
    data = {"members_may_mint": members_may_mint}
    reply = invoke("mcp_token_policy", "PUT", project, data=data, as_email=as_email)
    show(reply, as_json, ("project_id", "members_may_mint"))


@members.command("list")
@click.option("--project", required=True, help="Project id.")
@common
def members_list(project: str, as_json: bool, as_email: str | None) -> None:
    """The project's owner and members."""
    show(invoke("project_members", "GET", project, as_email=as_email), as_json, MEMBER_COLUMNS)


@members.command("add")
@click.option("--project", required=True, help="Project id.")
@click.option("--user", "user_id", required=True, help="The user id to add.")
@common
def members_add(project: str, user_id: str, as_json: bool, as_email: str | None) -> None:
    """Add a member (owner only)."""
    reply = invoke(
        "project_add_member", "POST", project, data={"user_id": user_id}, as_email=as_email
    )
    show(reply, as_json, ("member_id",))


@members.command("remove")
@click.option("--project", required=True, help="Project id.")
@click.option("--user", "user_id", required=True, help="The member's user id.")
@common
def members_remove(project: str, user_id: str, as_json: bool, as_email: str | None) -> None:
    """Remove a member (owner only; their MCP tokens for the project are revoked)."""
    data = {"user_id": user_id}
    reply = invoke("project_remove_member", "DELETE", project, data=data, as_email=as_email)
    show(reply, as_json, ("project_id", "user_id"))


@members.command("leave")
@click.option("--project", required=True, help="Project id.")
@common
def members_leave(project: str, as_json: bool, as_email: str | None) -> None:
    """Leave a project the acting user is a member of."""
    reply = invoke("project_leave", "POST", project, as_email=as_email)
    show(reply, as_json, ("project_id", "user_id"))


@cutover_group.command("report")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
@click.option(
    "--min-comparisons",
    type=click.IntRange(min=1),
    help="Comparisons an act needs to be ready (default SHADOW_MIN_COMPARISONS).",
)
def cutover_report(as_json: bool, min_comparisons: int | None) -> None:
    """Per legacy act: mode, requests, comparisons, differences, legacy errors, verdict."""
    report = cutover.readiness(current_app, min_comparisons)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(table(report["acts"], (*TABLE_COLUMNS, "verdict")))
    click.echo(details(report))


@cutover_group.command("reset")
def cutover_reset() -> None:
    """Start counting again from zero (every process of this CUTOVER_STATE_DIR)."""
    click.echo(f"removed {cutover.reset_counts(current_app)} count file(s)")


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create missing tables; never alters an existing one."""
    create_missing(db.engine, db.metadata)
    click.echo("database ready")


@click.command("add-indexes")
@with_appcontext
def add_indexes_command() -> None:
    """Add the gateway's optional secondary indexes to legacy tables (additive, idempotent)."""
    created = add_indexes(db.engine)
    click.echo("created: " + ", ".join(created) if created else "all indexes present")


@click.command("serve")
@click.option("--bind", default=None, help="HOST:PORT (default from HOST and PORT).")
def serve(bind: str | None) -> None:
    """Serve with gunicorn and the packaged production defaults."""
    try:  # gunicorn reads it itself, with a traceback for a bad value
        whole(os.environ, "WEB_CONCURRENCY", 1, minimum=1)
    except ConfigError as exc:
        raise CommandFailed(f"configuration: {exc}") from None
    metrics_dir.ensure(os.environ)  # inherited by gunicorn before it imports the gateway
    args = ["-m", "gunicorn", "-c", "python:backend.ops.gunicorn_conf", "backend:create_app()"]
    os.execv(sys.executable, [sys.executable, *args, *(["--bind", bind] if bind else [])])


def register_commands(app: Flask) -> None:
    for command in (
        init_db,
        add_indexes_command,
        acts_command,
        projects,
        flows,
        users,
        tokens,
        members,
        cutover_group,
    ):
        app.cli.add_command(command)
