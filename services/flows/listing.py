"""Flow lists (`flows`, `flows_active`).

The legacy order and cap stay (`created_at` DESC, at most 100 rows); the optional filters the MCP
client sends are honoured (the literal string "undefined" means "not given"), and each row gets
the computed fields the legacy docs promised: `folder_name`, `step_count`, `format_type`.
The filters are loaded by `schemas.queries.FlowListQuery`.
"""

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select

from backend.auth.access import ACCESS_COLUMNS, rows_with_access
from backend.core.call import Call
from backend.db import direct
from backend.legacy.wire import RowShape
from backend.models import FLOWS, FOLDERS
from services.flows.definition import summary
from services.paging import page_of

FLOW_ROW = RowShape(FLOWS.c)
FOLDER_NAME = len(FLOW_ROW.names)  # the position of `folder_name` in a listed row
FLOW_DATA = FLOW_ROW.names.index("flow_data")


def wanted_states(query: Mapping[str, Any], active_only: bool) -> set[int]:
    """Every `is_active` value a listed flow must have: none, one, or two that contradict."""
    states = {1} if query["is_active"] or active_only else set()
    return states if query["status"] is None else states | {query["status"]}


@cache
def list_statement(
    states: tuple[int, ...], in_folder: bool, checked: bool = False
) -> direct.Statement:
    """The list for `is_active` in every one of `states`, in the folder `folder_id` or any;
    parameters `project_id`, `folder_id`, `limit`, `offset`; `checked`: with the caller's
    `ACCESS_COLUMNS` last (their parameters too). Built once per shape."""
    extra = ACCESS_COLUMNS if checked else ()
    statement = (
        select(FLOWS, FOLDERS.c.name.label("folder_name"), *extra)
        .outerjoin(FOLDERS, FOLDERS.c.id == FLOWS.c.folder_id)
        .where(FLOWS.c.project_id == bindparam("project_id"))
        .order_by(FLOWS.c.created_at.desc(), FLOWS.c.id.desc())
    )
    for state in states:
        statement = statement.where(FLOWS.c.is_active == state)
    if in_folder:
        statement = statement.where(FLOWS.c.folder_id == bindparam("folder_id"))
    page = statement.limit(bindparam("limit")).offset(bindparam("offset"))
    return direct.Statement(page, text_datetimes=True)


def list_row(row: Sequence[Any]) -> dict[str, Any]:
    """The legacy row, then the computed fields (text or None, an integer, text)."""
    fmt, steps = summary(row[FLOW_DATA])
    listed = FLOW_ROW.wire(row)
    listed["folder_name"] = row[FOLDER_NAME]
    listed["step_count"] = steps
    listed["format_type"] = fmt
    return listed


def list_flows(
    call: Call, project_id: str, query: Mapping[str, Any], *, active_only: bool = False
) -> list[dict[str, Any]]:
    """A project's flows for a caller who may see them (401, 403 as `require_access`), filtered
    by the loaded `query`; `active_only` is `flows_active`."""
    states, folder_id = tuple(sorted(wanted_states(query, active_only))), query["folder_id"]
    page = page_of(query)
    params = {"project_id": project_id, "limit": page.limit, "offset": page.offset}
    if folder_id is not None:
        params["folder_id"] = folder_id
    listed, checked = (list_statement(states, folder_id is not None, c) for c in (False, True))
    rows = rows_with_access(call, project_id, listed, checked, params)
    return FLOW_ROW.answer([list_row(row) for row in rows])
