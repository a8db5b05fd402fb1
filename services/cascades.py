"""Deletes that take flows with them (a flow, a folder tree, a project, an account): refused with
409 while any of those flows is being executed, and one audit row per flow removed.

The flows are locked in id order before the check, and registering an execution takes the same
row lock (`services/flows/status.py`), so no run can start between the check and the delete.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, exists, select

from backend.core.call import Call
from backend.core.errors import Conflict
from backend.db import db
from backend.legacy.clock import now
from backend.models import EXECUTIONS, FLOWS
from services import audit

DELETE_CHUNK = 1000  # ids per DELETE … IN (…): far below any driver's placeholder limit
LIVE = exists().where(
    EXECUTIONS.c.flow_id == FLOWS.c.id,
    EXECUTIONS.c.status == "running",
    EXECUTIONS.c.lease_expires_at > bindparam("now"),
)
KEPT = ("id", "name", "project_id", "folder_id", "is_active")


def lock_flows(condition: ColumnElement[bool]) -> list[Mapping[str, Any]]:
    """The flows matching `condition`, row-locked in id order, each with its `live` flag."""
    statement = (
        select(*(FLOWS.c[name] for name in KEPT), LIVE.label("live"))
        .where(condition)
        .order_by(FLOWS.c.id)
        .with_for_update()
    )
    return list(db.session.execute(statement, {"now": now()}).mappings())


def remove_flows(
    call: Call,
    condition: ColumnElement[bool],
    *,
    via: str,
    conflict: str,
    project_stays: bool,
) -> int:
    """Lock, refuse (409 `conflict`) if one is being executed, audit and delete; the count.

    `project_stays`: the audit rows may name the project (a project being deleted cannot be
    named: the legacy `audit_logs.project_id` key would refuse it, so it goes in `old_values`).
    """
    flows = lock_flows(condition)
    if any(flow["live"] for flow in flows):
        raise Conflict(conflict)
    delete_flows(call, flows, via=via, project_stays=project_stays)
    return len(flows)


def delete_flows(
    call: Call, flows: Iterable[Mapping[str, Any]], *, via: str, project_stays: bool
) -> None:
    """Audit (`flow_deleted`, one row each) and delete flows already locked and checked."""
    flows = list(flows)
    audit.record_many([deleted_entry(call, flow, via, project_stays) for flow in flows])
    ids = [flow["id"] for flow in flows]
    for start in range(0, len(ids), DELETE_CHUNK):
        chunk = ids[start : start + DELETE_CHUNK]
        db.session.execute(delete(FLOWS).where(FLOWS.c.id.in_(chunk)))


def deleted_entry(
    call: Call, flow: Mapping[str, Any], via: str, project_stays: bool
) -> dict[str, Any]:
    return audit.entry(
        call,
        "flow_deleted",
        resource_type="flow",
        resource_id=flow["id"],
        project_id=flow["project_id"] if project_stays else None,
        old={name: flow[name] for name in KEPT},
        metadata={"via": via},
        category="flow",
    )
