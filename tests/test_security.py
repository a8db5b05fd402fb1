"""Security regressions (issue #7 item 5): the legacy holes and races stay closed.

One test per hole of divergences.md B.1 (`test_b1_sN_…`) and per race of B.3 (`test_b3_rN_…`),
named after it. Races that already have a test are referenced in a comment next to the section
instead of being tested twice. Then: forged and unusable tokens on the project acts (tests/
test_auth.py covers them on `profile`), constant-time comparisons of secrets, and log records
that never carry a token, a password or a JWT secret.

A hole that is still open is an `xfail(strict=True)` test with the reason, so it shows in every
run's summary and the marker has to go when the hole closes.
"""

import base64
import hashlib
import hmac
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import bcrypt
import pytest
from flask import Flask
from sqlalchemy.exc import OperationalError

import backend.auth.access
import handlers.system
import handlers.users
from backend import create_app
from backend.auth.tokens import sha256_hex
from backend.db import db
from backend.models import (
    Endpoint,
    Environment,
    Flow,
    Folder,
    McpClientToken,
    Project,
    ProjectMember,
    User,
)
from config import DEFAULT_ACCESS_SECRET, ConfigError, load_config
from tests.conftest import ACCESS_SECRET, REFRESH_SECRET, gateway_config
from tests.factories import PASSWORD, Factory, call_act
from tests.test_auth import legacy_claims, php_jwt

NEW_PASSWORD = "Fresh456Pass"
RUNNERS = 8
ROOT = Path(__file__).resolve().parent.parent
SECRET_KEYS = ("password_hash", "password_reset_token", "password_reset_token_expires_at")


def post(call: Callable[..., Any], act: str, body: Any, **kwargs: Any) -> Any:
    return call(act, "POST", json=body, **kwargs)


def login(call: Callable[..., Any], email: str, password: str = PASSWORD) -> Any:
    return post(call, "login", {"email": email, "password": password})


def tokens(call: Callable[..., Any], user: User, password: str = PASSWORD) -> dict[str, Any]:
    response = login(call, user.email, password)
    assert response.status_code == 200, response.json
    return response.json["data"]


def user_row(make: Factory, user_id: str) -> dict[str, Any] | None:
    rows = make.rows(User, id=user_id)
    return rows[0] if rows else None


# --- B.1 security holes ------------------------------------------------------------------------


def test_b1_s1_user_toggle_status_needs_a_token_and_never_reaches_another_user(
    make: Factory, call_act: Any
) -> None:
    victim, attacker = make.user(), make.user()
    body = {"is_active": False}
    anonymous = call_act("user_toggle_status", "PUT", id=victim.id, json=body)
    assert anonymous.status_code == 401
    foreign = call_act(
        "user_toggle_status", "PUT", id=victim.id, json=body, token=make.token(attacker)
    )
    assert (foreign.status_code, foreign.json["message"]) == (404, "User not found")
    assert user_row(make, victim.id)["is_active"] == 1
    assert login(call_act, victim.email).status_code == 200


def test_b1_s2_a_user_cannot_change_or_delete_another_user_and_listing_needs_a_token(
    make: Factory, call_act: Any
) -> None:
    victim, attacker = make.user(), make.user()
    token = make.token(attacker)
    for method in ("PUT", "POST"):
        response = call_act(
            "user_update", method, id=victim.id, token=token, json={"email": "taken@evil.test"}
        )
        assert (response.status_code, response.json["message"]) == (403, "Access denied")
    response = call_act("user_delete", "DELETE", id=victim.id, token=token)
    assert (response.status_code, response.json["message"]) == (404, "User not found")
    assert user_row(make, victim.id)["email"] == victim.email
    for act, extra in (("users", {}), ("users_stats", {}), ("user", {"id": victim.id})):
        assert call_act(act, "GET", **extra).status_code == 401, act


def test_b1_s3_reset_tokens_never_leave_in_user_objects_and_work_once(
    app: Flask, make: Factory, call_act: Any
) -> None:
    user = make.user()
    reset = post(call_act, "forgot-password", {"email": user.email}).json["data"]["reset_token"]
    stored = user_row(make, user.id)["password_reset_token"]
    assert stored == sha256_hex(reset) != reset
    pair = tokens(call_act, user)
    access = pair["access_token"]
    seen = [
        pair["user"],
        post(call_act, "refresh", {"refresh_token": pair["refresh_token"]}).json["data"]["user"],
        call_act("profile", "GET", token=access).json["data"]["user"],
        call_act("user", "GET", id=user.id, token=access).json["data"]["user"],
        *call_act("users", "GET", token=access).json["data"]["users"],
        call_act("user_update", "PUT", id=user.id, token=access, json={"name": "Me"}).json["data"],
        post(call_act, "profile", {"name": "Me Again"}, token=access).json["data"]["user"],
        post(
            call_act, "register", {"email": "new@example.com", "name": "New", "password": PASSWORD}
        ).json["data"]["user"],
    ]
    for user_object in seen:
        assert not set(SECRET_KEYS) & set(user_object), user_object
        assert reset not in json.dumps(user_object) and stored not in json.dumps(user_object)
    body = {"token": reset, "email": user.email, "new_password": NEW_PASSWORD}
    assert post(call_act, "reset-password", body).status_code == 200
    again = post(call_act, "reset-password", {**body, "new_password": "Other789Pass"})
    assert (again.status_code, again.json["message"]) == (400, "Invalid or expired reset token")
    app.config["RESET_TOKEN_IN_RESPONSE"] = False  # only the suite's own configuration sets it
    for app_env in ("", "development", "testing", "production"):
        app.config["APP_ENV"] = app_env
        answer = post(call_act, "forgot-password", {"email": user.email}).json["data"]
        assert "reset_token" not in answer


def test_b1_s4_an_mcp_token_reaches_only_its_own_project(make: Factory, call_act: Any) -> None:
    owner = make.user()
    own, other = make.project(owner), make.project(owner)
    token = make.mcp_token(own)
    folder = make.folder(other)
    endpoint, flow = make.endpoint(folder), make.flow(other)
    env = make.environment(other, "staging")
    refused = [
        ("project", "GET", other.id, None),
        ("project_context", "GET", other.id, None),
        ("flows", "GET", other.id, None),
        ("flow_create", "POST", other.id, {"name": "Planted"}),
        ("flow_toggle_active", "PUT", flow.id, None),
        ("flow_delete", "DELETE", flow.id, None),
        ("flows_set_active", "POST", other.id, {"flow_ids": [flow.id], "is_active": False}),
        ("project_environments", "GET", other.id, None),
        ("environment_update", "PUT", env.id, {"name": "renamed"}),
        ("folder_create", "POST", other.id, {"name": "Planted"}),
        ("folder_delete", "DELETE", folder.id, None),
        ("endpoint_update", "PUT", endpoint.id, {"name": "renamed"}),
    ]
    for act, method, ident, body in refused:
        response = call_act(act, method, id=ident, token=token, json=body or {})
        assert response.status_code == 403, (act, response.json)
    assert [p["id"] for p in call_act("projects", "GET", token=token).json["data"]] == [own.id]
    assert post(call_act, "projects", {"name": "Planted"}, token=token).status_code == 403
    minted = call_act("mcp_generate_config", "POST", id=own.id, token=token)
    assert minted.status_code == 401  # only a user's JWT mints tokens
    assert make.flow_row(flow.id)["is_active"] == 1
    assert len(make.rows(Flow, project_id=other.id)) == 1
    assert len(make.rows(Folder, project_id=other.id)) == 1
    assert make.rows(Endpoint, id=endpoint.id)[0]["name"] == endpoint.name
    with make.app.app_context():
        db.session.execute(User.__table__.update().values(is_active=0))
        db.session.commit()
    assert call_act("flows", "GET", id=own.id, token=token).status_code in (401, 403)


def revoke_by(kind: str, make: Factory, call: Callable[..., Any], user: User, token: str) -> None:
    if kind == "logout-all":
        assert call("logout-all", "POST", token=token).status_code == 200
    elif kind == "change-password":
        body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        assert post(call, "change-password", body, token=token).status_code == 200
    else:
        with make.app.app_context():
            row = db.session.get(User, user.id)
            if kind == "deactivation":
                row.is_active = 0
            else:
                db.session.delete(row)
            db.session.commit()


def test_b1_s5_tokens_of_revoked_disabled_or_deleted_users_fail_on_universal_acts(
    make: Factory, call_act: Any
) -> None:
    """tests/handlers/test_auth_acts.py covers logout-all on a few acts with a legacy token."""
    for kind in ("logout-all", "change-password", "deactivation", "deletion"):
        user = make.user()
        project = make.project(user)
        flow, folder = make.flow(project), make.folder(project)
        token = make.token(user)
        revoke_by(kind, make, call_act, user, token)
        calls = [
            ("projects", "GET", None),
            ("flows", "GET", project.id),
            ("flow_toggle_active", "PUT", flow.id),
            ("folder", "GET", folder.id),
            ("project_environments", "GET", project.id),
            ("mcp_generate_config", "POST", project.id),
            ("logout-all", "POST", None),
        ]
        for act, method, ident in calls:
            status = call_act(act, method, id=ident, token=token).status_code
            assert status == (403 if kind == "deactivation" else 401), (kind, act, status)
        assert make.rows(McpClientToken, project_id=project.id) == []


def test_b1_s6_the_published_fallback_secrets_do_not_open_this_gateway(
    make: Factory, call_act: Any
) -> None:
    with pytest.raises(ConfigError):
        load_config({"APP_ENV": "production"})
    assert load_config({"APP_ENV": "production", "JWT_SECRET": "s" * 40})["JWT_ACCESS_SECRET"]
    user = make.user()
    forged = php_jwt(legacy_claims(user), DEFAULT_ACCESS_SECRET)
    assert call_act("profile", "GET", token=forged).status_code == 401
    assert call_act("projects", "GET", token=forged).status_code == 401


LEAK_MARKERS = ("/work/", ".py", "Traceback", "SELECT", "password_hash", "1054")


def test_b1_s7_unexpected_and_database_errors_disclose_nothing(
    make: Factory, call_act: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures = [
        RuntimeError(f"{ROOT}/backend/secret.py: SELECT password_hash FROM users"),
        OperationalError("SELECT password_hash FROM users", {}, Exception("(1054, 'Unknown')")),
    ]
    for failure in failures:

        def explode(failure: Exception = failure) -> None:
            raise failure

        monkeypatch.setattr(handlers.system, "memory", explode)
        response = call_act("health", "GET")
        assert (response.status_code, response.json["message"]) == (500, "Internal server error")
        told = {k: v for k, v in response.json.items() if k not in ("request_id", "timestamp")}
        assert not [m for m in LEAK_MARKERS if m in json.dumps(told)]  # random ids may hold "1054"
    user = make.user()
    body = {"email": user.email, "name": "Again", "password": PASSWORD}
    duplicate = post(call_act, "register", body)
    assert (duplicate.status_code, duplicate.json["message"]) == (409, "User already exists")


def test_b1_s8_text_is_stored_as_sent_everywhere_and_active_markup_is_refused(
    make: Factory, call_act: Any
) -> None:
    user = make.user()
    token = make.token(user)
    folder = make.folder(make.project(user))
    for body in ({"avatar_url": "javascript:alert(1)"}, {"name": "<script>alert(1)</script>"}):
        assert post(call_act, "profile", body, token=token).status_code == 400, body
    endpoint = {"name": "E", "method": "GET", "url": "https://example.com/e"}
    for field in ("description", "purpose"):
        hostile = {**endpoint, field: '<img src=x onerror="alert(1)">'}
        created = post(call_act, "endpoint_create", hostile, id=folder.id, token=token)
        assert created.status_code == 400, field
    plain = 'O\'Brien & "Sons" <b>'
    profile = post(call_act, "profile", {"name": plain}, token=token)
    assert profile.json["data"]["user"]["name"] == plain
    created = post(call_act, "endpoint_create", {**endpoint, "description": plain}, id=folder.id,
                   token=token)  # fmt: skip
    assert created.status_code == 201
    assert created.json["data"]["description"] == plain


def count_calls(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[tuple[Any, ...]]:
    """Wrap `owner.name`, recording the arguments of each call."""
    calls: list[tuple[Any, ...]] = []
    real = getattr(owner, name)

    def spy(*args: Any) -> Any:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(owner, name, spy)
    return calls


def test_b1_s9_login_and_forgot_password_do_not_reveal_whether_an_account_exists(
    app: Flask, make: Factory, call_act: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """register (409 «User already exists») and profile («Email already exists») still tell:
    the legacy clients and test-suite rely on those answers."""
    user = make.user()
    checks = count_calls(monkeypatch, bcrypt, "checkpw")
    unknown = login(call_act, "nobody@example.com")
    wrong = login(call_act, user.email, "Wrong1234Pass")
    assert (unknown.status_code, unknown.json["message"]) == (
        wrong.status_code,
        wrong.json["message"],
    )
    assert len(checks) == 2  # the unknown address cost a bcrypt check too: no timing tell
    app.config["RESET_TOKEN_IN_RESPONSE"] = False
    answers = [post(call_act, "forgot-password", {"email": e}) for e in (user.email, "x@y.example")]
    assert (
        len({json.dumps([a.status_code, a.json["message"], a.json["data"]]) for a in answers}) == 1
    )


def test_b1_s10_repeated_failed_logins_are_throttled(make: Factory, call_act: Any) -> None:
    user, other = make.user(), make.user()
    statuses = [login(call_act, user.email, f"Wrong{n}Pass").status_code for n in range(12)]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    throttled = login(call_act, user.email, PASSWORD)
    assert throttled.status_code == 429
    assert throttled.json["message"] == "Too many failed login attempts, try again later"
    assert login(call_act, other.email, PASSWORD).status_code == 200


def test_b1_s10_unknown_addresses_are_throttled_alike(call_act: Any) -> None:
    statuses = [login(call_act, "ghost@example.com", "Wrong1Pass").status_code for _ in range(11)]
    assert statuses[-1] == 429


def test_b1_s11_query_string_tokens_are_refused_by_universal_acts_and_never_logged(
    make: Factory, client: Any
) -> None:
    """Strict acts and mcp_validate still accept `?token=` (legacy clients send it)."""
    user = make.user()
    token, mcp = make.token(user), make.mcp_token(make.project(user))
    with capture_every_log() as records:
        universal = client.get("/", query_string={"act": "projects", "token": token})
        strict = client.get("/", query_string={"act": "profile", "token": token})
        validate = client.get("/", query_string={"act": "mcp_validate", "token": mcp})
    assert universal.status_code == 401
    assert (strict.status_code, validate.status_code) == (200, 200)
    assert records and not [line for line in records if token in line or mcp in line]


DEBUG_PAGES = (
    "/debug_headers.php",
    "/gassapi2/backend/debug_headers.php",
    "/public/generate-mcp-token.php",
    "/test_put_method.php",
    "/gassapi.json",
    "/mcp2/gassapi.json",
    "/.env",
)


def test_b1_s12_no_debug_relay_or_token_file_is_served_or_shipped(client: Any) -> None:
    probe = "probe-7f3a9c"
    for path in DEBUG_PAGES:
        response = client.post(path, headers={"X-Probe": probe}, data=f"password={probe}")
        assert 400 <= response.status_code < 500, path
        assert response.content_type.startswith("application/json"), path
        assert probe not in response.get_data(as_text=True), path
    assert not [name for name in shipped_files() if name.endswith(".php") or name == "gassapi.json"]


def shipped_files() -> Iterator[str]:
    """File names in the repository, without the virtualenv, git and node_modules trees."""
    for _, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in (".git", ".venv", "node_modules", "instance")]
        yield from files


def test_b1_s13_user_update_and_delete_refuse_a_token_that_did_not_come_in_the_header(
    make: Factory, client: Any
) -> None:
    user = make.user()
    token = make.token(user)
    query = {"act": "user_update", "id": user.id}
    by_url = client.put("/", query_string={**query, "token": token}, json={"name": "Hijacked"})
    by_form = client.post("/", query_string=query, data={"_method": "DELETE", "token": token})
    for response in (by_url, by_form):
        assert (response.status_code, response.json["message"]) == (
            403,
            "Access denied: CSRF token required",
        )
    assert user_row(make, user.id)["name"] == user.name
    by_header = client.put(
        "/",
        query_string=query,
        json={"name": "Renamed"},
        headers={"Authorization": f"Bearer {token}", "X-CSRF-Token": "anything"},
    )
    assert by_header.status_code == 200


# --- B.3 races ---------------------------------------------------------------------------------
# Covered elsewhere (each runs on the MariaDB leg):
# R1 flow_toggle_active: tests/test_concurrency.py::test_concurrent_toggles_through_two_instances_
#    give_exact_flips (and the execution/deactivation and batch races next to it)
# R4 environments: tests/handlers/test_environments.py::test_concurrent_default_changes_leave_
#    exactly_one_default and ::test_concurrent_creates_of_defaults_leave_exactly_one_default
# R5 refresh: tests/handlers/test_auth_acts.py::test_concurrent_refreshes_of_one_token_let_
#    exactly_one_through
# R6 register: tests/handlers/test_auth_acts.py::test_concurrent_registrations_of_one_email_
#    create_one_user
# R7 environment_delete: tests/handlers/test_environments.py::test_concurrent_deletes_never_
#    remove_the_last_environment
# R8 flow names: tests/handlers/test_flows.py::test_concurrent_creates_of_one_name_give_one_flow_
#    and_409s; folder moves: tests/handlers/test_folders.py::test_opposite_concurrent_moves_never_
#    build_a_cycle
# The tests below cover the rest, on both legs: a SQLite file (its writers serialise) or MariaDB.


@pytest.fixture
def racing(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app whose requests really run at the same time, each thread on its own connection."""
    url = f"sqlite:///{tmp_path / 'race.sqlite'}" if database_url == "sqlite://" else database_url
    racer = create_app(gateway_config(url, DB_POOL_SIZE=RUNNERS + 2, DB_MAX_OVERFLOW=0))
    with racer.app_context():
        db.create_all()
    yield racer
    with racer.app_context():
        db.session.remove()
        db.engine.dispose()


def in_parallel(app: Flask, calls: list[dict[str, Any]]) -> list[Any]:
    """Each call on its own thread and test client, all released at once; answers in order."""
    barrier = threading.Barrier(len(calls))

    def run(call: dict[str, Any]) -> Any:
        client = app.test_client()
        barrier.wait()
        return call_act(client, **call)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_b3_r2_concurrent_user_toggles_never_switch_the_caller_off(racing: Flask) -> None:
    make = Factory(racing)
    user = make.user()
    call = {"act": "user_toggle_status", "method": "PUT", "id": user.id, "token": make.token(user)}
    answers = in_parallel(racing, [call] * RUNNERS)
    assert {(a.status_code, a.json["message"]) for a in answers} == {
        (403, "Access denied: Cannot deactivate yourself")
    }
    assert user_row(make, user.id)["is_active"] == 1


def test_b3_r3_concurrent_revocations_each_bump_the_token_version(racing: Flask) -> None:
    make = Factory(racing)
    user = make.user()
    token = make.token(user)
    answers = in_parallel(racing, [{"act": "logout-all", "method": "POST", "token": token}] * 8)
    succeeded = sum(a.status_code == 200 for a in answers)
    assert succeeded >= 1 and all(a.status_code in (200, 401) for a in answers)
    assert user_row(make, user.id)["token_version"] == succeeded


def test_b3_r3_a_refresh_racing_a_password_change_never_outlives_it(racing: Flask) -> None:
    make = Factory(racing)
    client = racing.test_client()
    for round_ in range(4):
        user = make.user(email=f"racer{round_}@example.com")
        pair = call_act(client, "login", "POST", json={"email": user.email, "password": PASSWORD})
        pair = pair.json["data"]
        body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        refresh = {
            "act": "refresh",
            "method": "POST",
            "json": {"refresh_token": pair["refresh_token"]},
        }
        change = {"act": "change-password", "method": "POST", "token": pair["access_token"]}
        refreshed, changed = in_parallel(racing, [refresh, {**change, "json": body}])
        assert changed.status_code == 200
        if refreshed.status_code == 200:
            new = refreshed.json["data"]
            assert call_act(client, "profile", token=new["access_token"]).status_code == 401
            again = {"refresh_token": new["refresh_token"]}
            assert call_act(client, "refresh", "POST", json=again).status_code == 401


def test_b3_r4_concurrent_default_folders_leave_exactly_one_default(racing: Flask) -> None:
    make = Factory(racing)
    owner = make.user()
    project, token = make.project(owner), make.token(owner)
    folders = [make.folder(project, f"F{n}") for n in range(RUNNERS // 2)]
    calls = [
        {"act": "folder_update", "method": "PUT", "id": f.id, "token": token,
         "json": {"is_default": 1}}
        for f in folders
    ] + [
        {"act": "folder_create", "method": "POST", "id": project.id, "token": token,
         "json": {"name": f"New {n}", "is_default": 1}}
        for n in range(RUNNERS // 2)
    ]  # fmt: skip
    answers = in_parallel(racing, calls)
    assert sorted(a.status_code for a in answers) == [200] * len(folders) + [201] * len(folders)
    assert len(make.rows(Folder, project_id=project.id, is_default=1)) == 1


def test_b3_r8_concurrent_member_adds_and_project_creates_give_one_row_and_409s(
    racing: Flask,
) -> None:
    make = Factory(racing)
    owner, invitee = make.user(), make.user()
    project, token = make.project(owner), make.token(owner)
    add = {"act": "project_add_member", "method": "POST", "id": project.id, "token": token,
           "json": {"user_id": invitee.id}}  # fmt: skip
    create = {"act": "projects", "method": "POST", "token": token, "json": {"name": "Twin"}}
    answers = in_parallel(racing, [add] * (RUNNERS // 2) + [create] * (RUNNERS // 2))
    adds, creates = answers[: RUNNERS // 2], answers[RUNNERS // 2 :]
    assert sorted(a.status_code for a in adds) == [201] + [409] * (len(adds) - 1)
    assert sorted(a.status_code for a in creates) == [201] + [409] * (len(creates) - 1)
    assert len(make.rows(ProjectMember, project_id=project.id, user_id=invitee.id)) == 1
    assert len(make.rows(Project, owner_id=owner.id, name="Twin")) == 1
    assert len(make.rows(Environment, project_id=project.id)) == 1


# --- forged and unusable tokens on project acts ----------------------------------------------


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned(user: User, alg: str) -> str:
    header = b64(json.dumps({"typ": "JWT", "alg": alg}).encode())
    return f"{header}.{b64(json.dumps(legacy_claims(user)).encode())}."


def signed(user: User, header: str, secret: str = ACCESS_SECRET, **claims: Any) -> str:
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
    alg = json.loads(header)["alg"]
    return php_jwt(legacy_claims(user, **claims), secret, header, digest.get(alg, hashlib.sha256))


def without(user: User, claim: str) -> str:
    claims = {k: v for k, v in legacy_claims(user).items() if k != claim}
    return php_jwt(claims, ACCESS_SECRET)


HS256 = '{"typ":"JWT","alg":"HS256"}'
BAD_TOKENS: dict[str, Callable[[User], str]] = {
    "alg-none": lambda u: unsigned(u, "none"),
    "alg-NONE": lambda u: unsigned(u, "NONE"),
    "alg-none-with-signature": lambda u: unsigned(u, "none") + signed(u, HS256).split(".")[2],
    "hs512": lambda u: signed(u, '{"typ":"JWT","alg":"HS512"}'),
    "hs384": lambda u: signed(u, '{"typ":"JWT","alg":"HS384"}'),
    "rs256-header-hmac-signed": lambda u: signed(u, '{"typ":"JWT","alg":"RS256"}'),
    "wrong-key": lambda u: signed(u, HS256, "wrong-key-" * 4),
    "refresh-secret": lambda u: signed(u, HS256, REFRESH_SECRET),
    "refresh-type": lambda u: signed(u, HS256, REFRESH_SECRET, type="refresh"),
    "refresh-type-access-secret": lambda u: signed(u, HS256, type="refresh"),
    "expired": lambda u: signed(u, HS256, exp=int(time.time()) - 1),
    "expires-now": lambda u: signed(u, HS256, exp=int(time.time())),
    "issued-in-future": lambda u: signed(u, HS256, iat=int(time.time()) + 3600),
    "not-before-future": lambda u: signed(u, HS256, nbf=int(time.time()) + 3600),
    "version-as-string": lambda u: signed(u, HS256, version="0"),
    "unknown-user": lambda u: signed(u, HS256, sub="user_does_not_exist"),
    "no-exp": lambda u: without(u, "exp"),
    "no-type": lambda u: without(u, "type"),
    "no-version": lambda u: without(u, "version"),
    "four-segments": lambda u: signed(u, HS256) + ".extra",
    "empty-segments": lambda u: "..",
}


@pytest.mark.parametrize("forge", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_forged_or_unusable_tokens_are_refused_on_project_acts(
    make: Factory, call_act: Any, forge: Callable[[User], str]
) -> None:
    user = make.user()
    project = make.project(user)
    flow = make.flow(project)
    token = forge(user)
    expected = [
        ("projects", "GET", None, 401),
        ("flows", "GET", project.id, 401),
        ("flow_toggle_active", "PUT", flow.id, 401),
        ("project_environments", "GET", project.id, 401),
        ("project", "GET", project.id, 403),  # the legacy project detail answers 403
        ("mcp_generate_config", "POST", project.id, 401),
        ("profile", "GET", None, 401),
    ]
    for act, method, ident, status in expected:
        assert call_act(act, method, id=ident, token=token).status_code == status, act
    assert make.flow_row(flow.id)["is_active"] == 1
    assert make.rows(McpClientToken, project_id=project.id) == []


# --- constant-time comparisons -----------------------------------------------------------------


def test_the_metrics_token_is_compared_in_constant_time(
    app: Flask, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config.update(METRICS_ENABLED=True, METRICS_TOKEN="scrape-secret-123")
    compared = count_calls(monkeypatch, backend.auth.access.hmac, "compare_digest")
    wrong = client.get("/?act=metrics", headers={"Authorization": "Bearer scrape-secret-124"})
    right = client.get("/?act=metrics", headers={"Authorization": "Bearer scrape-secret-123"})
    assert (wrong.status_code, right.status_code) == (401, 200)
    assert (b"scrape-secret-124", b"scrape-secret-123") in compared
    assert (b"scrape-secret-123", b"scrape-secret-123") in compared


def test_jwt_signatures_are_compared_in_constant_time(
    make: Factory, call_act: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = make.token(make.user())
    compared = count_calls(monkeypatch, hmac, "compare_digest")
    assert call_act("profile", "GET", token=token).status_code == 200
    assert compared


def test_passwords_are_verified_by_bcrypt_checkpw_only(
    make: Factory, call_act: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make.user()
    checks = count_calls(monkeypatch, bcrypt, "checkpw")
    access = tokens(call_act, user)["access_token"]
    assert login(call_act, user.email, "Wrong1234Pass").status_code == 401
    body = {"current_password": "Wrong1234Pass", "new_password": NEW_PASSWORD}
    assert post(call_act, "change-password", body, token=access).status_code == 400
    assert [args[0] for args in checks] == [PASSWORD.encode(), b"Wrong1234Pass", b"Wrong1234Pass"]


# --- no secret in any log line -----------------------------------------------------------------


def explode(*_: Any) -> None:
    raise RuntimeError("unexpected failure")


class Collector(logging.Handler):
    """Every record, rendered with its arguments, traceback and extra attributes."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record) + " " + repr(vars(record)))


class capture_every_log:  # noqa: N801  (used as a context manager, like `open`)
    """Every logger at DEBUG (SQLAlchemy then logs its statements and parameters); the collector
    on the root logger and on every logger that does not propagate to it."""

    def __enter__(self) -> list[str]:
        self.collector = Collector()
        known = logging.Logger.manager.loggerDict.values()
        loggers = [logging.getLogger(), *(log for log in known if isinstance(log, logging.Logger))]
        self.saved = [(log, log.level) for log in loggers]
        self.attached = [log for log in loggers if log is loggers[0] or not log.propagate]
        for log in loggers:
            log.setLevel(logging.DEBUG)
        for log in self.attached:
            log.addHandler(self.collector)
        return self.collector.lines

    def __exit__(self, *_: object) -> None:
        for log in self.attached:
            log.removeHandler(self.collector)
        for log, level in self.saved:
            log.setLevel(level)


def secret_journey(make: Factory, call: Callable[..., Any], client: Any) -> tuple[list[str], str]:
    """Login, refresh, failed login, password change, `?token=`, MCP and reset tokens.

    Returns every secret seen and the last access token."""
    user = make.user()
    project = make.project(user)
    pair = tokens(call, user)
    fresh = post(call, "refresh", {"refresh_token": pair["refresh_token"]}).json["data"]
    assert login(call, user.email, "Wrong1234Pass").status_code == 401
    access = fresh["access_token"]
    assert client.get("/", query_string={"act": "profile", "token": access}).status_code == 200
    mcp = call("mcp_generate_config", "POST", id=project.id, token=access).json["data"]["token"]
    assert client.get("/", query_string={"act": "mcp_validate", "token": mcp}).status_code == 200
    reset = post(call, "forgot-password", {"email": user.email}).json["data"]["reset_token"]
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert post(call, "change-password", body, token=access).status_code == 200
    body = {"token": reset, "email": user.email, "new_password": "Third789Pass"}
    assert post(call, "reset-password", body).status_code == 200
    last = tokens(call, user, "Third789Pass")
    secrets = [
        *(pair[k] for k in ("access_token", "refresh_token")),
        *(fresh[k] for k in ("access_token", "refresh_token")),
        *(last[k] for k in ("access_token", "refresh_token")),
        mcp,
        reset,
        PASSWORD,
        NEW_PASSWORD,
        "Third789Pass",
        "Wrong1234Pass",
        ACCESS_SECRET,
        REFRESH_SECRET,
    ]
    return secrets, last["access_token"]


def test_no_token_password_or_secret_appears_in_any_log_record(
    make: Factory, call_act: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with capture_every_log() as lines:
        secrets, access = secret_journey(make, call_act, client)
        monkeypatch.setattr(handlers.users, "load_user", explode)  # an unhandled error
        crash = client.get("/", query_string={"act": "profile", "token": access})
        assert crash.status_code == 500
    assert any("gassapi.access" in line for line in lines)
    assert any("unhandled error" in line and "Traceback" in line for line in lines)
    assert any("sqlalchemy.engine" in line for line in lines)  # statements were logged too
    leaked = {secret[:12] for secret in secrets for line in lines if secret in line}
    assert not leaked, f"secrets in the logs (prefixes): {sorted(leaked)}"
