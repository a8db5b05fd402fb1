"""Endpoint acts: endpoints, endpoint, endpoint_list, endpoint_get, endpoint_create,
endpoint_update (also mcp2's move_endpoint), endpoint_delete, project_endpoints,
project_endpoints_grouped, and the web app's endpoints_list / endpoint_detail."""

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.factories import Factory

ENDPOINT_KEYS = [
    "id",
    "name",
    "method",
    "url",
    "description",
    "purpose",
    "headers",
    "body",
    "folder_id",
    "created_by",
    "created_at",
    "updated_at",
    "request_params",
    "response_schema",
    "header_docs",
]
BASE_TIME = datetime(2025, 1, 1, 12, 0, 0)
MCP2_CREATE = {
    "name": "List users",
    "method": "GET",
    "url": "{{baseUrl}}/users",
    "description": "All users",
    "purpose": None,
    "headers": "{}",
    "body": "{}",
    "request_params": None,
    "response_schema": None,
    "header_docs": None,
}
FOLDER_PATH_ACTS = ("endpoints", "endpoint_create", "endpoints_list")
ENDPOINT_PATH_ACTS = ("endpoint", "endpoint_update", "endpoint_delete", "endpoint_detail")
TOO_LONG = "Invalid request: Input too long"
NOT_JSON = "Must be a JSON object, array or string."
INVALID_CONTENT = "Invalid request: Input contains invalid content"
NOT_FOUND = "Not found: Endpoint not found"


@pytest.fixture
def folder(make: Factory, project: Any) -> Any:
    return make.folder(project, "Users")


def endpoint_of(call_act: Any, token: str, endpoint_id: str) -> Any:
    response = call_act("endpoint", id=endpoint_id, token=token)
    return response.json.get("data") if response.status_code == 200 else None


def create(call_act: Any, token: str, folder_id: str, **body: Any) -> Any:
    return call_act("endpoints", "POST", id=folder_id, token=token, json=body)


# --- endpoint_create --------------------------------------------------------------------------


def test_mcp2_post_on_endpoints_creates_with_its_body(
    call_act: Any, folder: Any, owner: Any, token: str
) -> None:
    response = create(call_act, token, folder.id, **MCP2_CREATE)
    assert response.status_code == 201
    assert response.json["message"] == "Endpoint created"
    data = response.json["data"]
    assert list(data) == ENDPOINT_KEYS
    assert data["id"].startswith("ep_") and len(data["id"]) == 35
    assert (data["folder_id"], data["created_by"]) == (folder.id, owner.id)
    assert (data["headers"], data["body"], data["purpose"]) == ("{}", "{}", None)
    assert (data["request_params"], data["response_schema"], data["header_docs"]) == (None,) * 3


def test_web_app_create_gets_default_headers_and_no_body(
    call_act: Any, folder: Any, token: str
) -> None:
    body = {"name": "Ping", "method": "get", "url": "https://api.example.com/ping"}
    response = call_act("endpoint_create", "POST", id=folder.id, token=token, json=body)
    assert response.status_code == 201
    data = response.json["data"]
    assert (data["method"], data["headers"], data["body"]) == ("GET", "{}", None)


def test_create_encodes_objects_into_json_strings(call_act: Any, folder: Any, token: str) -> None:
    docs = {"q": "search term"}
    data = create(
        call_act,
        token,
        folder.id,
        name="Search",
        method="POST",
        url="https://x/search",
        headers={"Content-Type": "application/json"},
        body={"q": "a"},
        request_params=docs,
        response_schema=docs,
        header_docs=docs,
    ).json["data"]
    assert data["headers"] == '{"Content-Type":"application\\/json"}'
    assert data["body"] == '{"q":"a"}'
    assert data["request_params"] == data["response_schema"] == data["header_docs"]
    assert data["header_docs"] == '{"q":"search term"}'


def test_create_stores_text_bodies_and_query_string_urls_as_sent(
    call_act: Any, folder: Any, token: str
) -> None:
    url = "https://api.example.com/users?id=1&name=x&value=%20"
    body = "a=1&b=<xml/>"
    created = create(
        call_act, token, folder.id, name="Tom & Jerry's", method="GET", url=url, body=body
    )
    assert created.status_code == 201
    stored = endpoint_of(call_act, token, created.json["data"]["id"])
    assert (stored["name"], stored["url"], stored["body"]) == ("Tom & Jerry's", url, body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Required field: Name, Required field: Method, Required field: Url"),
        ({"name": "A", "url": ""}, "Required field: Method, Required field: Url"),
        ({"name": "A", "method": "GET", "url": None}, "Required field: Url"),
    ],
)
def test_create_lists_the_missing_required_fields(
    call_act: Any, folder: Any, token: str, body: dict[str, Any], message: str
) -> None:
    response = call_act("endpoint_create", "POST", id=folder.id, token=token, json=body)
    assert (response.status_code, response.json["message"]) == (400, f"Invalid request: {message}")


VALID = {"name": "A", "method": "GET", "url": "https://x/a"}


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"method": "FETCH"}, 400, "Invalid request: Invalid HTTP method"),
        ({"method": 5}, 400, "Invalid request: Invalid HTTP method"),
        ({"name": "  "}, 400, "Invalid request: Endpoint name cannot be empty"),
        ({"url": "  "}, 400, "Invalid request: Url cannot be empty"),
        ({"name": "n" * 256}, 400, "Invalid request: Input too long (max 255 characters)"),
        ({"url": "https://x/" + "a" * 1015}, 400, f"{TOO_LONG} (max 1024 characters)"),
        ({"purpose": "p" * 251}, 400, "Invalid request: Input too long (max 250 characters)"),
        ({"description": "d" * 65536}, 400, f"{TOO_LONG} (max 65535 characters)"),
        ({"name": "<script>alert(1)</script>"}, 400, INVALID_CONTENT),
        ({"url": "javascript:alert(1)"}, 400, INVALID_CONTENT),
        ({"description": "<iframe src=x>"}, 400, INVALID_CONTENT),
        ({"purpose": "<img src=x onerror=alert(1)>"}, 400, INVALID_CONTENT),
        ({"headers": 5}, 422, f"Validation failed: headers: {NOT_JSON}"),
        ({"name": ["A"]}, 422, "Validation failed: name: Not a valid string."),
    ],
)  # fmt: skip
def test_create_refuses_bad_fields_and_writes_nothing(
    call_act: Any, folder: Any, token: str, change: dict[str, Any], status: int, message: str
) -> None:
    response = create(call_act, token, folder.id, **{**VALID, **change})
    assert (response.status_code, response.json["message"]) == (status, message)
    assert call_act("endpoints", id=folder.id, token=token).json["data"] == []


def test_create_accepts_values_at_their_column_limits_in_characters(
    call_act: Any, folder: Any, token: str
) -> None:
    """Columns count characters: 255 two-byte letters fit a VARCHAR(255) name."""
    limits = {"name": "é" * 255, "url": "https://x/" + "a" * 1014, "purpose": "é" * 250}
    response = create(call_act, token, folder.id, **{**VALID, **limits})
    assert response.status_code == 201
    stored = endpoint_of(call_act, token, response.json["data"]["id"])
    assert {key: stored[key] for key in limits} == limits


def test_duplicate_name_in_folder_is_409_and_other_folders_may_reuse_it(
    make: Factory, call_act: Any, project: Any, folder: Any, token: str
) -> None:
    make.endpoint(folder, "Same")
    duplicate = create(call_act, token, folder.id, **{**VALID, "name": "Same"})
    assert duplicate.status_code == 409
    assert duplicate.json["message"] == "An endpoint with this name already exists in this folder"
    elsewhere = create(call_act, token, make.folder(project).id, **{**VALID, "name": "Same"})
    assert elsewhere.status_code == 201


def test_create_in_unknown_folder_is_404_even_for_a_stranger(make: Factory, call_act: Any) -> None:
    response = create(call_act, make.token(make.user()), "col_missing", **VALID)
    assert (response.status_code, response.json["message"]) == (404, "Not found: Folder not found")


def test_member_and_project_mcp_token_may_create(
    make: Factory, call_act: Any, project: Any, folder: Any, owner: Any
) -> None:
    member = make.user()
    make.member(project, member)
    by_member = create(call_act, make.token(member), folder.id, **{**VALID, "name": "M"})
    by_mcp = create(call_act, make.mcp_token(project), folder.id, **{**VALID, "name": "T"})
    assert (by_member.status_code, by_mcp.status_code) == (201, 201)
    assert by_member.json["data"]["created_by"] == member.id
    assert by_mcp.json["data"]["created_by"] == owner.id


# --- folder lists -----------------------------------------------------------------------------


@pytest.mark.parametrize("act", [*FOLDER_PATH_ACTS, "endpoint_list"])
def test_every_folder_list_act_is_newest_first(
    make: Factory, call_act: Any, folder: Any, token: str, act: str
) -> None:
    older, newer = make.endpoint(folder, "Older"), make.endpoint(folder, "Newer")
    make.stamp_created(older, BASE_TIME)
    make.stamp_created(newer, BASE_TIME + timedelta(seconds=1))
    response = call_act(act, id=folder.id, token=token)
    assert (response.status_code, response.json["message"]) == (200, "Endpoints fetched")
    assert [row["name"] for row in response.json["data"]] == ["Newer", "Older"]
    assert list(response.json["data"][0]) == ENDPOINT_KEYS


def test_folder_list_breaks_ties_by_id_and_is_capped_at_100(
    make: Factory, call_act: Any, folder: Any, token: str
) -> None:
    endpoints = [make.endpoint(folder) for _ in range(101)]
    for endpoint in endpoints:
        make.stamp_created(endpoint, BASE_TIME)
    data = call_act("endpoints", id=folder.id, token=token).json["data"]
    assert [row["id"] for row in data] == sorted((e.id for e in endpoints), reverse=True)[:100]


def test_folder_list_is_empty_array_and_ignores_other_folders(
    make: Factory, call_act: Any, project: Any, folder: Any, token: str
) -> None:
    make.endpoint(make.folder(project))
    response = call_act("endpoints", id=folder.id, token=token)
    assert (response.status_code, response.json["data"]) == (200, [])


@pytest.mark.parametrize("act", ["endpoints", "endpoint_list", "endpoints_list"])
def test_folder_list_of_unknown_folder_is_404(call_act: Any, token: str, act: str) -> None:
    response = call_act(act, id="col_missing", token=token)
    assert (response.status_code, response.json["message"]) == (404, "Not found: Folder not found")


# --- project lists ----------------------------------------------------------------------------


def test_project_endpoints_spans_folders_newest_first_and_stays_in_the_project(
    make: Factory, call_act: Any, owner: Any, project: Any, folder: Any, token: str
) -> None:
    first = make.endpoint(folder, "First")
    second = make.endpoint(make.folder(project), "Second")
    make.endpoint(make.folder(make.project(owner)), "Elsewhere")
    make.stamp_created(first, BASE_TIME)
    make.stamp_created(second, BASE_TIME + timedelta(hours=1))
    response = call_act("project_endpoints", id=project.id, token=token)
    assert (response.status_code, response.json["message"]) == (200, "Endpoints fetched")
    assert [row["name"] for row in response.json["data"]] == ["Second", "First"]
    assert list(response.json["data"][0]) == ENDPOINT_KEYS


def test_project_endpoints_is_capped_at_100(
    make: Factory, call_act: Any, project: Any, folder: Any, token: str
) -> None:
    other = make.folder(project)
    for index in range(101):
        make.endpoint(folder if index % 2 else other)
    assert len(call_act("project_endpoints", id=project.id, token=token).json["data"]) == 100


@pytest.mark.parametrize("act", ["project_endpoints", "project_endpoints_grouped"])
def test_project_lists_without_endpoints_are_empty_arrays(
    make: Factory, call_act: Any, project: Any, token: str, act: str
) -> None:
    make.folder(project)
    response = call_act(act, id=project.id, token=token)
    assert (response.status_code, response.json["data"]) == (200, [])


def test_grouped_orders_folders_by_name_then_endpoints_newest_first(
    make: Factory, call_act: Any, project: Any, token: str
) -> None:
    beta, alpha = make.folder(project, "beta"), make.folder(project, "alpha")
    make.folder(project, "empty")
    old, new = make.endpoint(beta, "old"), make.endpoint(beta, "new")
    only = make.endpoint(alpha, "only")
    make.stamp_created(old, BASE_TIME)
    make.stamp_created(new, BASE_TIME + timedelta(days=1))
    response = call_act("project_endpoints_grouped", id=project.id, token=token)
    assert (response.status_code, response.json["message"]) == (200, "Grouped endpoints fetched")
    groups = response.json["data"]
    assert [list(group) for group in groups] == [["folder_id", "folder_name", "endpoints"]] * 2
    assert [(g["folder_id"], g["folder_name"]) for g in groups] == [
        (alpha.id, "alpha"),
        (beta.id, "beta"),
    ]
    assert [e["id"] for e in groups[0]["endpoints"]] == [only.id]
    assert [e["id"] for e in groups[1]["endpoints"]] == [new.id, old.id]
    assert list(groups[1]["endpoints"][0]) == ENDPOINT_KEYS


def test_grouped_answers_at_most_100_endpoints_and_offset_pages_to_the_rest(
    make: Factory, call_act: Any, project: Any, folder: Any, token: str
) -> None:
    for _ in range(101):
        make.endpoint(folder)
    first = call_act("project_endpoints_grouped", id=project.id, token=token).json["data"]
    rest = call_act("project_endpoints_grouped", id=project.id, token=token, offset=100)
    assert len(first[0]["endpoints"]) == 100
    assert [len(group["endpoints"]) for group in rest.json["data"]] == [1]
    seen = {e["id"] for e in first[0]["endpoints"] + rest.json["data"][0]["endpoints"]}
    assert len(seen) == 101


@pytest.mark.parametrize("act", ["project_endpoints", "project_endpoints_grouped"])
@pytest.mark.parametrize("project_id", ["proj_missing", "foreign"])
def test_project_lists_of_foreign_or_unknown_project_are_403(
    make: Factory, call_act: Any, token: str, act: str, project_id: str
) -> None:
    if project_id == "foreign":
        project_id = make.project(make.user()).id
    response = call_act(act, id=project_id, token=token)
    assert (response.status_code, response.json["message"]) == (403, "Forbidden")


# --- endpoint detail --------------------------------------------------------------------------


@pytest.mark.parametrize("act", [*ENDPOINT_PATH_ACTS, "endpoint_get"])
def test_every_detail_act_returns_row_with_folder_name_and_project_id(
    make: Factory, call_act: Any, project: Any, folder: Any, token: str, act: str
) -> None:
    endpoint = make.endpoint(folder, headers='{"Accept":"*/*"}')
    response = call_act(act, id=endpoint.id, token=token)
    assert (response.status_code, response.json["message"]) == (200, "Endpoint detail")
    data = response.json["data"]
    assert list(data) == [*ENDPOINT_KEYS, "folder_name", "project_id"]
    assert (data["folder_name"], data["project_id"]) == ("Users", project.id)
    assert data["headers"] == '{"Accept":"*/*"}'


@pytest.mark.parametrize("act", ["endpoint", "endpoint_get", "endpoint_detail"])
def test_detail_of_unknown_endpoint_is_404_even_for_a_stranger(
    make: Factory, call_act: Any, act: str
) -> None:
    response = call_act(act, id="ep_missing", token=make.token(make.user()))
    assert (response.status_code, response.json["message"]) == (404, NOT_FOUND)


# --- endpoint_update --------------------------------------------------------------------------


def test_put_on_endpoint_updates_and_returns_the_plain_row(
    make: Factory, call_act: Any, folder: Any, token: str
) -> None:
    endpoint = make.endpoint(folder, "Old", description="keep", body='{"a":1}')
    body = {"name": "New", "method": "post", "url": "https://x/new?id=2", "headers": '{"A":"1"}'}
    response = call_act("endpoint", "PUT", id=endpoint.id, token=token, json=body)
    assert (response.status_code, response.json["message"]) == (200, "Endpoint updated")
    data = response.json["data"]
    assert list(data) == ENDPOINT_KEYS
    assert (data["id"], data["folder_id"]) == (endpoint.id, folder.id)
    assert (data["name"], data["method"], data["url"]) == ("New", "POST", "https://x/new?id=2")
    assert (data["headers"], data["description"], data["body"]) == ('{"A":"1"}', "keep", '{"a":1}')


def test_null_clears_nullable_columns_and_is_ignored_for_the_others(
    make: Factory, call_act: Any, folder: Any, token: str
) -> None:
    endpoint = make.endpoint(
        folder, "Keep", description="d", purpose="p", body="b", headers='{"A":"1"}'
    )
    body = {key: None for key in ("name", "method", "url", "headers", "folder_id")}
    body |= {key: None for key in ("description", "purpose", "body", "request_params")}
    data = call_act("endpoint_update", "PUT", id=endpoint.id, token=token, json=body).json["data"]
    assert (data["name"], data["method"], data["headers"]) == ("Keep", "GET", '{"A":"1"}')
    assert (data["description"], data["purpose"], data["body"]) == (None, None, None)


def test_update_encodes_objects_and_keeps_strings(
    make: Factory, call_act: Any, folder: Any, token: str
) -> None:
    endpoint = make.endpoint(folder)
    body = {"body": {}, "response_schema": {"id": "the id"}, "header_docs": "raw text"}
    data = call_act("endpoint", "PUT", id=endpoint.id, token=token, json=body).json["data"]
    assert (data["body"], data["response_schema"], data["header_docs"]) == (
        "{}",
        '{"id":"the id"}',
        "raw text",
    )


def test_mcp2_move_endpoint_to_a_folder_of_the_same_project(
    make: Factory, call_act: Any, project: Any, folder: Any, token: str
) -> None:
    endpoint = make.endpoint(folder)
    target = make.folder(project)
    body = {"folder_id": target.id}
    response = call_act("endpoint", "PUT", id=endpoint.id, token=token, json=body)
    assert response.status_code == 200
    assert response.json["data"]["folder_id"] == target.id
    assert endpoint_of(call_act, token, endpoint.id)["folder_name"] == target.name


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing", "Invalid request: Target folder not found"),
        ("empty", "Invalid request: Target folder not found"),
        ("other_project", "Invalid request: Target folder must belong to the same project"),
    ],
)
def test_move_outside_the_project_is_400_and_changes_nothing(
    make: Factory,
    call_act: Any,
    owner: Any,
    folder: Any,
    token: str,
    target: str,
    message: str,
) -> None:
    endpoint = make.endpoint(folder, "Stay")
    targets = {"missing": "col_missing", "empty": "", "other_project": ""}
    if target == "other_project":
        targets[target] = make.folder(make.project(owner)).id
    body = {"folder_id": targets[target], "name": "Renamed"}
    response = call_act("endpoint", "PUT", id=endpoint.id, token=token, json=body)
    assert (response.status_code, response.json["message"]) == (400, message)
    assert endpoint_of(call_act, token, endpoint.id)["name"] == "Stay"
    assert endpoint_of(call_act, token, endpoint.id)["folder_id"] == folder.id


@pytest.mark.parametrize("move", [False, True])
def test_update_to_a_taken_name_is_409(
    make: Factory, call_act: Any, project: Any, folder: Any, token: str, move: bool
) -> None:
    target = make.folder(project) if move else folder
    make.endpoint(target, "Taken")
    endpoint = make.endpoint(folder, "Mine")
    body = {"name": "Taken", "folder_id": target.id}
    response = call_act("endpoint_update", "PUT", id=endpoint.id, token=token, json=body)
    assert response.status_code == 409
    assert response.json["message"] == "An endpoint with this name already exists in this folder"
    assert endpoint_of(call_act, token, endpoint.id)["name"] == "Mine"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"method": "BREW"}, "Invalid request: Invalid HTTP method"),
        ({"name": ""}, "Invalid request: Endpoint name cannot be empty"),
        ({"description": "<script>x</script>"}, INVALID_CONTENT),
        ({"purpose": "p" * 251}, "Invalid request: Input too long (max 250 characters)"),
        ({"url": "u" * 1025}, "Invalid request: Input too long (max 1024 characters)"),
    ],
)
def test_update_refuses_bad_fields_and_writes_nothing(
    make: Factory, call_act: Any, folder: Any, token: str, body: dict[str, Any], message: str
) -> None:
    endpoint = make.endpoint(folder, "Same", method="GET", description="same")
    response = call_act("endpoint_update", "PUT", id=endpoint.id, token=token, json=body)
    assert (response.status_code, response.json["message"]) == (400, message)
    stored = endpoint_of(call_act, token, endpoint.id)
    assert (stored["name"], stored["method"], stored["description"]) == ("Same", "GET", "same")


def test_update_of_unknown_endpoint_is_404(call_act: Any, token: str) -> None:
    response = call_act("endpoint_update", "PUT", id="ep_missing", token=token, json={})
    assert (response.status_code, response.json["message"]) == (404, NOT_FOUND)


# --- endpoint_delete --------------------------------------------------------------------------


@pytest.mark.parametrize("act", ENDPOINT_PATH_ACTS)
def test_delete_answers_with_the_id(
    make: Factory, call_act: Any, folder: Any, token: str, act: str
) -> None:
    endpoint = make.endpoint(folder)
    response = call_act(act, "DELETE", id=endpoint.id, token=token)
    assert (response.status_code, response.json["message"]) == (200, "Endpoint deleted")
    assert response.json["data"] == {"id": endpoint.id}
    assert call_act("endpoint", id=endpoint.id, token=token).status_code == 404


def test_delete_of_unknown_endpoint_is_404(call_act: Any, token: str) -> None:
    response = call_act("endpoint_delete", "DELETE", id="ep_missing", token=token)
    assert (response.status_code, response.json["message"]) == (404, NOT_FOUND)


# --- routing and authentication ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("act", "method", "on"),
    [
        ("endpoint", "POST", "endpoint"),
        ("endpoint_get", "PUT", "endpoint"),
        ("endpoint_list", "POST", "folder"),
        ("endpoints", "DELETE", "folder"),
        ("project_endpoints", "POST", "project"),
        ("project_endpoints_grouped", "DELETE", "project"),
    ],
)
def test_methods_without_a_handler_are_route_not_found(
    make: Factory,
    call_act: Any,
    project: Any,
    folder: Any,
    token: str,
    act: str,
    method: str,
    on: str,
) -> None:
    endpoint = make.endpoint(folder, "Untouched")
    target = {"endpoint": endpoint.id, "folder": folder.id, "project": project.id}[on]
    response = call_act(act, method, id=target, token=token, json={"name": "Changed"})
    assert (response.status_code, response.json["message"]) == (404, "Not found: Route not found")
    assert endpoint_of(call_act, token, endpoint.id)["name"] == "Untouched"


ALL_ACTS = (
    *FOLDER_PATH_ACTS,
    *ENDPOINT_PATH_ACTS,
    "endpoint_list",
    "endpoint_get",
    "project_endpoints",
    "project_endpoints_grouped",
)


@pytest.mark.parametrize("act", ALL_ACTS)
@pytest.mark.parametrize("ident", ["", "0"])
def test_missing_id_is_route_not_found(call_act: Any, token: str, act: str, ident: str) -> None:
    response = call_act(act, id=ident, token=token)
    assert (response.status_code, response.json["message"]) == (404, "Not found: Route not found")


# (act, method, target kind, body) for every act row and handler.
ACT_CALLS = [
    ("endpoints", "GET", "folder", None),
    ("endpoints", "POST", "folder", {**VALID, "name": "Intruder"}),
    ("endpoint_create", "POST", "folder", {**VALID, "name": "Intruder"}),
    ("endpoints_list", "GET", "folder", None),
    ("endpoint_list", "GET", "folder", None),
    ("endpoint", "GET", "endpoint", None),
    ("endpoint_detail", "GET", "endpoint", None),
    ("endpoint_get", "GET", "endpoint", None),
    ("endpoint", "PUT", "endpoint", {"name": "Hijacked"}),
    ("endpoint_update", "PUT", "endpoint", {"url": "https://evil/"}),
    ("endpoint_delete", "DELETE", "endpoint", None),
    ("project_endpoints", "GET", "project", None),
    ("project_endpoints_grouped", "GET", "project", None),
]


@pytest.mark.parametrize("bad_token", [None, "garbage"])
@pytest.mark.parametrize(("act", "method", "on", "body"), ACT_CALLS)
def test_missing_or_invalid_token_is_401(
    make: Factory,
    call_act: Any,
    project: Any,
    folder: Any,
    bad_token: Any,
    act: str,
    method: str,
    on: str,
    body: Any,
) -> None:
    target = {"endpoint": make.endpoint(folder).id, "folder": folder.id, "project": project.id}
    response = call_act(act, method, id=target[on], token=bad_token, json=body)
    assert response.status_code == 401
    assert response.json["message"] == "Authentication failed: Authentication required"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(("act", "method", "on", "body"), ACT_CALLS)
def test_project_mcp_token_works_on_every_act(
    make: Factory,
    call_act: Any,
    project: Any,
    folder: Any,
    act: str,
    method: str,
    on: str,
    body: Any,
) -> None:
    target = {"endpoint": make.endpoint(folder).id, "folder": folder.id, "project": project.id}
    response = call_act(act, method, id=target[on], token=make.mcp_token(project), json=body)
    assert response.status_code in (200, 201)
    assert response.json["success"] is True


def test_preflight_on_an_endpoint_act_needs_no_auth(client: Any) -> None:
    response = client.open("/index.php/?act=endpoints&id=col_x", method="OPTIONS")
    assert response.status_code == 200
    assert "X-HTTP-Method-Override" in response.headers["Access-Control-Allow-Headers"]


def test_method_override_header_reaches_the_update(
    make: Factory, call_act: Any, folder: Any, token: str
) -> None:
    endpoint = make.endpoint(folder)
    response = call_act(
        "endpoint",
        "POST",
        id=endpoint.id,
        token=token,
        json={"name": "Overridden"},
        headers={"X-HTTP-Method-Override": "PUT"},
    )
    assert response.status_code == 200
    assert response.json["data"]["name"] == "Overridden"


# --- project isolation: a token of project A reaches nothing of project B ----------------------


@pytest.fixture(params=["mcp_token_of_a", "jwt_of_non_member"])
def intruder(request: pytest.FixtureRequest, make: Factory, owner: Any) -> str:
    """Project A and B share an owner; A's MCP token and a member of A only must not reach B."""
    project_a = make.project(owner)
    if request.param == "mcp_token_of_a":
        return make.mcp_token(project_a)
    member_of_a = make.user()
    make.member(project_a, member_of_a)
    return make.token(member_of_a)


@pytest.mark.parametrize(("act", "method", "on", "body"), ACT_CALLS)
def test_token_of_another_project_cannot_touch_endpoints(
    make: Factory,
    call_act: Any,
    project: Any,
    folder: Any,
    token: str,
    intruder: str,
    act: str,
    method: str,
    on: str,
    body: Any,
) -> None:
    endpoint = make.endpoint(folder, "Original")
    before = call_act("project_endpoints", id=project.id, token=token).json["data"]
    target = {"endpoint": endpoint.id, "folder": folder.id, "project": project.id}
    response = call_act(act, method, id=target[on], token=intruder, json=body)
    assert (response.status_code, response.json["message"]) == (403, "Forbidden")
    assert "data" not in response.json
    assert call_act("project_endpoints", id=project.id, token=token).json["data"] == before


def test_move_into_a_folder_of_another_project_of_the_same_owner_is_refused(
    make: Factory, call_act: Any, owner: Any, folder: Any
) -> None:
    """Even the owner of both projects, through B's MCP token, cannot pull an endpoint across."""
    endpoint = make.endpoint(folder)
    other = make.project(owner)
    body = {"folder_id": make.folder(other).id}
    response = call_act("endpoint", "PUT", id=endpoint.id, token=make.token(owner), json=body)
    assert response.status_code == 400
    by_mcp = call_act("endpoint", "PUT", id=endpoint.id, token=make.mcp_token(other), json=body)
    assert (by_mcp.status_code, by_mcp.json["message"]) == (403, "Forbidden")
