"""User acts: profile, users, users_stats, user, user_update, user_toggle_status, user_delete.

Unlike the legacy, every one of them needs a valid access token, changing or deleting a user is
allowed only to that user themself, and nobody deactivates their own account
(docs/legacy-suite.md).
"""

import math
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import case, delete, exists, func, select, update
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
    MEMBERS,
    PROJECTS,
    USERS,
    McpClientToken,
    Project,
    ProjectMember,
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
from services.accounts import PROFILE_AUTH, USER_NOT_FOUND, load_user, user_object
from services.paging import LIST_LIMIT

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
        if hide_strangers and not shares_project(call.user.user_id, user_id):
            raise NotFound(USER_NOT_FOUND)
        raise Forbidden("Access denied")
    return user_id


def in_project(user_id: str) -> Any:
    """The enclosing project row is owned by `user_id` or has them as a member."""
    return (Project.owner_id == user_id) | exists().where(
        ProjectMember.project_id == Project.id, ProjectMember.user_id == user_id
    )


def shares_project(user_id: str, other_id: str) -> bool:
    query = select(Project.id).where(in_project(user_id), in_project(other_id)).limit(1)
    return db.session.execute(query).first() is not None


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


def search_users(term: str, limit: int) -> dict[str, Any]:
    pattern = like_pattern(term)
    matches = User.name.like(pattern, escape=LIKE_ESCAPE) | User.email.like(
        pattern, escape=LIKE_ESCAPE
    )
    found = user_rows(select(User).where(User.is_active == 1, matches).limit(limit))
    return {"users": found, "total": len(found), "search_query": term}


def active_users(limit: int) -> dict[str, Any]:
    found = user_rows(select(User).where(User.is_active == 1).limit(limit))
    return {"users": found, "total": len(found)}


def paginated_users(page: int, limit: int) -> dict[str, Any]:
    newest = select(User).order_by(User.created_at.desc(), User.id.desc())
    found = user_rows(newest.offset((page - 1) * limit).limit(limit))
    total = db.session.execute(select(func.count()).select_from(User)).scalar_one()
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
    summary="List, search or page through users",
    out=UserListOut,
    query_schemas=(UserListQuery, UserPageQuery),
)
def users(call: Call) -> Reply:
    query = load_query(UserListQuery, call)
    limit = min(query["limit"], LIST_LIMIT)
    if query["search"]:
        return Reply(search_users(query["search"], limit))
    if query["active_only"] == "true":
        return Reply(active_users(limit))
    return Reply(paginated_users(load_query(UserPageQuery, call)["page"], limit))


@action(
    "/users/stats",
    acts=("users_stats",),
    auth=STRICT,
    summary="Count users by status",
    out=UserStatsOut,
)
def users_stats(call: Call) -> Reply:
    active = func.coalesce(func.sum(case((User.is_active == 1, 1), else_=0)), 0)
    total, active_count = db.session.execute(select(func.count(), active)).one()
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
    summary="Read a user",
    out=UserAnswerOut,
)
def user(call: Call) -> Reply:
    found = load_user(validators.flexible_id(call.args["id"]))
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
)
def user_delete(call: Call) -> Reply:
    delete_account(own_user_id(call, from_header=True))
    return Reply(None, "User deleted successfully")


# --- account deletion ------------------------------------------------------------------------


def delete_account(user_id: str) -> None:
    """Hard delete with the legacy cascades; RESTRICT references are detached or refused.

    Audit rows stay, detached from the user and from the projects deleted with them. MCP tokens
    the user minted for, or members they invited to, other owners' projects would have to be
    destroyed: that is refused with 409 instead.
    """
    owned = select(Project.id).where(Project.owner_id == user_id)
    refuse_if_others_depend(user_id, owned)
    db.session.execute(update(AUDIT).where(AUDIT.c.user_id == user_id).values(user_id=None))
    db.session.execute(update(AUDIT).where(AUDIT.c.project_id.in_(owned)).values(project_id=None))
    db.session.execute(delete(MEMBERS).where(MEMBERS.c.user_id == user_id))
    db.session.execute(delete(PROJECTS).where(PROJECTS.c.owner_id == user_id))
    db.session.execute(delete(USERS).where(USERS.c.id == user_id))


def refuse_if_others_depend(user_id: str, owned: Any) -> None:
    tokens = select(McpClientToken.id).where(
        McpClientToken.created_by == user_id, McpClientToken.project_id.not_in(owned)
    )
    if db.session.execute(tokens.limit(1)).first() is not None:
        raise Conflict("Cannot delete user: they created MCP tokens for projects they do not own")
    invited = select(ProjectMember.id).where(
        ProjectMember.invited_by == user_id,
        ProjectMember.user_id != user_id,
        ProjectMember.project_id.not_in(owned),
    )
    if db.session.execute(invited.limit(1)).first() is not None:
        raise Conflict("Cannot delete user: they invited members to projects they do not own")
