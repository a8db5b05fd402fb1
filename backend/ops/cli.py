"""Operator commands (`flask --app wsgi …` or `gassapi-gateway …`), acting through the same handlers
as the HTTP acts: same checks, same audit rows, the acting user named by `--as EMAIL`."""

import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from marshmallow import ValidationError
from sqlalchemy import func, select, update

from backend.core import envelope
from backend.core.call import Call, Caller, Client, Raw, Reply
from backend.core.errors import GatewayError, ValidationFailed
from backend.core.registry import Action, registry, schema_instance
from backend.db import db
from backend.db.indexes import add_indexes
from backend.legacy.clock import now
from backend.models import User
from backend.ops.acts import acts_command
from backend.ops.version import __version__
from backend.runner import run

CLI_CLIENT = Client(ip=None, user_agent=f"gassapi-gateway-cli/{__version__}")
FLOW_COLUMNS = ("id", "name", "is_active", "folder_id", "updated_at")


class CommandFailed(click.ClickException):
    exit_code = 1


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
        raise CommandFailed(wire(ValidationFailed(exc.messages_dict))) from exc
    except GatewayError as exc:
        db.session.rollback()
        raise CommandFailed(wire(exc)) from exc
    return result if isinstance(result, Reply | Raw) else Reply(result)


def wire(error: GatewayError) -> str:
    return envelope.wire_message(error.status, error.message)


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


def common(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--json", "as_json", is_flag=True, help="Print the data as JSON.")(func)
    return click.option("--as", "as_email", metavar="EMAIL", help="The acting user.")(func)


flows = AppGroup("flows", help="Flows: list, inspect and change active status.")
users = AppGroup("users", help="User accounts.")
tokens = AppGroup("tokens", help="MCP project tokens.")


@flows.command("list")
@click.option("--project", required=True, help="Project id.")
@click.option("--active", is_flag=True, help="Only active flows.")
@click.option("--inactive", is_flag=True, help="Only inactive flows (status=inactive).")
@common
def flows_list(
    project: str, active: bool, inactive: bool, as_json: bool, as_email: str | None
) -> None:
    if active and inactive:
        raise click.UsageError("--active and --inactive exclude each other")
    query = {"status": "inactive"} if inactive else None
    act = "flows_active" if active else "flows"
    show(invoke(act, "GET", project, as_email=as_email, query=query), as_json)


@flows.command("show")
@click.argument("flow_id")
@common
def flows_show(flow_id: str, as_json: bool, as_email: str | None) -> None:
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
    reply = invoke("flow_status_history", "GET", flow_id, as_email=as_email)
    show(reply, as_json, ("changed_at", "user_id", "old_status", "new_status", "reason"))


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.password_option()
@click.option("--json", "as_json", is_flag=True)
def users_create(email: str, name: str, password: str, as_json: bool) -> None:
    data = {"email": email, "name": name, "password": password}
    reply = invoke("register", "POST", data=data)
    user = reply.data.get("user", reply.data) if isinstance(reply.data, dict) else reply.data
    show(Reply(user, reply.message), as_json, ("id", "email", "name", "is_active"))


def account_command(name: str, active: int, help_text: str) -> None:
    """Operator-only: no act may switch an account on or off (a user cannot turn themself off,
    and a disabled user cannot sign in to turn themself back on)."""

    @users.command(name, help=help_text)
    @click.argument("email")
    def command(email: str) -> None:
        changed = db.session.execute(
            update(User)
            .where(func.lower(User.email) == email.lower())
            .values(is_active=active, updated_at=now())
        )
        if changed.rowcount == 0:
            raise CommandFailed(f"No user with email {email}")
        db.session.commit()
        click.echo(f"{email}: {'enabled' if active else 'disabled'}")


account_command("enable", 1, "Let a disabled account sign in again.")
account_command("disable", 0, "Stop an account: its tokens and its projects' MCP tokens fail.")


@tokens.command("mcp-create")
@click.option("--project", required=True, help="Project id.")
@common
def tokens_mcp_create(project: str, as_json: bool, as_email: str | None) -> None:
    reply = invoke("mcp_generate_config", "POST", project, as_email=as_email)
    show(reply, as_json, ("project_id", "name", "api_base_url", "token"))


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create missing tables; never alters an existing one."""
    db.create_all()
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
    args = ["-m", "gunicorn", "-c", "python:backend.ops.gunicorn_conf", "backend:create_app()"]
    os.execv(sys.executable, [sys.executable, *args, *(["--bind", bind] if bind else [])])


def register_commands(app: Flask) -> None:
    for command in (init_db, add_indexes_command, acts_command, flows, users, tokens):
        app.cli.add_command(command)
