"""User acts: profile, users, users_stats, user, user_update, user_toggle_status, user_delete.

Unlike the legacy, every one of them needs a valid access token, and changing or deleting a
user is allowed only to that user themself.
"""

import math
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from backend.auth.callers import STRICT
from backend.core.call import Call, Reply
from backend.core.errors import BadRequest, Conflict, Forbidden, GatewayError
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
from schemas.users import ProfileUpdateIn, UserToggleStatusIn, UserUpdateIn
from services.accounts import PROFILE_AUTH, load_user, user_object
from services.paging import LIST_LIMIT

PROFILE_ACTS = ("profile", "profile_update")
USER_ACTS = ("user", "user_update", "user_delete")
LIKE_ESCAPE = "!"


def own_user_id(call: Call, *, from_header: bool = False) -> str:
    """The `id` argument, which must be the caller's own id.

    `from_header`: refuse a token that came in the query string or a form field rather than the
    Authorization header (legacy CSRF rule).
    """
    user_id = validators.flexible_id(call.args["id"])
    if from_header and call.token is not None and not call.token_in_header:
        raise Forbidden("CSRF token required")
    if user_id != call.user.user_id:
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


@action("/users", acts=("users",), auth=STRICT, summary="List, search or page through users")
def users(call: Call) -> Reply:
    query = load_query(UserListQuery, call)
    limit = min(query["limit"], LIST_LIMIT)
    if query["search"]:
        return Reply(search_users(query["search"], limit))
    if query["active_only"] == "true":
        return Reply(active_users(limit))
    return Reply(paginated_users(load_query(UserPageQuery, call)["page"], limit))


@action("/users/stats", acts=("users_stats",), auth=STRICT, summary="Count users by status")
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


@action("/user/<id>", methods=("GET",), acts=USER_ACTS, auth=STRICT, summary="Read a user")
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
    user_id = own_user_id(call, from_header=True)
    changes = call.body()  # after the id and CSRF checks, before the 404: the legacy order
    found = load_user(user_id)
    save_user(found, changes, Conflict("Email already exists"))
    return Reply(user_object(found), "User updated successfully")


@action(
    "/user/<id>/toggle-status",
    methods=("PUT",),
    acts=("user_toggle_status",),
    auth=STRICT,
    schema=UserToggleStatusIn,
    summary="Set or flip your own active flag",
)
def user_toggle_status(call: Call) -> Reply:
    user_id = own_user_id(call)
    wanted = call.body().get("is_active")
    flipped = case((User.is_active == 1, 0), else_=1)
    db.session.execute(
        update(USERS)
        .where(User.id == user_id)
        .values(is_active=flipped if wanted is None else int(wanted), updated_at=now())
    )
    state = db.session.execute(select(User.is_active).where(User.id == user_id)).scalar_one()
    return Reply({"id": user_id, "is_active": bool(state)}, "User status updated successfully")


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
