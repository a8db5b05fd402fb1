"""User accounts as the auth and user acts share them: the row (404), its public shape."""

from typing import Any

from sqlalchemy import select

from backend.auth.callers import STRICT, AuthPolicy
from backend.core.errors import NotFound
from backend.db import db
from backend.legacy.wire import row_dict
from backend.models import USERS, User

USER_NOT_FOUND = "User not found"
HIDDEN_USER_COLUMNS = ("password_hash", "password_reset_token", "password_reset_token_expires_at")
# The profile acts and change-password: a JWT (header, `?token=` or form field), legacy wording.
PROFILE_AUTH = AuthPolicy(
    mcp=False, query_token=True, missing="No access token provided", invalid=STRICT.invalid
)


def user_object(user: Any) -> dict[str, Any]:
    """The users row without any secret (the legacy leaked the reset token)."""
    return row_dict(USERS, user, exclude=HIDDEN_USER_COLUMNS)


def load_user(user_id: str) -> User:
    query = select(User).where(User.id == user_id).execution_options(populate_existing=True)
    user = db.session.execute(query).scalar_one_or_none()
    if user is None:
        raise NotFound(USER_NOT_FOUND)
    return user
