"""Folders (collections) and the endpoints filed in them."""

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import TABLE_ARGS, Flag, LongText, Str255, db
from backend.models.columns import created_column, fk, id_column, updated_column


class Folder(db.Model):
    __tablename__ = "folders"
    __table_args__ = (
        UniqueConstraint("project_id", "name", name="folders_project_name_unique"),
        Index("folders_created_by_idx", "created_by"),
        Index("folders_parent_id_idx", "parent_id"),
        Index("folders_project_id_idx", "project_id"),
        TABLE_ARGS,
    )

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(Str255)
    description: Mapped[str | None] = mapped_column(Text)
    project_id: Mapped[str] = fk("projects.id", "folders_project_fk")
    parent_id: Mapped[str | None] = fk("folders.id", "folders_parent_fk")
    headers: Mapped[str] = mapped_column(LongText)
    variables: Mapped[str] = mapped_column(LongText)
    is_default: Mapped[int] = mapped_column(Flag, server_default=text("0"))
    created_by: Mapped[str] = fk("users.id", "folders_created_by_fk")
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


class Endpoint(db.Model):
    __tablename__ = "endpoints"
    __table_args__ = (
        UniqueConstraint("folder_id", "name", name="endpoints_folder_name_unique"),
        Index("endpoints_folder_idx", "folder_id"),
        Index("endpoints_created_by_idx", "created_by"),
        TABLE_ARGS,
    )

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(Str255)
    method: Mapped[str] = mapped_column(String(50))
    url: Mapped[str] = mapped_column(String(1024))
    description: Mapped[str | None] = mapped_column(Text, comment="Endpoint description")
    purpose: Mapped[str | None] = mapped_column(
        String(250), comment="Business purpose of the endpoint"
    )
    headers: Mapped[str] = mapped_column(LongText)
    body: Mapped[str | None] = mapped_column(LongText)
    folder_id: Mapped[str] = fk("folders.id", "endpoints_folder_fk")
    created_by: Mapped[str] = fk("users.id", "endpoints_created_by_fk")
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()
    request_params: Mapped[str | None] = mapped_column(
        LongText, comment='JSON: Parameter documentation {param_name: "description"}'
    )
    response_schema: Mapped[str | None] = mapped_column(
        LongText, comment='JSON: Response field documentation {field_name: "description"}'
    )
    header_docs: Mapped[str | None] = mapped_column(
        LongText, comment='JSON: Header documentation {header_name: "description"}'
    )


FOLDERS = Folder.__table__
ENDPOINTS = Endpoint.__table__
