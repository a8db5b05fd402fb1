"""Flow acts: list, create, detail, update, delete, duplicate, and the React Flow read/update.

Their checks and writes are `services.flows.writes`; a status change made through `flow_update`
(and the UI update) goes through `services.flows.status`, so it takes the row lock, writes the
audit row and answers 409 while the flow is being executed.
"""

import json
from typing import Any

from backend.auth.access import require_access
from backend.auth.callers import ANY_TOKEN, IN_STATEMENT
from backend.core.call import Call, Reply
from backend.core.errors import Conflict
from backend.core.registry import action
from backend.legacy.wire import row_dict
from backend.models import FLOWS
from schemas.flows import (
    FlowCreateIn,
    FlowDuplicateIn,
    FlowListItemOut,
    FlowOut,
    FlowRowOut,
    FlowUiOut,
    FlowUpdateIn,
)
from schemas.queries import FLOW_LIST_PARAMETERS, flow_list_query
from services.cascades import delete_flows
from services.flows import definition, listing, status, writes

PROJECT_FLOWS_ACTS = ("flows", "flow_list", "flows_list", "flow_create")
FLOW_ACTS = ("flow", "flow_get", "flow_detail", "flow_update", "flow_delete")
UI_ACTS = ("flow_detail_ui", "flow_update_ui")
DELETE_CONFLICT = "Cannot delete flow: Flow is currently being executed"
UI_HEAD = ("id", "name", "description", "project_id", "folder_id")
UI_TAIL = ("is_active", "created_by", "created_at", "updated_at")


# --- reading ----------------------------------------------------------------------------------


def refuse_constant(name: str) -> None:
    raise ValueError(name)  # NaN/Infinity are not JSON; the envelope must stay parseable


def decoded_inputs(text: str | None) -> Any:
    """`flow_inputs` for the UI read: decoded; NULL, empty or unreadable text is `[]`."""
    try:
        value = json.loads(text, parse_constant=refuse_constant) if text else None
    except (ValueError, RecursionError):
        return []
    return [] if value is None else value


def ui_row(row: dict[str, Any]) -> dict[str, Any]:
    wire = row_dict(FLOWS, row)
    return {
        **{key: wire[key] for key in UI_HEAD},
        "flow_inputs": decoded_inputs(row["flow_inputs"]),
        "flow_data": definition.ui_view(row["flow_data"], row["ui_data"]),
        **{key: wire[key] for key in UI_TAIL},
    }


@action(
    "/project/<id>/flows",
    methods=("GET",),
    acts=PROJECT_FLOWS_ACTS,
    auth=IN_STATEMENT,
    summary="List flows for a project (filters: is_active, status, folder_id, limit, offset)",
    query=FLOW_LIST_PARAMETERS,
    out=FlowListItemOut(many=True),
)
def flow_list(call: Call) -> Reply:
    query = flow_list_query(call)
    return Reply(listing.list_flows(call, call.args["id"], query), "Flows fetched")


@action(
    "/flow/<id>",
    methods=("GET",),
    acts=FLOW_ACTS,
    auth=IN_STATEMENT,
    summary="Flow detail",
    out=FlowOut,
)
def flow_get(call: Call) -> Reply:
    row = status.load_flow(call, call.args["id"], folder_name=True)
    return Reply({**row_dict(FLOWS, row), "folder_name": row["folder_name"]}, "Flow detail")


@action(
    "/flow/<id>/ui",
    methods=("GET",),
    acts=UI_ACTS,
    auth=ANY_TOKEN,
    summary="Flow detail for the UI (React Flow format)",
    out=FlowUiOut,
)
def flow_detail_ui(call: Call) -> Reply:
    flow = status.load_flow(call, call.args["id"], folder_name=True)
    return Reply(ui_row(flow), "Flow data for UI")


# --- create, update, delete -------------------------------------------------------------------


@action(
    "/project/<id>/flows",
    methods=("POST",),
    acts=PROJECT_FLOWS_ACTS,
    auth=ANY_TOKEN,
    schema=FlowCreateIn,
    summary="Create flow for a project",
    out=FlowRowOut,
)
def flow_create(call: Call) -> Reply:
    project_id = call.args["id"]
    require_access(call, project_id)
    return Reply(writes.create_flow(call, project_id, call.body()), "Flow created", 201)


@action(
    "/flow/<id>",
    methods=("PUT",),
    acts=FLOW_ACTS,
    auth=ANY_TOKEN,
    schema=FlowUpdateIn,
    summary="Update flow (any of name, description, folder_id, flow_data, flow_inputs, is_active)",
    out=FlowRowOut,
)
def flow_update(call: Call) -> Reply:
    row = status.load_for_change(call, call.args["id"])
    return Reply(writes.update_flow(call, row, call.body()), "Flow updated")


@action(
    "/flow/<id>/ui",
    methods=("PUT",),
    acts=UI_ACTS,
    auth=ANY_TOKEN,
    schema=FlowUpdateIn,
    summary="Update flow from UI (React Flow format)",
)
def flow_update_ui(call: Call) -> Reply:
    row = status.load_for_change(call, call.args["id"])
    return Reply(writes.update_flow_ui(call, row, call.body()), "Flow updated")


@action(
    "/flow/<id>",
    methods=("DELETE",),
    acts=FLOW_ACTS,
    auth=ANY_TOKEN,
    summary="Delete flow (409 while it is being executed; audited)",
)
def flow_delete(call: Call) -> Reply:
    row, live = status.lock_for_change(call, call.args["id"])
    if live:
        raise Conflict(DELETE_CONFLICT)
    delete_flows(call, [row], via="flow_delete", project_stays=True)
    return Reply({"id": row["id"]}, "Flow deleted")


@action(
    "/flow/<id>/duplicate",
    methods=("POST",),
    acts=("flow_duplicate",),
    auth=ANY_TOKEN,
    schema=FlowDuplicateIn,
    summary="Duplicate a flow (inactive copy, created by the caller)",
    out=FlowRowOut,
)
def flow_duplicate(call: Call) -> Reply:
    source = status.load_flow(call, call.args["id"])
    return Reply(writes.duplicate_flow(call, source, call.body()), "Flow duplicated", 201)
