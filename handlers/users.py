"""User acts: profile, users, user, user_update, user_toggle_status, user_delete."""

from typing import Any

from sqlalchemy import select

from backend.auth import STRICT, AuthPolicy
from backend.db import db
from backend.errors import NotFound
from backend.models import User
from backend.registry import Call, Reply, action
from backend.rows import row_dict

HIDDEN_USER_COLUMNS = ("password_hash", "password_reset_token", "password_reset_token_expires_at")
PROFILE_AUTH = AuthPolicy(
    mcp=False, query_token=True, missing="No access token provided", invalid=STRICT.invalid
)


def user_object(user: Any) -> dict[str, Any]:
    """The users row without any secret (the legacy leaked the reset token)."""
    return row_dict(User.__table__, user, exclude=HIDDEN_USER_COLUMNS)


def load_user(user_id: str) -> User:
    user = db.session.execute(select(User).where(User.id == user_id)).scalar_one_or_none()
    if user is None:
        raise NotFound("User not found")
    return user


@action(
    "/profile",
    methods=("GET",),
    acts=("profile",),
    auth=PROFILE_AUTH,
    summary="Current user profile",
)
def profile(call: Call) -> Reply:
    return Reply(
        {"user": user_object(load_user(call.user.user_id))}, "Profile retrieved successfully"
    )
