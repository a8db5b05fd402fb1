"""Auth acts: login, register, logout, refresh, logout-all, change/forgot/reset-password."""

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from backend import create_app
from backend.db import db
from backend.legacy.clock import now
from backend.models import RefreshToken, User
from tests.conftest import ACCESS_SECRET, REFRESH_SECRET, gateway_config
from tests.factories import PASSWORD, Factory

NEW_PASSWORD = "Fresh456Pass"
TOKEN_KEYS = ["access_token", "refresh_token", "token_type", "expires_in"]


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def legacy_jwt(claims: dict[str, Any], secret: str) -> str:
    """A token as firebase/php-jwt wrote it for the legacy server."""
    header = b64(b'{"typ":"JWT","alg":"HS256"}')
    payload = b64(json.dumps(claims, separators=(",", ":")).replace("/", "\\/").encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{b64(signature.digest())}"


def legacy_claims(user: User, kind: str = "access", **overrides: Any) -> dict[str, Any]:
    issued = int(time.time())
    claims: dict[str, Any] = {
        "iss": "GASSAPI",
        "aud": "localhost",
        "iat": issued,
        "exp": issued + (900 if kind == "access" else 604800),
        "sub": user.id,
    }
    if kind == "access":
        claims["email"] = user.email
    return {**claims, "type": kind, "version": user.token_version, **overrides}


def post(call_act: Callable[..., Any], act: str, body: Any) -> Any:
    return call_act(act, "POST", json=body)


def login(call_act: Callable[..., Any], email: str, password: str = PASSWORD) -> Any:
    return post(call_act, "login", {"email": email, "password": password})


def tokens_of(call_act: Callable[..., Any], user: User, password: str = PASSWORD) -> dict[str, Any]:
    response = login(call_act, user.email, password)
    assert response.status_code == 200, response.json
    return response.json["data"]


def profile_status(call_act: Callable[..., Any], token: str) -> int:
    return call_act("profile", "GET", token=token).status_code


# --- login -----------------------------------------------------------------------------------


def test_login_returns_the_token_pair_flat_with_the_user(make: Factory, call_act: Any) -> None:
    user = make.user()
    response = login(call_act, user.email)
    assert response.status_code == 200
    assert response.json["message"] == "Login successful"
    data = response.json["data"]
    assert list(data) == [*TOKEN_KEYS, "user"]
    assert data["token_type"] == "Bearer"
    assert data["expires_in"] == 900
    assert data["user"]["id"] == user.id
    assert data["user"]["email"] == user.email
    assert "password_hash" not in data["user"]
    assert "password_reset_token" not in data["user"]
    assert profile_status(call_act, data["access_token"]) == 200


def test_login_lower_cases_the_email(make: Factory, call_act: Any) -> None:
    user = make.user(email="mixed.case@example.com")
    assert login(call_act, "Mixed.Case@Example.COM").status_code == 200
    assert user.email == "mixed.case@example.com"


def test_login_answers_the_user_as_read_before_this_login(make: Factory, call_act: Any) -> None:
    user = make.user()
    assert tokens_of(call_act, user)["user"]["last_login_at"] is None
    assert tokens_of(call_act, user)["user"]["last_login_at"] is not None


def test_two_logins_in_the_same_second_both_work(make: Factory, call_act: Any) -> None:
    user = make.user()
    first, second = tokens_of(call_act, user), tokens_of(call_act, user)
    assert first["refresh_token"] != second["refresh_token"]
    for pair in (first, second):
        assert (
            post(call_act, "refresh", {"refresh_token": pair["refresh_token"]}).status_code == 200
        )


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "Invalid request: Required field: Email, Required field: Password"),
        ({"email": "", "password": None}, 400, "Invalid request: Required field: Email, "
         "Required field: Password"),
        ({"email": "a@example.com"}, 400, "Invalid request: Required field: Password"),
        ({"email": "not-an-email", "password": "x"}, 400, "Invalid email format"),
        ({"email": " a@example.com", "password": PASSWORD}, 400, "Invalid email format"),
        ({"email": "a@example.com", "password": "0"}, 400, "Invalid request: Password is required"),
        ({"email": "a@example.com", "password": "Ab1"}, 400,
         "Invalid request: Password should be at least 8 characters"),
        ({"email": "a@example.com", "password": "Ab1" * 43}, 400,
         "Invalid request: Password too long (max 128 characters)"),
        ({"email": "a@example.com", "password": "alllowercase1"}, 400,
         "Invalid request: Password must contain uppercase, lowercase, and numbers"),
        ({"email": "nobody@example.com", "password": PASSWORD}, 401,
         "Authentication failed: Invalid credentials"),
        ({"email": "a@example.com", "password": "Wrong1234"}, 401,
         "Authentication failed: Invalid credentials"),
    ],
)  # fmt: skip
def test_login_refuses_bad_input(
    make: Factory, call_act: Any, body: dict[str, Any], status: int, message: str
) -> None:
    make.user(email="a@example.com")
    response = post(call_act, "login", body)
    assert (response.status_code, response.json["message"]) == (status, message)


def test_login_checks_password_rules_before_looking_the_user_up(
    make: Factory, call_act: Any
) -> None:
    user = make.user(password="password")
    response = login(call_act, user.email, "password")
    assert response.status_code == 400
    assert response.json["message"] == (
        "Invalid request: Password must contain uppercase, lowercase, and numbers"
    )


def test_login_of_a_disabled_account_is_refused_after_the_password(
    make: Factory, call_act: Any
) -> None:
    user = make.user(is_active=0)
    assert login(call_act, user.email, "Wrong1234").status_code == 401
    response = login(call_act, user.email)
    assert response.status_code == 403
    assert response.json["message"] == "Access denied: Account is disabled"


@pytest.mark.parametrize(
    "act", ["login", "register", "logout", "refresh", "forgot-password", "reset-password"]
)
def test_body_acts_refuse_invalid_json(call_act: Any, act: str) -> None:
    response = call_act(act, "POST", data="{broken")
    assert response.status_code == 400
    assert response.json["message"] == "Invalid request: Invalid JSON format"


def test_oversized_body_is_413(call_act: Any) -> None:
    body = json.dumps({"email": "a@example.com", "password": "x" * 1_100_000})
    response = call_act("login", "POST", data=body)
    assert response.status_code == 413
    assert response.json["message"] == "Input too large"


@pytest.mark.parametrize("act", ["login", "register", "refresh", "logout-all", "change-password"])
def test_auth_acts_answer_only_post(make: Factory, call_act: Any, act: str) -> None:
    response = call_act(act, "GET", token=make.token(make.user()))
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Route not found"


# --- register --------------------------------------------------------------------------------


def register(call_act: Callable[..., Any], **fields: Any) -> Any:
    body = {"email": "new@example.com", "name": "New User", "password": PASSWORD, **fields}
    return post(call_act, "register", body)


def test_register_creates_the_user_and_logs_them_in(call_act: Any) -> None:
    response = register(call_act, email="New.Person@Example.com", name="O'Brien & Co")
    assert response.status_code == 201
    assert response.json["message"] == "User registered successfully"
    data = response.json["data"]
    assert list(data) == ["user", "message", *TOKEN_KEYS]
    assert data["message"] == "User registered successfully"
    assert data["user"]["email"] == "new.person@example.com"
    assert data["user"]["name"] == "O'Brien & Co"
    assert data["user"]["is_active"] == 1
    assert "password_hash" not in data["user"]
    assert profile_status(call_act, data["access_token"]) == 200
    assert post(call_act, "refresh", {"refresh_token": data["refresh_token"]}).status_code == 200
    assert login(call_act, "new.person@example.com").status_code == 200


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": None, "name": "", "password": None},
         "Invalid request: Required field: Email, Required field: Name, Required field: Password"),
        ({"name": None}, "Invalid request: Required field: Name"),
        ({"email": "bad@", "name": "a"}, "Invalid email format"),
        ({"email": "a<b>@example.com"}, "Invalid email format"),
        ({"name": "a"}, "Invalid request: Name must be at least 2 characters"),
        ({"name": "   "}, "Invalid request: Name must be at least 2 characters"),
        ({"name": "0"}, "Invalid request: Name is required"),
        ({"name": "x" * 101}, "Invalid request: Input too long (max 100 characters)"),
        ({"name": "<script>alert(1)</script>"}, "Invalid request: Input contains invalid content"),
        ({"name": "a", "password": "short"}, "Invalid request: Name must be at least 2 characters"),
        ({"password": "short"}, "Invalid request: Password should be at least 8 characters"),
        ({"password": "NoDigitsHere"},
         "Invalid request: Password must contain uppercase, lowercase, and numbers"),
    ],
)  # fmt: skip
def test_register_refuses_bad_input_and_leaves_no_user(
    call_act: Any, fields: dict[str, Any], message: str
) -> None:
    response = register(call_act, **fields)
    assert (response.status_code, response.json["message"]) == (400, message)
    assert register(call_act).status_code == 201


def test_register_accepts_text_the_legacy_mangled(call_act: Any) -> None:
    response = register(call_act, name="Tom &amp; Jerry, see https://example.com")
    assert response.status_code == 201
    assert response.json["data"]["user"]["name"] == "Tom &amp; Jerry, see https://example.com"


@pytest.mark.parametrize("email", ["taken@example.com", "Taken@Example.com"])
def test_register_with_a_used_email_is_409(make: Factory, call_act: Any, email: str) -> None:
    make.user(email="taken@example.com")
    response = register(call_act, email=email)
    assert response.status_code == 409
    assert response.json["message"] == "User already exists"


# --- logout ----------------------------------------------------------------------------------


def test_logout_without_body_or_token_succeeds(call_act: Any) -> None:
    response = call_act("logout", "POST")
    assert response.status_code == 200
    assert response.json["message"] == "Logout successful"
    assert response.json["data"] == {"message": "Logout successful"}


@pytest.mark.parametrize("token", ["unknown", "", 42, None, ["x"]])
def test_logout_never_fails_on_a_bad_refresh_token(call_act: Any, token: Any) -> None:
    assert post(call_act, "logout", {"refresh_token": token}).status_code == 200


def test_logout_ends_the_given_refresh_token(make: Factory, call_act: Any) -> None:
    pair = tokens_of(call_act, make.user())
    assert post(call_act, "logout", {"refresh_token": pair["refresh_token"]}).status_code == 200
    response = post(call_act, "refresh", {"refresh_token": pair["refresh_token"]})
    assert response.status_code == 401
    assert response.json["message"] == "Authentication failed: Refresh token not found or expired"


def test_logout_with_a_bearer_token_does_not_revoke_it(make: Factory, call_act: Any) -> None:
    pair = tokens_of(call_act, make.user())
    assert call_act("logout", "POST", token=pair["access_token"]).status_code == 200
    assert profile_status(call_act, pair["access_token"]) == 200


# --- refresh ---------------------------------------------------------------------------------


def refresh(call_act: Callable[..., Any], token: Any) -> Any:
    return post(call_act, "refresh", {"refresh_token": token})


def test_refresh_returns_the_new_pair_nested_and_flat(make: Factory, call_act: Any) -> None:
    user = make.user()
    response = refresh(call_act, tokens_of(call_act, user)["refresh_token"])
    assert response.status_code == 200
    assert response.json["message"] == "Token refreshed successfully"
    data = response.json["data"]
    assert list(data) == ["tokens", "user", *TOKEN_KEYS]
    assert list(data["tokens"]) == TOKEN_KEYS
    for key in TOKEN_KEYS:
        assert data[key] == data["tokens"][key]
    assert data["user"]["id"] == user.id
    assert "password_reset_token" not in data["user"]
    assert profile_status(call_act, data["access_token"]) == 200


def test_each_returned_refresh_token_works_once(make: Factory, call_act: Any) -> None:
    first = tokens_of(call_act, make.user())["refresh_token"]
    second = refresh(call_act, first).json["data"]["refresh_token"]
    third = refresh(call_act, second).json["data"]["refresh_token"]
    assert refresh(call_act, third).status_code == 200
    for used in (first, second, third):
        response = refresh(call_act, used)
        assert response.status_code == 401
        assert response.json["message"] == (
            "Authentication failed: Refresh token not found or expired"
        )


def test_refresh_tokens_are_stored_only_as_sha256(app: Flask, make: Factory, call_act: Any) -> None:
    user = make.user()
    token = tokens_of(call_act, user)["refresh_token"]
    with app.app_context():
        stored = db.session.execute(
            select(RefreshToken.token_hash).where(RefreshToken.user_id == user.id)
        ).scalar_one()
    assert stored == hashlib.sha256(token.encode()).hexdigest()


def shaped(length: int) -> str:
    part = "a" * (length // 3)
    return f"{part}.{part}.{part}"


@pytest.mark.parametrize(
    ("token", "status", "message"),
    [
        (None, 400, "Invalid request: Required field: Refresh token"),
        ("", 400, "Invalid request: Required field: Refresh token"),
        (12345, 400, "Invalid request: Invalid refresh token format"),
        ("short.to.ken", 400, "Invalid request: Invalid refresh token format"),
        ("x" * 40, 400, "Invalid request: Invalid refresh token format"),
        ("aaaaaaaaaaaa.bbbbbbbbbbbb.cccccccc+/==", 400,
         "Invalid request: Invalid refresh token format"),
        ("aaaaaaaaaaaaa.bbbbbbbbbbbb.cccccccccccc", 400,
         "Invalid request: Invalid refresh token format"),
        (shaped(48), 401, "Authentication failed: Invalid refresh token"),
    ],
)  # fmt: skip
def test_refresh_refuses_malformed_tokens(
    call_act: Any, token: Any, status: int, message: str
) -> None:
    response = refresh(call_act, token)
    assert (response.status_code, response.json["message"]) == (status, message)


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda u: legacy_jwt(legacy_claims(u, "access"), ACCESS_SECRET), id="access"),
        pytest.param(lambda u: legacy_jwt(legacy_claims(u, "refresh"), "x" * 40), id="bad-key"),
        pytest.param(
            lambda u: legacy_jwt(
                legacy_claims(u, "refresh", exp=int(time.time()) - 1), REFRESH_SECRET
            ),
            id="expired",
        ),
    ],
)  # fmt: skip
def test_refresh_refuses_tokens_that_are_not_valid_refresh_jwts(
    make: Factory, call_act: Any, forge: Callable[[User], str]
) -> None:
    response = refresh(call_act, forge(make.user()))
    assert response.status_code == 401
    assert response.json["message"] == "Authentication failed: Invalid refresh token"


def test_refresh_refuses_a_valid_jwt_that_was_never_issued(make: Factory, call_act: Any) -> None:
    token = legacy_jwt(legacy_claims(make.user(), "refresh"), REFRESH_SECRET)
    response = refresh(call_act, token)
    assert response.status_code == 401
    assert response.json["message"] == "Authentication failed: Refresh token not found or expired"


def test_refresh_refuses_an_expired_stored_token(app: Flask, make: Factory, call_act: Any) -> None:
    user = make.user()
    token = tokens_of(call_act, user)["refresh_token"]
    with app.app_context():
        db.session.execute(update(RefreshToken).values(expires_at=now() - timedelta(seconds=1)))
        db.session.commit()
    response = refresh(call_act, token)
    assert response.status_code == 401
    assert response.json["message"] == "Authentication failed: Refresh token not found or expired"


def set_user(app: Flask, user: User, **values: Any) -> None:
    with app.app_context():
        db.session.execute(update(User).where(User.id == user.id).values(**values))
        db.session.commit()


def test_refresh_for_a_disabled_user_is_refused(app: Flask, make: Factory, call_act: Any) -> None:
    user = make.user()
    token = tokens_of(call_act, user)["refresh_token"]
    set_user(app, user, is_active=0)
    response = refresh(call_act, token)
    assert response.status_code == 401
    assert response.json["message"] == "Authentication failed: User not found or inactive"


def test_refresh_at_an_old_token_version_is_refused(
    app: Flask, make: Factory, call_act: Any
) -> None:
    user = make.user()
    token = tokens_of(call_act, user)["refresh_token"]
    set_user(app, user, token_version=5)
    response = refresh(call_act, token)
    assert response.status_code == 401
    assert response.json["message"] == "Authentication failed: Refresh token has been invalidated"
    assert refresh(call_act, token).status_code == 401


def race(database_url: str, act: str, body: dict[str, Any], runners: int = 20) -> list[Any]:
    """POST the same act from `runners` threads at once, each with its own client."""
    racing = create_app(gateway_config(database_url, DB_POOL_SIZE=runners + 5, DB_MAX_OVERFLOW=0))
    start = threading.Barrier(runners)
    results: list[Any] = []

    def run() -> None:
        client = racing.test_client()
        start.wait()
        results.append(client.post(f"/?act={act}", json=body))

    threads = [threading.Thread(target=run) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with racing.app_context():
        db.engine.dispose()
    return results


def skip_on_sqlite(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("one shared in-memory SQLite connection cannot run requests concurrently")


def test_concurrent_refreshes_of_one_token_let_exactly_one_through(
    app: Flask, database_url: str, make: Factory, call_act: Any
) -> None:
    skip_on_sqlite(database_url)
    token = tokens_of(call_act, make.user())["refresh_token"]
    results = race(database_url, "refresh", {"refresh_token": token})
    assert sorted(response.status_code for response in results) == [200] + [401] * 19
    winner = next(r for r in results if r.status_code == 200)
    assert refresh(call_act, winner.json["data"]["refresh_token"]).status_code == 200


def test_concurrent_registrations_of_one_email_create_one_user(
    app: Flask, database_url: str, call_act: Any
) -> None:
    skip_on_sqlite(database_url)
    body = {"email": "race@example.com", "name": "Racer", "password": PASSWORD}
    results = race(database_url, "register", body, runners=10)
    assert sorted(response.status_code for response in results) == [201] + [409] * 9
    assert {r.json["message"] for r in results if r.status_code == 409} == {"User already exists"}
    assert login(call_act, "race@example.com").status_code == 200


# --- logout-all ------------------------------------------------------------------------------


def test_logout_all_answers_the_legacy_message(make: Factory, call_act: Any) -> None:
    response = call_act("logout-all", "POST", token=make.token(make.user()))
    assert response.status_code == 200
    assert response.json["message"] == "Logged out from all devices"
    assert response.json["data"] == {"message": "Logged out from all devices"}


@pytest.mark.parametrize(
    ("act", "method", "extra"),
    [
        ("profile", "GET", {}),
        ("users", "GET", {}),
        ("users_stats", "GET", {}),
        ("user", "GET", {"id": "self"}),
        ("user_update", "PUT", {"id": "self"}),
        ("logout-all", "POST", {}),
        ("change-password", "POST", {}),
        ("flow_toggle_active", "PUT", {"id": "flow"}),
    ],
)
@pytest.mark.parametrize("alias", ["logout-all", "logout_all"])
def test_legacy_token_stops_working_everywhere_after_logout_all(
    make: Factory, call_act: Any, alias: str, act: str, method: str, extra: dict[str, str]
) -> None:
    user = make.user()
    flow = make.flow(make.project(user))
    ids = {"self": user.id, "flow": flow.id}
    legacy_token = legacy_jwt(legacy_claims(user), ACCESS_SECRET)
    assert profile_status(call_act, legacy_token) == 200
    assert call_act(alias, "POST", token=legacy_token).status_code == 200
    query = {key: ids[value] for key, value in extra.items()}
    response = call_act(act, method, token=legacy_token, json={}, **query)
    assert response.status_code == 401
    assert response.json["message"] == "Authentication failed: Token has been invalidated"


def test_logout_all_ends_refresh_tokens_and_bumps_the_version_once(
    make: Factory, call_act: Any
) -> None:
    user = make.user()
    pairs = [tokens_of(call_act, user) for _ in range(2)]
    assert call_act("logout-all", "POST", token=pairs[0]["access_token"]).status_code == 200
    for pair in pairs:
        assert refresh(call_act, pair["refresh_token"]).status_code == 401
    assert "token_version" not in tokens_of(call_act, user)["user"]
    assert make.rows(User, id=user.id)[0]["token_version"] == 1


def test_logout_all_accepts_the_token_in_the_query_string(make: Factory, client: Any) -> None:
    token = make.token(make.user())
    response = client.post("/", query_string={"act": "logout-all", "token": token})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, "Authentication failed: No access token provided"),
        ("garbage", "Authentication failed: Invalid access token"),
    ],
)
def test_logout_all_without_a_valid_token_is_401(
    call_act: Any, token: str | None, message: str
) -> None:
    response = call_act("logout-all", "POST", token=token)
    assert (response.status_code, response.json["message"]) == (401, message)


def test_logout_all_refuses_an_mcp_token(make: Factory, call_act: Any) -> None:
    response = call_act("logout-all", "POST", token=make.mcp_token(make.project(make.user())))
    assert response.status_code == 401
    assert response.json["message"] == "Authentication failed: Invalid access token"


# --- change-password -------------------------------------------------------------------------


def change(
    call_act: Callable[..., Any], token: str | None, act: str = "change-password", **body: Any
) -> Any:
    return call_act(act, "POST", token=token, json=body)


def test_change_password_revokes_every_session(make: Factory, call_act: Any) -> None:
    user = make.user()
    pair = tokens_of(call_act, user)
    response = change(
        call_act, pair["access_token"], current_password=PASSWORD, new_password=NEW_PASSWORD
    )
    assert response.status_code == 200
    assert response.json["message"] == "Password changed successfully"
    assert response.json["data"] == {
        "message": "Password changed successfully",
        "requires_reauth": True,
        "password_changed": True,
        "old_token_version": 0,
        "new_token_version": 1,
    }
    assert profile_status(call_act, pair["access_token"]) == 401
    assert refresh(call_act, pair["refresh_token"]).status_code == 401
    assert login(call_act, user.email).status_code == 401
    assert tokens_of(call_act, user, NEW_PASSWORD)["user"]["id"] == user.id
    assert make.rows(User, id=user.id)[0]["token_version"] == 1


def test_change_password_alias_accepts_old_password(make: Factory, call_act: Any) -> None:
    user = make.user()
    response = change(
        call_act,
        make.token(user),
        act="change_password",
        old_password=PASSWORD,
        new_password=NEW_PASSWORD,
    )
    assert response.status_code == 200
    assert login(call_act, user.email, NEW_PASSWORD).status_code == 200


def test_change_password_to_the_same_password_changes_nothing(make: Factory, call_act: Any) -> None:
    user = make.user()
    token = make.token(user)
    response = change(call_act, token, current_password=PASSWORD, new_password=PASSWORD)
    assert response.status_code == 200
    assert response.json["data"] == {
        "message": "Password changed successfully",
        "requires_reauth": False,
        "password_changed": False,
    }
    assert profile_status(call_act, token) == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Invalid request: Required field: Current password, Required field: New password"),
        ({"current_password": PASSWORD}, "Invalid request: Required field: New password"),
        ({"current_password": "Wrong1234", "new_password": NEW_PASSWORD},
         "Current password is incorrect"),
        ({"current_password": PASSWORD, "new_password": "Ab1"},
         "Invalid request: New password must be at least 8 characters"),
        ({"current_password": PASSWORD, "new_password": "nouppercase1"},
         "Invalid request: New password must contain uppercase, lowercase, and numbers"),
    ],
)  # fmt: skip
def test_change_password_refuses_bad_input_and_keeps_the_password(
    make: Factory, call_act: Any, body: dict[str, Any], message: str
) -> None:
    user = make.user()
    token = make.token(user)
    response = change(call_act, token, **body)
    assert (response.status_code, response.json["message"]) == (400, message)
    assert profile_status(call_act, token) == 200
    assert login(call_act, user.email).status_code == 200


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, "Authentication failed: No access token provided"),
        ("garbage", "Authentication failed: Invalid or expired access token"),
    ],
)
def test_change_password_without_a_valid_token_is_401(
    call_act: Any, token: str | None, message: str
) -> None:
    response = change(call_act, token, current_password=PASSWORD, new_password=NEW_PASSWORD)
    assert (response.status_code, response.json["message"]) == (401, message)


# --- forgot-password / reset-password --------------------------------------------------------


def forgot(call_act: Callable[..., Any], email: Any) -> Any:
    return post(call_act, "forgot-password", {"email": email})


def reset_token(call_act: Callable[..., Any], user: User) -> str:
    return forgot(call_act, user.email).json["data"]["reset_token"]


def test_forgot_password_shows_the_token_to_the_test_suite(make: Factory, call_act: Any) -> None:
    response = forgot(call_act, make.user().email.upper())
    assert response.status_code == 200
    assert response.json["message"] == "Password reset instructions sent to email"
    data = response.json["data"]
    assert data["message"] == "Password reset token generated (development mode)"
    assert len(data["reset_token"]) == 64
    assert int(data["reset_token"], 16) >= 0
    assert len(data["reset_token_expires_at"]) == 19


@pytest.mark.parametrize("active", [0, 1])
def test_forgot_password_does_not_reveal_accounts_outside_the_test_suite(
    app: Flask, make: Factory, call_act: Any, active: int
) -> None:
    user = make.user(is_active=active)
    app.config["RESET_TOKEN_IN_RESPONSE"] = False
    for email in (user.email, "nobody@example.com"):
        response = forgot(call_act, email)
        assert response.status_code == 200
        assert response.json["data"] == {
            "message": "If the email exists in our system, a password reset link has been sent."
        }


@pytest.mark.parametrize("email", ["nobody@example.com", "disabled@example.com"])
def test_forgot_password_gives_no_token_for_unknown_or_disabled_users(
    make: Factory, call_act: Any, email: str
) -> None:
    make.user(email="disabled@example.com", is_active=0)
    response = forgot(call_act, email)
    assert response.status_code == 200
    assert "reset_token" not in response.json["data"]


def test_reset_token_is_stored_hashed_and_never_shown(
    app: Flask, make: Factory, call_act: Any
) -> None:
    user = make.user()
    token = reset_token(call_act, user)
    with app.app_context():
        stored = db.session.get(User, user.id).password_reset_token
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    shown = call_act("profile", "GET", token=make.token(user)).json["data"]["user"]
    assert "password_reset_token" not in shown
    assert "password_reset_token_expires_at" not in shown


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Invalid request: Required field: Email"),
        ({"email": "bad"}, "Invalid email format"),
    ],
)
def test_forgot_password_refuses_bad_input(
    call_act: Any, body: dict[str, Any], message: str
) -> None:
    response = post(call_act, "forgot-password", body)
    assert (response.status_code, response.json["message"]) == (400, message)


def reset(call_act: Callable[..., Any], **body: Any) -> Any:
    return post(call_act, "reset-password", body)


def test_reset_password_sets_the_password_and_revokes_sessions(
    make: Factory, call_act: Any
) -> None:
    user = make.user()
    pair = tokens_of(call_act, user)
    token = reset_token(call_act, user)
    response = reset(
        call_act,
        token=token,
        email=user.email,
        new_password=NEW_PASSWORD,
        confirm_password=NEW_PASSWORD,
    )
    assert response.status_code == 200
    assert response.json["message"] == "Password reset successfully"
    assert response.json["data"] == {
        "message": "Password has been reset successfully. Please login with your new password."
    }
    assert profile_status(call_act, pair["access_token"]) == 401
    assert refresh(call_act, pair["refresh_token"]).status_code == 401
    assert login(call_act, user.email).status_code == 401
    assert tokens_of(call_act, user, NEW_PASSWORD)["user"]["id"] == user.id
    assert make.rows(User, id=user.id)[0]["token_version"] == 1


def test_reset_token_works_only_once(make: Factory, call_act: Any) -> None:
    user = make.user()
    token = reset_token(call_act, user)
    assert (
        reset(call_act, token=token, email=user.email, new_password=NEW_PASSWORD).status_code == 200
    )
    again = reset(call_act, token=token, email=user.email, new_password="Other789Pass")
    assert again.status_code == 400
    assert again.json["message"] == "Invalid or expired reset token"
    assert login(call_act, user.email, NEW_PASSWORD).status_code == 200


def test_reset_matches_a_legacy_mixed_case_email(app: Flask, make: Factory, call_act: Any) -> None:
    user = make.user(email="mixed.case@example.com")
    token = reset_token(call_act, user)
    set_user(app, user, email="Mixed.Case@Example.com")  # as the legacy profile update stored it
    response = reset(
        call_act, token=token, email="mixed.case@example.com", new_password=NEW_PASSWORD
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Invalid request: Required field: Token, Required field: Email, "
             "Required field: New password"),
        ({"email": "bad"}, "Invalid email format"),
        ({"confirm_password": "Different1"},
         "Invalid request: New password and confirmation do not match"),
        ({"new_password": "Ab1", "confirm_password": "Ab1"},
         "Invalid request: Password must be at least 8 characters"),
        ({"new_password": "nouppercase1"},
         "Invalid request: Password must contain uppercase, lowercase, and numbers"),
        ({"token": "f" * 64}, "Invalid or expired reset token"),
        ({"email": "someone.else@example.com"},
         "Invalid request: Email does not match reset token"),
    ],
)  # fmt: skip
def test_reset_password_refuses_bad_input_and_keeps_the_token(
    make: Factory, call_act: Any, body: dict[str, Any], message: str
) -> None:
    user = make.user()
    make.user(email="someone.else@example.com")
    token = reset_token(call_act, user)
    fields = {"token": token, "email": user.email, "new_password": NEW_PASSWORD}
    response = reset(call_act, **({} if not body else {**fields, **body}))
    assert (response.status_code, response.json["message"]) == (400, message)
    assert reset(call_act, **fields).status_code == 200


def test_expired_reset_token_is_refused(app: Flask, make: Factory, call_act: Any) -> None:
    user = make.user()
    token = reset_token(call_act, user)
    with app.app_context():
        expired = now() - timedelta(seconds=1)
    set_user(app, user, password_reset_token_expires_at=expired)
    response = reset(call_act, token=token, email=user.email, new_password=NEW_PASSWORD)
    assert response.status_code == 400
    assert response.json["message"] == "Invalid or expired reset token"
