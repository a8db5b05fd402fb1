"""Legacy-compatible tokens: HS256 JWTs byte-identical to the PHP ones, sha256 token hashes."""

import hashlib
import json
import re
import secrets
import time
from typing import Any

import jwt
from flask import current_app

from backend.models import User

# RFC 6750 §2.1: the scheme first (any case), one or more spaces, exactly one token.
BEARER = re.compile(r"Bearer +(\S+)", re.IGNORECASE)


class PHPJSONEncoder(json.JSONEncoder):
    """Encode like PHP's json_encode (`/` escaped) so our JWTs are byte-identical to legacy ones."""

    def encode(self, o: Any) -> str:
        return super().encode(o).replace("/", "\\/")


class AuthFailure(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def bearer_token(header: str | None) -> str | None:
    match = BEARER.fullmatch((header or "").strip())
    return match.group(1) if match else None


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
