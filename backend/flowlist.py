"""Flow lists (`flows`, `flows_active`) and the paging every list act shares.

The legacy order and cap stay (`created_at` DESC, at most 100 rows); the optional filters the MCP
client sends are honoured (the literal string "undefined" means "not given"), and each row gets
the computed fields the legacy docs promised: `folder_name`, `step_count`, `format_type`.

`is_active` only ever narrows to the active flows: mcp2's `activeOnly: false` sends
`is_active=false` meaning "not only the active ones", so a false word means no filter (as the
legacy, which ignored it). Inactive flows alone are asked for with `status=inactive`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select

from backend.auth import require_access
from backend.db import db
from backend.errors import BadRequest
from backend.flowformat import format_type, step_count
from backend.models import Flow, Folder
from backend.registry import Call
from backend.rows import row_dict

FLOWS = Flow.__table__
FOLDERS = Folder.__table__
MAX_ROWS = 100
MAX_NUMBER = 2**63 - 1
NOT_GIVEN = ("", "undefined")
# PHP's FILTER_VALIDATE_BOOLEAN words (any case), plus JavaScript's `null`, which means "no filter".
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off", "null")
STATUSES = {"active": 1, "inactive": 0, "all": None}
LIST_PARAMETERS = (
    {
        "name": "is_active",
        "in": "query",
        "description": "1, true, yes or on (any case): only active flows. 0, false, no, off, "
        "null, undefined or empty: no filter, every flow (mcp2's activeOnly: false).",
        "schema": {"type": "string"},
    },
    {
        "name": "status",
        "in": "query",
        "description": "active, inactive or all (default). Combines with is_active: "
        "is_active=1&status=inactive lists nothing.",
        "schema": {"type": "string", "enum": list(STATUSES)},
    },
    {
        "name": "folder_id",
        "in": "query",
        "description": "Only the flows of this folder.",
        "schema": {"type": "string"},
    },
    {
        "name": "limit",
        "in": "query",
        "description": "At most this many flows (1 to 100, default 100).",
        "schema": {"type": "integer", "minimum": 1},
    },
    {
        "name": "offset",
        "in": "query",
        "description": "Skip this many flows first (default 0).",
        "schema": {"type": "integer", "minimum": 0},
    },
)


@dataclass(frozen=True)
class Page:
    limit: int = MAX_ROWS
    offset: int = 0

    def apply(self, query: Select[Any]) -> Select[Any]:
        return query.limit(self.limit).offset(self.offset)


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
    return Page(min(limit or MAX_ROWS, MAX_ROWS), offset or 0)


def only_active(query: Mapping[str, str]) -> bool:
    """`is_active`: a true word keeps the active flows only; a false word means every flow."""
    value = given(query, "is_active")
    if value is None:
        return False
    if value.lower() not in TRUE_WORDS + FALSE_WORDS:
        raise BadRequest("is_active must be true, false, 1 or 0")
    return value.lower() in TRUE_WORDS


def status_filter(query: Mapping[str, str]) -> int | None:
    """`status`: active, inactive or all (any case); the `is_active` value to match, or None."""
    value = given(query, "status")
    if value is None:
        return None
    if value.lower() not in STATUSES:
        raise BadRequest(f"status must be one of: {', '.join(STATUSES)}")
    return STATUSES[value.lower()]


def wanted_states(query: Mapping[str, str], active_only: bool) -> set[int]:
    """Every `is_active` value a listed flow must have: none, one, or two that contradict."""
    states = {1} if only_active(query) or active_only else set()
    status = status_filter(query)
    return states if status is None else states | {status}


def list_query(project_id: str, query: Mapping[str, str], active_only: bool) -> Select[Any]:
    states, folder_id = wanted_states(query, active_only), given(query, "folder_id")
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
