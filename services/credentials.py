"""Trading credentials for access, shared by the `login` act, `mcp_generate_config` and the
public `generate-mcp-token.php` script: the throttled password check and MCP token minting."""

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, insert, select, update

from backend.auth.passwords import decoy_hash, verify_password
from backend.auth.tokens import sha256_hex
from backend.core.call import Call
from backend.core.errors import Forbidden, InvalidCredentials, TooManyRequests
from backend.db import db
from backend.legacy.clock import now
from backend.legacy.ids import new_id
from backend.models import USERS, AuditLog, McpClientToken, User
from services import audit

LOGIN_FAILED = "login_failed"


def find_user_by_email(address: str) -> User | None:
    return db.session.execute(select(User).where(User.email == address)).scalar_one_or_none()


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
    stored = user.password_hash if user is not None else decoy_hash()
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
