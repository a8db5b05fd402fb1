"""User acts: profile, users, users_stats, user, user_update, user_toggle_status, user_delete.

Unlike the legacy, every one of them needs a valid access token, the directory (`users`,
`users_stats`, `user`) shows only the caller and the people they share a project with
(docs/security.md), changing or deleting a user is allowed only to that user themself, and
nobody deactivates their own account (docs/legacy-suite.md).
"""

import math
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from backend.auth.callers import STRICT
from backend.core.call import Call, Reply
from backend.core.errors import BadRequest, Conflict, Forbidden, GatewayError, NotFound
from backend.core.registry import action
from backend.db import db
from backend.legacy import validators
from backend.legacy.clock import now
from backend.models import (
    AUDIT,
    ENDPOINTS,
    FLOWS,
    FOLDERS,
    MEMBERS,
    PROJECTS,
    USERS,
    TestFlow,
    User,
)
from schemas.queries import UserListQuery, UserPageQuery, load_query
from schemas.users import (
    ProfileUpdateIn,
    UserAnswerOut,
    UserListOut,
    UserStatsOut,
    UserToggleStatusIn,
    UserUpdateIn,
)
from services import mcp_tokens, members
from services.accounts import PROFILE_AUTH, USER_NOT_FOUND, load_user, user_object
from services.cascades import remove_flows
from services.paging import LIST_LIMIT
from services.visibility import may_see, visible_to

PROFILE_ACTS = ("profile", "profile_update")
USER_ACTS = ("user", "user_update", "user_delete")
LIKE_ESCAPE = "!"
SELF_DEACTIVATION = "Cannot deactivate yourself"  # nobody could turn the account back on


def own_user_id(call: Call, *, from_header: bool = False, hide_strangers: bool = True) -> str:
    """The `id` argument, which must be the caller's own id.

    Another user answers 403 when the caller shares a project with them; with `hide_strangers`,
    anyone else answers 404 like a user that does not exist (ids cannot be probed), else 403 as
    well. `from_header`: refuse a token that came in the query string or a form field rather
    than the Authorization header (legacy CSRF rule).
    """
    user_id = validators.flexible_id(call.args["id"])
    if from_header and call.token is not None and not call.token_in_header:
        raise Forbidden("CSRF token required")
    if user_id != call.user.user_id:
        if hide_strangers and not may_see(call.user.user_id, user_id):
            raise NotFound(USER_NOT_FOUND)
        raise Forbidden("Access denied")
    return user_id


def save_user(user: User, changes: Mapping[str, Any], taken: GatewayError) -> None:
    """Apply `changes` (None values skipped); an e-mail held by another user raises `taken`."""
    changes = {key: value for key, value in changes.items() if value is not None}
    if "email" in changes and email_taken(changes["email"], user.id):
        raise taken
    for key, value in changes.items():
        setattr(user, key, value)
    user.updated_at = now()
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise taken from exc


def email_taken(address: str, user_id: str) -> bool:
    query = select(User.id).where(User.email == address, User.id != user_id)
    return db.session.execute(query.limit(1)).first() is not None


# --- profile ---------------------------------------------------------------------------------


@action(
    "/profile",
    methods=("GET",),
    acts=PROFILE_ACTS,
    auth=PROFILE_AUTH,
    summary="Current user profile",
    out=UserAnswerOut,
)
def profile(call: Call) -> Reply:
    return Reply(
        {"user": user_object(load_user(call.user.user_id))}, "Profile retrieved successfully"
    )


@action(
    "/profile",
    methods=("POST",),
    acts=PROFILE_ACTS,
    auth=PROFILE_AUTH,
    schema=ProfileUpdateIn,
    summary="Update the current user's name, e-mail or avatar",
)
def profile_update(call: Call) -> Reply:
    changes = call.body()  # the body before the user lookup, as legacy
    user = load_user(call.user.user_id)
    save_user(user, changes, BadRequest("Email already exists"))
    return Reply({"user": user_object(user)}, "Profile updated successfully")


# --- users -----------------------------------------------------------------------------------


def like_pattern(term: str) -> str:
    """`%term%` with the user's own `%`, `_` matched literally."""
    escaped = re.sub(r"([!%_])", LIKE_ESCAPE + r"\1", term)
    return f"%{escaped}%"


def user_rows(query: Any) -> list[dict[str, Any]]:
    return [user_object(user) for user in db.session.execute(query).scalars()]


def search_users(seen: Any, term: str, limit: int) -> dict[str, Any]:
    pattern = like_pattern(term)
    matches = User.name.like(pattern, escape=LIKE_ESCAPE) | User.email.like(
        pattern, escape=LIKE_ESCAPE
    )
    found = user_rows(select(User).where(seen, User.is_active == 1, matches).limit(limit))
    return {"users": found, "total": len(found), "search_query": term}


def active_users(seen: Any, limit: int) -> dict[str, Any]:
    found = user_rows(select(User).where(seen, User.is_active == 1).limit(limit))
    return {"users": found, "total": len(found)}


def paginated_users(seen: Any, page: int, limit: int) -> dict[str, Any]:
    newest = select(User).where(seen).order_by(User.created_at.desc(), User.id.desc())
    found = user_rows(newest.offset((page - 1) * limit).limit(limit))
    total = db.session.execute(select(func.count()).select_from(User).where(seen)).scalar_one()
    pagination = {
        "page": page,
        "limit": limit,
        "total": total,
        "total_pages": math.ceil(total / limit),
    }
    return {"users": found, "pagination": pagination}


@action(
    "/users",
    acts=("users",),
    auth=STRICT,
    summary="List, search or page through the users you may see (yourself and the people you "
    "share a project with; at most 100 per page)",
    out=UserListOut,
    query_schemas=(UserListQuery, UserPageQuery),
)
def users(call: Call) -> Reply:
    query = load_query(UserListQuery, call)
    seen = visible_to(call.user.user_id)
    limit = min(query["limit"], LIST_LIMIT)
    if query["search"]:
        return Reply(search_users(seen, query["search"], limit))
    if query["active_only"] == "true":
        return Reply(active_users(seen, limit))
    return Reply(paginated_users(seen, load_query(UserPageQuery, call)["page"], limit))


@action(
    "/users/stats",
    acts=("users_stats",),
    auth=STRICT,
    summary="Count the users you may see by status",
    out=UserStatsOut,
)
def users_stats(call: Call) -> Reply:
    active = func.coalesce(func.sum(case((User.is_active == 1, 1), else_=0)), 0)
    seen = visible_to(call.user.user_id)
    total, active_count = db.session.execute(select(func.count(), active).where(seen)).one()
    return Reply(
        {
            "total_users": int(total),
            "active_users": int(active_count),
            "inactive_users": int(total) - int(active_count),
        }
    )


# --- one user --------------------------------------------------------------------------------


@action(
    "/user/<id>",
    methods=("GET",),
    acts=USER_ACTS,
    auth=STRICT,
    summary="Read a user you may see (404 «User not found» for anyone else)",
    errors=(400,),  # an id that is not `[A-Za-z0-9_-]+`
    out=UserAnswerOut,
)
def user(call: Call) -> Reply:
    found = load_user(validators.flexible_id(call.args["id"]), call.user.user_id)
    return Reply({"user": user_object(found)}, "User retrieved successfully")


@action(
    "/user/<id>",
    methods=("POST", "PUT"),
    acts=USER_ACTS,
    auth=STRICT,
    schema=UserUpdateIn,
    summary="Update your own name, e-mail or active flag",
)
def user_update(call: Call) -> Reply:
    # 403 for every other id, missing ones too: what the legacy suite's update tests accept
    user_id = own_user_id(call, from_header=True, hide_strangers=False)
    changes = call.body()  # after the id and CSRF checks, before the 404: the legacy order
    if changes.get("is_active") == 0:
        raise Forbidden(SELF_DEACTIVATION)
    found = load_user(user_id)
    save_user(found, changes, Conflict("Email already exists"))
    return Reply(user_object(found), "User updated successfully")


@action(
    "/user/<id>/toggle-status",
    methods=("PUT",),
    acts=("user_toggle_status",),
    auth=STRICT,
    schema=UserToggleStatusIn,
    summary="Keep your own account active (turning yourself off is refused)",
)
def user_toggle_status(call: Call) -> Reply:
    user_id = own_user_id(call)
    if not call.body().get("is_active"):  # false, or a flip of the caller's active account
        raise Forbidden(SELF_DEACTIVATION)
    return Reply({"id": user_id, "is_active": True}, "User status updated successfully")


@action(
    "/user/<id>",
    methods=("DELETE",),
    acts=USER_ACTS,
    auth=STRICT,
    summary="Delete your own account",
    errors=(400,),  # an id that is not `[A-Za-z0-9_-]+`
)
def user_delete(call: Call) -> Reply:
    delete_account(call, own_user_id(call, from_header=True))
    return Reply(None, "User deleted successfully")


# --- account deletion ------------------------------------------------------------------------


DELETE_CONFLICT = "Cannot delete user: a flow of one of their projects is currently being executed"


def delete_account(call: Call, user_id: str) -> None:
    """Hard delete of the account and the projects it owns, with the legacy cascades; nothing
    of another owner goes (409 while a flow of an owned project is being executed).

    What the user created in other owners' projects (folders, endpoints, flows, test flows) and
    the memberships they granted there pass to each project's owner; their memberships end and
    their MCP tokens for those projects are deleted, each audited. Audit rows stay, detached
    from the user and from the projects deleted with them.
    """
    owned = select(PROJECTS.c.id).where(PROJECTS.c.owner_id == user_id)
    remove_flows(
        call,
        FLOWS.c.project_id.in_(owned),
        via="user_delete",
        conflict=DELETE_CONFLICT,
        project_stays=False,
    )
    hand_over(user_id, owned)
    mcp_tokens.delete_minted_for_others(call, user_id, owned)
    members.leave_all(call, user_id)
    db.session.execute(update(AUDIT).where(AUDIT.c.user_id == user_id).values(user_id=None))
    db.session.execute(update(AUDIT).where(AUDIT.c.project_id.in_(owned)).values(project_id=None))
    db.session.execute(delete(PROJECTS).where(PROJECTS.c.owner_id == user_id))
    db.session.execute(delete(USERS).where(USERS.c.id == user_id))


def hand_over(user_id: str, owned: Any) -> None:
    """`created_by` (and `invited_by`) of the user's rows in projects they do not own become the
    project's owner, so the legacy ON DELETE CASCADE of those keys removes nothing of theirs."""
    for table, column in (
        (FOLDERS, "created_by"),
        (FLOWS, "created_by"),
        (TestFlow.__table__, "created_by"),
        (MEMBERS, "invited_by"),
    ):
        owner = select(PROJECTS.c.owner_id).where(PROJECTS.c.id == table.c.project_id)
        db.session.execute(
            update(table)
            .where(table.c[column] == user_id, table.c.project_id.not_in(owned))
            .values({column: owner.scalar_subquery()})
        )
    endpoint_owner = (
        select(PROJECTS.c.owner_id)
        .join(FOLDERS, FOLDERS.c.project_id == PROJECTS.c.id)
        .where(FOLDERS.c.id == ENDPOINTS.c.folder_id)
    )
    foreign = select(FOLDERS.c.id).where(FOLDERS.c.project_id.not_in(owned))
    db.session.execute(
        update(ENDPOINTS)
        .where(ENDPOINTS.c.created_by == user_id, ENDPOINTS.c.folder_id.in_(foreign))
        .values(created_by=endpoint_owner.scalar_subquery())
    )
