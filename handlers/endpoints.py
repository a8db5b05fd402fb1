"""Endpoint acts: per-folder and per-project lists, grouped list, detail, create, update, delete."""

from typing import Any

from sqlalchemy import Select, select

from backend.auth.access import require_access
from backend.auth.callers import ANY_TOKEN
from backend.core.call import Call, Reply
from backend.core.errors import NotFound
from backend.core.registry import action
from backend.db import db
from backend.db.integrity import flush_unique
from backend.legacy.clock import now
from backend.legacy.ids import new_id
from backend.legacy.wire import row_dict
from backend.models import ENDPOINTS, FOLDERS, Endpoint, Folder
from schemas.endpoints import (
    EndpointCreateIn,
    EndpointDetailOut,
    EndpointGroupOut,
    EndpointOut,
    EndpointUpdateIn,
)
from schemas.queries import PageQuery, load_query
from services.folders import SHARE_LOCK, folder_in_project, load_folder
from services.paging import LIST_LIMIT, Page, newest_first, page_of

FOLDER_ENDPOINTS_ACTS = ("endpoints", "endpoint_create", "endpoints_list")
ENDPOINT_ACTS = ("endpoint", "endpoint_update", "endpoint_delete", "endpoint_detail")
DUPLICATE_ENDPOINT = "An endpoint with this name already exists in this folder"
NOT_NULL_FIELDS = ("name", "method", "url", "headers", "folder_id")
NULLABLE_FIELDS = (
    "description",
    "purpose",
    "body",
    "request_params",
    "response_schema",
    "header_docs",
)


def newest_endpoints(query: Select[Any]) -> list[dict[str, Any]]:
    """Rows of `query` in the legacy list order, at most `LIST_LIMIT`."""
    rows = db.session.execute(newest_first(query, ENDPOINTS).limit(LIST_LIMIT)).mappings()
    return [row_dict(ENDPOINTS, row) for row in rows]


def load_endpoint(call: Call, endpoint_id: str, *, lock: bool = False) -> tuple[Endpoint, Folder]:
    """The endpoint and its folder, or 404 «Endpoint not found»; then 403 unless a member."""
    endpoint = db.session.get(Endpoint, endpoint_id, with_for_update=lock)
    if endpoint is None:
        raise NotFound("Endpoint not found")
    folder = db.session.get(Folder, endpoint.folder_id)
    require_access(call, folder.project_id)
    return endpoint, folder


# --- lists ------------------------------------------------------------------------------------


def folder_endpoints(call: Call) -> Reply:
    folder = load_folder(call, call.args["id"])
    query = select(ENDPOINTS).where(ENDPOINTS.c.folder_id == folder.id)
    return Reply(newest_endpoints(query), "Endpoints fetched")


@action(
    "/folder/<id>/endpoints",
    methods=("GET",),
    acts=FOLDER_ENDPOINTS_ACTS,
    auth=ANY_TOKEN,
    summary="List endpoints for a folder",
    out=EndpointOut(many=True),
)
def endpoints_list(call: Call) -> Reply:
    return folder_endpoints(call)


@action(
    "/folder/<id>/endpoints/list",
    methods=("GET",),
    acts=("endpoint_list",),
    auth=ANY_TOKEN,
    summary="List endpoints for a folder (alias)",
    out=EndpointOut(many=True),
)
def endpoint_list(call: Call) -> Reply:
    return folder_endpoints(call)


@action(
    "/project/<id>/endpoints",
    methods=("GET",),
    acts=("project_endpoints",),
    auth=ANY_TOKEN,
    summary="List all endpoints in a project",
    out=EndpointOut(many=True),
)
def project_endpoints(call: Call) -> Reply:
    require_access(call, call.args["id"])
    query = (
        select(ENDPOINTS)
        .join(FOLDERS, FOLDERS.c.id == ENDPOINTS.c.folder_id)
        .where(FOLDERS.c.project_id == call.args["id"])
    )
    return Reply(newest_endpoints(query), "Endpoints fetched")


def grouped_query(project_id: str, page: Page) -> Select[Any]:
    """Folder name ASC, then newest endpoint first; one page of endpoints (the legacy had no
    cap: a big project answered tens of megabytes)."""
    statement = (
        select(ENDPOINTS, FOLDERS.c.name.label("folder_name"))
        .join(FOLDERS, FOLDERS.c.id == ENDPOINTS.c.folder_id)
        .where(FOLDERS.c.project_id == project_id)
        .order_by(
            FOLDERS.c.name.asc(),
            FOLDERS.c.id.asc(),
            ENDPOINTS.c.created_at.desc(),
            ENDPOINTS.c.id.desc(),
        )
    )
    return page.apply(statement)


@action(
    "/project/<id>/endpoints/grouped",
    methods=("GET",),
    acts=("project_endpoints_grouped",),
    auth=ANY_TOKEN,
    summary="List endpoints grouped by folder (at most 100 endpoints per answer; limit/offset "
    "page through them)",
    query_schemas=(PageQuery,),
    out=EndpointGroupOut(many=True),
)
def project_endpoints_grouped(call: Call) -> Reply:
    require_access(call, call.args["id"])
    statement = grouped_query(call.args["id"], page_of(load_query(PageQuery, call)))
    groups: dict[str, dict[str, Any]] = {}
    for row in db.session.execute(statement).mappings():
        group = groups.setdefault(
            row["folder_id"],
            {"folder_id": row["folder_id"], "folder_name": row["folder_name"], "endpoints": []},
        )
        group["endpoints"].append(row_dict(ENDPOINTS, row))
    return Reply(list(groups.values()), "Grouped endpoints fetched")


# --- one endpoint -----------------------------------------------------------------------------


def endpoint_detail_reply(call: Call) -> Reply:
    endpoint, folder = load_endpoint(call, call.args["id"])
    data = {**row_dict(ENDPOINTS, endpoint), "folder_name": folder.name}
    return Reply({**data, "project_id": folder.project_id}, "Endpoint detail")


@action(
    "/endpoint/<id>",
    methods=("GET",),
    acts=ENDPOINT_ACTS,
    auth=ANY_TOKEN,
    summary="Get endpoint detail",
    out=EndpointDetailOut,
)
def endpoint_detail(call: Call) -> Reply:
    return endpoint_detail_reply(call)


@action(
    "/endpoint/<id>/get",
    methods=("GET",),
    acts=("endpoint_get",),
    auth=ANY_TOKEN,
    summary="Get endpoint detail (alias)",
    out=EndpointDetailOut,
)
def endpoint_get(call: Call) -> Reply:
    return endpoint_detail_reply(call)


@action(
    "/folder/<id>/endpoints",
    methods=("POST",),
    acts=FOLDER_ENDPOINTS_ACTS,
    auth=ANY_TOKEN,
    schema=EndpointCreateIn,
    summary="Create endpoint for a folder",
    out=EndpointOut,
)
def endpoint_create(call: Call) -> Reply:
    folder, data, stamp = load_folder(call, call.args["id"], lock=SHARE_LOCK), call.body(), now()
    endpoint = Endpoint(
        id=new_id("ep"),
        **{key: data.get(key) for key in NULLABLE_FIELDS},
        name=data["name"],
        method=data["method"],
        url=data["url"],
        headers=data.get("headers") or "{}",
        folder_id=folder.id,
        created_by=call.user.user_id,
        created_at=stamp,
        updated_at=stamp,
    )
    db.session.add(endpoint)
    flush_unique(DUPLICATE_ENDPOINT)
    return Reply(row_dict(ENDPOINTS, endpoint), "Endpoint created", 201)


def check_target_folder(folder_id: str, project_id: str) -> None:
    folder_in_project(
        folder_id,
        project_id,
        lock=SHARE_LOCK,
        missing="Target folder not found",
        foreign="Target folder must belong to the same project",
    )


def apply_endpoint_changes(endpoint: Endpoint, data: dict[str, Any]) -> None:
    """Partial update: null is ignored for NOT NULL columns, and clears the nullable ones."""
    for key in NOT_NULL_FIELDS:
        if data.get(key) is not None:
            setattr(endpoint, key, data[key])
    for key in NULLABLE_FIELDS:
        if key in data:
            setattr(endpoint, key, data[key])
    endpoint.updated_at = now()


@action(
    "/endpoint/<id>",
    methods=("PUT",),
    acts=ENDPOINT_ACTS,
    auth=ANY_TOKEN,
    schema=EndpointUpdateIn,
    summary="Update endpoint (folder_id moves it within the project)",
)
def endpoint_update(call: Call) -> Reply:
    endpoint, folder = load_endpoint(call, call.args["id"], lock=True)
    data = call.body()
    if data.get("folder_id") is not None:
        check_target_folder(data["folder_id"], folder.project_id)
    apply_endpoint_changes(endpoint, data)
    flush_unique(DUPLICATE_ENDPOINT)
    return Reply(row_dict(ENDPOINTS, endpoint), "Endpoint updated")


@action(
    "/endpoint/<id>",
    methods=("DELETE",),
    acts=ENDPOINT_ACTS,
    auth=ANY_TOKEN,
    summary="Delete endpoint",
)
def endpoint_delete(call: Call) -> Reply:
    endpoint, _ = load_endpoint(call, call.args["id"], lock=True)
    db.session.delete(endpoint)
    return Reply({"id": endpoint.id}, "Endpoint deleted")
