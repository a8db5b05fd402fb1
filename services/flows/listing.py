"""Flow lists (`flows`, `flows_active`).

The legacy order and cap stay (`created_at` DESC, at most 100 rows); the optional filters the MCP
client sends are honoured (the literal string "undefined" means "not given"), and each row gets
the computed fields the legacy docs promised: `folder_name`, `step_count`, `format_type`.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select

from backend.db import db
from backend.legacy.wire import row_dict
from backend.models import FLOWS, FOLDERS
from services.flows.definition import format_type, step_count
from services.paging import page_of


def list_query(project_id: str, query: Mapping[str, Any], active_only: bool) -> Select[Any]:
    """`query`: the loaded `is_active`, `folder_id`, `limit`, `offset` (None when not given)."""
    is_active, folder_id = query["is_active"], query["folder_id"]
    statement = (
        select(FLOWS, FOLDERS.c.name.label("folder_name"))
        .outerjoin(FOLDERS, FOLDERS.c.id == FLOWS.c.folder_id)
        .where(FLOWS.c.project_id == project_id)
        .order_by(FLOWS.c.created_at.desc(), FLOWS.c.id.desc())
    )
    if active_only:
        statement = statement.where(FLOWS.c.is_active == 1)
    if is_active is not None:
        statement = statement.where(FLOWS.c.is_active == is_active)
    if folder_id is not None:
        statement = statement.where(FLOWS.c.folder_id == folder_id)
    return page_of(query).apply(statement)


def list_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The legacy row, then the computed fields."""
    return {
        **row_dict(FLOWS, row),
        "folder_name": row["folder_name"],
        "step_count": step_count(row["flow_data"]),
        "format_type": format_type(row["flow_data"]),
    }


def list_flows(
    project_id: str, query: Mapping[str, Any], *, active_only: bool = False
) -> list[dict[str, Any]]:
    """A project's flows, filtered by the loaded `query`; `active_only` is `flows_active`."""
    statement = list_query(project_id, query, active_only)
    return [list_row(row) for row in db.session.execute(statement).mappings()]
