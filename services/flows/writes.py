"""Flow writes: the checks and columns of a create, an update, a duplicate (flows.md §3).

An update's status change goes through `services.flows.status`, so it takes the row lock, writes
the audit row and answers 409 while the flow is being executed.
"""

from itertools import count
from typing import Any

from sqlalchemy import insert, select, update

from backend.core.call import Call
from backend.core.errors import Conflict
from backend.db import db
from backend.db.integrity import execute_unique
from backend.legacy.clock import now
from backend.legacy.ids import new_id
from backend.legacy.wire import row_dict
from backend.models import FLOWS
from services.flows import definition, status
from services.flows.inputs import stored_inputs
from services.folders import SHARE_LOCK, folder_in_project

DUPLICATE_NAME = "A flow with this name already exists in this project"


FOREIGN_FOLDER = "Folder does not belong to this project"


NAME_CHARS = FLOWS.c.name.type.length  # VARCHAR(255)
COPY_ROOM = len(" (Copy 10000)")
# The copy keeps everything but identity, authorship and status (legacy dropped ui_data/inputs).
COPIED = ("description", "project_id", "folder_id", "flow_data", "flow_inputs", "ui_data")
COPIED_AI = ("ai_version", "generation_strategy", "complexity_score")


def folder_for(project_id: str, folder_id: str | None) -> str | None:
    """None for no folder (null or ""); else a folder of this project, share-locked until commit."""
    if not folder_id:
        return None
    folder_in_project(
        folder_id, project_id, lock=SHARE_LOCK, missing=FOREIGN_FOLDER, foreign=FOREIGN_FOLDER
    )
    return folder_id


def check_name_free(project_id: str, name: str, flow_id: str | None = None) -> None:
    """The clear 409 before the unique key would refuse the write (same collation decides)."""
    statement = select(FLOWS.c.id).where(FLOWS.c.project_id == project_id, FLOWS.c.name == name)
    if flow_id is not None:
        statement = statement.where(FLOWS.c.id != flow_id)
    if db.session.execute(statement.limit(1)).first() is not None:
        raise Conflict(DUPLICATE_NAME)


def full_row(values: dict[str, Any]) -> dict[str, Any]:
    return {column.name: values.get(column.name) for column in FLOWS.columns}


def field_changes(project_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Columns an update sets besides the definition, validated in the legacy order."""
    changes = {key: data[key] for key in ("name", "description") if data.get(key) is not None}
    if data.get("flow_inputs") is not None:
        changes["flow_inputs"] = stored_inputs(data["flow_inputs"])
    if "folder_id" in data:
        changes["folder_id"] = folder_for(project_id, data["folder_id"])
    return changes


def save(
    call: Call, row: dict[str, Any], changes: dict[str, Any], target: Any, *, via: str
) -> dict[str, Any]:
    """Write the changes to the locked row, then the status change to `target` if given (audit
    row, 409, 422)."""
    if "name" in changes:
        check_name_free(row["project_id"], changes["name"], row["id"])
    changes["updated_at"] = now()
    execute_unique(update(FLOWS).where(FLOWS.c.id == row["id"]).values(changes), DUPLICATE_NAME)
    merged = {**row, **changes}
    if target is None:
        return row_dict(FLOWS, merged)
    return status.change_status(call, merged, target, via=via)


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


def create_flow(call: Call, project_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """flow_create, checked in the legacy order; returns the wire row."""
    inputs = stored_inputs(data.get("flow_inputs"))
    folder_id = folder_for(project_id, data.get("folder_id"))
    texts = definition.stored_definition(data.get("flow_data"))
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
    return row_dict(FLOWS, values)


def update_flow(call: Call, row: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """flow_update of the locked `row`: any of its fields, the definition, the status."""
    changes = field_changes(row["project_id"], data)
    if data.get("flow_data") is not None:
        changes.update(definition.stored_definition(data["flow_data"]))
    return save(call, row, changes, data.get("is_active"), via="flow_update")


def update_flow_ui(call: Call, row: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """flow_update_ui of the locked `row`: as `update_flow`, with a React Flow definition."""
    changes = field_changes(row["project_id"], data)
    changes.update(definition.stored_ui_definition(data.get("flow_data")))
    return save(call, row, changes, data.get("is_active"), via="flow_update_ui")


def duplicate_flow(call: Call, source: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """An inactive copy of `source`, created by the caller; returns the wire row."""
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
    return row_dict(FLOWS, values)
