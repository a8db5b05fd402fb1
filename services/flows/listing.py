"""Flow lists (`flows`, `flows_active`).

The legacy order and cap stay (`created_at` DESC, at most 100 rows); the optional filters the MCP
client sends are honoured (the literal string "undefined" means "not given"), and each row gets
the computed fields the legacy docs promised: `folder_name`, `step_count`, `format_type`.
The filters are loaded by `schemas.queries.FlowListQuery`.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select

from backend.db import db
from backend.legacy.wire import row_dict
from backend.models import FLOWS, FOLDERS
from services.flows.definition import format_type, step_count
from services.paging import page_of


def wanted_states(query: Mapping[str, Any], active_only: bool) -> set[int]:
    """Every `is_active` value a listed flow must have: none, one, or two that contradict."""
    states = {1} if query["is_active"] or active_only else set()
    return states if query["status"] is None else states | {query["status"]}


def list_query(project_id: str, query: Mapping[str, Any], active_only: bool) -> Select[Any]:
    """`query`: the loaded `is_active`, `status`, `folder_id`, `limit`, `offset`."""
    states, folder_id = wanted_states(query, active_only), query["folder_id"]
    statement = (
        select(FLOWS, FOLDERS.c.name.label("folder_name"))
        .outerjoin(FOLDERS, FOLDERS.c.id == FLOWS.c.folder_id)
        .where(FLOWS.c.project_id == project_id)
        .order_by(FLOWS.c.created_at.desc(), FLOWS.c.id.desc())
    )
    for state in states:
        statement = statement.where(FLOWS.c.is_active == state)
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
