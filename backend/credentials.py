"""Trading credentials for access, shared by the `login` act, `mcp_generate_config` and the
public `generate-mcp-token.php` script: the throttled password check and MCP token minting."""

import secrets
from datetime import timedelta
from functools import cache

import bcrypt
from flask import current_app
from sqlalchemy import func, insert, select, update

from backend import audit
from backend.auth import sha256_hex, verify_password
from backend.db import db
from backend.errors import Forbidden, InvalidCredentials, TooManyRequests
from backend.models import AuditLog, McpClientToken, User
from backend.registry import Call
from backend.rows import new_id, now

LOGIN_FAILED = "login_failed"
USERS = User.__table__


def find_user_by_email(address: str) -> User | None:
    return db.session.execute(select(User).where(User.email == address)).scalar_one_or_none()


@cache
def decoy_hash(rounds: int) -> str:
    """Checked for unknown e-mails, so they take as long as a wrong password (no enumeration)."""
    return bcrypt.hashpw(b"no such account", bcrypt.gensalt(rounds=rounds)).decode()


def refuse_if_throttled(email: str) -> None:
    """Legacy hole S10: at most LOGIN_MAX_FAILURES wrong passwords per address per window.
    Counted per address whether or not it exists, so the answer reveals nothing."""
    config = current_app.config
    since = now() - timedelta(seconds=config["LOGIN_FAILURE_WINDOW_SECONDS"])
    failures = db.session.execute(
        select(func.count())
        .select_from(AuditLog)
        .where(
            AuditLog.action == LOGIN_FAILED,
            AuditLog.resource_type == "user",
            AuditLog.resource_id == email,
            AuditLog.created_at >= since,
        )
    ).scalar_one()
    if failures >= config["LOGIN_MAX_FAILURES"]:
        raise TooManyRequests()


def password_login(call: Call, email: str, password: str) -> User:
    """The account behind a validated e-mail and password: 429 when throttled, 401 (the failed
    attempt recorded, and kept) for a wrong pair, 403 for a disabled account."""
    refuse_if_throttled(email)
    user = find_user_by_email(email)
    rounds = current_app.config.get("BCRYPT_ROUNDS", 12)
    stored = user.password_hash if user is not None else decoy_hash(rounds)
    if not verify_password(password, stored) or user is None:
        audit.record(
            call,
            LOGIN_FAILED,
            resource_type="user",
            resource_id=email,
            project_id=None,
            category="auth",
        )
        raise InvalidCredentials()
    if not user.is_active:
        raise Forbidden("Account is disabled")
    return user


def stamp_login(user_id: str) -> None:
    stamp = now()
    db.session.execute(
        update(USERS).where(USERS.c.id == user_id).values(last_login_at=stamp, updated_at=stamp)
    )


def issue_mcp_token(project_id: str, user_id: str) -> str:
    """64 hex chars in plaintext, once; only its sha256 is stored. Earlier tokens stay valid."""
    plaintext, stamp = secrets.token_hex(32), now()
    db.session.execute(
        insert(McpClientToken).values(
            id=new_id("mcp"),
            project_id=project_id,
            token_hash=sha256_hex(plaintext),
            created_by=user_id,
            created_at=stamp,
            updated_at=stamp,
            is_active=1,
        )
    )
    return plaintext
