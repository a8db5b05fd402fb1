"""Who is calling: one strict check of a JWT or an MCP project token, per an act's `AuthPolicy`."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, or_, select, update

from backend.auth.tokens import AuthFailure, decode_token, sha256_hex
from backend.core.call import Caller
from backend.core.errors import Forbidden, GatewayError, NotAuthenticated
from backend.db import db
from backend.legacy.clock import now
from backend.models import (
    MCP_LIFECYCLE,
    MCP_TOKENS,
    MEMBERS,
    PROJECTS,
    USERS,
    McpClientToken,
)

MCP_REVALIDATE_AFTER = timedelta(seconds=60)


@dataclass(frozen=True)
class AuthPolicy:
    """How an act authenticates: which tokens it accepts and the legacy words for each failure."""

    mcp: bool = True
    query_token: bool = False
    optional: bool = False
    missing: str = "Authentication required"
    invalid: str = "Authentication required"

    def error(self, reason: str) -> GatewayError:
        if reason == "disabled":
            return Forbidden("User account is disabled")
        messages = {
            "missing": self.missing,
            "invalid": self.invalid,
            "user_missing": "User not found",
            "revoked": "Token has been invalidated",
        }
        return NotAuthenticated(messages[reason])


ANY_TOKEN = AuthPolicy()


STRICT = AuthPolicy(mcp=False, query_token=True, invalid="Invalid or expired access token")


OPTIONAL = AuthPolicy(optional=True)


def authenticate(token: str | None, policy: AuthPolicy) -> Caller:
    if not token:
        raise AuthFailure("missing")
    try:
        return _jwt_caller(token)
    except AuthFailure as failure:
        if failure.reason != "invalid" or not policy.mcp:
            raise
    return _mcp_caller(token)


# The statements every authenticated request runs, built once (Core, named parameters): building
# and cache-keying them per request cost more than executing them.
TOKEN_ACCOUNT = select(USERS.c.id, USERS.c.email, USERS.c.is_active, USERS.c.token_version).where(
    USERS.c.id == bindparam("user_id")
)


def _jwt_caller(token: str) -> Caller:
    claims = decode_token(token, "access")
    row = db.session.execute(TOKEN_ACCOUNT, {"user_id": str(claims["sub"])}).first()
    check_account(row, claims.get("version"))
    return Caller(user_id=row.id, email=row.email)


def check_account(row: Any, version: Any) -> None:
    if row is None:
        raise AuthFailure("user_missing")
    if not row.is_active:
        raise AuthFailure("disabled")
    if not isinstance(version, int) or version != row.token_version:
        raise AuthFailure("revoked")


# --- MCP project tokens ------------------------------------------------------------------------

MINTER_KEEPS_ACCESS = (PROJECTS.c.owner_id == MCP_TOKENS.c.created_by) | exists().where(
    MEMBERS.c.project_id == MCP_TOKENS.c.project_id, MEMBERS.c.user_id == MCP_TOKENS.c.created_by
)


def mcp_token_alive(at: Any) -> ColumnElement[bool]:
    """Every rule but the minter's own active flag: a token acts as its minter, so it lives while
    it is active, its minter still owns or belongs to its project, and (tokens minted by the
    gateway) the minter's sessions were not ended since and it has not expired. Needs the joins of
    `mcp_token_select`."""
    return and_(
        MCP_TOKENS.c.is_active == 1,
        MINTER_KEEPS_ACCESS,
        or_(
            MCP_LIFECYCLE.c.token_id.is_(None),
            and_(
                MCP_LIFECYCLE.c.minter_token_version == USERS.c.token_version,
                or_(MCP_LIFECYCLE.c.expires_at.is_(None), MCP_LIFECYCLE.c.expires_at > at),
            ),
        ),
    )


def mcp_token_select(*columns: Any) -> Select[Any]:
    """`columns` of tokens joined with their minter, project and lifecycle row."""
    return (
        select(*columns)
        .select_from(MCP_TOKENS)
        .join(USERS, USERS.c.id == MCP_TOKENS.c.created_by)
        .join(PROJECTS, PROJECTS.c.id == MCP_TOKENS.c.project_id)
        .outerjoin(MCP_LIFECYCLE, MCP_LIFECYCLE.c.token_id == MCP_TOKENS.c.id)
    )


MCP_TOKEN_CALLER = mcp_token_select(
    MCP_TOKENS.c.id,
    MCP_TOKENS.c.project_id,
    MCP_TOKENS.c.created_by,
    MCP_TOKENS.c.last_validated_at,
    USERS.c.is_active,
).where(MCP_TOKENS.c.token_hash == bindparam("token_hash"), mcp_token_alive(bindparam("now")))


def _mcp_caller(token: str) -> Caller:
    """A live MCP token acts as the user who minted it, on its own project only."""
    params = {"token_hash": sha256_hex(token), "now": now()}
    found = db.session.execute(MCP_TOKEN_CALLER, params).first()
    if found is None:
        raise AuthFailure("invalid")
    if not found.is_active:
        raise AuthFailure("disabled")
    touch_mcp_token(found.id, found.last_validated_at)
    return Caller(
        user_id=found.created_by,
        token_type="mcp",
        mcp_project_id=found.project_id,
        mcp_token_id=found.id,
    )


def touch_mcp_token(token_id: str, last_validated_at: Any) -> None:
    stamp = now()
    if last_validated_at is None or stamp - last_validated_at >= MCP_REVALIDATE_AFTER:
        db.session.execute(
            update(McpClientToken)
            .where(McpClientToken.id == token_id)
            .values(last_validated_at=stamp, updated_at=stamp)
        )
