"""Trading a password for access, shared by the `login` act and the public
`generate-mcp-token.php` script: the throttled password check. (MCP token minting, shared by
`mcp_generate_config` and that script, is `services/mcp_tokens.py`.)"""

from sqlalchemy import select, update

from backend.auth.passwords import verify_with_equal_work
from backend.core.call import Call
from backend.core.errors import Forbidden, InvalidCredentials
from backend.db import db
from backend.legacy.clock import now
from backend.models import USERS, User
from services import audit, login_throttle

LOGIN_FAILED = "login_failed"


def find_user_by_email(address: str) -> User | None:
    return db.session.execute(select(User).where(User.email == address)).scalar_one_or_none()


def password_login(call: Call, email: str, password: str) -> User:
    """The account behind a validated e-mail and password: 429 when throttled, 401 (the failed
    attempt recorded, and kept) for a wrong pair, 403 for a disabled account. The same bcrypt
    work whatever the account (backend/auth/passwords.py)."""
    taken = login_throttle.claim(email, call.client.ip)
    user = find_user_by_email(email)
    stored = user.password_hash if user is not None else None
    if not verify_with_equal_work(password, stored) or user is None:
        audit.record(
            call,
            LOGIN_FAILED,
            resource_type="user",
            resource_id=email,
            project_id=None,
            category="auth",
        )
        raise InvalidCredentials()
    login_throttle.succeeded(taken)
    if not user.is_active:
        raise Forbidden("Account is disabled")
    return user


def stamp_login(user_id: str) -> None:
    stamp = now()
    db.session.execute(
        update(USERS).where(USERS.c.id == user_id).values(last_login_at=stamp, updated_at=stamp)
    )
