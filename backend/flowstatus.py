"""The seed contract's core: change a flow's active status atomically, with its audit row.

Read, check and write happen under the flow's row lock (`SELECT … FOR UPDATE`; on SQLite the
transaction is `BEGIN IMMEDIATE`), so concurrent changes from any number of gateway processes
serialise: N toggles give N flips and N audit rows.
"""

from typing import Any

from sqlalchemy import exists, select, update

from backend import audit
from backend.auth import require_access
from backend.db import db
from backend.errors import Conflict, NotFound
from backend.models import Flow, FlowExecution
from backend.registry import Call
from backend.rows import now, row_dict

FLOWS = Flow.__table__
STATUS_CHANGED = "flow_status_changed"
TOGGLE_CONFLICT = "Cannot toggle status: Flow is currently being executed"
CHANGE_CONFLICT = "Cannot change status: Flow is currently being executed"


def lock_flow(flow_id: str) -> dict[str, Any]:
    row = (
        db.session.execute(select(FLOWS).where(FLOWS.c.id == flow_id).with_for_update())
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("Flow not found")
    return dict(row)


def has_live_execution(flow_id: str) -> bool:
    live = exists().where(
        FlowExecution.flow_id == flow_id,
        FlowExecution.status == "running",
        FlowExecution.lease_expires_at > now(),
    )
    return bool(db.session.execute(select(live)).scalar())


def load_for_change(call: Call, flow_id: str) -> dict[str, Any]:
    """Lock the flow row, then check the caller may touch it (404 before 403, as legacy)."""
    row = lock_flow(flow_id)
    require_access(call, row["project_id"])
    return row


def change_status(
    call: Call,
    row: dict[str, Any],
    target: int,
    *,
    via: str,
    reason: str | None = None,
    conflict: str = CHANGE_CONFLICT,
) -> dict[str, Any]:
    """Set `is_active` on a locked row; a no-op writes nothing. Returns the wire row."""
    old = int(row["is_active"])
    if target == old:
        return row_dict(FLOWS, row)
    if has_live_execution(row["id"]):
        raise Conflict(conflict)
    stamp = now()
    db.session.execute(
        update(FLOWS).where(FLOWS.c.id == row["id"]).values(is_active=target, updated_at=stamp)
    )
    audit.record(
        call,
        STATUS_CHANGED,
        resource_type="flow",
        resource_id=row["id"],
        project_id=row["project_id"],
        old={"is_active": old},
        new={"is_active": target},
        metadata={"via": via, "reason": reason},
        category="flow",
    )
    return row_dict(FLOWS, {**row, "is_active": target, "updated_at": stamp})


def toggle(call: Call, flow_id: str, reason: str | None = None) -> dict[str, Any]:
    row = load_for_change(call, flow_id)
    target = 0 if row["is_active"] else 1
    return change_status(
        call, row, target, via="flow_toggle_active", reason=reason, conflict=TOGGLE_CONFLICT
    )
