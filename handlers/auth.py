"""Auth acts: login, register, logout, refresh, logout-all, change-/forgot-/reset-password.

Refresh tokens are stored as sha256 and are one-time: a refresh consumes its row with one
conditional UPDATE, so of N concurrent uses exactly one wins. Revoking sessions bumps
`users.token_version` once, in SQL, which kills every access token already issued.
"""

import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from backend.auth.callers import AuthPolicy
from backend.auth.passwords import hash_password, verify_password
from backend.auth.tokens import AuthFailure, decode_token, sha256_hex, token_pair
from backend.core.call import Call, Reply
from backend.core.errors import BadRequest, Conflict, NotAuthenticated
from backend.core.registry import action
from backend.db import db
from backend.legacy import validators
from backend.legacy.clock import now
from backend.legacy.ids import new_id
from backend.legacy.wire import format_datetime
from backend.models import REFRESH_TOKENS, USERS, User
from schemas.auth import (
    ChangePasswordIn,
    ForgotPasswordIn,
    LoginIn,
    LoginOut,
    LogoutIn,
    RefreshIn,
    RegisterIn,
    ResetPasswordIn,
)
from services import mcp_tokens
from services.accounts import PROFILE_AUTH, load_user, user_object
from services.credentials import find_user_by_email, password_login, stamp_login

LOGOUT_ALL_AUTH = AuthPolicy(
    mcp=False,
    query_token=True,
    missing="No access token provided",
    invalid="Invalid access token",
)
RESET_TOKEN_TTL = timedelta(hours=1)
REGISTERED = "User registered successfully"
LOGGED_OUT = "Logout successful"
LOGGED_OUT_EVERYWHERE = "Logged out from all devices"
PASSWORD_CHANGED = "Password changed successfully"
RESET_DONE = "Password has been reset successfully. Please login with your new password."
RESET_SENT = "If the email exists in our system, a password reset link has been sent."


# --- sessions --------------------------------------------------------------------------------


def start_session(user: User) -> dict[str, Any]:
    """A new token pair; its refresh token is stored (hashed) for one later use."""
    pair = token_pair(user)
    stamp = now()
    db.session.execute(
        insert(REFRESH_TOKENS).values(
            id=new_id("rt"),
            token_hash=sha256_hex(pair["refresh_token"]),
            user_id=user.id,
            expires_at=stamp + timedelta(seconds=current_app.config["REFRESH_TOKEN_TTL"]),
            created_at=stamp,
            is_active=1,
        )
    )
    return pair


def end_all_sessions(call: Call, user_id: str, **changes: Any) -> int:
    """Bump token_version once (atomically), apply `changes`, drop every refresh token and
    revoke every MCP token the user minted (audited). Returns the new token_version.
    """
    db.session.execute(
        update(USERS)
        .where(USERS.c.id == user_id)
        .values(token_version=USERS.c.token_version + 1, **changes)
    )
    db.session.execute(
        update(REFRESH_TOKENS)
        .where(REFRESH_TOKENS.c.user_id == user_id, REFRESH_TOKENS.c.is_active == 1)
        .values(is_active=0)
    )
    mcp_tokens.revoke_where(call, mcp_tokens.minted_by(user_id), "sessions_ended")
    query = select(USERS.c.token_version).where(USERS.c.id == user_id)
    return db.session.execute(query).scalar_one()


# --- login, register, logout -----------------------------------------------------------------


@action(
    "/login",
    methods=("POST",),
    acts=("login",),
    schema=LoginIn,
    summary="Log in",
    out=LoginOut,
    errors=(401, 403, 429),
)
def login(call: Call) -> Reply:
    data = call.body()
    user = password_login(call, data["email"], data["password"])
    body = {**start_session(user), "user": user_object(user)}  # read before the stamp (legacy)
    stamp_login(user.id)
    return Reply(body, "Login successful")


def create_user(email: str, name: str, password: str) -> User:
    stamp = now()
    user = User(
        id=new_id("user"),
        email=email,
        password_hash=hash_password(password),
        name=name,
        avatar_url=None,
        is_active=1,
        email_verified=0,
        password_reset_token=None,
        password_reset_token_expires_at=None,
        token_version=0,
        last_login_at=None,
        created_at=stamp,
        updated_at=stamp,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError as exc:  # a concurrent registration of the same address
        raise Conflict("User already exists") from exc
    return user


@action(
    "/register",
    methods=("POST",),
    acts=("register",),
    schema=RegisterIn,
    summary="Create an account (also logs in: the web app expects the tokens)",
    errors=(409,),
)
def register(call: Call) -> Reply:
    data = call.body()
    if find_user_by_email(data["email"]) is not None:
        raise Conflict("User already exists")
    user = create_user(data["email"], data["name"], data["password"])
    body = {"user": user_object(user), "message": REGISTERED, **start_session(user)}
    return Reply(body, REGISTERED, 201)


@action(
    "/logout",
    methods=("POST",),
    acts=("logout",),
    schema=LogoutIn,
    summary="Drop the given refresh token; never fails",
)
def logout(call: Call) -> Reply:
    token = call.body().get("refresh_token")
    if isinstance(token, str) and token:
        db.session.execute(
            update(REFRESH_TOKENS)
            .where(REFRESH_TOKENS.c.token_hash == sha256_hex(token))
            .values(is_active=0)
        )
    return Reply({"message": LOGGED_OUT}, LOGGED_OUT)


@action(
    "/logout-all",
    methods=("POST",),
    acts=("logout-all", "logout_all"),
    auth=LOGOUT_ALL_AUTH,
    summary="Revoke every token of the caller",
)
def logout_all(call: Call) -> Reply:
    end_all_sessions(call, call.user.user_id)
    return Reply({"message": LOGGED_OUT_EVERYWHERE}, LOGGED_OUT_EVERYWHERE)


# --- refresh ---------------------------------------------------------------------------------


def refresh_claims(token: str) -> dict[str, Any]:
    try:
        return decode_token(token, "refresh")
    except AuthFailure:
        raise NotAuthenticated("Invalid refresh token") from None


def consume_refresh_token(token: str) -> None:
    """One conditional UPDATE: of concurrent uses of one token, exactly one matches."""
    consumed = db.session.execute(
        update(REFRESH_TOKENS)
        .where(
            REFRESH_TOKENS.c.token_hash == sha256_hex(token),
            REFRESH_TOKENS.c.is_active == 1,
            REFRESH_TOKENS.c.expires_at > now(),
        )
        .values(is_active=0)
    )
    if consumed.rowcount != 1:
        raise NotAuthenticated("Refresh token not found or expired")


def refreshing_user(claims: dict[str, Any]) -> User:
    user = db.session.get(User, str(claims["sub"]))
    if user is None or not user.is_active:
        raise NotAuthenticated("User not found or inactive")
    version = claims.get("version")
    if not isinstance(version, int) or version != user.token_version:
        raise NotAuthenticated("Refresh token has been invalidated")
    return user


@action(
    "/refresh",
    methods=("POST",),
    acts=("refresh",),
    schema=RefreshIn,
    summary="Trade a refresh token (one use) for a new token pair",
    errors=(401,),
)
def refresh(call: Call) -> Reply:
    token = call.body()["refresh_token"]
    claims = refresh_claims(token)
    consume_refresh_token(token)
    user = refreshing_user(claims)
    pair = start_session(user)
    # `tokens` is the legacy shape; the same pair flat under `data` is what the web app reads.
    body = {"tokens": pair, "user": user_object(user), **pair}
    return Reply(body, "Token refreshed successfully")


# --- passwords -------------------------------------------------------------------------------


@action(
    "/change-password",
    methods=("POST",),
    acts=("change-password", "change_password"),
    auth=PROFILE_AUTH,
    schema=ChangePasswordIn,
    summary="Change the caller's password and revoke every session",
)
def change_password(call: Call) -> Reply:
    data = call.body()  # before the 404
    current, new = data["current_password"], data["new_password"]
    user = load_user(call.user.user_id)
    if not verify_password(current, user.password_hash):
        raise BadRequest("Current password is incorrect")
    if new == current:
        unchanged = {"requires_reauth": False, "password_changed": False}
        return Reply({"message": PASSWORD_CHANGED, **unchanged}, PASSWORD_CHANGED)
    validators.new_password(new)
    version = end_all_sessions(call, user.id, password_hash=hash_password(new), updated_at=now())
    body = {
        "message": PASSWORD_CHANGED,
        "requires_reauth": True,
        "password_changed": True,
        "old_token_version": version - 1,
        "new_token_version": version,
    }
    return Reply(body, PASSWORD_CHANGED)


def echoes_reset_token() -> bool:
    """Only the test suite's configuration sets this; no environment variable can (an echoed
    token is an account takeover for whoever asks)."""
    return bool(current_app.config.get("RESET_TOKEN_IN_RESPONSE"))


def issue_reset_token(user_id: str) -> tuple[str, datetime]:
    """A 64-hex token; only its sha256 is stored."""
    token, expires = secrets.token_hex(32), now() + RESET_TOKEN_TTL
    db.session.execute(
        update(USERS)
        .where(USERS.c.id == user_id)
        .values(password_reset_token=sha256_hex(token), password_reset_token_expires_at=expires)
    )
    return token, expires


@action(
    "/forgot-password",
    methods=("POST",),
    acts=("forgot-password",),
    schema=ForgotPasswordIn,
    summary="Start a password reset",
)
def forgot_password(call: Call) -> Reply:
    user = find_user_by_email(call.body()["email"])
    body: dict[str, Any] = {"message": RESET_SENT}
    if user is not None and user.is_active:
        token, expires = issue_reset_token(user.id)
        if echoes_reset_token():
            body = {
                "message": "Password reset token generated (development mode)",
                "reset_token": token,
                "reset_token_expires_at": format_datetime(expires),
            }
    return Reply(body, "Password reset instructions sent to email")


def reset_token_owner(token_hash: str) -> User:
    query = select(User).where(
        User.password_reset_token == token_hash, User.password_reset_token_expires_at > now()
    )
    user = db.session.execute(query).scalar_one_or_none()
    if user is None:
        raise BadRequest("Invalid or expired reset token")
    return user


@action(
    "/reset-password",
    methods=("POST",),
    acts=("reset-password",),
    schema=ResetPasswordIn,
    summary="Set a new password with a reset token (single use)",
)
def reset_password(call: Call) -> Reply:
    data = call.body()
    token_hash = sha256_hex(data["token"])
    user = reset_token_owner(token_hash)
    if user.email.lower() != data["email"]:
        raise BadRequest("Email does not match reset token")
    claimed = db.session.execute(
        update(USERS)
        .where(USERS.c.id == user.id, USERS.c.password_reset_token == token_hash)
        .values(password_reset_token=None, password_reset_token_expires_at=None)
    )
    if claimed.rowcount != 1:  # a concurrent reset used the token first
        raise BadRequest("Invalid or expired reset token")
    new_password = hash_password(data["new_password"])
    end_all_sessions(call, user.id, password_hash=new_password, updated_at=now())
    return Reply({"message": RESET_DONE}, "Password reset successfully")
