"""Environment acts: list, create, detail, update, set default, delete.

Every write that can touch `is_default` or the number of environments first locks the owning
project row (`SELECT … FOR UPDATE`; SQLite transactions are `BEGIN IMMEDIATE`), so concurrent
calls serialise and each project keeps exactly one default environment.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from backend.auth.access import require_access
from backend.auth.callers import ANY_TOKEN
from backend.core.call import Call, Reply
from backend.core.errors import BadRequest, NotFound
from backend.core.registry import action
from backend.db import db
from backend.db.integrity import execute_unique
from backend.legacy.clock import now
from backend.legacy.ids import new_id
from backend.legacy.wire import row_dict
from backend.models import ENVIRONMENTS
from schemas.environments import EnvironmentCreateIn, EnvironmentOut, EnvironmentUpdateIn
from services.environments import environment_rows
from services.projects import lock_project

LIST_ACTS = ("project_environments", "environment_create", "environments_list")
DETAIL_ACTS = (
    "environment",
    "environment_update",
    "environment_delete",
    "environment_detail",
    "environment_details",
)
DUPLICATE_NAME = "An environment with this name already exists in this project"
UNSET_DEFAULT = "Cannot unset the default environment: make another environment the default instead"
SET_DEFAULT_TAKES_NO_BODY = (
    "POST on an environment only makes it the default and takes no body; use PUT to update it"
)


def fetch_environment(env_id: str) -> Mapping[str, Any]:
    query = select(ENVIRONMENTS).where(ENVIRONMENTS.c.id == env_id)
    row = db.session.execute(query).mappings().first()
    if row is None:
        raise NotFound("Environment not found")
    return row


def readable_environment(call: Call) -> Mapping[str, Any]:
    """404 before 403, as in legacy."""
    env = fetch_environment(call.args["id"])
    require_access(call, env["project_id"])
    return env


def locked_environment(call: Call) -> Mapping[str, Any]:
    """Check access, lock the project, then re-read the environment under that lock."""
    env = readable_environment(call)
    lock_project(env["project_id"])
    return fetch_environment(env["id"])


def clear_defaults(project_id: str, stamp: Any) -> None:
    db.session.execute(
        update(ENVIRONMENTS)
        .where(ENVIRONMENTS.c.project_id == project_id, ENVIRONMENTS.c.is_default == 1)
        .values(is_default=0, updated_at=stamp)
    )


def make_default(env: Mapping[str, Any], stamp: Any) -> None:
    clear_defaults(env["project_id"], stamp)
    db.session.execute(
        update(ENVIRONMENTS)
        .where(ENVIRONMENTS.c.id == env["id"])
        .values(is_default=1, updated_at=stamp)
    )


def promote_oldest(project_id: str, stamp: Any) -> None:
    """After the default was deleted, the oldest remaining environment becomes the default."""
    oldest = (
        db.session.execute(
            select(ENVIRONMENTS.c.id, ENVIRONMENTS.c.project_id)
            .where(ENVIRONMENTS.c.project_id == project_id)
            .order_by(ENVIRONMENTS.c.created_at, ENVIRONMENTS.c.id)
            .limit(1)
        )
        .mappings()
        .first()
    )
    if oldest is not None:
        make_default(oldest, stamp)


@action(
    "/project/<id>/environments",
    methods=("GET",),
    acts=LIST_ACTS,
    auth=ANY_TOKEN,
    summary="List environments for a project (default first, then oldest; at most 100)",
    out=EnvironmentOut(many=True),
)
def environments_list(call: Call) -> Reply:
    require_access(call, call.args["id"])
    return Reply(environment_rows(call.args["id"]), "Environments fetched")


@action(
    "/project/<id>/environments",
    methods=("POST",),
    acts=LIST_ACTS,
    auth=ANY_TOKEN,
    schema=EnvironmentCreateIn,
    summary="Create environment for a project",
    out=EnvironmentOut,
)
def environment_create(call: Call) -> Reply:
    project_id = call.args["id"]
    require_access(call, project_id)
    lock_project(project_id)
    stamp, env_id = now(), new_id("env")
    data = call.body()
    if data["is_default"]:
        clear_defaults(project_id, stamp)
    values = {"id": env_id, "project_id": project_id, "created_at": stamp, "updated_at": stamp}
    execute_unique(insert(ENVIRONMENTS).values(**values, **data), DUPLICATE_NAME)
    return Reply(row_dict(ENVIRONMENTS, fetch_environment(env_id)), "Environment created", 201)


@action(
    "/environment/<id>",
    methods=("GET",),
    acts=DETAIL_ACTS,
    auth=ANY_TOKEN,
    summary="Get environment detail",
    out=EnvironmentOut,
)
def environment_detail(call: Call) -> Reply:
    return Reply(row_dict(ENVIRONMENTS, readable_environment(call)), "Environment detail")


@action(
    "/environment/<id>",
    methods=("PUT",),
    acts=DETAIL_ACTS,
    auth=ANY_TOKEN,
    schema=EnvironmentUpdateIn,
    summary="Update environment",
)
def environment_update(call: Call) -> Reply:
    env = locked_environment(call)
    data = call.body()
    if not data:
        raise BadRequest("No data to update")
    changes, stamp = dict(data), now()
    target = changes.pop("is_default", None)
    if target == 0 and env["is_default"]:
        raise BadRequest(UNSET_DEFAULT)
    if target == 1:
        make_default(env, stamp)
    statement = update(ENVIRONMENTS).where(ENVIRONMENTS.c.id == env["id"])
    execute_unique(statement.values(**changes, updated_at=stamp), DUPLICATE_NAME)
    return Reply(row_dict(ENVIRONMENTS, fetch_environment(env["id"])), "Environment updated")


@action(
    "/environment/<id>",
    methods=("POST",),
    acts=DETAIL_ACTS,
    auth=ANY_TOKEN,
    reads_body=True,
    summary="Make the environment its project's default (mcp2 set_default_environment)",
)
def environment_set_default(call: Call) -> Reply:
    env = locked_environment(call)
    if call.body():
        raise BadRequest(SET_DEFAULT_TAKES_NO_BODY)
    make_default(env, now())
    return Reply(row_dict(ENVIRONMENTS, fetch_environment(env["id"])), "Environment updated")


@action(
    "/environment/<id>",
    methods=("DELETE",),
    acts=DETAIL_ACTS,
    auth=ANY_TOKEN,
    summary="Delete environment",
)
def environment_delete(call: Call) -> Reply:
    env = locked_environment(call)
    count = db.session.execute(
        select(func.count()).where(ENVIRONMENTS.c.project_id == env["project_id"])
    ).scalar_one()
    if count <= 1:
        raise BadRequest("Cannot delete the last environment")
    db.session.execute(delete(ENVIRONMENTS).where(ENVIRONMENTS.c.id == env["id"]))
    if env["is_default"]:
        promote_oldest(env["project_id"], now())
    return Reply({"id": env["id"]}, "Environment deleted")
