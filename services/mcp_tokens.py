"""MCP project tokens: minting, the owner's minting policy, listing, revoking, and the
revocations other acts trigger (ended sessions, deactivation, lost access, account deletion).

A token acts as the user who minted it (`mcp_client_tokens.created_by`), so audit rows and
`created_by` name that user. A revoked token keeps its legacy row with `is_active = 0`, which the
legacy backend honours too; the gateway's own facts (the minter's `token_version` at minting,
the optional expiry) live in the additive `mcp_token_lifecycle` table.
"""

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, delete, insert, select, update

from backend.auth.callers import mcp_token_alive, mcp_token_select
from backend.auth.tokens import sha256_hex
from backend.core.call import Call
from backend.core.errors import BadRequest, Forbidden, NotFound
from backend.db import db
from backend.legacy.clock import now
from backend.legacy.ids import new_id
from backend.legacy.wire import format_datetime
from backend.models import MCP_LIFECYCLE, MCP_TOKENS, POLICIES, USERS
from services import audit
from services.paging import Page
from services.projects import project_owner

MAX_EXPIRY_DAYS = 3650
OWNER_ONLY = "Only the project owner may create MCP tokens for this project"
TOKEN_NOT_FOUND = "MCP token not found"
LISTED = (
    MCP_TOKENS.c.id,
    MCP_TOKENS.c.project_id,
    MCP_TOKENS.c.created_by,
    USERS.c.email.label("created_by_email"),
    MCP_TOKENS.c.created_at,
    MCP_TOKENS.c.last_validated_at,
    MCP_TOKENS.c.is_active,
    MCP_LIFECYCLE.c.expires_at,
)


# --- policy ----------------------------------------------------------------------------------


def members_may_mint(project_id: str) -> bool:
    """The owner's choice; without a policy row, members may mint (as legacy)."""
    statement = select(POLICIES.c.members_may_mint_mcp_tokens).where(
        POLICIES.c.project_id == project_id
    )
    allowed = db.session.execute(statement).scalar()
    return True if allowed is None else bool(allowed)


def set_members_may_mint(call: Call, project_id: str, allowed: bool) -> dict[str, Any]:
    """Under the project row lock the owner already holds: read, then insert or update."""
    before, stamp = members_may_mint(project_id), now()
    values = {"members_may_mint_mcp_tokens": int(allowed), "updated_by": call.user.user_id}
    exists = select(POLICIES.c.project_id).where(POLICIES.c.project_id == project_id)
    if db.session.execute(exists).first() is None:
        statement = insert(POLICIES).values(project_id=project_id, **values, updated_at=stamp)
    else:
        statement = (
            update(POLICIES)
            .where(POLICIES.c.project_id == project_id)
            .values(**values, updated_at=stamp)
        )
    db.session.execute(statement)
    if before != allowed:
        audit.record(
            call,
            "mcp_token_policy_changed",
            resource_type="project",
            resource_id=project_id,
            project_id=project_id,
            old={"members_may_mint": before},
            new={"members_may_mint": allowed},
            category="auth",
        )
    return policy(project_id)


def policy(project_id: str) -> dict[str, Any]:
    return {"project_id": project_id, "members_may_mint": members_may_mint(project_id)}


# --- minting ---------------------------------------------------------------------------------


def expiry(days: int | None) -> datetime | None:
    if days is None:
        return None
    if days > MAX_EXPIRY_DAYS:
        raise BadRequest(f"expires_in_days must be at most {MAX_EXPIRY_DAYS}")
    return now() + timedelta(days=days)


def mint(call: Call, project_id: str, expires_at: datetime | None) -> str:
    """64 hex chars in plaintext, once; only its sha256 is stored. Earlier tokens stay valid.

    The caller's project access is already checked; a member mints only if the owner allows it.
    """
    minter = call.user.user_id
    if minter != project_owner(project_id) and not members_may_mint(project_id):
        raise Forbidden(OWNER_ONLY)
    plaintext, token_id, stamp = secrets.token_hex(32), new_id("mcp"), now()
    db.session.execute(
        insert(MCP_TOKENS).values(
            id=token_id,
            project_id=project_id,
            token_hash=sha256_hex(plaintext),
            created_by=minter,
            created_at=stamp,
            updated_at=stamp,
            is_active=1,
        )
    )
    version = select(USERS.c.token_version).where(USERS.c.id == minter).scalar_subquery()
    db.session.execute(
        insert(MCP_LIFECYCLE).values(
            token_id=token_id, minter_token_version=version, expires_at=expires_at
        )
    )
    record(call, "mcp_token_created", token_id, project_id, new=expiry_values(expires_at))
    return plaintext


def expiry_values(expires_at: datetime | None) -> dict[str, Any]:
    return {"is_active": 1, "expires_at": format_datetime(expires_at)}


def record(call: Call, action: str, token_id: str, project_id: str | None, **values: Any) -> None:
    audit.record_many([entry(call, action, token_id, project_id, **values)])


def entry(
    call: Call, action: str, token_id: str, project_id: str | None, **values: Any
) -> dict[str, Any]:
    return audit.entry(
        call,
        action,
        resource_type="mcp_token",
        resource_id=token_id,
        project_id=project_id,
        category="auth",
        **values,
    )


# --- listing ---------------------------------------------------------------------------------


def token_rows(call: Call, project_id: str, page: Page) -> list[dict[str, Any]]:
    """Newest first, never the secret: the owner sees every token, a member their own."""
    alive = case((mcp_token_alive(now()) & (USERS.c.is_active == 1), 1), else_=0)
    statement = mcp_token_select(*LISTED, alive.label("alive")).where(
        MCP_TOKENS.c.project_id == project_id
    )
    if call.user.user_id != project_owner(project_id):
        statement = statement.where(MCP_TOKENS.c.created_by == call.user.user_id)
    statement = statement.order_by(MCP_TOKENS.c.created_at.desc(), MCP_TOKENS.c.id.desc())
    rows = db.session.execute(page.apply(statement)).mappings()
    return [wire_token(row) for row in rows]


def wire_token(row: Any) -> dict[str, Any]:
    return {
        key: format_datetime(value) if isinstance(value, datetime) else value
        for key, value in row.items()
    } | {"alive": bool(row["alive"])}


# --- revoking --------------------------------------------------------------------------------


def minted_by(user_id: str, project_id: str | None = None) -> ColumnElement[bool]:
    """Tokens `user_id` minted (for `project_id` only, when given)."""
    condition = MCP_TOKENS.c.created_by == user_id
    return condition if project_id is None else condition & (MCP_TOKENS.c.project_id == project_id)


def revoke_where(call: Call, condition: ColumnElement[bool], reason: str) -> list[str]:
    """Deactivate the active tokens matching `condition` (rows locked); one audit row each."""
    statement = select(MCP_TOKENS.c.id, MCP_TOKENS.c.project_id).where(
        condition, MCP_TOKENS.c.is_active == 1
    )
    found = db.session.execute(statement.order_by(MCP_TOKENS.c.id).with_for_update()).all()
    if not found:
        return []
    ids = [row.id for row in found]
    db.session.execute(
        update(MCP_TOKENS).where(MCP_TOKENS.c.id.in_(ids)).values(is_active=0, updated_at=now())
    )
    audit.record_many(
        [
            entry(
                call,
                "mcp_token_revoked",
                row.id,
                row.project_id,
                old={"is_active": 1},
                new={"is_active": 0},
                metadata={"reason": reason},
            )
            for row in found
        ]
    )
    return ids


def load_token(call: Call, token_id: str) -> dict[str, Any]:
    """The token's row for its project's owner or its minter; 404 for anyone else (no probing)."""
    statement = select(MCP_TOKENS.c.id, MCP_TOKENS.c.project_id, MCP_TOKENS.c.created_by).where(
        MCP_TOKENS.c.id == token_id
    )
    row = db.session.execute(statement).mappings().first()
    if row is None or call.user.user_id not in (
        row["created_by"],
        project_owner(row["project_id"]),
    ):
        raise NotFound(TOKEN_NOT_FOUND)
    return dict(row)


def revoke(call: Call, token_id: str) -> dict[str, Any]:
    """Idempotent: a token already revoked answers the same, without a second audit row."""
    row = load_token(call, token_id)
    revoke_where(call, MCP_TOKENS.c.id == row["id"], "revoked")
    return {"id": row["id"], "project_id": row["project_id"], "is_active": 0}


def delete_minted_for_others(call: Call, user_id: str, owned: Any) -> None:
    """Account deletion: the user's tokens for projects they do not own die with the account
    (their rows go: `created_by` cannot outlive the user); each removal is audited."""
    condition = minted_by(user_id) & MCP_TOKENS.c.project_id.not_in(owned)
    statement = select(MCP_TOKENS.c.id, MCP_TOKENS.c.project_id).where(condition)
    found = db.session.execute(statement.with_for_update()).all()
    audit.record_many(
        [
            entry(
                call,
                "mcp_token_deleted",
                row.id,
                row.project_id,
                metadata={"reason": "account_deleted"},
            )
            for row in found
        ]
    )
    db.session.execute(delete(MCP_TOKENS).where(MCP_TOKENS.c.id.in_([row.id for row in found])))
