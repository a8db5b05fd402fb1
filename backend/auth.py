"""Legacy-compatible tokens (HS256 JWTs, sha256-hashed MCP tokens), bcrypt, and one strict check."""

import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import bcrypt
import jwt
from flask import current_app
from sqlalchemy import Select, bindparam, exists, select, update

from backend.db import db
from backend.errors import Forbidden, GatewayError, NotAuthenticated
from backend.models import McpClientToken, Project, ProjectMember, User
from backend.registry import Call, Caller
from backend.rows import now

USERS = User.__table__
PROJECTS = Project.__table__
MEMBERS = ProjectMember.__table__
BEARER = re.compile(r"Bearer\s+(.*)$", re.IGNORECASE)
MCP_REVALIDATE_AFTER = timedelta(seconds=60)
BCRYPT_MAX_BYTES = 72


class PHPJSONEncoder(json.JSONEncoder):
    """Encode like PHP's json_encode (`/` escaped) so our JWTs are byte-identical to legacy ones."""

    def encode(self, o: Any) -> str:
        return super().encode(o).replace("/", "\\/")


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


class AuthFailure(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def bearer_token(header: str | None) -> str | None:
    match = BEARER.search(header or "")
    token = match.group(1).strip() if match else ""
    return token or None


# --- JWT -------------------------------------------------------------------------------------


def _secret(kind: str) -> str:
    return current_app.config["JWT_ACCESS_SECRET" if kind == "access" else "JWT_REFRESH_SECRET"]


def issue_token(user_id: str, email: str | None, kind: str, version: int) -> str:
    config = current_app.config
    issued = int(time.time())
    ttl = config["ACCESS_TOKEN_TTL" if kind == "access" else "REFRESH_TOKEN_TTL"]
    claims: dict[str, Any] = {
        "iss": config["APP_NAME"],
        "aud": config["APP_URL"],
        "iat": issued,
        "exp": issued + ttl,
        "sub": str(user_id),
    }
    if kind == "access":
        claims["email"] = email
    claims.update(type=kind, version=int(version))
    if kind == "refresh":
        # Legacy refresh tokens were deterministic per second and collided; a nonce fixes that.
        claims["jti"] = secrets.token_hex(8)
    return jwt.encode(
        claims,
        _secret(kind),
        algorithm=config["JWT_ALGORITHM"],
        headers={"typ": "JWT", "alg": config["JWT_ALGORITHM"]},
        json_encoder=PHPJSONEncoder,
        sort_headers=False,
    )


def decode_token(token: str, kind: str) -> dict[str, Any]:
    """Verify signature (HS256 only), expiry, not-before, issued-at and the token type."""
    secret, algorithm = _secret(kind), current_app.config["JWT_ALGORITHM"]
    key = (token, kind, secret, algorithm)
    claims = _VERIFIED.get(key)
    if claims is None or not _times_still_valid(claims, time.time()):
        try:
            claims = jwt.decode(
                token,
                secret,
                algorithms=[algorithm],
                options={"verify_aud": False, "require": ["exp", "sub", "type"]},
                leeway=0,
            )
        except (jwt.PyJWTError, ValueError) as exc:
            _VERIFIED.pop(key, None)
            raise AuthFailure("invalid") from exc
        _remember(key, claims)
    if claims.get("type") != kind or int(claims.get("iat", 0)) > time.time() + 1:
        raise AuthFailure("invalid")
    return dict(claims)


# A worker sees the same token on every request of a session: its signature, structure and
# required claims were checked once (PyJWT's decode costs more than the account query); only the
# time rules can change, and they are re-checked on every use, exactly as PyJWT applies them.
_VERIFIED: dict[tuple[str, str, str, str], dict[str, Any]] = {}
VERIFIED_CACHE_SIZE = 4096


def _remember(key: tuple[str, str, str, str], claims: dict[str, Any]) -> None:
    if len(_VERIFIED) >= VERIFIED_CACHE_SIZE:
        _VERIFIED.clear()
    _VERIFIED[key] = claims


def _times_still_valid(claims: dict[str, Any], now: float) -> bool:
    """PyJWT's iat, nbf and exp rules (leeway 0) against the current time."""
    if "iat" in claims and int(claims["iat"]) > now:
        return False
    if "nbf" in claims and int(claims["nbf"]) > now:
        return False
    return not ("exp" in claims and int(claims["exp"]) <= now)


def token_pair(user: User) -> dict[str, Any]:
    return {
        "access_token": issue_token(user.id, user.email, "access", user.token_version),
        "refresh_token": issue_token(user.id, None, "refresh", user.token_version),
        "token_type": "Bearer",
        "expires_in": current_app.config["ACCESS_TOKEN_TTL"],
    }


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- passwords -------------------------------------------------------------------------------


def _bcrypt_bytes(password: str) -> bytes:
    return password.encode()[:BCRYPT_MAX_BYTES]


def hash_password(password: str) -> str:
    """`$2y$12$…`, the PHP spelling of the same algorithm, so both stacks verify it."""
    rounds = current_app.config.get("BCRYPT_ROUNDS", 12)
    hashed = bcrypt.hashpw(_bcrypt_bytes(password), bcrypt.gensalt(rounds=rounds)).decode()
    return "$2y$" + hashed[4:]


def verify_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith(("$2y$", "$2a$", "$2b$")):
        return False
    try:
        return bcrypt.checkpw(_bcrypt_bytes(password), ("$2b$" + stored[4:]).encode())
    except ValueError:
        return False


# --- authenticating a request ----------------------------------------------------------------


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


def member_of(project_id: Any) -> Select[Any]:
    """The project's row if `user_id` owns it or is a member; `project_id` is a bound parameter,
    or a column of an enclosing select (the subquery then correlates to that row)."""
    return select(PROJECTS.c.id).where(
        PROJECTS.c.id == project_id,
        (PROJECTS.c.owner_id == bindparam("user_id"))
        | exists().where(
            MEMBERS.c.project_id == PROJECTS.c.id,
            MEMBERS.c.user_id == bindparam("user_id"),
        ),
    )


MEMBER_PROJECT = member_of(bindparam("project_id"))
IS_MEMBER = exists(MEMBER_PROJECT)  # the same test as a column: needs `user_id`, `project_id`


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


def _mcp_caller(token: str) -> Caller:
    found = db.session.execute(
        select(
            McpClientToken.id,
            McpClientToken.project_id,
            McpClientToken.last_validated_at,
            Project.owner_id,
            User.is_active,
        )
        .join(Project, Project.id == McpClientToken.project_id)
        .join(User, User.id == Project.owner_id)
        .where(McpClientToken.token_hash == sha256_hex(token), McpClientToken.is_active == 1)
    ).first()
    if found is None:
        raise AuthFailure("invalid")
    if not found.is_active:
        raise AuthFailure("disabled")
    touch_mcp_token(found.id, found.last_validated_at)
    return Caller(
        user_id=found.owner_id,
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


# --- authorisation ---------------------------------------------------------------------------


def is_member(user_id: str, project_id: str) -> bool:
    params = {"user_id": user_id, "project_id": project_id}
    return db.session.execute(MEMBER_PROJECT, params).first() is not None


def may_reach(caller: Caller | None, project_id: str | None) -> bool:
    """What is decided without the database: a caller, a project, and an MCP token's own one."""
    if caller is None or not project_id:
        return False
    return caller.mcp_project_id is None or caller.mcp_project_id == project_id


def can_access(caller: Caller | None, project_id: str | None) -> bool:
    """Owner or member; an MCP token only ever reaches its own project."""
    if not may_reach(caller, project_id):
        return False
    return is_member(caller.user_id, project_id)  # type: ignore[union-attr]


def require_access(call: Call, project_id: str | None, error: GatewayError | None = None) -> None:
    if not can_access(call.user, project_id):
        raise error or Forbidden()


def caller_id(call: Call) -> str:
    """The `user_id` parameter of a statement that tests membership (`member_of`) as a column."""
    return call.user.user_id if call.user else ""


def require_read_access(call: Call, project_id: str | None, member: bool) -> None:
    """`require_access` when the membership test came as a column of the caller's own statement."""
    if not (member and may_reach(call.user, project_id)):
        raise Forbidden()


def require_operator(call: Call) -> None:
    """Operator acts (`metrics`, `cutover_report`): METRICS_TOKEN when set, else any user token."""
    expected = current_app.config.get("METRICS_TOKEN")
    if expected:
        if not hmac.compare_digest((call.token or "").encode(), expected.encode()):
            raise NotAuthenticated()
    elif call.user is None:
        raise NotAuthenticated()
