"""Project acts: list, create, detail, update, delete, members (list, add, remove, leave), and
the project context."""

from typing import Any

from sqlalchemy import bindparam, delete, exists, func, insert, select, update

from backend.auth.access import require_access
from backend.auth.callers import (
    ACCOUNT_VERDICT,
    ANY_TOKEN,
    IN_STATEMENT,
    OPTIONAL,
    STRICT,
    settle,
    settle_pending,
    verdict_params,
)
from backend.core.call import Call, Reply
from backend.core.errors import BadRequest, Forbidden
from backend.core.registry import action
from backend.db import db, direct
from backend.db.integrity import execute_unique
from backend.legacy.clock import now
from backend.legacy.ids import new_id
from backend.legacy.wire import RowShape, row_dict
from backend.models import (
    ENVIRONMENTS,
    FLOWS,
    FOLDERS,
    MEMBERS,
    PROJECTS,
    AuditLog,
    Endpoint,
)
from schemas.projects import (
    ProjectCreateIn,
    ProjectDetailOut,
    ProjectMemberIn,
    ProjectOut,
    ProjectUpdateIn,
)
from schemas.queries import PageQuery, load_query
from services import audit, members
from services.cascades import remove_flows
from services.environments import default_environment, environment_rows
from services.paging import LIST_LIMIT, page_of
from services.projects import fetch_project, project_detail_data, project_owner, require_owner

DETAIL_ACTS = ("project", "project_update", "project_delete", "project_detail")
DEFAULT_SETTINGS = '{"visibility":"private"}'
DUPLICATE_NAME = "You already have a project with this name"
PROJECT_ACCESS_DENIED = "Project access denied"
MEMBER_ACTS = ("project_members", "project_add_member", "project_remove_member")
DELETE_CONFLICT = "Cannot delete project: a flow in it is currently being executed"


def folder_rows(project_id: str) -> list[dict[str, Any]]:
    """Folders newest first (at most 100), each with the number of endpoints filed in it."""
    endpoints = (
        select(func.count(Endpoint.id))
        .where(Endpoint.folder_id == FOLDERS.c.id)
        .correlate(FOLDERS)
        .scalar_subquery()
    )
    query = (
        select(FOLDERS, endpoints.label("endpoint_count"))
        .where(FOLDERS.c.project_id == project_id)
        .order_by(FOLDERS.c.created_at.desc(), FOLDERS.c.id.desc())
        .limit(LIST_LIMIT)
    )
    return [
        {**row_dict(FOLDERS, row), "endpoint_count": row["endpoint_count"]}
        for row in db.session.execute(query).mappings()
    ]


PROJECT_ROW = RowShape(PROJECTS.c)


def projects_query(mcp: bool) -> direct.Statement:
    """Owned or joined (`user_id`), with the caller's account check as the last column; `mcp`:
    only the token's own project (`mcp_project_id`)."""
    joined = exists().where(
        MEMBERS.c.project_id == PROJECTS.c.id, MEMBERS.c.user_id == bindparam("user_id")
    )
    query = select(PROJECTS, ACCOUNT_VERDICT).where(
        (PROJECTS.c.owner_id == bindparam("user_id")) | joined
    )
    if mcp:
        query = query.where(PROJECTS.c.id == bindparam("mcp_project_id"))
    order = (PROJECTS.c.created_at.desc(), PROJECTS.c.id.desc())
    return direct.Statement(query.order_by(*order).limit(LIST_LIMIT), text_datetimes=True)


OWN_PROJECTS, MCP_PROJECTS = projects_query(False), projects_query(True)


@action(
    "/projects",
    methods=("GET",),
    acts=("projects",),
    auth=IN_STATEMENT,
    summary="List projects",
    out=ProjectOut(many=True),
)
def projects_list(call: Call) -> Reply:
    """Owned or joined, newest first, at most 100; an MCP token sees only its own project."""
    params = verdict_params(call)
    statement = OWN_PROJECTS
    if call.user.mcp_project_id is not None:
        statement, params["mcp_project_id"] = MCP_PROJECTS, call.user.mcp_project_id
    rows = direct.rows(statement, params)
    if rows:
        settle(call, rows[0][-1])
    else:
        settle_pending(call)
    return Reply(PROJECT_ROW.answer([PROJECT_ROW.wire(row) for row in rows]), "Projects fetched")


@action(
    "/projects",
    methods=("POST",),
    acts=("projects",),
    auth=ANY_TOKEN,
    schema=ProjectCreateIn,
    summary="Create project",
    out=ProjectOut,
)
def project_create(call: Call) -> Reply:
    """The project and its default `development` environment, in one transaction."""
    if call.user.mcp_project_id is not None:
        raise Forbidden("An MCP token is limited to its own project and cannot create projects")
    data = call.body()
    project_id, stamp = new_id("proj"), now()
    values = {
        "id": project_id,
        "name": data["name"],
        "description": data.get("description"),
        "owner_id": call.user.user_id,
        "is_public": 0,
        "settings": DEFAULT_SETTINGS,
        "created_at": stamp,
        "updated_at": stamp,
    }
    execute_unique(insert(PROJECTS).values(**values), DUPLICATE_NAME)
    db.session.execute(insert(ENVIRONMENTS).values(**default_environment(project_id, stamp)))
    return Reply(row_dict(PROJECTS, fetch_project(project_id)), "Project created successfully", 201)


@action(
    "/project/<id>",
    methods=("GET",),
    acts=DETAIL_ACTS,
    auth=OPTIONAL,
    summary="Get project by ID",
    out=ProjectDetailOut,
)
def project_detail(call: Call) -> Reply:
    """No token, a bad token, no access and no such project all answer the legacy 403."""
    require_access(call, call.args["id"], Forbidden(PROJECT_ACCESS_DENIED))
    return Reply(project_detail_data(call.args["id"]), "Project detail")


@action(
    "/project/<id>",
    methods=("PUT",),
    acts=DETAIL_ACTS,
    auth=STRICT,
    schema=ProjectUpdateIn,
    summary="Update project",
    out=ProjectOut,
)
def project_update(call: Call) -> Reply:
    project_id = call.args["id"]
    require_owner(call, project_id)
    data = call.body()
    if not data:
        raise BadRequest("No data to update")
    statement = update(PROJECTS).where(PROJECTS.c.id == project_id)
    execute_unique(statement.values(**data, updated_at=now()), DUPLICATE_NAME)
    return Reply(row_dict(PROJECTS, fetch_project(project_id)), "Project updated")


@action(
    "/project/<id>",
    methods=("DELETE",),
    acts=DETAIL_ACTS,
    auth=STRICT,
    summary="Delete project (409 while one of its flows is being executed; each flow removed "
    "is audited)",
)
def project_delete(call: Call) -> Reply:
    """Everything below the project goes by the schema's cascades; audit rows are kept."""
    project_id = call.args["id"]
    require_owner(call, project_id)
    remove_flows(
        call,
        FLOWS.c.project_id == project_id,
        via="project_delete",
        conflict=DELETE_CONFLICT,
        project_stays=False,
    )
    db.session.execute(
        update(AuditLog).where(AuditLog.project_id == project_id).values(project_id=None)
    )
    audit.record(
        call,
        "project_deleted",
        resource_type="project",
        resource_id=project_id,
        project_id=None,
        category="project",
    )
    db.session.execute(delete(PROJECTS).where(PROJECTS.c.id == project_id))
    return Reply({"id": project_id}, "Project deleted successfully")


# --- members --------------------------------------------------------------------------------


@action(
    "/project/<id>/members",
    methods=("GET",),
    acts=MEMBER_ACTS,
    auth=STRICT,
    summary="List a project's owner and members (at most 100, limit/offset)",
    query_schemas=(PageQuery,),
)
def project_members(call: Call) -> Reply:
    project_id = call.args["id"]
    require_access(call, project_id, Forbidden("Access denied"))
    page = page_of(load_query(PageQuery, call))
    return Reply(members.member_rows(project_id, page.limit, page.offset), "Members fetched")


@action(
    "/project/<id>/members",
    methods=("POST",),
    acts=MEMBER_ACTS,
    auth=STRICT,
    schema=ProjectMemberIn,
    summary="Add member to project (owner only; audited)",
)
def project_add_member(call: Call) -> Reply:
    project_id = call.args["id"]
    require_owner(call, project_id)
    user_id = call.body()["user_id"]
    if user_id == call.user.user_id:
        raise BadRequest()
    return Reply({"member_id": members.add_member(call, project_id, user_id)}, "Member added", 201)


@action(
    "/project/<id>/members",
    methods=("DELETE",),
    acts=MEMBER_ACTS,
    auth=STRICT,
    schema=ProjectMemberIn,
    summary="Remove a member (owner only; a member may remove themself; audited, and their MCP "
    "tokens for the project are revoked)",
)
def project_remove_member(call: Call) -> Reply:
    project_id = call.args["id"]
    leaving = project_owner(project_id) != call.user.user_id
    if leaving:
        require_access(call, project_id, Forbidden("Access denied"))
    else:
        require_owner(call, project_id)
    user_id = call.body()["user_id"]
    if leaving and user_id != call.user.user_id:
        raise Forbidden("Access denied")
    members.remove_member(call, project_id, user_id, leaving=leaving)
    return Reply({"project_id": project_id, "user_id": user_id}, "Member removed")


@action(
    "/project/<id>/leave",
    methods=("POST",),
    acts=("project_leave",),
    auth=STRICT,
    summary="Leave a project you are a member of (audited; your MCP tokens for it are revoked)",
)
def project_leave(call: Call) -> Reply:
    project_id = call.args["id"]
    require_access(call, project_id, Forbidden("Access denied"))
    members.remove_member(call, project_id, call.user.user_id, leaving=True)
    return Reply({"project_id": project_id, "user_id": call.user.user_id}, "Left the project")


# --- context --------------------------------------------------------------------------------


@action(
    "/project/<id>/context",
    methods=("GET",),
    acts=("project_context",),
    auth=ANY_TOKEN,
    summary="Get project context with environments and folders (at most 100 of each)",
)
def project_context(call: Call) -> Reply:
    """What the MCP server's get_project_context reads: project, environments, folders, user."""
    project_id = call.args["id"]
    require_access(call, project_id, Forbidden(PROJECT_ACCESS_DENIED))
    context = {
        "project": project_detail_data(project_id),
        "environments": environment_rows(project_id),
        "folders": folder_rows(project_id),
        "user": {"id": call.user.user_id, "token_type": call.user.token_type},
    }
    return Reply(context, "Project context")
