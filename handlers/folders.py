"""Folder acts: list, detail, create, update (also the mcp2 `move_folder` POST), delete."""

from typing import Any

from sqlalchemy import Select, delete, func, select, update

from backend.auth.access import require_access
from backend.auth.callers import ANY_TOKEN
from backend.core.call import Call, Reply
from backend.core.errors import BadRequest
from backend.core.registry import action
from backend.db import db
from backend.db.integrity import flush_unique
from backend.legacy.clock import now
from backend.legacy.ids import new_id
from backend.legacy.wire import row_dict
from backend.models import ENDPOINTS, FLOWS, FOLDERS, Endpoint, Folder
from schemas.folders import FolderCreateIn, FolderListItemOut, FolderOut, FolderUpdateIn
from schemas.queries import FolderListQuery, load_query
from services.cascades import remove_flows
from services.folders import folder_in_project, load_folder
from services.paging import LIST_LIMIT, newest_first
from services.projects import lock_project

PROJECT_FOLDERS_ACTS = ("project_folders", "folders_list", "folder_create")
FOLDER_ACTS = ("folder", "folder_detail", "folder_update", "folder_delete")
DUPLICATE_FOLDER = "A folder with this name already exists in this project"
DELETE_CONFLICT = "Cannot delete folder: a flow in it is currently being executed"


# --- reading ----------------------------------------------------------------------------------


def folder_list_query(project_id: str, parent_id: str | None) -> Select[Any]:
    endpoint_count = (
        select(func.count(Endpoint.id))
        .where(Endpoint.folder_id == FOLDERS.c.id)
        .scalar_subquery()
        .label("endpoint_count")
    )
    query = select(FOLDERS, endpoint_count).where(FOLDERS.c.project_id == project_id)
    if parent_id is not None:
        query = query.where(FOLDERS.c.parent_id == parent_id)
    return newest_first(query, FOLDERS).limit(LIST_LIMIT)


@action(
    "/project/<id>/folders",
    methods=("GET",),
    acts=PROJECT_FOLDERS_ACTS,
    auth=ANY_TOKEN,
    summary="List folders for a project (optional parent_id filter)",
    out=FolderListItemOut(many=True),
    query_schemas=(FolderListQuery,),
)
def folders_list(call: Call) -> Reply:
    project_id = call.args["id"]
    require_access(call, project_id)
    parent_id = load_query(FolderListQuery, call)["parent_id"]
    rows = db.session.execute(folder_list_query(project_id, parent_id))
    data = [
        {**row_dict(FOLDERS, row), "endpoint_count": int(row["endpoint_count"])}
        for row in rows.mappings()
    ]
    return Reply(data, "Folders fetched")


@action(
    "/folder/<id>",
    methods=("GET",),
    acts=FOLDER_ACTS,
    auth=ANY_TOKEN,
    summary="Get folder detail",
    out=FolderOut,
)
def folder_detail(call: Call) -> Reply:
    return Reply(row_dict(FOLDERS, load_folder(call, call.args["id"])), "Folder detail")


# --- writing ----------------------------------------------------------------------------------


def parent_folder(parent_id: str, project_id: str) -> Folder:
    """A valid parent: it exists and lives in the same project (row-locked against a delete)."""
    return folder_in_project(
        parent_id,
        project_id,
        lock=True,
        missing="Parent folder not found",
        foreign="Parent folder must belong to the same project",
    )


def ancestor_ids(folder: Folder) -> set[str]:
    """Ids above `folder`, each locked so that two concurrent moves cannot build a cycle."""
    seen: set[str] = set()
    current = folder.parent_id
    while current and current not in seen:  # legacy data may already hold a cycle
        seen.add(current)
        current = db.session.execute(
            select(FOLDERS.c.parent_id).where(FOLDERS.c.id == current).with_for_update()
        ).scalar()
    return seen


def check_move(folder: Folder, parent_id: str) -> None:
    if parent_id == folder.id:
        raise BadRequest("A folder cannot be its own parent")
    parent = parent_folder(parent_id, folder.project_id)
    if folder.id in ancestor_ids(parent):
        raise BadRequest("A folder cannot be moved into one of its own subfolders")


def make_only_default(folder: Folder) -> None:
    """Unset the project's other defaults (under the project lock, so never two defaults)."""
    lock_project(folder.project_id)
    db.session.execute(
        update(FOLDERS)
        .where(
            FOLDERS.c.project_id == folder.project_id,
            FOLDERS.c.id != folder.id,
            FOLDERS.c.is_default == 1,
        )
        .values(is_default=0)
    )


def new_folder(call: Call, project_id: str, parent_id: str | None) -> Folder:
    data, stamp = call.body(), now()
    return Folder(
        id=new_id("col"),
        name=data["name"],
        description=data.get("description"),
        project_id=project_id,
        parent_id=parent_id,
        headers=data.get("headers") or "{}",
        variables=data.get("variables") or "{}",
        is_default=data.get("is_default") or 0,
        created_by=call.user.user_id,
        created_at=stamp,
        updated_at=stamp,
    )


@action(
    "/project/<id>/folders",
    methods=("POST",),
    acts=PROJECT_FOLDERS_ACTS,
    auth=ANY_TOKEN,
    schema=FolderCreateIn,
    summary="Create folder for a project",
    out=FolderOut,
)
def folder_create(call: Call) -> Reply:
    project_id = call.args["id"]
    require_access(call, project_id)
    lock_project(project_id)
    parent_id = call.body().get("parent_id") or None
    if parent_id is not None:
        parent_folder(parent_id, project_id)
    folder = new_folder(call, project_id, parent_id)
    if folder.is_default:
        make_only_default(folder)
    db.session.add(folder)
    flush_unique(DUPLICATE_FOLDER)
    return Reply(row_dict(FOLDERS, folder), "Folder created", 201)


def apply_folder_changes(folder: Folder, data: dict[str, Any]) -> None:
    """Legacy partial update: null is ignored for NOT NULL columns, and clears the others."""
    for key in ("name", "headers", "variables", "is_default"):
        if data.get(key) is not None:
            setattr(folder, key, data[key])
    if "description" in data:
        folder.description = data["description"]
    if "parent_id" in data:
        folder.parent_id = data["parent_id"] or None
    folder.updated_at = now()


@action(
    "/folder/<id>",
    methods=("PUT", "POST"),
    acts=FOLDER_ACTS,
    auth=ANY_TOKEN,
    schema=FolderUpdateIn,
    summary="Update or move folder (POST is mcp2's move_folder)",
)
def folder_update(call: Call) -> Reply:
    folder, data = load_folder(call, call.args["id"], lock=True), call.body()
    if data.get("parent_id"):
        check_move(folder, data["parent_id"])
    if data.get("is_default"):
        make_only_default(folder)
    apply_folder_changes(folder, data)
    flush_unique(DUPLICATE_FOLDER)
    return Reply(row_dict(FOLDERS, folder), "Folder updated successfully")


def subtree_ids(folder: Folder) -> list[str]:
    """The folder and every folder below it in its project, row-locked."""
    found, frontier = [folder.id], [folder.id]
    while frontier:
        children = db.session.execute(
            select(FOLDERS.c.id)
            .where(FOLDERS.c.parent_id.in_(frontier), FOLDERS.c.project_id == folder.project_id)
            .with_for_update()
        ).scalars()
        frontier = [child for child in children if child not in found]
        found.extend(frontier)
    return found


@action(
    "/folder/<id>",
    methods=("DELETE",),
    acts=FOLDER_ACTS,
    auth=ANY_TOKEN,
    summary="Delete folder with its subfolders, their endpoints and flows (409 while one of those "
    "flows is being executed; each flow removed is audited)",
)
def folder_delete(call: Call) -> Reply:
    """Explicit deletes rather than FK cascades: no InnoDB cascade-depth limit, cycle-safe."""
    folder = load_folder(call, call.args["id"], lock=True)
    ids = subtree_ids(folder)
    remove_flows(
        call,
        FLOWS.c.folder_id.in_(ids),
        via="folder_delete",
        conflict=DELETE_CONFLICT,
        project_stays=True,
    )
    # Detaching first leaves no folder row pointing at one being deleted (also cycles, or a
    # legacy child filed under another project, which is kept at its project's root).
    db.session.execute(update(FOLDERS).where(FOLDERS.c.parent_id.in_(ids)).values(parent_id=None))
    db.session.execute(delete(ENDPOINTS).where(ENDPOINTS.c.folder_id.in_(ids)))
    db.session.execute(delete(FOLDERS).where(FOLDERS.c.id.in_(ids)))
    return Reply({"id": folder.id}, "Folder deleted successfully")
