"""Mapped classes for the legacy GASS API tables plus the gateway's own `flow_executions` and
`login_throttle`.

Every legacy class mirrors `legacy-contract/schema.md` column for column, in physical order
(serialised rows keep that key order), with the legacy key and constraint names, so that
`create_all()` on a database built by the legacy migrations adds the gateway's two tables and
nothing else. Datetimes are naive local times written by the application.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    DateTime,
    FetchedValue,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, MappedColumn, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from backend.db import TABLE_ARGS, Decimal32, Flag, LongText, Str255, db


class CurrentTimestampOnUpdate(FunctionElement[datetime]):
    """`updated_at` default: CURRENT_TIMESTAMP, which MySQL/MariaDB also refresh on UPDATE."""

    type = DateTime()
    name = "current_timestamp_on_update"
    inherit_cache = True


@compiles(CurrentTimestampOnUpdate)
def _compile_current_timestamp(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    return "CURRENT_TIMESTAMP"


@compiles(CurrentTimestampOnUpdate, "mysql")
@compiles(CurrentTimestampOnUpdate, "mariadb")
def _compile_on_update(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    return "CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP"


def _id() -> MappedColumn[Any]:
    return mapped_column(Str255, primary_key=True)


def _fk(target: str, name: str, *, cascade: bool = True) -> MappedColumn[Any]:
    ondelete = "CASCADE" if cascade else None
    return mapped_column(Str255, ForeignKey(target, name=name, ondelete=ondelete))


def _created_at() -> MappedColumn[Any]:
    return mapped_column(DateTime, server_default=func.current_timestamp())


def _updated_at() -> MappedColumn[Any]:
    return mapped_column(
        DateTime, server_default=CurrentTimestampOnUpdate(), server_onupdate=FetchedValue()
    )


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("email", name="users_email_unique"),
        Index("users_is_active_idx", "is_active"),
        Index("users_email_idx", "email"),
        Index("users_password_reset_token_idx", "password_reset_token"),
        TABLE_ARGS,
    )

    id: Mapped[str] = _id()
    email: Mapped[str] = mapped_column(Str255)
    password_hash: Mapped[str] = mapped_column(Str255)
    name: Mapped[str] = mapped_column(Str255)
    avatar_url: Mapped[str | None] = mapped_column(Str255)
    is_active: Mapped[int] = mapped_column(Flag, server_default=text("1"))
    email_verified: Mapped[int] = mapped_column(Flag, server_default=text("0"))
    password_reset_token: Mapped[str | None] = mapped_column(Str255)
    password_reset_token_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    token_version: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class Project(db.Model):
    __tablename__ = "projects"
    __table_args__ = (
        UniqueConstraint("owner_id", "name", name="projects_owner_name_unique"),
        UniqueConstraint("api_key", name="projects_api_key_unique"),
        Index("projects_api_key_idx", "api_key"),
        TABLE_ARGS,
    )

    id: Mapped[str] = _id()
    name: Mapped[str] = mapped_column(Str255)
    description: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[str] = _fk("users.id", "projects_owner_fk")
    api_key: Mapped[str | None] = mapped_column(Str255)
    is_public: Mapped[int] = mapped_column(Flag, server_default=text("0"))
    settings: Mapped[str] = mapped_column(LongText)
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class Folder(db.Model):
    __tablename__ = "folders"
    __table_args__ = (
        UniqueConstraint("project_id", "name", name="folders_project_name_unique"),
        Index("folders_created_by_idx", "created_by"),
        Index("folders_parent_id_idx", "parent_id"),
        Index("folders_project_id_idx", "project_id"),
        TABLE_ARGS,
    )

    id: Mapped[str] = _id()
    name: Mapped[str] = mapped_column(Str255)
    description: Mapped[str | None] = mapped_column(Text)
    project_id: Mapped[str] = _fk("projects.id", "folders_project_fk")
    parent_id: Mapped[str | None] = _fk("folders.id", "folders_parent_fk")
    headers: Mapped[str] = mapped_column(LongText)
    variables: Mapped[str] = mapped_column(LongText)
    is_default: Mapped[int] = mapped_column(Flag, server_default=text("0"))
    created_by: Mapped[str] = _fk("users.id", "folders_created_by_fk")
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class Endpoint(db.Model):
    __tablename__ = "endpoints"
    __table_args__ = (
        UniqueConstraint("folder_id", "name", name="endpoints_folder_name_unique"),
        Index("endpoints_folder_idx", "folder_id"),
        Index("endpoints_created_by_idx", "created_by"),
        TABLE_ARGS,
    )

    id: Mapped[str] = _id()
    name: Mapped[str] = mapped_column(Str255)
    method: Mapped[str] = mapped_column(String(50))
    url: Mapped[str] = mapped_column(String(1024))
    description: Mapped[str | None] = mapped_column(Text, comment="Endpoint description")
    purpose: Mapped[str | None] = mapped_column(
        String(250), comment="Business purpose of the endpoint"
    )
    headers: Mapped[str] = mapped_column(LongText)
    body: Mapped[str | None] = mapped_column(LongText)
    folder_id: Mapped[str] = _fk("folders.id", "endpoints_folder_fk")
    created_by: Mapped[str] = _fk("users.id", "endpoints_created_by_fk")
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()
    request_params: Mapped[str | None] = mapped_column(
        LongText, comment='JSON: Parameter documentation {param_name: "description"}'
    )
    response_schema: Mapped[str | None] = mapped_column(
        LongText, comment='JSON: Response field documentation {field_name: "description"}'
    )
    header_docs: Mapped[str | None] = mapped_column(
        LongText, comment='JSON: Header documentation {header_name: "description"}'
    )


class Environment(db.Model):
    __tablename__ = "environments"
    __table_args__ = (
        UniqueConstraint("project_id", "name", name="environments_project_name_unique"),
        Index("environments_project_idx", "project_id"),
        TABLE_ARGS,
    )

    id: Mapped[str] = _id()
    project_id: Mapped[str] = _fk("projects.id", "environments_project_fk")
    name: Mapped[str] = mapped_column(Str255)
    description: Mapped[str | None] = mapped_column(Text)
    variables: Mapped[str] = mapped_column(LongText)
    is_default: Mapped[int] = mapped_column(Flag, server_default=text("0"))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class Flow(db.Model):
    __tablename__ = "flows"
    __table_args__ = (
        UniqueConstraint("project_id", "name", name="flows_project_name_unique"),
        Index("flows_folder_idx", "folder_id"),
        Index("flows_created_by_idx", "created_by"),
        Index("flows_is_active_idx", "is_active"),
        Index("flows_project_idx", "project_id"),
        Index("flows_ai_version_idx", "ai_version"),
        Index("flows_complexity_idx", "complexity_score"),
        TABLE_ARGS,
    )

    id: Mapped[str] = _id()
    name: Mapped[str] = mapped_column(Str255)
    description: Mapped[str | None] = mapped_column(Text)
    project_id: Mapped[str] = _fk("projects.id", "flows_project_fk")
    folder_id: Mapped[str | None] = _fk("folders.id", "flows_folder_fk")
    flow_data: Mapped[str] = mapped_column(LongText)
    created_by: Mapped[str] = _fk("users.id", "flows_created_by_fk")
    is_active: Mapped[int] = mapped_column(Flag, server_default=text("1"))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()
    flow_inputs: Mapped[str | None] = mapped_column(
        LongText, comment="JSON array of flow input definitions for dynamic variables"
    )
    ui_data: Mapped[str | None] = mapped_column(
        LongText, comment="React Flow format data for UI (nodes, edges, positions)"
    )
    ai_version: Mapped[str | None] = mapped_column(
        String(100), comment="AI system version that generated this flow"
    )
    generation_strategy: Mapped[str | None] = mapped_column(
        String(100), comment="AI strategy used for flow generation"
    )
    complexity_score: Mapped[Decimal | None] = mapped_column(
        Decimal32, comment="Flow complexity score (0.00-1.00) for AI learning"
    )


class McpClientToken(db.Model):
    __tablename__ = "mcp_client_tokens"
    __table_args__ = (
        UniqueConstraint("token_hash", name="mcp_token_hash_unique"),
        Index("mcp_created_by_idx", "created_by"),
        Index("mcp_is_active_idx", "is_active"),
        Index("mcp_project_idx", "project_id"),
        TABLE_ARGS,
    )

    id: Mapped[str] = _id()
    project_id: Mapped[str] = _fk("projects.id", "mcp_project_fk")
    token_hash: Mapped[str] = mapped_column(Str255)
    last_validated_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by: Mapped[str] = _fk("users.id", "mcp_created_by_fk", cascade=False)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()
    is_active: Mapped[int] = mapped_column(Flag, server_default=text("1"))


class TestFlow(db.Model):
    __tablename__ = "test_flows"
    __table_args__ = (
        UniqueConstraint("project_id", "name", name="test_flows_project_name_unique"),
        Index("test_flows_created_by_idx", "created_by"),
        Index("test_flows_is_active_idx", "is_active"),
        Index("test_flows_project_idx", "project_id"),
        TABLE_ARGS,
    )
    __test__ = False  # not a pytest test class despite the name

    id: Mapped[str] = _id()
    name: Mapped[str] = mapped_column(Str255)
    description: Mapped[str | None] = mapped_column(Text)
    project_id: Mapped[str] = _fk("projects.id", "test_flows_project_fk")
    config: Mapped[str] = mapped_column(LongText)
    steps: Mapped[str] = mapped_column(LongText)
    created_by: Mapped[str] = _fk("users.id", "test_flows_created_by_fk")
    is_active: Mapped[int] = mapped_column(Flag, server_default=text("1"))
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_run_status: Mapped[str | None] = mapped_column(Text)
    total_runs: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    success_rate: Mapped[float] = mapped_column(Float, server_default=text("0"))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class ProjectMember(db.Model):
    __tablename__ = "project_members"
    __table_args__ = (
        UniqueConstraint("project_id", "user_id", name="project_members_project_user_unique"),
        Index("project_members_invited_by_idx", "invited_by"),
        Index("project_members_project_idx", "project_id"),
        Index("project_members_user_idx", "user_id"),
        TABLE_ARGS,
    )

    id: Mapped[str] = _id()
    project_id: Mapped[str] = _fk("projects.id", "project_members_project_fk")
    user_id: Mapped[str] = _fk("users.id", "project_members_user_fk")
    invited_by: Mapped[str] = _fk("users.id", "project_members_invited_by_fk", cascade=False)
    joined_at: Mapped[datetime] = _created_at()
    created_at: Mapped[datetime] = _created_at()


class AuditLog(db.Model):
    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("audit_logs_action_idx", "action"),
        Index("audit_logs_category_idx", "category"),
        Index("audit_logs_created_at_idx", "created_at"),
        Index("audit_logs_project_idx", "project_id"),
        Index("audit_logs_resource_type_idx", "resource_type"),
        Index("audit_logs_severity_idx", "severity"),
        Index("audit_logs_user_idx", "user_id"),
        TABLE_ARGS,
    )

    id: Mapped[str] = _id()
    user_id: Mapped[str | None] = _fk("users.id", "audit_logs_user_fk", cascade=False)
    project_id: Mapped[str | None] = _fk("projects.id", "audit_logs_project_fk", cascade=False)
    action: Mapped[str] = mapped_column(Str255)
    resource_type: Mapped[str] = mapped_column(Str255)
    resource_id: Mapped[str | None] = mapped_column(Str255)
    old_values: Mapped[str | None] = mapped_column(LongText)
    new_values: Mapped[str | None] = mapped_column(LongText)
    ip_address: Mapped[str | None] = mapped_column(Str255)
    # VARCHAR(255) in the legacy table: longer user agents must be truncated before insert.
    user_agent: Mapped[str | None] = mapped_column(Str255)
    created_at: Mapped[datetime] = _created_at()
    category: Mapped[str | None] = mapped_column(Str255, server_default="system")
    duration: Mapped[int | None] = mapped_column(Integer)
    metadata_: Mapped[str | None] = mapped_column("metadata", LongText)
    severity: Mapped[str | None] = mapped_column(Str255, server_default="low")


class EmailVerificationToken(db.Model):
    __tablename__ = "email_verification_tokens"
    __table_args__ = (
        UniqueConstraint("token_hash", name="email_verification_token_hash_unique"),
        Index("email_verification_expires_idx", "expires_at"),
        Index("email_verification_user_idx", "user_id"),
        TABLE_ARGS,
    )

    id: Mapped[str] = _id()
    token_hash: Mapped[str] = mapped_column(Str255)
    user_id: Mapped[str] = _fk("users.id", "email_verification_user_fk")
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = _created_at()
    is_active: Mapped[int] = mapped_column(Flag, server_default=text("1"))


class PasswordResetToken(db.Model):
    __tablename__ = "password_reset_tokens"
    __table_args__ = (
        UniqueConstraint("token_hash", name="password_reset_token_hash_unique"),
        Index("password_reset_expires_idx", "expires_at"),
        Index("password_reset_user_idx", "user_id"),
        TABLE_ARGS,
    )

    id: Mapped[str] = _id()
    token_hash: Mapped[str] = mapped_column(Str255)
    user_id: Mapped[str] = _fk("users.id", "password_reset_user_fk")
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = _created_at()
    is_active: Mapped[int] = mapped_column(Flag, server_default=text("1"))


class RefreshToken(db.Model):
    __tablename__ = "refresh_tokens"
    __table_args__ = (
        UniqueConstraint("token_hash", name="refresh_token_hash_unique"),
        Index("refresh_expires_idx", "expires_at"),
        Index("refresh_user_idx", "user_id"),
        TABLE_ARGS,
    )

    id: Mapped[str] = _id()
    token_hash: Mapped[str] = mapped_column(Str255)
    user_id: Mapped[str] = _fk("users.id", "refresh_user_fk")
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = _created_at()
    is_active: Mapped[int] = mapped_column(Flag, server_default=text("1"))


class FlowExecution(db.Model):
    """Gateway-owned (not legacy): one run of a flow, live while its lease has not expired."""

    __tablename__ = "flow_executions"
    __table_args__ = (
        Index("flow_executions_flow_status_idx", "flow_id", "status", "lease_expires_at"),
        Index("flow_executions_flow_started_idx", "flow_id", "started_at"),
        Index("flow_executions_project_idx", "project_id"),
        TABLE_ARGS,
    )

    id: Mapped[str] = _id()
    flow_id: Mapped[str] = _fk("flows.id", "flow_executions_flow_fk")
    project_id: Mapped[str] = _fk("projects.id", "flow_executions_project_fk")
    status: Mapped[str] = mapped_column(String(20))  # running, completed, failed, expired
    started_by: Mapped[str | None] = mapped_column(Str255)  # no FK: user deletion never blocks
    started_at: Mapped[datetime] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime)
    lease_expires_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    result: Mapped[str | None] = mapped_column(LongText)


class LoginThrottle(db.Model):
    """Gateway-owned (not legacy): login attempts per account and per client address, and the
    addresses known to have logged into an account (backend/login_throttle.py)."""

    __tablename__ = "login_throttle"
    __table_args__ = (Index("login_throttle_expires_idx", "expires_at"), TABLE_ARGS)

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of what it counts
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    expires_at: Mapped[datetime] = mapped_column(DateTime)  # the window's end; a known address's
