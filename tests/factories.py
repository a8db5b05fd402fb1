"""Row factories and an HTTP helper shared by every test module."""

import json
import secrets
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import bcrypt
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, select, update

from backend.auth.tokens import issue_token, sha256_hex
from backend.db import db
from backend.legacy.clock import now
from backend.legacy.ids import new_id
from backend.models import (
    AuditLog,
    Endpoint,
    Environment,
    Flow,
    FlowExecution,
    Folder,
    McpClientToken,
    Project,
    ProjectMember,
    User,
)

PASSWORD = "Secret123"
BASE = "/gassapi2/backend/"
STEPS_FLOW = {
    "version": "1.0",
    "steps": [
        {"id": "step1", "name": "Ping", "method": "GET", "url": "https://example.com/ping"},
    ],
    "config": {"delay": 0, "retryCount": 1, "parallel": False},
}


@cache
def password_hash(password: str) -> str:
    return "$2y$" + bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()[4:]


def call_act(
    client: FlaskClient,
    act: str | None,
    method: str = "GET",
    *,
    token: str | None = None,
    base: str = BASE,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> Any:
    """kwargs: `id`, `json`, `data`, plus any extra query parameter."""
    body = {key: kwargs.pop(key) for key in ("json", "data") if key in kwargs}
    query = {"act": act, **kwargs} if act is not None else kwargs
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    return client.open(base, method=method, query_string=query, headers=all_headers, **body)


class Factory:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def _add(self, row: Any) -> Any:
        with self.app.app_context():
            db.session.add(row)
            db.session.commit()
            db.session.refresh(row)
            db.session.expunge(row)
        return row

    def user(self, email: str | None = None, password: str = PASSWORD, **extra: Any) -> User:
        stamp = self._now()
        return self._add(
            User(
                id=new_id("user"),
                email=email or f"user_{secrets.token_hex(4)}@example.com",
                password_hash=password_hash(password),
                name=extra.pop("name", "Test User"),
                is_active=extra.pop("is_active", 1),
                email_verified=0,
                token_version=extra.pop("token_version", 0),
                created_at=stamp,
                updated_at=stamp,
                **extra,
            )
        )

    def token(self, user: User, kind: str = "access") -> str:
        with self.app.app_context():
            return issue_token(user.id, user.email, kind, user.token_version)

    def project(self, owner: User, name: str | None = None, **extra: Any) -> Project:
        stamp = self._now()
        project = self._add(
            Project(
                id=new_id("proj"),
                name=name or f"Project {secrets.token_hex(3)}",
                description=extra.pop("description", None),
                owner_id=owner.id,
                is_public=extra.pop("is_public", 0),
                settings='{"visibility":"private"}',
                created_at=stamp,
                updated_at=stamp,
                **extra,
            )
        )
        self.environment(project, "development", is_default=1, variables="{}")
        return project

    def member(self, project: Project, user: User, invited_by: User | None = None) -> None:
        self._add(
            ProjectMember(
                id=new_id("pm"),
                project_id=project.id,
                user_id=user.id,
                invited_by=(invited_by.id if invited_by else project.owner_id),
                joined_at=self._now(),
                created_at=self._now(),
            )
        )

    def environment(self, project: Project, name: str, **extra: Any) -> Environment:
        stamp = self._now()
        return self._add(
            Environment(
                id=new_id("env"),
                project_id=project.id,
                name=name,
                description=extra.pop("description", None),
                variables=extra.pop("variables", "{}"),
                is_default=extra.pop("is_default", 0),
                created_at=stamp,
                updated_at=stamp,
            )
        )

    def folder(self, project: Project, name: str | None = None, **extra: Any) -> Folder:
        stamp = self._now()
        return self._add(
            Folder(
                id=new_id("col"),
                name=name or f"Folder {secrets.token_hex(3)}",
                description=extra.pop("description", None),
                project_id=project.id,
                parent_id=extra.pop("parent_id", None),
                headers=extra.pop("headers", "{}"),
                variables=extra.pop("variables", "{}"),
                is_default=extra.pop("is_default", 0),
                created_by=extra.pop("created_by", project.owner_id),
                created_at=stamp,
                updated_at=stamp,
            )
        )

    def endpoint(self, folder: Folder, name: str | None = None, **extra: Any) -> Endpoint:
        stamp = self._now()
        return self._add(
            Endpoint(
                id=new_id("ep"),
                name=name or f"Endpoint {secrets.token_hex(3)}",
                method=extra.pop("method", "GET"),
                url=extra.pop("url", "https://example.com/users"),
                description=extra.pop("description", None),
                purpose=extra.pop("purpose", None),
                headers=extra.pop("headers", "{}"),
                body=extra.pop("body", None),
                folder_id=folder.id,
                created_by=extra.pop("created_by", folder.created_by),
                created_at=stamp,
                updated_at=stamp,
                **extra,
            )
        )

    def flow(self, project: Project, name: str | None = None, **extra: Any) -> Flow:
        stamp = self._now()
        flow_data = extra.pop("flow_data", STEPS_FLOW)
        return self._add(
            Flow(
                id=new_id("flow"),
                name=name or f"Flow {secrets.token_hex(3)}",
                description=extra.pop("description", "A test flow"),
                project_id=project.id,
                folder_id=extra.pop("folder_id", None),
                flow_data=flow_data if isinstance(flow_data, str) else json.dumps(flow_data),
                created_by=extra.pop("created_by", project.owner_id),
                is_active=extra.pop("is_active", 1),
                created_at=extra.pop("created_at", stamp),
                updated_at=stamp,
                flow_inputs=extra.pop("flow_inputs", "[]"),
                ui_data=extra.pop("ui_data", None),
                **extra,
            )
        )

    def mcp_token(self, project: Project, active: int = 1) -> str:
        plaintext = secrets.token_hex(32)
        stamp = self._now()
        self._add(
            McpClientToken(
                id=new_id("mcp"),
                project_id=project.id,
                token_hash=sha256_hex(plaintext),
                created_by=project.owner_id,
                created_at=stamp,
                updated_at=stamp,
                is_active=active,
            )
        )
        return plaintext

    def _now(self) -> Any:
        with self.app.app_context():
            return now()

    def execution(
        self, flow: Flow, *, status: str = "running", lease_seconds: int = 300, **extra: Any
    ) -> FlowExecution:
        """A run of `flow`; a negative `lease_seconds` gives a lease that has already passed."""
        stamp = self._now()
        return self._add(
            FlowExecution(
                id=new_id("exec"),
                flow_id=flow.id,
                project_id=flow.project_id,
                status=status,
                started_by=extra.pop("started_by", None),
                started_at=extra.pop("started_at", stamp),
                heartbeat_at=stamp,
                lease_expires_at=stamp + timedelta(seconds=lease_seconds),
                **extra,
            )
        )

    def set_lease(self, execution_id: str, seconds_from_now: int) -> None:
        """Move a lease into the past or the future instead of sleeping."""
        with self.app.app_context():
            expires = now() + timedelta(seconds=seconds_from_now)
            db.session.execute(
                update(FlowExecution)
                .where(FlowExecution.id == execution_id)
                .values(lease_expires_at=expires)
            )
            db.session.commit()

    def audit_rows(self, resource_id: str) -> list[dict[str, Any]]:
        """The audit_logs rows of one resource, oldest first."""
        table = AuditLog.__table__
        with self.app.app_context():
            query = select(table).where(table.c.resource_id == resource_id).order_by(table.c.id)
            return [dict(row) for row in db.session.execute(query).mappings()]

    def flow_row(self, flow_id: str) -> dict[str, Any] | None:
        with self.app.app_context():
            query = select(Flow.__table__).where(Flow.__table__.c.id == flow_id)
            row = db.session.execute(query).mappings().first()
            return dict(row) if row else None

    def rows(self, model: Any, **where: Any) -> list[dict[str, Any]]:
        """Rows of `model`'s table matching column == value filters, as plain dicts."""
        table = model.__table__
        with self.app.app_context():
            query = select(table).where(*(table.c[name] == value for name, value in where.items()))
            return [dict(row) for row in db.session.execute(query).mappings()]

    def stamp_created(self, row: Any, created_at: datetime) -> None:
        """Set a row's `created_at` (list-order tests)."""
        table = type(row).__table__
        with self.app.app_context():
            db.session.execute(
                update(table).where(table.c.id == row.id).values(created_at=created_at)
            )
            db.session.commit()

    def many_flows(self, project: Project, count: int) -> list[str]:
        """`count` flows in one insert, created one second apart (newest last); their ids."""
        start = self._now() - timedelta(seconds=count)
        rows = [
            {
                "id": new_id("flow"),
                "name": f"Bulk flow {i}",
                "project_id": project.id,
                "flow_data": json.dumps(STEPS_FLOW),
                "created_by": project.owner_id,
                "is_active": 1,
                "created_at": start + timedelta(seconds=i),
                "updated_at": start,
            }
            for i in range(count)
        ]
        with self.app.app_context():
            db.session.execute(insert(Flow.__table__), rows)
            db.session.commit()
        return [row["id"] for row in rows]
