"""User acts: profile (read/update), users, users_stats, user, user_update, toggle, delete."""

import secrets
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, insert, select

from backend.db import db
from backend.legacy.clock import now
from backend.legacy.ids import new_id
from backend.models import AuditLog, Flow, McpClientToken, Project, ProjectMember, User
from tests.factories import PASSWORD, Factory

SECRET_KEYS = (
    "password_hash",
    "password_reset_token",
    "password_reset_token_expires_at",
    "token_version",
)
USER_KEYS = [
    "id",
    "email",
    "name",
    "avatar_url",
    "is_active",
    "email_verified",
    "last_login_at",
    "created_at",
    "updated_at",
]


def status_and_message(response: Any) -> tuple[int, str]:
    return response.status_code, response.json["message"]


def login_status(call_act: Callable[..., Any], email: str, password: str = PASSWORD) -> int:
    return call_act("login", "POST", json={"email": email, "password": password}).status_code


def read_user(app: Flask, user_id: str) -> User | None:
    with app.app_context():
        found = db.session.get(User, user_id)
        if found is not None:
            db.session.expunge(found)
        return found


# --- profile ---------------------------------------------------------------------------------


@pytest.mark.parametrize("act", ["profile", "profile_update"])
def test_profile_get_returns_the_user_without_secrets(
    make: Factory, call_act: Any, act: str
) -> None:
    user = make.user()
    response = call_act(act, "GET", token=make.token(user))
    assert status_and_message(response) == (200, "Profile retrieved successfully")
    assert list(response.json["data"]["user"]) == USER_KEYS
    assert response.json["data"]["user"]["id"] == user.id


@pytest.mark.parametrize("act", ["profile", "profile_update"])
def test_profile_post_updates_the_caller(make: Factory, call_act: Any, act: str) -> None:
    user = make.user()
    token = make.token(user)
    body = {
        "name": "Tom & Jerry",
        "email": "New.Address@Example.com",
        "avatar_url": "https://x/a.png",
    }
    response = call_act(act, "POST", token=token, json=body)
    assert status_and_message(response) == (200, "Profile updated successfully")
    shown = response.json["data"]["user"]
    assert (shown["name"], shown["email"], shown["avatar_url"]) == (
        "Tom & Jerry",
        "new.address@example.com",
        "https://x/a.png",
    )
    assert call_act("profile", "GET", token=token).json["data"]["user"] == shown
    assert login_status(call_act, "new.address@example.com") == 200


def test_profile_post_ignores_null_fields_and_accepts_own_email(
    make: Factory, call_act: Any
) -> None:
    user = make.user(name="Kept Name")
    body = {"name": None, "email": user.email, "avatar_url": None}
    response = call_act("profile", "POST", token=make.token(user), json=body)
    assert response.status_code == 200
    assert response.json["data"]["user"]["name"] == "Kept Name"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Invalid request: No data to update"),
        ({"role": "admin"}, "Invalid request: No valid fields to update"),
        ({"name": None, "email": None}, "Invalid request: No valid fields to update"),
        ({"name": "  "}, "Invalid request: Name cannot be empty"),
        ({"name": "a"}, "Invalid request: Name must be at least 2 characters"),
        ({"name": "x" * 101}, "Invalid request: Name must be less than 100 characters"),
        ({"name": "<script>alert(1)</script>"}, "Invalid request: Name contains invalid content"),
        ({"email": ""}, "Invalid request: Email cannot be empty"),
        ({"email": "not-an-email"}, "Invalid email format"),
        ({"email": "taken@example.com"}, "Invalid request: Email already exists"),
        ({"email": "TAKEN@example.com"}, "Invalid request: Email already exists"),
        ({"avatar_url": "javascript:alert(1)"}, "Invalid request: Input contains invalid content"),
        ({"avatar_url": "https://x/" + "a" * 250},
         "Invalid request: Input too long (max 255 characters)"),
        ({"name": "Valid Name", "email": "taken@example.com"},
         "Invalid request: Email already exists"),
    ],
)  # fmt: skip
def test_profile_post_refuses_bad_input_and_changes_nothing(
    make: Factory, call_act: Any, body: dict[str, Any], message: str
) -> None:
    make.user(email="taken@example.com")
    user = make.user(name="Original Name")
    token = make.token(user)
    response = call_act("profile", "POST", token=token, json=body)
    assert status_and_message(response) == (400, message)
    assert call_act("profile", "GET", token=token).json["data"]["user"]["name"] == "Original Name"


def test_profile_post_without_body_is_no_data(make: Factory, call_act: Any) -> None:
    response = call_act("profile", "POST", token=make.token(make.user()))
    assert status_and_message(response) == (400, "Invalid request: No data to update")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_profile_without_token_is_401(call_act: Any, method: str) -> None:
    response = call_act("profile", method, json={"name": "Someone"})
    assert status_and_message(response) == (401, "Authentication failed: No access token provided")


# --- users, users_stats ----------------------------------------------------------------------


def users_list(call_act: Callable[..., Any], token: str, **query: Any) -> Any:
    return call_act("users", "GET", token=token, **query)


def share(make: Factory, owner: User, *others: User) -> None:
    """A project of `owner` with `others` as members: they all see each other."""
    project = make.project(owner)
    for other in others:
        make.member(project, other)


def test_users_pages_newest_first(make: Factory, call_act: Any) -> None:
    people = [make.user(name=f"Person {n}") for n in range(3)]
    share(make, *people)
    response = users_list(call_act, make.token(people[0]), page=2, limit=2)
    assert status_and_message(response) == (200, "success")
    data = response.json["data"]
    assert data["pagination"] == {"page": 2, "limit": 2, "total": 3, "total_pages": 2}
    assert len(data["users"]) == 1
    assert list(data["users"][0]) == USER_KEYS


def test_users_defaults_to_page_one_of_ten(make: Factory, call_act: Any) -> None:
    user = make.user()
    data = users_list(call_act, make.token(user)).json["data"]
    assert data["pagination"] == {"page": 1, "limit": 10, "total": 1, "total_pages": 1}
    assert data["users"][0]["id"] == user.id


def test_users_caps_the_limit_at_100(make: Factory, call_act: Any) -> None:
    data = users_list(call_act, make.token(make.user()), limit=5000).json["data"]
    assert data["pagination"]["limit"] == 100


def test_users_search_matches_active_users_by_name_or_email(make: Factory, call_act: Any) -> None:
    caller = make.user(name="Caller")
    by_name = make.user(name="Alice Smith")
    by_email = make.user(email="smithy@example.com", name="Bob")
    inactive = make.user(name="Inactive Smith", is_active=0)
    share(make, caller, by_name, by_email, inactive)
    response = users_list(call_act, make.token(caller), search="smith", page=7)
    data = response.json["data"]
    assert sorted(u["id"] for u in data["users"]) == sorted([by_name.id, by_email.id])
    assert (data["total"], data["search_query"]) == (2, "smith")
    assert "pagination" not in data


def test_users_search_treats_wildcards_literally(make: Factory, call_act: Any) -> None:
    caller = make.user(email="caller@example.com", name="Caller")
    percent = make.user(email="percent@example.com", name="100% Sure")
    share(make, caller, percent)
    data = users_list(call_act, make.token(caller), search="%").json["data"]
    assert [u["id"] for u in data["users"]] == [percent.id]
    assert users_list(call_act, make.token(caller), search="_").json["data"]["total"] == 0


def test_users_active_only(make: Factory, call_act: Any) -> None:
    caller = make.user()
    make.user(is_active=0)
    data = users_list(call_act, make.token(caller), active_only="true").json["data"]
    assert data == {"users": [data["users"][0]], "total": 1}
    assert data["users"][0]["id"] == caller.id


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"page": "0"}, "Invalid request: Page must be a positive integer"),
        ({"page": "-1"}, "Invalid request: Page must be a positive integer"),
        ({"page": "abc"}, "Invalid request: Page must be a positive integer"),
        ({"limit": "0"}, "Invalid request: Limit must be a positive integer"),
        ({"limit": "1.5"}, "Invalid request: Limit must be a positive integer"),
        ({"limit": "0", "search": "x"}, "Invalid request: Limit must be a positive integer"),
    ],
)
def test_users_refuses_bad_paging(
    make: Factory, call_act: Any, query: dict[str, str], message: str
) -> None:
    response = users_list(call_act, make.token(make.user()), **query)
    assert status_and_message(response) == (400, message)


def test_users_stats_counts_by_status(make: Factory, call_act: Any) -> None:
    caller = make.user()
    share(make, caller, make.user(is_active=0), make.user())
    response = call_act("users_stats", "GET", token=make.token(caller))
    assert status_and_message(response) == (200, "success")
    assert response.json["data"] == {"total_users": 3, "active_users": 2, "inactive_users": 1}


@pytest.mark.parametrize(
    ("act", "method", "with_id"),
    [
        ("users", "GET", False),
        ("users_stats", "GET", False),
        ("user", "GET", True),
        ("user_update", "PUT", True),
        ("user_update", "POST", True),
        ("user_delete", "DELETE", True),
        ("user_toggle_status", "PUT", True),
    ],
)
@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, "Authentication failed: Authentication required"),
        ("garbage", "Authentication failed: Invalid or expired access token"),
        ("mcp", "Authentication failed: Invalid or expired access token"),
    ],
)
def test_user_acts_require_an_access_token(
    app: Flask,
    make: Factory,
    call_act: Any,
    act: str,
    method: str,
    with_id: bool,
    token: str | None,
    message: str,
) -> None:
    target = make.user()
    if token == "mcp":
        token = make.mcp_token(make.project(target))
    query = {"id": target.id} if with_id else {}
    response = call_act(act, method, token=token, json={"is_active": False}, **query)
    assert status_and_message(response) == (401, message)
    assert read_user(app, target.id).is_active == 1


# --- user ------------------------------------------------------------------------------------


@pytest.mark.parametrize("act", ["user", "user_update", "user_delete"])
def test_a_user_can_read_someone_they_share_a_project_with(
    make: Factory, call_act: Any, act: str
) -> None:
    reader, target = make.user(), make.user()
    share(make, target, reader)
    response = call_act(act, "GET", id=target.id, token=make.token(reader))
    assert status_and_message(response) == (200, "User retrieved successfully")
    assert list(response.json["data"]["user"]) == USER_KEYS
    assert response.json["data"]["user"]["id"] == target.id


@pytest.mark.parametrize(
    ("ident", "status", "message"),
    [
        ("user_missing", 404, "User not found"),
        ("1.5", 400, "Invalid request: Input must be an integer"),
        ("a b", 400, "Invalid request: Validation failed"),
        ("a$", 400, "Invalid request: Validation failed"),
        ("", 404, "Not found: Route not found"),
        ("0", 404, "Not found: Route not found"),
    ],
)
def test_user_refuses_unknown_or_malformed_ids(
    make: Factory, call_act: Any, ident: str, status: int, message: str
) -> None:
    response = call_act("user", "GET", id=ident, token=make.token(make.user()))
    assert status_and_message(response) == (status, message)


def test_user_id_of_arabic_indic_digits_is_no_number_as_in_php(
    make: Factory, call_act: Any
) -> None:
    """PHP's is_numeric() reads ASCII digits only: «١.٢» is not "numeric with a dot"."""
    token = make.token(make.user())
    arabic_indic = call_act("user", "GET", id="\u0661.\u0662", token=token)
    ascii_digits = call_act("user", "GET", id="1.2", token=token)
    assert status_and_message(arabic_indic) == (400, "Invalid request: Validation failed")
    assert status_and_message(ascii_digits) == (400, "Invalid request: Input must be an integer")


# --- user_update -----------------------------------------------------------------------------


@pytest.mark.parametrize(("act", "method"), [("user_update", "PUT"), ("user", "POST")])
def test_user_update_changes_the_caller(
    make: Factory, call_act: Any, act: str, method: str
) -> None:
    user = make.user()
    body = {"name": "Renamed", "email": "Renamed@Example.com", "role": "ignored"}
    response = call_act(act, method, id=user.id, token=make.token(user), json=body)
    assert status_and_message(response) == (200, "User updated successfully")
    assert list(response.json["data"]) == USER_KEYS
    assert (response.json["data"]["name"], response.json["data"]["email"]) == (
        "Renamed",
        "renamed@example.com",
    )


@pytest.mark.parametrize("value", [False, 0, "no", "0"])
def test_user_update_refuses_to_deactivate_the_caller(
    app: Flask, make: Factory, call_act: Any, value: Any
) -> None:
    user = make.user(name="Kept")
    token = make.token(user)
    body = {"name": "Changed", "is_active": value}
    response = call_act("user_update", "PUT", id=user.id, token=token, json=body)
    assert status_and_message(response) == (403, "Access denied: Cannot deactivate yourself")
    after = read_user(app, user.id)
    assert (after.name, after.is_active) == ("Kept", 1)
    assert call_act("profile", "GET", token=token).status_code == 200


def test_user_update_with_an_active_flag_keeps_the_caller_active(
    make: Factory, call_act: Any
) -> None:
    user = make.user()
    body = {"name": "Still Here", "is_active": True}
    response = call_act("user_update", "PUT", id=user.id, token=make.token(user), json=body)
    assert status_and_message(response) == (200, "User updated successfully")
    assert (response.json["data"]["name"], response.json["data"]["is_active"]) == ("Still Here", 1)


def test_user_update_accepts_the_callers_own_email(make: Factory, call_act: Any) -> None:
    user = make.user()
    body = {"email": user.email}
    response = call_act("user_update", "PUT", id=user.id, token=make.token(user), json=body)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"email": "taken@example.com"}, 409, "Email already exists"),
        ({"name": "a"}, 400, "Invalid request: Name must be at least 2 characters"),
        ({"name": "x" * 101}, 400, "Invalid request: Input too long (max 100 characters)"),
        ({"name": "<img src=x onerror=alert(1)>"}, 400,
         "Invalid request: Input contains invalid content"),
        ({"email": "bad"}, 400, "Invalid email format"),
        ({"name": "Good Name", "email": "taken@example.com"}, 409, "Email already exists"),
    ],
)  # fmt: skip
def test_user_update_refuses_bad_input_and_changes_nothing(
    app: Flask, make: Factory, call_act: Any, body: dict[str, Any], status: int, message: str
) -> None:
    make.user(email="taken@example.com")
    user = make.user(name="Original Name")
    response = call_act("user_update", "PUT", id=user.id, token=make.token(user), json=body)
    assert status_and_message(response) == (status, message)
    assert read_user(app, user.id).name == "Original Name"


CHANGES_OF_A_USER = [
    ("user_update", "PUT", {"name": "Hijacked"}),
    ("user_update", "POST", {"is_active": False}),
    ("user_delete", "DELETE", None),
    ("user_toggle_status", "PUT", {"is_active": False}),
]


def colleagues(make: Factory, how: str) -> tuple[User, User]:
    """A caller and a target who share a project: one owns it, or both are members of it."""
    caller, target = make.user(), make.user(name="Target")
    if how == "caller owns":
        make.member(make.project(caller), target)
    elif how == "target owns":
        make.member(make.project(target), caller)
    else:
        project = make.project(make.user())
        make.member(project, caller)
        make.member(project, target)
    return caller, target


@pytest.mark.parametrize("how", ["caller owns", "target owns", "both members"])
@pytest.mark.parametrize(("act", "method", "body"), CHANGES_OF_A_USER)
def test_changing_a_user_you_share_a_project_with_is_forbidden(
    app: Flask, make: Factory, call_act: Any, how: str, act: str, method: str, body: Any
) -> None:
    caller, target = colleagues(make, how)
    response = call_act(act, method, id=target.id, token=make.token(caller), json=body)
    assert status_and_message(response) == (403, "Access denied")
    after = read_user(app, target.id)
    assert (after.name, after.is_active) == ("Target", 1)


def others_id(make: Factory, caller: User, target: str) -> tuple[str, User]:
    """The id of a missing user, or of one who shares no project with `caller`."""
    make.project(caller)
    stranger = make.user(name="Stranger")
    if target == "someone else's colleague":
        make.member(make.project(stranger), make.user())
    ident = {"legacy suite's 99999": "99999", "missing": "user_gone"}.get(target, stranger.id)
    return ident, stranger


OTHERS = ["legacy suite's 99999", "missing", "stranger", "someone else's colleague"]
# user_update: 403 for every other id, what the legacy suite's update tests accept
ANSWERS_TO_STRANGERS = [(403, "Access denied")] * 2 + [(404, "User not found")] * 2


@pytest.mark.parametrize("target", OTHERS)
@pytest.mark.parametrize(
    ("act", "method", "body", "expected"),
    [
        (*change, answer)
        for change, answer in zip(CHANGES_OF_A_USER, ANSWERS_TO_STRANGERS, strict=True)
    ],
)
def test_a_user_you_cannot_see_answers_exactly_like_a_missing_one(
    app: Flask,
    make: Factory,
    call_act: Any,
    target: str,
    act: str,
    method: str,
    body: Any,
    expected: tuple[int, str],
) -> None:
    caller = make.user()
    ident, stranger = others_id(make, caller, target)
    response = call_act(act, method, id=ident, token=make.token(caller), json=body)
    assert status_and_message(response) == expected
    after = read_user(app, stranger.id)
    assert (after.name, after.is_active) == ("Stranger", 1)


@pytest.mark.parametrize(("act", "method"), [("user_update", "PUT"), ("user_delete", "DELETE")])
def test_token_only_in_the_query_string_needs_csrf_protection(
    app: Flask, make: Factory, client: Any, act: str, method: str
) -> None:
    user = make.user(name="Kept")
    query = {"act": act, "id": user.id, "token": make.token(user)}
    response = client.open("/", method=method, query_string=query, json={"name": "Changed"})
    assert status_and_message(response) == (403, "Access denied: CSRF token required")
    assert read_user(app, user.id).name == "Kept"


@pytest.mark.parametrize("header", ["X-CSRF-Token", "X-XSRF-Token"])
def test_csrf_header_does_not_block_a_bearer_caller(
    make: Factory, call_act: Any, header: str
) -> None:
    user = make.user()
    response = call_act(
        "user_update",
        "PUT",
        id=user.id,
        token=make.token(user),
        headers={header: "anything"},
        json={"name": "With Header", "csrf_token": "x"},
    )
    assert response.status_code == 200


def test_user_update_with_a_malformed_id_is_400(make: Factory, call_act: Any) -> None:
    response = call_act("user_update", "PUT", id="a.b", token=make.token(make.user()))
    assert status_and_message(response) == (400, "Invalid request: Validation failed")


# --- user_toggle_status ----------------------------------------------------------------------


def toggle(call_act: Callable[..., Any], user: User, token: str, body: Any = None) -> Any:
    return call_act("user_toggle_status", "PUT", id=user.id, token=token, json=body)


PHP_EMPTY_ARRAY = {"data": b"[]", "headers": {"Content-Type": "application/json"}}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(PHP_EMPTY_ARRAY, id="legacy suite's []"),
        pytest.param({}, id="no body"),
        pytest.param({"json": {}}, id="{}"),
        pytest.param({"json": {"is_active": None}}, id="null"),
        pytest.param({"json": {"is_active": False}}, id="false"),
        pytest.param({"json": {"is_active": "no"}}, id="no"),
    ],
)
def test_toggle_status_refuses_to_switch_the_caller_off(
    app: Flask, make: Factory, call_act: Any, body: dict[str, Any]
) -> None:
    user = make.user()
    token = make.token(user)
    response = call_act("user_toggle_status", "PUT", id=user.id, token=token, **body)
    assert status_and_message(response) == (403, "Access denied: Cannot deactivate yourself")
    assert read_user(app, user.id).is_active == 1
    assert call_act("profile", "GET", token=token).status_code == 200
    assert login_status(call_act, user.email) == 200


@pytest.mark.parametrize("value", [True, "yes", "on", 1])
def test_toggle_status_to_active_keeps_the_caller_active(
    app: Flask, make: Factory, call_act: Any, value: Any
) -> None:
    user = make.user()
    response = toggle(call_act, user, make.token(user), {"is_active": value})
    assert status_and_message(response) == (200, "User status updated successfully")
    assert response.json["data"] == {"id": user.id, "is_active": True}
    assert read_user(app, user.id).is_active == 1


def test_toggle_status_answers_only_put(make: Factory, call_act: Any) -> None:
    user = make.user()
    response = call_act("user_toggle_status", "POST", id=user.id, token=make.token(user))
    assert status_and_message(response) == (404, "Not found: Route not found")


# --- user_delete -----------------------------------------------------------------------------


def count(app: Flask, model: Any, *conditions: Any) -> int:
    with app.app_context():
        query = select(func.count()).select_from(model).where(*conditions)
        return db.session.execute(query).scalar_one()


@pytest.mark.parametrize(("act", "method"), [("user_delete", "DELETE"), ("user", "DELETE")])
def test_user_delete_removes_the_caller(
    app: Flask, make: Factory, call_act: Any, act: str, method: str
) -> None:
    user = make.user()
    token = make.token(user)
    response = call_act(act, method, id=user.id, token=token)
    assert status_and_message(response) == (200, "User deleted successfully")
    assert "data" not in response.json
    assert status_and_message(call_act("profile", "GET", token=token)) == (401, "User not found")
    assert login_status(call_act, user.email) == 401
    assert read_user(app, user.id) is None


def test_user_delete_keeps_the_audit_trail_of_owned_and_shared_projects(
    app: Flask, make: Factory, call_act: Any
) -> None:
    user, other = make.user(), make.user()
    own_flow = make.flow(make.project(user))
    shared = make.project(other)
    make.member(shared, user)
    shared_flow = make.flow(shared)
    token = make.token(user)
    for flow in (own_flow, shared_flow):
        assert call_act("flow_toggle_active", "PUT", id=flow.id, token=token).status_code == 200
    assert status_and_message(call_act("user_delete", "DELETE", id=user.id, token=token)) == (
        200,
        "User deleted successfully",
    )
    kept = make.rows(AuditLog, user_id=None)
    assert sorted(row["action"] for row in kept) == [
        "flow_deleted",
        "flow_status_changed",
        "flow_status_changed",
        "project_member_left",
    ]
    assert count(app, AuditLog, AuditLog.project_id == shared.id) == 2
    assert count(app, Project, Project.owner_id == user.id) == 0
    assert count(app, Flow, Flow.id == shared_flow.id) == 1


def test_user_delete_takes_own_projects_with_their_tokens_and_invitations(
    app: Flask, make: Factory, call_act: Any
) -> None:
    user, guest = make.user(), make.user()
    project = make.project(user)
    make.mcp_token(project)
    make.member(project, guest, invited_by=user)
    response = call_act("user_delete", "DELETE", id=user.id, token=make.token(user))
    assert response.status_code == 200
    assert count(app, McpClientToken) == 0
    assert login_status(call_act, guest.email) == 200


def add_mcp_token(app: Flask, project: Project, creator: User) -> None:
    with app.app_context():
        stamp = now()
        db.session.execute(
            insert(McpClientToken).values(
                id=new_id("mcp"),
                project_id=project.id,
                token_hash=secrets.token_hex(32),
                created_by=creator.id,
                created_at=stamp,
                updated_at=stamp,
                is_active=1,
            )
        )
        db.session.commit()


def test_user_delete_deletes_their_tokens_for_other_owners_projects(
    app: Flask, make: Factory, call_act: Any
) -> None:
    user, owner = make.user(), make.user()
    project = make.project(owner)
    make.member(project, user)
    add_mcp_token(app, project, user)
    owners_token = make.mcp_token(project)
    response = call_act("user_delete", "DELETE", id=user.id, token=make.token(user))
    assert status_and_message(response) == (200, "User deleted successfully")
    assert read_user(app, user.id) is None
    assert [row["created_by"] for row in make.rows(McpClientToken)] == [owner.id]
    assert call_act("mcp_validate", token=owners_token).status_code == 200
    assert [row["action"] for row in make.rows(AuditLog, resource_type="mcp_token")] == [
        "mcp_token_deleted"
    ]


def test_user_delete_hands_the_memberships_they_granted_to_the_owner(
    app: Flask, make: Factory, call_act: Any
) -> None:
    user, owner, guest = make.user(), make.user(), make.user()
    project = make.project(owner)
    make.member(project, user)
    make.member(project, guest, invited_by=user)
    response = call_act("user_delete", "DELETE", id=user.id, token=make.token(user))
    assert status_and_message(response) == (200, "User deleted successfully")
    [membership] = make.rows(ProjectMember, project_id=project.id)
    assert (membership["user_id"], membership["invited_by"]) == (guest.id, owner.id)
