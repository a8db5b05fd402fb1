"""Flow acts: list, create, detail, update, delete, duplicate, and the React Flow read/update.

Status changes made through `flow_update` (and the UI update) go through `backend.flowstatus`, so
they take the row lock, write the audit row and answer 409 while the flow is being executed.
"""

import json
from itertools import count
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from backend import flowformat, flowlist, flowstatus
from backend.auth import ANY_TOKEN, caller_id, require_access, require_read_access
from backend.db import db
from backend.errors import BadRequest, Conflict, NotFound
from backend.integrity import execute_unique
from backend.models import Flow, Folder
from backend.registry import Call, Reply, action
from backend.rows import new_id, now, row_dict
from backend.validators import php_json
from schemas.base import NAME_CHARS
from schemas.flows import FlowCreateIn, FlowDuplicateIn, FlowUpdateIn

FLOWS = Flow.__table__
FOLDERS = Folder.__table__
PROJECT_FLOWS_ACTS = ("flows", "flow_list", "flows_list", "flow_create")
FLOW_ACTS = ("flow", "flow_get", "flow_detail", "flow_update", "flow_delete")
UI_ACTS = ("flow_detail_ui", "flow_update_ui")
DUPLICATE_NAME = "A flow with this name already exists in this project"
FOREIGN_FOLDER = "Folder does not belong to this project"
DELETE_CONFLICT = "Cannot delete flow: Flow is currently being executed"
UI_HEAD = ("id", "name", "description", "project_id", "folder_id")
UI_TAIL = ("is_active", "created_by", "created_at", "updated_at")
# The copy keeps everything but identity, authorship and status (legacy dropped ui_data/inputs).
COPIED = ("description", "project_id", "folder_id", "flow_data", "flow_inputs", "ui_data")
COPIED_AI = ("ai_version", "generation_strategy", "complexity_score")
COPY_ROOM = len(" (Copy 10000)")
# The detail read, built once: the flow, its folder's name and the caller's membership (a column).
FLOW_DETAIL = (
    select(FLOWS, FOLDERS.c.name.label("folder_name"), flowstatus.CALLER_ALLOWED)
    .outerjoin(FOLDERS, FOLDERS.c.id == FLOWS.c.folder_id)
    .where(FLOWS.c.id == bindparam("flow_id"))
)


# --- reading ----------------------------------------------------------------------------------


def load_flow(call: Call, flow_id: str) -> dict[str, Any]:
    """The row plus `folder_name`: 404 «Flow not found», then 403 unless a member (as legacy)."""
    params = {"flow_id": flow_id, "user_id": caller_id(call)}
    row = db.session.execute(FLOW_DETAIL, params).mappings().first()
    if row is None:
        raise NotFound("Flow not found")
    require_read_access(call, row["project_id"], bool(row["allowed"]))
    return dict(row)


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
        "flow_data": flowformat.ui_view(row["flow_data"], row["ui_data"]),
        **{key: wire[key] for key in UI_TAIL},
    }


@action(
    "/project/<id>/flows",
    methods=("GET",),
    acts=PROJECT_FLOWS_ACTS,
    auth=ANY_TOKEN,
    summary="List flows for a project (filters: is_active, status, folder_id, limit, offset)",
    query=flowlist.LIST_PARAMETERS,
)
def flow_list(call: Call) -> Reply:
    return Reply(flowlist.list_flows(call, call.args["id"]), "Flows fetched")


@action("/flow/<id>", methods=("GET",), acts=FLOW_ACTS, auth=ANY_TOKEN, summary="Flow detail")
def flow_get(call: Call) -> Reply:
    row = load_flow(call, call.args["id"])
    return Reply({**row_dict(FLOWS, row), "folder_name": row["folder_name"]}, "Flow detail")


@action(
    "/flow/<id>/ui",
    methods=("GET",),
    acts=UI_ACTS,
    auth=ANY_TOKEN,
    summary="Flow detail for the UI (React Flow format)",
)
def flow_detail_ui(call: Call) -> Reply:
    return Reply(ui_row(load_flow(call, call.args["id"])), "Flow data for UI")


# --- checks shared by the writes --------------------------------------------------------------


def folder_for(project_id: str, folder_id: str | None) -> str | None:
    """None for no folder (null or ""); else a folder of this project, share-locked until commit."""
    if not folder_id:
        return None
    statement = select(FOLDERS.c.project_id).where(FOLDERS.c.id == folder_id)
    if db.session.execute(statement.with_for_update(read=True)).scalar() != project_id:
        raise BadRequest(FOREIGN_FOLDER)
    return folder_id


def inputs_text(value: Any) -> str:
    """Validated `flow_inputs` as stored JSON text; null (or absent) is `[]`."""
    flowformat.check_flow_inputs(value)
    return "[]" if value is None else php_json(value)


def definition(raw: Any) -> dict[str, str]:
    """`flow_data` (Steps, as sent when Steps were sent) and `ui_data` (React Flow) texts."""
    steps, ui = flowformat.normalize_flow_data(raw)
    return {"flow_data": php_json(steps), "ui_data": php_json(ui)}


def ui_definition(raw: Any) -> dict[str, str]:
    """UI update: React Flow only; its Steps must pass the same reference check as any write."""
    steps, ui = flowformat.normalize_ui_flow_data(raw)
    flowformat.check_variable_references(steps)
    return {"flow_data": php_json(steps), "ui_data": php_json(ui)}


def check_name_free(project_id: str, name: str, flow_id: str | None = None) -> None:
    """The clear 409 before the unique key would refuse the write (same collation decides)."""
    statement = select(FLOWS.c.id).where(FLOWS.c.project_id == project_id, FLOWS.c.name == name)
    if flow_id is not None:
        statement = statement.where(FLOWS.c.id != flow_id)
    if db.session.execute(statement.limit(1)).first() is not None:
        raise Conflict(DUPLICATE_NAME)


def full_row(values: dict[str, Any]) -> dict[str, Any]:
    return {column.name: values.get(column.name) for column in FLOWS.columns}


# --- create, update, delete -------------------------------------------------------------------


@action(
    "/project/<id>/flows",
    methods=("POST",),
    acts=PROJECT_FLOWS_ACTS,
    auth=ANY_TOKEN,
    schema=FlowCreateIn,
    summary="Create flow for a project",
)
def flow_create(call: Call) -> Reply:
    project_id = call.args["id"]
    require_access(call, project_id)
    data = call.data
    inputs = inputs_text(data.get("flow_inputs"))
    folder_id = folder_for(project_id, data.get("folder_id"))
    texts = definition(data.get("flow_data"))
    check_name_free(project_id, data["name"])
    stamp = now()
    values = full_row(
        {
            **texts,
            "id": new_id("flow"),
            "name": data["name"],
            "description": data.get("description"),
            "project_id": project_id,
            "folder_id": folder_id,
            "created_by": call.user.user_id,
            "is_active": 1 if data.get("is_active") is None else data["is_active"],
            "created_at": stamp,
            "updated_at": stamp,
            "flow_inputs": inputs,
        }
    )
    execute_unique(insert(FLOWS).values(values), DUPLICATE_NAME)
    return Reply(row_dict(FLOWS, values), "Flow created", 201)


def field_changes(project_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Columns an update sets besides the definition, validated in the legacy order."""
    changes = {key: data[key] for key in ("name", "description") if data.get(key) is not None}
    if data.get("flow_inputs") is not None:
        changes["flow_inputs"] = inputs_text(data["flow_inputs"])
    if "folder_id" in data:
        changes["folder_id"] = folder_for(project_id, data["folder_id"])
    return changes


def save(call: Call, row: dict[str, Any], changes: dict[str, Any], *, via: str) -> dict[str, Any]:
    """Write the changes to the locked row, then the status change (audit row, 409, 422)."""
    if "name" in changes:
        check_name_free(row["project_id"], changes["name"], row["id"])
    changes["updated_at"] = now()
    execute_unique(update(FLOWS).where(FLOWS.c.id == row["id"]).values(changes), DUPLICATE_NAME)
    merged = {**row, **changes}
    target = call.data.get("is_active")
    if target is None:
        return row_dict(FLOWS, merged)
    if target and not merged["is_active"]:
        flowstatus.check_activatable(merged)
    return flowstatus.change_status(call, merged, target, via=via)


@action(
    "/flow/<id>",
    methods=("PUT",),
    acts=FLOW_ACTS,
    auth=ANY_TOKEN,
    schema=FlowUpdateIn,
    summary="Update flow (any of name, description, folder_id, flow_data, flow_inputs, is_active)",
)
def flow_update(call: Call) -> Reply:
    row = flowstatus.load_for_change(call, call.args["id"])
    changes = field_changes(row["project_id"], call.data)
    if call.data.get("flow_data") is not None:
        changes.update(definition(call.data["flow_data"]))
    return Reply(save(call, row, changes, via="flow_update"), "Flow updated")


@action(
    "/flow/<id>/ui",
    methods=("PUT",),
    acts=UI_ACTS,
    auth=ANY_TOKEN,
    schema=FlowUpdateIn,
    summary="Update flow from UI (React Flow format)",
)
def flow_update_ui(call: Call) -> Reply:
    row = flowstatus.load_for_change(call, call.args["id"])
    changes = field_changes(row["project_id"], call.data)
    changes.update(ui_definition(call.data.get("flow_data")))
    return Reply(save(call, row, changes, via="flow_update_ui"), "Flow updated")


@action("/flow/<id>", methods=("DELETE",), acts=FLOW_ACTS, auth=ANY_TOKEN, summary="Delete flow")
def flow_delete(call: Call) -> Reply:
    row, live = flowstatus.lock_for_change(call, call.args["id"])
    if live:
        raise Conflict(DELETE_CONFLICT)
    db.session.execute(delete(FLOWS).where(FLOWS.c.id == row["id"]))
    return Reply({"id": row["id"]}, "Flow deleted")


# --- duplicate --------------------------------------------------------------------------------


def free_copy_name(project_id: str, name: str) -> str:
    """«<name> (Copy)», else «<name> (Copy 2)», «(Copy 3)»…: the first one not taken."""
    base = name[: NAME_CHARS - COPY_ROOM]
    statement = select(FLOWS.c.name).where(
        FLOWS.c.project_id == project_id, FLOWS.c.name.startswith(f"{base} (Copy", autoescape=True)
    )
    taken = {taken.casefold() for taken in db.session.execute(statement).scalars()}
    candidates = (f"{base} (Copy)" if n == 1 else f"{base} (Copy {n})" for n in count(1))
    return next(option for option in candidates if option.casefold() not in taken)


def copy_name(project_id: str, source_name: str, wanted: str | None) -> str:
    """A blank name picks a free copy name; an explicit one must be free (409)."""
    if not wanted:
        return free_copy_name(project_id, source_name)
    check_name_free(project_id, wanted)
    return wanted


@action(
    "/flow/<id>/duplicate",
    methods=("POST",),
    acts=("flow_duplicate",),
    auth=ANY_TOKEN,
    schema=FlowDuplicateIn,
    summary="Duplicate a flow (inactive copy, created by the caller)",
)
def flow_duplicate(call: Call) -> Reply:
    source, data = load_flow(call, call.args["id"]), call.data
    copied = {key: source[key] for key in COPIED + COPIED_AI}
    if "folder_id" in data:
        copied["folder_id"] = folder_for(source["project_id"], data["folder_id"])
    if data.get("description") is not None:
        copied["description"] = data["description"]
    stamp = now()
    values = full_row(
        {
            **copied,
            "id": new_id("flow"),
            "name": copy_name(source["project_id"], source["name"], data.get("name")),
            "created_by": call.user.user_id,
            "is_active": 0,
            "created_at": stamp,
            "updated_at": stamp,
        }
    )
    execute_unique(insert(FLOWS).values(values), DUPLICATE_NAME)
    return Reply(row_dict(FLOWS, values), "Flow duplicated", 201)
