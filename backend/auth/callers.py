"""Who is calling: one strict check of a JWT or an MCP project token, per an act's `AuthPolicy`."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Label,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
    update,
)

from backend.auth.tokens import AuthFailure, decode_token, sha256_hex
from backend.core.call import Call, Caller
from backend.core.errors import Forbidden, GatewayError, NotAuthenticated
from backend.db import db, direct
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
    # A JWT's signature and times are checked up front, its account (exists, active, current
    # `token_version`) by the act's own first statement (`ACCOUNT_VERDICT`, `settle`): one
    # round trip less, and still checked in the database on every request.
    account_in_statement: bool = False

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


IN_STATEMENT = AuthPolicy(account_in_statement=True)  # ANY_TOKEN for the hot acts


def authenticate(token: str | None, policy: AuthPolicy) -> Caller:
    if not token:
        raise AuthFailure("missing")
    try:
        return _jwt_caller(token, policy)
    except AuthFailure as failure:
        if failure.reason != "invalid" or not policy.mcp:
            raise
    return _mcp_caller(token)


# The statements every authenticated request runs, built once (Core, named parameters): building
# and cache-keying them per request cost more than executing them.
TOKEN_ACCOUNT = direct.Statement(
    select(USERS.c.id, USERS.c.email, USERS.c.is_active, USERS.c.token_version).where(
        USERS.c.id == bindparam("user_id")
    )
)


def _jwt_caller(token: str, policy: AuthPolicy) -> Caller:
    claims = decode_token(token, "access")
    if policy.account_in_statement:
        check = AccountCheck(claims.get("version"), policy)
        return Caller(user_id=str(claims["sub"]), account=check)
    row = direct.first(TOKEN_ACCOUNT, {"user_id": str(claims["sub"])})
    check_account(row, claims.get("version"))
    return Caller(user_id=row["id"], email=row["email"])


def check_account(row: dict[str, Any] | None, version: Any) -> None:
    if row is None:
        raise AuthFailure("user_missing")
    if not row["is_active"]:
        raise AuthFailure("disabled")
    if not isinstance(version, int) or version != row["token_version"]:
        raise AuthFailure("revoked")


# --- the account check inside an act's own statement (`AuthPolicy.account_in_statement`) --------


@dataclass(eq=False)
class AccountCheck:
    """A JWT caller's account check still to be made: the token's `version` claim, the act's
    policy (the words of a refusal) and whether this run of the handler has made it."""

    version: Any
    policy: AuthPolicy
    done: bool = False


def account_verdict(row_key: ColumnElement[Any] | None = None) -> Label[Any]:
    """`check_account` as one column of a statement: NULL when the user is gone, else
    "disabled", "revoked" or "ok". `row_key`: a never-NULL column of the statement's locked row.

    In a `SELECT … FOR UPDATE` an uncorrelated subquery is evaluated before the row lock is
    granted, and its snapshot then serves every other subquery of the statement: a live
    execution committed during the lock wait went unseen (measured on MariaDB 10.11).
    Correlated to the locked row it is read after the lock, like the statement's other columns.
    """
    verdict = select(
        case(
            (func.coalesce(USERS.c.is_active, 0) == 0, "disabled"),
            (USERS.c.token_version == bindparam("token_version"), "ok"),
            else_="revoked",
        )
    ).where(USERS.c.id == bindparam("user_id"))
    if row_key is not None:
        verdict = verdict.where(row_key.is_not(None))
    return verdict.scalar_subquery().label("account")


ACCOUNT_VERDICT = account_verdict()
ACCOUNT_ONLY = direct.Statement(select(ACCOUNT_VERDICT))
BIGINT = 2**63


def pending(call: Call) -> AccountCheck | None:
    check = call.user.account if call.user is not None else None
    return check if check is not None and not check.done else None


def verdict_params(call: Call) -> dict[str, Any]:
    """`user_id` and `token_version` of a statement carrying `ACCOUNT_VERDICT`."""
    if call.user is None:
        return {"user_id": "", "token_version": None}
    check = call.user.account
    version = check.version if check is not None else None
    # A version no integer column can hold, or no integer at all, never equals: "revoked".
    if not isinstance(version, int) or not -BIGINT <= version < BIGINT:
        version = None
    return {"user_id": call.user.user_id, "token_version": version}


def settle(call: Call, verdict: str | None) -> None:
    """Answer the pending check with the statement's `account` column: a refusal is raised as
    the act's policy words it, before the act's own 404 or 403."""
    check = pending(call)
    if check is None:
        return
    check.done = True
    if verdict != "ok":
        raise check.policy.error(verdict or "user_missing")


def settle_pending(call: Call) -> None:
    """The check in a statement of its own, when the act's statement could not tell (no row) or
    the act ended without it: a token revoked a moment ago is refused whatever the act did."""
    if pending(call) is not None:
        found = direct.first(ACCOUNT_ONLY, verdict_params(call))
        settle(call, found["account"] if found else None)


def reopen(call: Call) -> None:
    """A new run of the handler (a retry after a deadlock) checks the account again."""
    if call.user is not None and call.user.account is not None:
        call.user.account.done = False


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
