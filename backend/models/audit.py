"""The legacy `audit_logs`."""

from datetime import datetime

from sqlalchemy import Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import TABLE_ARGS, LongText, Str255, db
from backend.models.columns import created_column, fk, id_column


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

    id: Mapped[str] = id_column()
    user_id: Mapped[str | None] = fk("users.id", "audit_logs_user_fk", cascade=False)
    project_id: Mapped[str | None] = fk("projects.id", "audit_logs_project_fk", cascade=False)
    action: Mapped[str] = mapped_column(Str255)
    resource_type: Mapped[str] = mapped_column(Str255)
    resource_id: Mapped[str | None] = mapped_column(Str255)
    old_values: Mapped[str | None] = mapped_column(LongText)
    new_values: Mapped[str | None] = mapped_column(LongText)
    ip_address: Mapped[str | None] = mapped_column(Str255)
    # VARCHAR(255) in the legacy table: longer user agents must be truncated before insert.
    user_agent: Mapped[str | None] = mapped_column(Str255)
    created_at: Mapped[datetime] = created_column()
    category: Mapped[str | None] = mapped_column(Str255, server_default="system")
    duration: Mapped[int | None] = mapped_column(Integer)
    metadata_: Mapped[str | None] = mapped_column("metadata", LongText)
    severity: Mapped[str | None] = mapped_column(Str255, server_default="low")


AUDIT = AuditLog.__table__
