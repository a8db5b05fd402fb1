"""Flow lists (`flows`, `flows_active`) and the paging every list act shares.

The legacy order and cap stay (`created_at` DESC, at most 100 rows); the optional filters the MCP
client sends are honoured (the literal string "undefined" means "not given"), and each row gets
the computed fields the legacy docs promised: `folder_name`, `step_count`, `format_type`.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select

from backend.auth.access import require_access
from backend.core.call import Call
from backend.core.errors import BadRequest
from backend.db import db
from backend.legacy.wire import row_dict
from backend.models import FLOWS, FOLDERS
from services.flows.definition import format_type, step_count
from services.paging import LIST_LIMIT, Page

MAX_NUMBER = 2**63 - 1
NOT_GIVEN = ("", "undefined")
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def given(query: Mapping[str, str], name: str) -> str | None:
    """A query parameter, or None when absent, empty or the MCP client's literal "undefined"."""
    value = query.get(name)
    return None if value is None or value.strip() in NOT_GIVEN else value.strip()


def whole_number(query: Mapping[str, str], name: str, minimum: int) -> int | None:
    """ASCII digits only; anything past a 64-bit LIMIT/OFFSET would be an SQL error, not a page."""
    value = given(query, name)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()):
        raise BadRequest(f"{name} must be a whole number of at least {minimum}")
    digits = value.lstrip("0") or "0"
    # Length first: int() refuses strings of more than 4300 digits with a ValueError.
    if len(digits) > len(str(MAX_NUMBER)) or int(digits) > MAX_NUMBER:
        raise BadRequest(f"{name} is too large")
    if int(digits) < minimum:
        raise BadRequest(f"{name} must be a whole number of at least {minimum}")
    return int(digits)


def page(query: Mapping[str, str]) -> Page:
    """`limit` (1 and up, capped at 100) and `offset` (0 and up)."""
    limit = whole_number(query, "limit", 1)
    offset = whole_number(query, "offset", 0)
    return Page(min(limit or LIST_LIMIT, LIST_LIMIT), offset or 0)


def flag_filter(query: Mapping[str, str], name: str) -> int | None:
    value = given(query, name)
    if value is None:
        return None
    if value.lower() not in TRUE_WORDS + FALSE_WORDS:
        raise BadRequest(f"{name} must be true, false, 1 or 0")
    return int(value.lower() in TRUE_WORDS)


def list_query(project_id: str, query: Mapping[str, str], active_only: bool) -> Select[Any]:
    is_active, folder_id = flag_filter(query, "is_active"), given(query, "folder_id")
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
    return page(query).apply(statement)


def list_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The legacy row, then the computed fields."""
    return {
        **row_dict(FLOWS, row),
        "folder_name": row["folder_name"],
        "step_count": step_count(row["flow_data"]),
        "format_type": format_type(row["flow_data"]),
    }


def list_flows(call: Call, project_id: str, *, active_only: bool = False) -> list[dict[str, Any]]:
    """A member's view of a project's flows; `active_only` is `flows_active`."""
    require_access(call, project_id)
    statement = list_query(project_id, call.query, active_only)
    return [list_row(row) for row in db.session.execute(statement).mappings()]
