"""Project acts: list, create, detail, update, delete, add member, context."""

from typing import Any

from sqlalchemy import delete, exists, func, insert, select, update

from backend.auth.access import require_access
from backend.auth.callers import ANY_TOKEN, OPTIONAL, STRICT
from backend.core.call import Call, Reply
from backend.core.errors import BadRequest, Conflict, Forbidden, NotFound
from backend.core.registry import action
from backend.db import db
from backend.db.integrity import execute_unique
from backend.legacy.clock import now
from backend.legacy.ids import new_id
from backend.legacy.wire import row_dict
from backend.models import ENVIRONMENTS, FOLDERS, PROJECTS, AuditLog, Endpoint, ProjectMember, User
from schemas.projects import (
    ProjectCreateIn,
    ProjectDetailOut,
    ProjectMemberIn,
    ProjectOut,
    ProjectUpdateIn,
)
from services.environments import default_environment, environment_rows
from services.paging import LIST_LIMIT
from services.projects import fetch_project, project_detail_data

DETAIL_ACTS = ("project", "project_update", "project_delete", "project_detail")
DEFAULT_SETTINGS = '{"visibility":"private"}'
DUPLICATE_NAME = "You already have a project with this name"
PROJECT_ACCESS_DENIED = "Project access denied"


def require_owner(call: Call, project_id: str) -> None:
    """Owner-only acts lock the project row; anyone else (or no such project) gets 403."""
    owned = select(PROJECTS.c.id).where(
        PROJECTS.c.id == project_id, PROJECTS.c.owner_id == call.user.user_id
    )
    if db.session.execute(owned.with_for_update()).first() is None:
        raise Forbidden("Access denied")


def folder_rows(project_id: str) -> list[dict[str, Any]]:
    """Folders newest first, each with the number of endpoints filed in it."""
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
    )
    return [
        {**row_dict(FOLDERS, row), "endpoint_count": row["endpoint_count"]}
        for row in db.session.execute(query).mappings()
    ]


@action(
    "/projects",
    methods=("GET",),
    acts=("projects",),
    auth=ANY_TOKEN,
    summary="List projects",
    out=ProjectOut(many=True),
)
def projects_list(call: Call) -> Reply:
    """Owned or joined, newest first, at most 100; an MCP token sees only its own project."""
    user_id = call.user.user_id
    joined = exists().where(
        ProjectMember.project_id == PROJECTS.c.id, ProjectMember.user_id == user_id
    )
    query = select(PROJECTS).where((PROJECTS.c.owner_id == user_id) | joined)
    if call.user.mcp_project_id is not None:
        query = query.where(PROJECTS.c.id == call.user.mcp_project_id)
    query = query.order_by(PROJECTS.c.created_at.desc(), PROJECTS.c.id.desc()).limit(LIST_LIMIT)
    rows = db.session.execute(query).mappings()
    return Reply([row_dict(PROJECTS, row) for row in rows], "Projects fetched")


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
    summary="Delete project",
)
def project_delete(call: Call) -> Reply:
    """Everything below the project goes by the schema's cascades; audit rows are kept."""
    project_id = call.args["id"]
    require_owner(call, project_id)
    db.session.execute(
        update(AuditLog).where(AuditLog.project_id == project_id).values(project_id=None)
    )
    db.session.execute(delete(PROJECTS).where(PROJECTS.c.id == project_id))
    return Reply({"id": project_id}, "Project deleted successfully")


@action(
    "/project/<id>/members",
    methods=("POST",),
    acts=("project_add_member",),
    auth=STRICT,
    schema=ProjectMemberIn,
    summary="Add member to project",
)
def project_add_member(call: Call) -> Reply:
    project_id = call.args["id"]
    require_access(call, project_id, Forbidden("Access denied"))
    user_id = call.body()["user_id"]
    if user_id == call.user.user_id:
        raise BadRequest()
    check_new_member(project_id, user_id)
    member_id, stamp = new_id("pm"), now()
    row = {"id": member_id, "project_id": project_id, "user_id": user_id}
    execute_unique(
        insert(ProjectMember).values(
            **row, invited_by=call.user.user_id, joined_at=stamp, created_at=stamp
        ),
        "User is already a member of this project",
    )
    return Reply({"member_id": member_id}, "Member added", 201)


def check_new_member(project_id: str, user_id: str) -> None:
    if db.session.execute(select(User.id).where(User.id == user_id)).first() is None:
        raise NotFound("User not found")
    owner = select(PROJECTS.c.id).where(PROJECTS.c.id == project_id, PROJECTS.c.owner_id == user_id)
    if db.session.execute(owner).first() is not None:
        raise Conflict("User is the owner of this project")


@action(
    "/project/<id>/context",
    methods=("GET",),
    acts=("project_context",),
    auth=ANY_TOKEN,
    summary="Get project context with environments and folders",
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
