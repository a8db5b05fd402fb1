"""User accounts as the auth and user acts share them: the row (404), its public shape."""

from typing import Any

from sqlalchemy import select

from backend.auth.callers import STRICT, AuthPolicy
from backend.core.errors import NotFound
from backend.db import db
from backend.legacy.wire import row_dict
from backend.models import USERS, User
from services.visibility import visible_to

USER_NOT_FOUND = "User not found"
# Secrets, and `token_version` (the revocation counter: no client needs it, a forger would).
HIDDEN_USER_COLUMNS = (
    "password_hash",
    "password_reset_token",
    "password_reset_token_expires_at",
    "token_version",
)
# The profile acts and change-password: a JWT (header, `?token=` or form field), legacy wording.
PROFILE_AUTH = AuthPolicy(
    mcp=False, query_token=True, missing="No access token provided", invalid=STRICT.invalid
)


def user_object(user: Any) -> dict[str, Any]:
    """The users row without any secret (the legacy leaked the reset token)."""
    return row_dict(USERS, user, exclude=HIDDEN_USER_COLUMNS)


def load_user(user_id: str, viewer_id: str | None = None) -> User:
    """The user, or 404 «User not found»; with `viewer_id`, also 404 unless that viewer may see
    them (`services.visibility`), so ids of strangers cannot be probed."""
    query = select(User).where(User.id == user_id).execution_options(populate_existing=True)
    if viewer_id is not None:
        query = query.where(visible_to(viewer_id))
    user = db.session.execute(query).scalar_one_or_none()
    if user is None:
        raise NotFound(USER_NOT_FOUND)
    return user
