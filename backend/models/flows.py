"""Flows, the gateway-owned `flow_executions`, and the legacy `test_flows`."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, Float, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import TABLE_ARGS, Decimal32, Flag, LongText, Str255, db
from backend.models.columns import created_column, fk, id_column, updated_column


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

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(Str255)
    description: Mapped[str | None] = mapped_column(Text)
    project_id: Mapped[str] = fk("projects.id", "flows_project_fk")
    folder_id: Mapped[str | None] = fk("folders.id", "flows_folder_fk")
    flow_data: Mapped[str] = mapped_column(LongText)
    created_by: Mapped[str] = fk("users.id", "flows_created_by_fk")
    is_active: Mapped[int] = mapped_column(Flag, server_default=text("1"))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()
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


class FlowExecution(db.Model):
    """Gateway-owned (not legacy): one run of a flow, live while its lease has not expired."""

    __tablename__ = "flow_executions"
    __table_args__ = (
        Index("flow_executions_flow_status_idx", "flow_id", "status", "lease_expires_at"),
        Index("flow_executions_flow_started_idx", "flow_id", "started_at"),
        Index("flow_executions_project_idx", "project_id"),
        TABLE_ARGS,
    )

    id: Mapped[str] = id_column()
    flow_id: Mapped[str] = fk("flows.id", "flow_executions_flow_fk")
    project_id: Mapped[str] = fk("projects.id", "flow_executions_project_fk")
    status: Mapped[str] = mapped_column(String(20))  # running, completed, failed, expired
    started_by: Mapped[str | None] = mapped_column(Str255)  # no FK: user deletion never blocks
    started_at: Mapped[datetime] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime)
    lease_expires_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    result: Mapped[str | None] = mapped_column(LongText)


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

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(Str255)
    description: Mapped[str | None] = mapped_column(Text)
    project_id: Mapped[str] = fk("projects.id", "test_flows_project_fk")
    config: Mapped[str] = mapped_column(LongText)
    steps: Mapped[str] = mapped_column(LongText)
    created_by: Mapped[str] = fk("users.id", "test_flows_created_by_fk")
    is_active: Mapped[int] = mapped_column(Flag, server_default=text("1"))
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_run_status: Mapped[str | None] = mapped_column(Text)
    total_runs: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    success_rate: Mapped[float] = mapped_column(Float, server_default=text("0"))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = updated_column()


FLOWS = Flow.__table__
EXECUTIONS = FlowExecution.__table__
