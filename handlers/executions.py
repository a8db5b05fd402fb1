"""Flow executions: register a run under a lease, heartbeat it, finish it, list a flow's runs.

An execution blocks status changes only while its lease is live, so an engine that crashes
never locks a flow forever; a running row whose lease has passed reads as "expired" and is
marked so when a flow's runs are listed or a new run is registered.
"""

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, update

from backend.auth.access import require_access
from backend.auth.callers import ANY_TOKEN
from backend.core.call import Call, Reply
from backend.core.errors import BadRequest, Conflict, NotFound
from backend.core.registry import action
from backend.db import db
from backend.legacy.clock import now
from backend.legacy.ids import execution_id
from backend.legacy.php import php_json
from backend.legacy.wire import format_datetime, row_dict
from backend.models import EXECUTIONS
from schemas.executions import ExecutionOut, ExecutionStartOut, FinishIn
from schemas.queries import ExecutionListQuery, load_query
from services.flows.status import load_flow, load_for_change, lock_flow
from services.paging import page_of

STARTED = "Flow execution started"


def lease_from(stamp: datetime) -> datetime:
    return stamp + timedelta(seconds=current_app.config["EXECUTION_LEASE_SECONDS"])


def wire_status(row: dict[str, Any]) -> str:
    if row["status"] == "running" and row["lease_expires_at"] <= now():
        return "expired"
    return row["status"]


def execution_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row_dict(EXECUTIONS, row), "status": wire_status(row)}


def expire_stale(flow_id: str) -> None:
    db.session.execute(
        update(EXECUTIONS)
        .where(
            EXECUTIONS.c.flow_id == flow_id,
            EXECUTIONS.c.status == "running",
            EXECUTIONS.c.lease_expires_at <= now(),
        )
        .values(status="expired", finished_at=EXECUTIONS.c.lease_expires_at)
    )


# --- flow_execute ----------------------------------------------------------------------------


def register(call: Call, flow_id: str) -> dict[str, Any]:
    """Under the flow's row lock, so it serialises with every status change."""
    flow = load_for_change(call, flow_id)
    if not flow["is_active"]:
        raise BadRequest("Flow is not active")
    expire_stale(flow_id)
    stamp, ident = now(), execution_id()
    db.session.execute(
        insert(EXECUTIONS).values(
            id=ident,
            flow_id=flow_id,
            project_id=flow["project_id"],
            status="running",
            started_by=call.user.user_id,
            started_at=stamp,
            heartbeat_at=stamp,
            lease_expires_at=lease_from(stamp),
        )
    )
    return started(flow, ident, stamp)


def started(flow: dict[str, Any], ident: str, stamp: datetime) -> dict[str, Any]:
    """The legacy keys (status is now the truth: "running"), then the execution's own."""
    return {
        "flow_id": flow["id"],
        "status": "running",
        "message": STARTED,
        "execution_time": format_datetime(stamp),
        "flow_data": flow["flow_data"],
        "execution_id": ident,
        "lease_expires_at": format_datetime(lease_from(stamp)),
    }


@action(
    "/flow/<id>/execute",
    methods=("GET", "DELETE"),
    acts=("flow_execute",),
    auth=ANY_TOKEN,
    summary="Execute flow (legacy route: registers a running execution)",
    out=ExecutionStartOut,
    errors=(400,),  # the flow is not active
)
def flow_execute(call: Call) -> Reply:
    return Reply(register(call, call.args["id"]), STARTED)


@action(
    "/flow/<id>/execute",
    methods=("POST",),
    acts=("flow_execute",),
    auth=ANY_TOKEN,
    summary="Start an execution of an active flow",
    out=ExecutionStartOut,
    errors=(400,),  # the flow is not active
)
def flow_execute_start(call: Call) -> Reply:
    return Reply(register(call, call.args["id"]), STARTED, 201)


# --- heartbeat and finish --------------------------------------------------------------------


def fetch_execution(execution_id: str, *, lock: bool) -> dict[str, Any]:
    statement = select(EXECUTIONS).where(EXECUTIONS.c.id == execution_id)
    row = db.session.execute(statement.with_for_update() if lock else statement).mappings().first()
    if row is None:
        raise NotFound("Execution not found")
    return dict(row)


def load_execution(call: Call, execution_id: str) -> dict[str, Any]:
    """404, then the member check on the execution's project."""
    row = fetch_execution(execution_id, lock=False)
    require_access(call, row["project_id"])
    return row


def require_running(row: dict[str, Any]) -> None:
    status = wire_status(row)
    if status != "running":
        raise Conflict(f"Execution is not running (status: {status})")


@action(
    "/execution/<id>/heartbeat",
    methods=("POST",),
    acts=("flow_execution_heartbeat",),
    auth=ANY_TOKEN,
    summary="Extend a running execution's lease",
)
def flow_execution_heartbeat(call: Call) -> Reply:
    found = load_execution(call, call.args["id"])
    lock_flow(found["flow_id"])  # same lock order as status changes: flow, then run
    row = fetch_execution(found["id"], lock=True)
    require_running(row)
    stamp = now()
    values = {"heartbeat_at": stamp, "lease_expires_at": lease_from(stamp)}
    db.session.execute(update(EXECUTIONS).where(EXECUTIONS.c.id == row["id"]).values(**values))
    return Reply(execution_row({**row, **values}), "Execution lease extended")


@action(
    "/execution/<id>/finish",
    methods=("POST",),
    acts=("flow_execution_finish",),
    auth=ANY_TOKEN,
    schema=FinishIn,
    summary="Finish a running execution as completed or failed",
)
def flow_execution_finish(call: Call) -> Reply:
    load_execution(call, call.args["id"])
    data = call.body()
    row = fetch_execution(call.args["id"], lock=True)
    require_running(row)
    result = data.get("result")
    values = {
        "status": data["status"],
        "finished_at": now(),
        "result": None if result is None else php_json(result),
    }
    db.session.execute(update(EXECUTIONS).where(EXECUTIONS.c.id == row["id"]).values(**values))
    return Reply(execution_row({**row, **values}), "Execution finished")


# --- listing ---------------------------------------------------------------------------------


@action(
    "/flow/<id>/executions",
    acts=("flow_executions",),
    auth=ANY_TOKEN,
    summary="Executions of a flow, newest first",
    out=ExecutionOut(many=True),
    query_schemas=(ExecutionListQuery,),
)
def flow_executions(call: Call) -> Reply:
    flow = load_flow(call, call.args["id"])
    query = load_query(ExecutionListQuery, call)
    status, page = query["status"], page_of(query)
    expire_stale(flow["id"])
    statement = select(EXECUTIONS).where(EXECUTIONS.c.flow_id == flow["id"])
    if status is not None:
        statement = statement.where(EXECUTIONS.c.status == status)
    statement = statement.order_by(EXECUTIONS.c.started_at.desc(), EXECUTIONS.c.id.desc())
    rows = db.session.execute(page.apply(statement)).mappings()
    return Reply([execution_row(dict(row)) for row in rows], "Flow executions fetched")
