"""The seed contract's core: change a flow's active status atomically, with its audit row.

Read, check and write happen under the flow's row lock (`SELECT … FOR UPDATE`; on SQLite the
transaction is `BEGIN IMMEDIATE`), so concurrent changes from any number of gateway processes
serialise: N toggles give N flips and N audit rows. Registering an execution takes the same lock,
so a flow deactivated concurrently never gets a new execution.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, exists, select, update

from backend.auth.access import member_of, require_access, require_read_access
from backend.auth.callers import account_verdict, settle, settle_pending, verdict_params
from backend.core.call import Call
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.db import db, direct
from backend.legacy.clock import now
from backend.legacy.wire import row_dict
from backend.models import EXECUTIONS, FLOWS, FOLDERS
from services import audit
from services.flows.definition import activation_problems

STATUS_CHANGED = "flow_status_changed"
TOGGLE_CONFLICT = "Cannot toggle status: Flow is currently being executed"
CHANGE_CONFLICT = "Cannot change status: Flow is currently being executed"
INVALID_DEFINITION = "Flow definition is invalid"

# The hot statements, built once (Core, named parameters `flow_id`, `user_id`, `now`, ...).
LOCK_FLOW = select(FLOWS).where(FLOWS.c.id == bindparam("flow_id")).with_for_update()
LIVE_EXECUTION = exists().where(
    EXECUTIONS.c.flow_id == bindparam("flow_id"),
    EXECUTIONS.c.status == "running",
    EXECUTIONS.c.lease_expires_at > bindparam("now"),
)
HAS_LIVE_EXECUTION = select(LIVE_EXECUTION)
# The flow with "may the caller touch it?", the caller's account check (a pending one, see
# `AuthPolicy.account_in_statement`) and, for a change, "is it being executed?" as columns: one
# round trip. Only the flow row is locked; the subqueries read without locks.
CALLER_ALLOWED = exists(member_of(FLOWS.c.project_id)).label("allowed")
ACCOUNT_VERDICT = account_verdict(FLOWS.c.id)  # read after the row lock (see there)
FLOW_COLUMNS = tuple(column.name for column in FLOWS.c)
READ_WITH_ACCESS = direct.Statement(
    select(FLOWS, CALLER_ALLOWED, ACCOUNT_VERDICT).where(FLOWS.c.id == bindparam("flow_id"))
)
LOCK_FOR_CHANGE = direct.Statement(
    select(FLOWS, CALLER_ALLOWED, ACCOUNT_VERDICT, LIVE_EXECUTION.label("live"))
    .where(FLOWS.c.id == bindparam("flow_id"))
    .with_for_update()
)
# The detail read: the flow, its folder's name, the caller's membership and account check;
# only answered (`flow_get`, `flow_detail_ui`), so its times stay the server's text.
FLOW_DETAIL = direct.Statement(
    select(FLOWS, FOLDERS.c.name.label("folder_name"), CALLER_ALLOWED, ACCOUNT_VERDICT)
    .outerjoin(FOLDERS, FOLDERS.c.id == FLOWS.c.folder_id)
    .where(FLOWS.c.id == bindparam("flow_id")),
    text_datetimes=True,
)
SET_STATUS = direct.Statement(
    update(FLOWS)
    .where(FLOWS.c.id == bindparam("flow_id"))
    .values(is_active=bindparam("new_status"), updated_at=bindparam("stamp"))
)


def lock_flow(flow_id: str) -> dict[str, Any]:
    row = db.session.execute(LOCK_FLOW, {"flow_id": flow_id}).mappings().first()
    if row is None:
        raise NotFound("Flow not found")
    return dict(row)


def load_flow(call: Call, flow_id: str, *, folder_name: bool = False) -> dict[str, Any]:
    """Read a flow without locking it: 404, then the member check (403), as legacy.

    `folder_name` adds the name of its folder (the detail reads).
    """
    if not folder_name:
        return with_access(call, READ_WITH_ACCESS, {"flow_id": flow_id})[0]
    row, found = with_access(call, FLOW_DETAIL, {"flow_id": flow_id})
    return {**row, "folder_name": found["folder_name"]}


def has_live_execution(flow_id: str) -> bool:
    params = {"flow_id": flow_id, "now": now()}
    return bool(db.session.execute(HAS_LIVE_EXECUTION, params).scalar())


def load_for_change(call: Call, flow_id: str) -> dict[str, Any]:
    """Lock the flow row, then check the caller may touch it (404 before 403, as legacy)."""
    return lock_for_change(call, flow_id)[0]


def lock_for_change(call: Call, flow_id: str) -> tuple[dict[str, Any], bool]:
    """The locked row (404, then 403) and whether a live execution holds it, in one statement."""
    params = {"flow_id": flow_id, "now": now()}
    row, found = with_access(call, LOCK_FOR_CHANGE, params)
    return row, bool(found["live"])


def with_access(
    call: Call, statement: direct.Statement, params: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run a flow select carrying the `allowed` and `account` columns: (the flow's own columns,
    every column). The account's 401 comes first, then 404, then 403, as legacy."""
    found = direct.first(statement, {**params, **verdict_params(call)})
    if found is None:
        settle_pending(call)
        raise NotFound("Flow not found")
    settle(call, found["account"])
    require_read_access(call, found["project_id"], bool(found["allowed"]))
    return {name: found[name] for name in FLOW_COLUMNS}, found


def change_status(
    call: Call,
    row: dict[str, Any],
    target: int,
    *,
    via: str,
    reason: str | None = None,
    conflict: str = CHANGE_CONFLICT,
    invalid: str = INVALID_DEFINITION,
    live: bool | None = None,
) -> dict[str, Any]:
    """Set `is_active` on a locked row; a no-op writes nothing. Returns the wire row.

    Activating checks the stored definition first (422 `invalid`), then a live execution (409
    `conflict`). `live`: whether one holds the flow, when the lock already told (else asked).
    """
    old = int(row["is_active"])
    if target and not old:
        check_activatable(row, invalid)
    if target == old:
        return row_dict(FLOWS, row)
    if has_live_execution(row["id"]) if live is None else live:
        raise Conflict(conflict)
    return write_status(call, row, target, via=via, reason=reason)


def write_status(
    call: Call, row: dict[str, Any], target: int, *, via: str, reason: str | None
) -> dict[str, Any]:
    """The change itself, on a locked row already checked: UPDATE, then the audit row."""
    old = int(row["is_active"])
    stamp = now()
    params = {"flow_id": row["id"], "new_status": target, "stamp": stamp}
    direct.execute_later(SET_STATUS, params)
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


def reason(call: Call) -> str | None:
    """The body's optional `reason`: read once the flow has passed its 404/403 checks."""
    return call.body().get("reason")


def toggle(call: Call, flow_id: str) -> dict[str, Any]:
    """Lock (404), access (403) and the execution check (409) in one round trip, then write."""
    row, live = lock_for_change(call, flow_id)
    why = reason(call)
    if live:
        raise Conflict(TOGGLE_CONFLICT)
    target = 0 if row["is_active"] else 1
    return write_status(call, row, target, via="flow_toggle_active", reason=why)


# --- explicit status: activate, deactivate, batch ----------------------------------------------


def check_activatable(row: dict[str, Any], message: str = INVALID_DEFINITION) -> None:
    """The seed's "before activating": the stored definition must be a valid flow (else 422)."""
    problems = activation_problems(row["flow_data"], row["ui_data"])
    if problems:
        raise ValidationFailed(problems, message)


def set_active(call: Call, flow_id: str, target: int, *, via: str) -> dict[str, Any]:
    """Idempotent explicit status; activating an inactive flow validates its definition first."""
    row, live = lock_for_change(call, flow_id)
    why = reason(call)
    return change_status(call, row, target, via=via, reason=why, live=live)


def lock_flows(project_id: str, flow_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Lock every row in id order (no deadlock between overlapping batches); all must exist."""
    ordered = sorted(flow_ids)
    statement = select(FLOWS).where(FLOWS.c.id.in_(ordered)).order_by(FLOWS.c.id)
    rows = {
        row["id"]: dict(row) for row in db.session.execute(statement.with_for_update()).mappings()
    }
    for flow_id in ordered:
        if flow_id not in rows or rows[flow_id]["project_id"] != project_id:
            raise NotFound(f"Flow not found: {flow_id}")
    return rows


def set_many(call: Call, project_id: str) -> list[dict[str, Any]]:
    """Set the body's `flow_ids` to its `is_active`, all or nothing; the body is read after 403.

    The first refusal (404, 409, 422) names its flow and rolls back the rest.
    """
    require_access(call, project_id)
    data = call.body()
    flow_ids, target = data["flow_ids"], int(data["is_active"])
    rows = lock_flows(project_id, flow_ids)
    changed = {}
    for flow_id in sorted(flow_ids):
        changed[flow_id] = change_status(
            call,
            rows[flow_id],
            target,
            via="flows_set_active",
            reason=data.get("reason"),
            conflict=f"Cannot change status of {flow_id}: Flow is currently being executed",
            invalid=f"{INVALID_DEFINITION}: {flow_id}",
        )
    return [changed[flow_id] for flow_id in flow_ids]
