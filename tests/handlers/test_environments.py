"""Environment acts: list, create, detail, update, set default (POST), delete."""

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from backend.db import db
from backend.models import Environment, Project
from tests.factories import Factory
from tests.factories import call_act as http_call

ENV_KEYS = [
    "id",
    "project_id",
    "name",
    "description",
    "variables",
    "is_default",
    "created_at",
    "updated_at",
]
MARKUP = "Invalid request: Input contains invalid content"
DUPLICATE = "An environment with this name already exists in this project"


def owned_project(make: Factory) -> tuple[Project, str]:
    owner = make.user()
    return make.project(owner), make.token(owner)


def age(make: Factory, env: Environment, days: int) -> None:
    """Move an environment's creation `days` into the past (same-second rows tie otherwise)."""
    with make.app.app_context():
        db.session.execute(
            update(Environment)
            .where(Environment.id == env.id)
            .values(created_at=env.created_at - timedelta(days=days))
        )
        db.session.commit()


def defaults(make: Factory, project: Project) -> list[str]:
    return [row["name"] for row in make.rows(Environment, project_id=project.id, is_default=1)]


# --- project_environments (GET list) ------------------------------------------------------


@pytest.mark.parametrize("act", ["project_environments", "environment_create", "environments_list"])
def test_list_environments_default_first_with_variables_as_strings(
    make: Factory, call_act: Any, act: str
) -> None:
    """Checklist 13; `environments_list` is the web app's name for it."""
    project, token = owned_project(make)
    make.environment(project, "staging", variables='{"base":"https://s.example"}')
    response = call_act(act, id=project.id, token=token)
    assert response.status_code == 200
    assert response.json["message"] == "Environments fetched"
    data = response.json["data"]
    assert [(e["name"], e["is_default"]) for e in data] == [("development", 1), ("staging", 0)]
    assert list(data[0]) == ENV_KEYS
    assert data[1]["variables"] == '{"base":"https://s.example"}'


def test_list_environments_ignores_unknown_query_parameters(make: Factory, call_act: Any) -> None:
    project, token = owned_project(make)
    plain = call_act("project_environments", id=project.id, token=token).json["data"]
    extra = call_act(
        "project_environments", id=project.id, token=token, is_active="undefined", limit="50"
    )
    assert extra.json["data"] == plain


def test_list_environments_works_with_the_projects_mcp_token(make: Factory, call_act: Any) -> None:
    project, _ = owned_project(make)
    response = call_act("project_environments", id=project.id, token=make.mcp_token(project))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("kind", "status", "message"),
    [
        ("none", 401, "Authentication failed: Authentication required"),
        ("stranger", 403, "Forbidden"),
        ("unknown_project", 403, "Forbidden"),
    ],
)
def test_list_environments_errors(
    make: Factory, call_act: Any, kind: str, status: int, message: str
) -> None:
    project, token = owned_project(make)
    token = {"none": None, "stranger": make.token(make.user()), "unknown_project": token}[kind]
    ident = "proj_missing" if kind == "unknown_project" else project.id
    response = call_act("project_environments", id=ident, token=token)
    assert response.status_code == status
    assert response.json["message"] == message


# --- environment_create (POST) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "stored"),
    [
        ({"host": "https://api.example/v1"}, '{"host":"https:\\/\\/api.example\\/v1"}'),
        ('{"host": "https://api.example/v1"}', '{"host": "https://api.example/v1"}'),
        ({}, "{}"),
    ],
    ids=["object (web app)", "json string (mcp2)", "empty object"],
)
def test_create_environment_accepts_variables_as_object_or_json_string(
    make: Factory, call_act: Any, variables: Any, stored: str
) -> None:
    """Checklist 14."""
    project, token = owned_project(make)
    body = {"name": "staging", "description": "Stage", "variables": variables}
    response = call_act("environment_create", "POST", id=project.id, token=token, json=body)
    assert response.status_code == 201
    assert response.json["message"] == "Environment created"
    data = response.json["data"]
    assert list(data) == ENV_KEYS
    assert data["id"].startswith("env_")
    assert (data["name"], data["description"], data["variables"]) == ("staging", "Stage", stored)
    assert json.loads(data["variables"]) == (
        variables if isinstance(variables, dict) else json.loads(variables)
    )
    detail = call_act("environment", id=data["id"], token=token).json["data"]
    assert detail["variables"] == stored


@pytest.mark.parametrize("body", [{"name": "qa"}, {"name": "qa", "variables": None}])
def test_create_environment_without_variables_stores_an_empty_map(
    make: Factory, call_act: Any, body: dict[str, Any]
) -> None:
    project, token = owned_project(make)
    response = call_act("environment_create", "POST", id=project.id, token=token, json=body)
    assert response.status_code == 201
    assert response.json["data"]["variables"] == "{}"
    assert response.json["data"]["is_default"] == 0


def test_create_environment_stores_text_as_sent(make: Factory, call_act: Any) -> None:
    project, token = owned_project(make)
    body = {"name": "Q&A <beta>", "description": "Tom &amp; Jerry"}
    response = call_act("environment_create", "POST", id=project.id, token=token, json=body)
    assert (response.json["data"]["name"], response.json["data"]["description"]) == (
        body["name"],
        body["description"],
    )


@pytest.mark.parametrize("flag", [True, 1, "1", "true"])
def test_create_default_environment_takes_over_the_default(
    make: Factory, call_act: Any, flag: Any
) -> None:
    project, token = owned_project(make)
    body = {"name": "prod", "variables": "{}", "is_default": flag}
    response = call_act("environment_create", "POST", id=project.id, token=token, json=body)
    assert response.json["data"]["is_default"] == 1
    assert defaults(make, project) == ["prod"]


@pytest.mark.parametrize("flag", [False, 0, "false", "0", ""])
def test_create_environment_with_false_flag_is_not_default(
    make: Factory, call_act: Any, flag: Any
) -> None:
    project, token = owned_project(make)
    body = {"name": "prod", "is_default": flag}
    call_act("environment_create", "POST", id=project.id, token=token, json=body)
    assert defaults(make, project) == ["development"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "Invalid request: Required field: Name"),
        ({"name": None}, 400, "Invalid request: Required field: Name"),
        ({"name": " "}, 400, "Invalid request: Environment name cannot be empty"),
        ({"name": "<script>x</script>"}, 400, MARKUP),
        ({"name": "qa", "description": "javascript:alert(1)"}, 400, MARKUP),
        ({"name": "development"}, 409, DUPLICATE),
        ({"name": "qa", "variables": "not json"}, 422,
         "Validation failed: variables: Must be a JSON object or the JSON text of one."),
        ({"name": "qa", "variables": 5}, 422,
         "Validation failed: variables: Must be a JSON object, array or string."),
    ],
)  # fmt: skip
def test_create_environment_refuses_bad_input(
    make: Factory, call_act: Any, body: dict[str, Any], status: int, message: str
) -> None:
    project, token = owned_project(make)
    response = call_act("environment_create", "POST", id=project.id, token=token, json=body)
    assert response.status_code == status
    assert response.json["message"] == message
    assert len(make.rows(Environment, project_id=project.id)) == 1


def test_create_environment_in_foreign_project_is_403(make: Factory, call_act: Any) -> None:
    project, _ = owned_project(make)
    response = call_act(
        "environment_create",
        "POST",
        id=project.id,
        token=make.token(make.user()),
        json={"name": "x"},
    )
    assert response.status_code == 403
    assert response.json["message"] == "Forbidden"
    assert len(make.rows(Environment, project_id=project.id)) == 1


# --- environment (GET detail) -------------------------------------------------------------


@pytest.mark.parametrize(
    "act",
    ["environment", "environment_detail", "environment_details", "environment_update",
     "environment_delete"],
)  # fmt: skip
def test_environment_detail_answers_on_every_alias(make: Factory, call_act: Any, act: str) -> None:
    """`environment_detail` (web app) and `environment_details` (mcp2) now work."""
    project, _ = owned_project(make)
    env = make.environment(project, "staging", variables='{"a":"1"}')
    response = call_act(act, id=env.id, token=make.mcp_token(project))
    assert response.status_code == 200
    assert response.json["message"] == "Environment detail"
    assert list(response.json) == [
        "success",
        "status_code",
        "message",
        "timestamp",
        "request_id",
        "data",
    ]
    assert list(response.json["data"]) == ENV_KEYS
    assert response.json["data"]["variables"] == '{"a":"1"}'


# --- environment_update (PUT) -------------------------------------------------------------


def test_update_environment_with_variables_as_json_string(make: Factory, call_act: Any) -> None:
    """Checklist 14: mcp2's update_environment_variables."""
    project, token = owned_project(make)
    env = make.environment(project, "staging")
    variables = json.dumps({"token": "abc", "base": "https://x"})
    response = call_act(
        "environment_update", "PUT", id=env.id, token=token, json={"variables": variables}
    )
    assert response.status_code == 200
    assert response.json["message"] == "Environment updated"
    assert list(response.json["data"]) == ENV_KEYS
    detail = call_act("environment", id=env.id, token=token).json["data"]
    assert json.loads(detail["variables"]) == {"token": "abc", "base": "https://x"}


def test_update_environment_name_and_description(make: Factory, call_act: Any) -> None:
    project, token = owned_project(make)
    env = make.environment(project, "staging", description="old")
    body = {"name": "stage & test", "description": None}
    response = call_act("environment", "PUT", id=env.id, token=token, json=body)
    assert (response.json["data"]["name"], response.json["data"]["description"]) == (
        "stage & test",
        None,
    )


def test_update_environment_to_default_moves_the_default(make: Factory, call_act: Any) -> None:
    project, token = owned_project(make)
    env = make.environment(project, "staging")
    response = call_act("environment_update", "PUT", id=env.id, token=token, json={"is_default": 1})
    assert response.json["data"]["is_default"] == 1
    assert defaults(make, project) == ["staging"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 400, "Invalid request: No data to update"),
        ({"name": ""}, 400, "Invalid request: Environment name cannot be empty"),
        ({"name": None}, 400, "Invalid request: Environment name cannot be empty"),
        ({"name": "<iframe src=x>"}, 400, MARKUP),
        ({"name": "staging"}, 409, DUPLICATE),
        ({"is_default": 0}, 400, "Invalid request: Cannot unset the default environment: "
         "make another environment the default instead"),
        ({"variables": "[1,"}, 422,
         "Validation failed: variables: Must be a JSON object or the JSON text of one."),
    ],
)  # fmt: skip
def test_update_environment_refuses_bad_input(
    make: Factory, call_act: Any, body: dict[str, Any], status: int, message: str
) -> None:
    project, token = owned_project(make)
    make.environment(project, "staging")
    [development] = make.rows(Environment, project_id=project.id, name="development")
    response = call_act("environment_update", "PUT", id=development["id"], token=token, json=body)
    assert response.status_code == status
    assert response.json["message"] == message
    assert make.rows(Environment, id=development["id"]) == [development]


# --- set_default_environment (POST, mcp2) -------------------------------------------------


def test_post_without_body_makes_the_environment_default(make: Factory, client: Any) -> None:
    """mcp2 set_default_environment: POST ?act=environment_update&id=E, JSON type, no body."""
    project, _ = owned_project(make)
    env = make.environment(project, "staging")
    response = client.post(
        f"/?act=environment_update&id={env.id}",
        headers={
            "Authorization": f"Bearer {make.mcp_token(project)}",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 200
    assert response.json["message"] == "Environment updated"
    assert response.json["data"]["is_default"] == 1
    assert defaults(make, project) == ["staging"]


def test_post_with_a_body_is_refused_and_changes_nothing(make: Factory, call_act: Any) -> None:
    project, token = owned_project(make)
    env = make.environment(project, "staging")
    response = call_act("environment_update", "POST", id=env.id, token=token, json={"name": "x"})
    assert response.status_code == 400
    assert response.json["message"].startswith("Invalid request: POST on an environment only")
    assert defaults(make, project) == ["development"]


# --- environment_delete (DELETE) ----------------------------------------------------------


def test_delete_environment_without_body(make: Factory, call_act: Any) -> None:
    """Checklist 12."""
    project, token = owned_project(make)
    env = make.environment(project, "staging")
    response = call_act("environment_delete", "DELETE", id=env.id, token=token)
    assert response.status_code == 200
    assert response.json["message"] == "Environment deleted"
    assert response.json["data"] == {"id": env.id}
    assert make.rows(Environment, id=env.id) == []


def test_deleting_the_default_promotes_the_oldest_remaining(make: Factory, call_act: Any) -> None:
    project, token = owned_project(make)
    staging = make.environment(project, "staging")
    age(make, staging, days=2)
    age(make, make.environment(project, "qa"), days=1)
    [development] = make.rows(Environment, project_id=project.id, name="development")
    call_act("environment_delete", "DELETE", id=development["id"], token=token)
    assert [r["id"] for r in make.rows(Environment, project_id=project.id, is_default=1)] == [
        staging.id
    ]


def test_deleting_the_last_environment_is_refused(make: Factory, call_act: Any) -> None:
    project, token = owned_project(make)
    [development] = make.rows(Environment, project_id=project.id)
    response = call_act("environment", "DELETE", id=development["id"], token=token)
    assert response.status_code == 400
    assert response.json["message"] == "Invalid request: Cannot delete the last environment"
    assert len(make.rows(Environment, project_id=project.id)) == 1


# --- shared errors: unknown environment, no access, no token ------------------------------

ENV_CALLS = [
    ("environment", "GET", None),
    ("environment_update", "PUT", {"name": "renamed"}),
    ("environment_update", "POST", None),
    ("environment_delete", "DELETE", None),
]


@pytest.mark.parametrize(("act", "method", "body"), ENV_CALLS)
def test_unknown_environment_is_404(
    make: Factory, call_act: Any, act: str, method: str, body: Any
) -> None:
    _, token = owned_project(make)
    response = call_act(act, method, id="env_missing", token=token, json=body)
    assert response.status_code == 404
    assert response.json["message"] == "Environment not found"


@pytest.mark.parametrize(("act", "method", "body"), ENV_CALLS)
def test_environment_of_another_users_project_is_403(
    make: Factory, call_act: Any, act: str, method: str, body: Any
) -> None:
    project, _ = owned_project(make)
    env = make.environment(project, "staging")
    response = call_act(act, method, id=env.id, token=make.token(make.user()), json=body)
    assert response.status_code == 403
    assert response.json["message"] == "Forbidden"
    assert make.rows(Environment, id=env.id)[0]["name"] == "staging"


@pytest.mark.parametrize(("act", "method", "body"), ENV_CALLS)
def test_environment_acts_without_token_are_401(
    make: Factory, call_act: Any, act: str, method: str, body: Any
) -> None:
    project, _ = owned_project(make)
    env = make.environment(project, "staging")
    response = call_act(act, method, id=env.id, json=body)
    assert response.status_code == 401
    assert response.json["message"] == "Authentication failed: Authentication required"


# --- a token of project A reaches nothing of project B ------------------------------------

CROSS_PROJECT_CALLS = [
    ("project_environments", "GET", "project", None),
    ("environment_create", "POST", "project", {"name": "intruder", "is_default": True}),
    ("environment", "GET", "env", None),
    ("environment_update", "PUT", "env", {"variables": {"stolen": "1"}, "is_default": 1}),
    ("environment_update", "POST", "env", None),
    ("environment_delete", "DELETE", "env", None),
]


@pytest.mark.parametrize("kind", ["mcp_of_a", "jwt_of_non_member"])
@pytest.mark.parametrize(("act", "method", "target", "body"), CROSS_PROJECT_CALLS)
def test_token_of_project_a_cannot_touch_environments_of_b(
    make: Factory, call_act: Any, kind: str, act: str, method: str, target: str, body: Any
) -> None:
    owner, intruder = make.user(), make.user()
    project_a, project_b = make.project(owner), make.project(owner)
    make.member(project_a, intruder)
    env_b = make.environment(project_b, "staging")
    token = make.mcp_token(project_a) if kind == "mcp_of_a" else make.token(intruder)
    before = make.rows(Environment, project_id=project_b.id)

    ident = project_b.id if target == "project" else env_b.id
    response = call_act(act, method, id=ident, token=token, json=body)

    assert response.status_code == 403
    assert response.json["message"] == "Forbidden"
    assert make.rows(Environment, project_id=project_b.id) == before


# --- concurrency: exactly one default -----------------------------------------------------


def run_concurrently(app: Flask, calls: list[dict[str, Any]]) -> list[int]:
    """Each call on its own thread with its own test client, released together."""
    barrier, statuses = threading.Barrier(len(calls)), [0] * len(calls)

    def worker(index: int, call: dict[str, Any]) -> None:
        client = app.test_client()
        barrier.wait()
        statuses[index] = http_call(client, **call).status_code

    threads = [threading.Thread(target=worker, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def skip_on_sqlite(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("row locks across connections need the MariaDB leg")


@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_concurrent_default_changes_leave_exactly_one_default(
    app: Flask, make: Factory, method: str
) -> None:
    skip_on_sqlite(app)
    project, token = owned_project(make)
    envs = [make.environment(project, f"env{i}") for i in range(8)]
    body = {"json": {"is_default": True}} if method == "PUT" else {}
    calls = [
        {"act": "environment_update", "method": method, "id": e.id, "token": token, **body}
        for e in envs
    ]

    assert run_concurrently(app, calls) == [200] * len(envs)
    assert len(defaults(make, project)) == 1


def test_concurrent_creates_of_defaults_leave_exactly_one_default(
    app: Flask, make: Factory
) -> None:
    skip_on_sqlite(app)
    project, token = owned_project(make)
    calls = [
        {
            "act": "environment_create",
            "method": "POST",
            "id": project.id,
            "token": token,
            "json": {"name": f"env{i}", "is_default": 1},
        }
        for i in range(8)
    ]
    assert run_concurrently(app, calls) == [201] * 8
    assert len(defaults(make, project)) == 1


def test_concurrent_deletes_never_remove_the_last_environment(app: Flask, make: Factory) -> None:
    skip_on_sqlite(app)
    project, token = owned_project(make)
    make.environment(project, "staging")
    ids = [row["id"] for row in make.rows(Environment, project_id=project.id)]
    calls = [
        {"act": "environment_delete", "method": "DELETE", "id": i, "token": token} for i in ids
    ]
    assert sorted(run_concurrently(app, calls)) == [200, 400]
    remaining = make.rows(Environment, project_id=project.id)
    assert [row["is_default"] for row in remaining] == [1]
