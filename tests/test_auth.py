"""Legacy-compatible tokens and the one strict check, seen through the `profile` act."""

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from flask import Flask

from backend.auth.passwords import hash_password, verify_password
from backend.auth.tokens import issue_token
from backend.db import db
from backend.models import User
from tests.conftest import ACCESS_SECRET, REFRESH_SECRET
from tests.factories import Factory

LARAVEL_PASSWORD_HASH = "$2y$10$92IXUNpkjO0rOQ5byMi.Ye4oKoEa3Ro9llC/.og/at2.uheWG/igi"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def php_jwt(
    claims: dict[str, Any],
    secret: str,
    header: str = '{"typ":"JWT","alg":"HS256"}',
    digest: Any = hashlib.sha256,
) -> str:
    """What firebase/php-jwt writes: PHP json_encode (slashes escaped), HS256 by default."""
    payload = json.dumps(claims, separators=(",", ":")).replace("/", "\\/")
    signing_input = f"{b64(header.encode())}.{b64(payload.encode())}"
    signature = hmac.new(secret.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64(signature)}"


def legacy_claims(user: User, **overrides: Any) -> dict[str, Any]:
    issued = int(time.time())
    claims = {
        "iss": "GASSAPI",
        "aud": "http://localhost/gassapi2",
        "iat": issued,
        "exp": issued + 900,
        "sub": user.id,
        "email": user.email,
        "type": "access",
        "version": user.token_version,
    }
    return {**claims, **overrides}


def profile(call_act: Any, token: str | None) -> Any:
    return call_act("profile", "GET", token=token)


def test_legacy_minted_access_token_authenticates(make: Factory, call_act: Any) -> None:
    user = make.user()
    response = profile(call_act, php_jwt(legacy_claims(user), ACCESS_SECRET))
    assert response.status_code == 200
    assert response.json["data"]["user"]["id"] == user.id


def test_issued_access_token_is_byte_identical_to_php_one(app: Flask, make: Factory) -> None:
    user = make.user()
    with app.app_context():
        token = issue_token(user.id, user.email, "access", 0)
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert list(payload) == ["iss", "aud", "iat", "exp", "sub", "email", "type", "version"]
    assert token == php_jwt(payload, ACCESS_SECRET)


def test_user_object_never_contains_secrets(make: Factory, call_act: Any) -> None:
    user = make.user()
    body = profile(call_act, make.token(user)).json["data"]["user"]
    assert "password_hash" not in body
    assert "password_reset_token" not in body
    assert "password_reset_token_expires_at" not in body
    assert body["is_active"] == 1


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda u: php_jwt(legacy_claims(u), "wrong-key-" * 4), id="bad-signature"),
        pytest.param(
            lambda u: (
                php_jwt(legacy_claims(u), ACCESS_SECRET, '{"typ":"JWT","alg":"none"}').rsplit(
                    ".", 1
                )[0]
                + "."
            ),
            id="alg-none",
        ),
        pytest.param(
            lambda u: php_jwt(
                legacy_claims(u), ACCESS_SECRET, '{"typ":"JWT","alg":"HS512"}', hashlib.sha512
            ),
            id="other-algorithm",
        ),
        pytest.param(
            lambda u: php_jwt(legacy_claims(u, type="refresh"), REFRESH_SECRET), id="refresh-type"
        ),
        pytest.param(
            lambda u: php_jwt(legacy_claims(u, type="refresh"), ACCESS_SECRET),
            id="refresh-as-access",
        ),
        pytest.param(
            lambda u: php_jwt(legacy_claims(u, exp=int(time.time()) - 1), ACCESS_SECRET),
            id="expired",
        ),
        pytest.param(
            lambda u: php_jwt(legacy_claims(u, iat=int(time.time()) + 3600), ACCESS_SECRET),
            id="issued-in-future",
        ),
        pytest.param(lambda u: "not.a.jwt", id="garbage"),
    ],
)
def test_bad_tokens_are_refused(make: Factory, call_act: Any, mutate: Any) -> None:
    user = make.user()
    response = profile(call_act, mutate(user))
    assert response.status_code == 401
    assert response.json["message"] == "Authentication failed: Invalid or expired access token"


def test_missing_token_uses_the_act_specific_message(call_act: Any) -> None:
    response = profile(call_act, None)
    assert response.status_code == 401
    assert response.json["message"] == "Authentication failed: No access token provided"


def test_old_token_version_is_refused(make: Factory, call_act: Any) -> None:
    user = make.user(token_version=3)
    response = profile(call_act, php_jwt(legacy_claims(user, version=2), ACCESS_SECRET))
    assert response.status_code == 401
    assert response.json["message"] == "Authentication failed: Token has been invalidated"


def test_inactive_user_is_refused(make: Factory, call_act: Any) -> None:
    user = make.user(is_active=0)
    response = profile(call_act, make.token(user))
    assert response.status_code == 403
    assert response.json["message"] == "Access denied: User account is disabled"


def test_deleted_user_is_refused(app: Flask, make: Factory, call_act: Any) -> None:
    user = make.user()
    token = make.token(user)
    with app.app_context():
        db.session.delete(db.session.get(User, user.id))
        db.session.commit()
    response = profile(call_act, token)
    assert response.status_code == 401
    assert response.json["message"] == "User not found"


def test_token_in_query_string_works_for_strict_acts(make: Factory, client: Any) -> None:
    user = make.user()
    response = client.get("/", query_string={"act": "profile", "token": make.token(user)})
    assert response.status_code == 200


def test_mcp_token_is_not_a_user_token(make: Factory, call_act: Any) -> None:
    owner = make.user()
    token = make.mcp_token(make.project(owner))
    assert profile(call_act, token).status_code == 401


def test_bearer_prefix_is_case_insensitive(make: Factory, client: Any) -> None:
    user = make.user()
    response = client.get(
        "/?act=profile", headers={"Authorization": f"bearer   {make.token(user)}"}
    )
    assert response.status_code == 200


def test_php_bcrypt_hash_verifies() -> None:
    assert verify_password("password", LARAVEL_PASSWORD_HASH)
    assert not verify_password("Password", LARAVEL_PASSWORD_HASH)


def test_new_hashes_use_the_php_prefix_and_verify(app: Flask) -> None:
    with app.app_context():
        hashed = hash_password("Secret123")
    assert hashed.startswith("$2y$04$")
    assert verify_password("Secret123", hashed)


def test_passwords_longer_than_72_bytes_verify_like_php(app: Flask) -> None:
    with app.app_context():
        hashed = hash_password("A1" + "x" * 100)
    assert verify_password("A1" + "x" * 70 + "different tail", hashed)
