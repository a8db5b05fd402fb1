"""Projects, their members, environments and MCP client tokens."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import TABLE_ARGS, Flag, LongText, Str255, db
from backend.models.columns import created_column, fk, id_column, updated_column


class Project(db.Model):
    __tablename__ = "projects"
    __table_args__ = (
        UniqueConstraint("owner_id", "name", name="projects_owner_name_unique"),
        UniqueConstraint("api_key", name="projects_api_key_unique"),
        Index("projects_api_key_idx", "api_key"),
        TABLE_ARGS,
    )

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(Str255)
    description: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[str] = fk("users.id", "projects_owner_fk")
    api_key: Mapped[str | None] = mapped_column(Str255)
    is_public: Mapped[int] = mapped_column(Flag, server_default=text("0"))
    settings: Mapped[str] = mapped_column(LongText)
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class ProjectMember(db.Model):
    __tablename__ = "project_members"
    __table_args__ = (
        UniqueConstraint("project_id", "user_id", name="project_members_project_user_unique"),
        Index("project_members_invited_by_idx", "invited_by"),
        Index("project_members_project_idx", "project_id"),
        Index("project_members_user_idx", "user_id"),
        TABLE_ARGS,
    )

    id: Mapped[str] = id_column()
    project_id: Mapped[str] = fk("projects.id", "project_members_project_fk")
    user_id: Mapped[str] = fk("users.id", "project_members_user_fk")
    invited_by: Mapped[str] = fk("users.id", "project_members_invited_by_fk", cascade=False)
    joined_at: Mapped[datetime] = created_column()
    created_at: Mapped[datetime] = created_column()


class Environment(db.Model):
    __tablename__ = "environments"
    __table_args__ = (
        UniqueConstraint("project_id", "name", name="environments_project_name_unique"),
        Index("environments_project_idx", "project_id"),
        TABLE_ARGS,
    )

    id: Mapped[str] = id_column()
    project_id: Mapped[str] = fk("projects.id", "environments_project_fk")
    name: Mapped[str] = mapped_column(Str255)
    description: Mapped[str | None] = mapped_column(Text)
    variables: Mapped[str] = mapped_column(LongText)
    is_default: Mapped[int] = mapped_column(Flag, server_default=text("0"))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class McpClientToken(db.Model):
    __tablename__ = "mcp_client_tokens"
    __table_args__ = (
        UniqueConstraint("token_hash", name="mcp_token_hash_unique"),
        Index("mcp_created_by_idx", "created_by"),
        Index("mcp_is_active_idx", "is_active"),
        Index("mcp_project_idx", "project_id"),
        TABLE_ARGS,
    )

    id: Mapped[str] = id_column()
    project_id: Mapped[str] = fk("projects.id", "mcp_project_fk")
    token_hash: Mapped[str] = mapped_column(Str255)
    last_validated_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by: Mapped[str] = fk("users.id", "mcp_created_by_fk", cascade=False)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()
    is_active: Mapped[int] = mapped_column(Flag, server_default=text("1"))


class McpTokenLifecycle(db.Model):
    """Gateway-owned (not legacy): what the legacy `mcp_client_tokens` row cannot hold.

    A token minted by the gateway lives only while its minter's `token_version` is the one it was
    minted at (ending the minter's sessions ends it) and, if it has one, until `expires_at`.
    Legacy tokens have no row here and keep the legacy rules (plus the gateway's other checks).
    """

    __tablename__ = "mcp_token_lifecycle"
    __table_args__ = (TABLE_ARGS,)

    token_id: Mapped[str] = mapped_column(
        Str255,
        ForeignKey("mcp_client_tokens.id", name="mcp_token_lifecycle_token_fk", ondelete="CASCADE"),
        primary_key=True,
    )
    minter_token_version: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)


class ProjectPolicy(db.Model):
    """Gateway-owned (not legacy): the owner's choices for a project; no row means the defaults."""

    __tablename__ = "project_policies"
    __table_args__ = (TABLE_ARGS,)

    project_id: Mapped[str] = mapped_column(
        Str255,
        ForeignKey("projects.id", name="project_policies_project_fk", ondelete="CASCADE"),
        primary_key=True,
    )
    members_may_mint_mcp_tokens: Mapped[int] = mapped_column(Flag, server_default=text("1"))
    updated_by: Mapped[str | None] = mapped_column(Str255)  # no FK: user deletion never blocks
    updated_at: Mapped[datetime] = mapped_column(DateTime)


PROJECTS = Project.__table__
MEMBERS = ProjectMember.__table__
ENVIRONMENTS = Environment.__table__
MCP_TOKENS = McpClientToken.__table__
MCP_LIFECYCLE = McpTokenLifecycle.__table__
POLICIES = ProjectPolicy.__table__
