"""Operator CLI: the same handlers, checks and audit rows as the HTTP acts."""

import json
from typing import Any

from flask import Flask
from sqlalchemy import select

from backend.db import db
from backend.models import AuditLog, Flow
from tests.factories import Factory


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


def test_toggle_without_acting_user_is_401(app: Flask, make: Factory) -> None:
    flow = make.flow(make.project(make.user()))
    result = run(app, "flows", "toggle", flow.id)
    assert result.exit_code == 1
    assert "Authentication failed" in result.output
