"""Bodies as the legacy's own PHP suite, PHP callers and HTML forms send them (issue #12, 1 and 2).

PHP's `json_encode([])` is the two bytes `[]`, sent with `Content-Type: application/json` by the
legacy suite's cURL helper whenever it means "no fields"; an HTML form, or a client that cannot
send PUT, posts `_method=PUT` as a form body.
"""

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from marshmallow import Schema, fields

import handlers  # noqa: F401  (registers every act)
from backend.core.registry import Action, registry
from backend.web.body import load_empty
from tests.factories import BASE, Factory

PHP_EMPTY_ARRAY = b"[]"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
BODY_ACTIONS = [
    pytest.param(method, action, id=f"{method} {action.path}")
    for method, action in registry.actions()
    if action.reads_body and method != "GET"
]


def send(
    client: FlaskClient,
    query: dict[str, str],
    body: Any,
    *,
    method: str = "POST",
    content_type: str | None = JSON,
    token: str | None = None,
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    options = {"content_type": content_type} if content_type else {}
    return client.open(
        BASE, method=method, query_string=query, data=body, headers=headers, **options
    )


def answer(response: Any) -> tuple[int, str]:
    return response.status_code, response.json["message"]


def world_path(make: Factory, action: Action) -> tuple[str, str]:
    """A fresh owner with one of everything; the action's REST path with a real id, and a token."""
    owner = make.user()
    project = make.project(owner)
    folder = make.folder(project)
    flow = make.flow(project)
    ids = {
        "user": owner.id,
        "project": project.id,
        "folder": folder.id,
        "environment": make.environment(project, "staging").id,
        "endpoint": make.endpoint(folder).id,
        "flow": flow.id,
        "execution": make.execution(flow).id,
    }
    kind = action.path.split("/")[1]
    path = action.path.replace("<id>", ids[kind]) if kind in ids else action.path
    return path.lstrip("/"), make.token(owner)


# --- item 1: `[]` is "no fields" -------------------------------------------------------------


@pytest.mark.parametrize(("method", "action"), BODY_ACTIONS)
def test_php_empty_array_answers_exactly_like_an_empty_object_on_every_act_that_reads_a_body(
    make: Factory, client: FlaskClient, method: str, action: Action
) -> None:
    answers = []
    for body in (b"{}", PHP_EMPTY_ARRAY):
        path, token = world_path(make, action)
        headers = {"Authorization": f"Bearer {token}"}
        response = client.open(BASE + path, method=method, data=body, headers=headers)
        answers.append(answer(response))
    assert answers[1] == answers[0]
    assert answers[1][1] != "Invalid request: Request body must be a JSON object"


def test_php_logout_with_an_empty_array_logs_out(client: FlaskClient) -> None:
    response = send(client, {"act": "logout"}, PHP_EMPTY_ARRAY)
    assert answer(response) == (200, "Logout successful")


@pytest.mark.parametrize(
    ("act", "before", "message"),
    [
        ("flow_toggle_active", 1, "Flow deactivated"),
        ("flow_deactivate", 1, "Flow deactivated successfully"),
        ("flow_activate", 0, "Flow activated successfully"),
    ],
)
def test_php_status_change_with_an_empty_array_changes_the_flow(
    make: Factory, client: FlaskClient, act: str, before: int, message: str
) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner), is_active=before)
    query = {"act": act, "id": flow.id}
    response = send(client, query, PHP_EMPTY_ARRAY, method="PUT", token=make.token(owner))
    assert answer(response) == (200, message)
    assert make.flow_row(flow.id)["is_active"] == 1 - before


def test_php_duplicate_with_an_empty_array_makes_the_default_copy(
    make: Factory, client: FlaskClient
) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner), name="Checkout")
    response = send(
        client, {"act": "flow_duplicate", "id": flow.id}, PHP_EMPTY_ARRAY, token=make.token(owner)
    )
    assert answer(response) == (201, "Flow duplicated")
    assert response.json["data"]["name"] == "Checkout (Copy)"


@pytest.mark.parametrize(
    ("act", "method", "target"),
    [("profile", "POST", None), ("project_update", "PUT", "project")],
)
def test_php_update_with_an_empty_array_is_no_data_to_update_as_legacy(
    make: Factory, client: FlaskClient, act: str, method: str, target: str | None
) -> None:
    owner = make.user()
    query = {"act": act, "id": make.project(owner).id} if target else {"act": act}
    response = send(client, query, PHP_EMPTY_ARRAY, method=method, token=make.token(owner))
    assert answer(response) == (400, "Invalid request: No data to update")


@pytest.mark.parametrize("body", [b"[1]", b'[{"reason": "x"}]', b"[[]]", b'"x"', b"1", b"true"])
def test_a_non_empty_list_or_a_scalar_body_stays_refused(
    make: Factory, client: FlaskClient, body: bytes
) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    query = {"act": "flow_toggle_active", "id": flow.id}
    response = send(client, query, body, method="PUT", token=make.token(owner))
    assert answer(response) == (400, "Invalid request: Request body must be a JSON object")
    assert make.flow_row(flow.id)["is_active"] == 1


# --- item 2: form bodies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"_method=PUT", FORM), ({"_method": "PUT"}, None)],
    ids=["urlencoded", "multipart"],
)
def test_html_form_with_method_override_toggles_the_flow(
    make: Factory, client: FlaskClient, body: Any, content_type: str | None
) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    query = {"act": "flow_toggle_active", "id": flow.id}
    response = send(client, query, body, content_type=content_type, token=make.token(owner))
    assert answer(response) == (200, "Flow deactivated")
    assert make.flow_row(flow.id)["is_active"] == 0


def test_form_reason_of_a_status_change_is_recorded(make: Factory, client: FlaskClient) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    body = b"_method=PUT&reason=planned+maintenance"
    query = {"act": "flow_deactivate", "id": flow.id}
    response = send(client, query, body, content_type=FORM, token=make.token(owner))
    assert answer(response) == (200, "Flow deactivated successfully")
    (row,) = make.audit_rows(flow.id)
    assert json.loads(row["metadata"])["reason"] == "planned maintenance"


def test_form_fields_are_the_body_of_a_create(make: Factory, client: FlaskClient) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    query = {"act": "flow_duplicate", "id": flow.id}
    response = send(client, query, b"name=Form+copy", content_type=FORM, token=make.token(owner))
    assert answer(response) == (201, "Flow duplicated")
    assert response.json["data"]["name"] == "Form copy"


def test_form_token_signs_the_caller_in_and_is_no_field(make: Factory, client: FlaskClient) -> None:
    owner = make.user()
    project = make.project(owner, name="Before")
    body = f"_method=PUT&token={make.token(owner)}&name=After".encode()
    response = send(client, {"act": "project_update", "id": project.id}, body, content_type=FORM)
    assert answer(response) == (200, "Project updated")
    assert response.json["data"]["name"] == "After"


def test_form_reset_password_reads_its_token_field(make: Factory, client: FlaskClient) -> None:
    user = make.user()
    forgot = send(client, {"act": "forgot-password"}, json.dumps({"email": user.email}))
    reset = forgot.json["data"]["reset_token"]
    body = f"token={reset}&email={user.email}&new_password=Changed123".encode()
    response = send(client, {"act": "reset-password"}, body, content_type=FORM)
    assert answer(response) == (200, "Password reset successfully")
    login = {"email": user.email, "password": "Changed123"}
    assert send(client, {"act": "login"}, json.dumps(login)).status_code == 200


@pytest.mark.parametrize(
    ("value", "stored"), [("false", 0), ("0", 0), ("", 0), ("true", 1), ("1", 1), ("on", 1)]
)
def test_form_flag_follows_the_string_rules_of_the_field(
    make: Factory, client: FlaskClient, value: str, stored: int
) -> None:
    owner = make.user()
    project = make.project(owner, is_public=1 - stored)
    body = f"_method=PUT&is_public={value}".encode()
    query = {"act": "project_update", "id": project.id}
    response = send(client, query, body, content_type=FORM, token=make.token(owner))
    assert response.json["data"]["is_public"] == stored


@pytest.mark.parametrize("value", ["false", "0", "", "no", "1"])
def test_form_value_means_what_the_same_json_string_means(
    make: Factory, client: FlaskClient, value: str
) -> None:
    owner = make.user()
    token = make.token(owner)
    flows = [make.flow(make.project(owner), is_active=0) for _ in range(2)]
    by_form = f"_method=PUT&is_active={value}".encode()
    by_json = json.dumps({"is_active": value})
    sent = ((flows[0], by_form, FORM, "POST"), (flows[1], by_json, JSON, "PUT"))
    for flow, body, content_type, method in sent:
        query = {"act": "flow_update", "id": flow.id}
        response = send(client, query, body, method=method, content_type=content_type, token=token)
        assert answer(response) == (200, "Flow updated")
    first, second = (make.flow_row(flow.id)["is_active"] for flow in flows)
    assert first == second


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b'{"name": "From cURL"}', 201, "Project created successfully"),
        (b'{"name": ', 400, "Invalid request: Invalid JSON format"),
    ],
)
def test_php_json_sent_under_the_default_curl_form_type_is_read_as_json(
    make: Factory, client: FlaskClient, body: bytes, status: int, message: str
) -> None:
    owner = make.user()
    response = send(client, {"act": "projects"}, body, content_type=FORM, token=make.token(owner))
    assert answer(response) == (status, message)


class Tags(Schema):
    reason = fields.String(load_default=None)
    tags = fields.List(fields.String(), load_default=list)


class Reason(Schema):
    reason = fields.String(load_default=None)


@pytest.mark.parametrize("schema", [Tags, Reason])
def test_every_empty_body_is_loaded_into_its_own_dict(schema: type[Schema]) -> None:
    first = load_empty(schema)
    first["reason"] = "changed by a handler"
    first.get("tags", []).append("changed too")
    assert load_empty(schema) == schema().load({})
