"""Folder acts: project_folders, folders_list, folder, folder_detail, folder_create,
folder_update (also mcp2's POST move_folder), folder_delete."""

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from backend import create_app
from backend.db import db
from tests.conftest import gateway_config
from tests.factories import Factory
from tests.factories import call_act as call_on

FOLDER_KEYS = [
    "id",
    "name",
    "description",
    "project_id",
    "parent_id",
    "headers",
    "variables",
    "is_default",
    "created_by",
    "created_at",
    "updated_at",
]
BASE_TIME = datetime(2025, 1, 1, 12, 0, 0)
LIST_ACTS = ("project_folders", "folders_list", "folder_create")
DETAIL_ACTS = ("folder", "folder_detail", "folder_update", "folder_delete")
INVALID_CONTENT = "Invalid request: Input contains invalid content"
TOO_LONG = "Invalid request: Input too long"
NOT_JSON = "Must be a JSON object, array or string."
MARKUP = ("<script>alert(1)</script>", "javascript:alert(1)", '<img src=x onerror="alert(1)">')


def folder_of(call_act: Any, token: str, folder_id: str) -> Any:
    response = call_act("folder", id=folder_id, token=token)
    return response.json.get("data") if response.status_code == 200 else None


def endpoint_status(call_act: Any, token: str, endpoint_id: str) -> int:
    return call_act("endpoint", id=endpoint_id, token=token).status_code


# --- folder_create ----------------------------------------------------------------------------


def test_create_with_mcp2_body_returns_201_and_the_legacy_row(
    call_act: Any, project: Any, owner: Any, token: str
) -> None:
    body = {"name": "Users", "description": "d", "headers": {}, "variables": {}, "is_default": 0}
    response = call_act("folder_create", "POST", id=project.id, token=token, json=body)
    assert response.status_code == 201
    assert response.json["message"] == "Folder created"
    data = response.json["data"]
    assert list(data) == FOLDER_KEYS
    assert data["id"].startswith("col_") and len(data["id"]) == 36
    assert (data["name"], data["project_id"], data["created_by"]) == ("Users", project.id, owner.id)
    assert (data["headers"], data["variables"], data["is_default"]) == ("{}", "{}", 0)


def test_create_without_json_columns_stores_empty_object_strings(
    call_act: Any, project: Any, token: str
) -> None:
    data = call_act("project_folders", "POST", id=project.id, token=token, json={"name": "A"}).json[
        "data"
    ]
    assert (data["headers"], data["variables"], data["description"]) == ("{}", "{}", None)


def test_create_keeps_json_strings_as_sent_and_encodes_objects(
    call_act: Any, project: Any, token: str
) -> None:
    body = {"name": "A", "headers": '{"X-Key": "1"}', "variables": {"base": "https://x/a"}}
    data = call_act("folder_create", "POST", id=project.id, token=token, json=body).json["data"]
    assert data["headers"] == '{"X-Key": "1"}'
    assert data["variables"] == '{"base":"https:\\/\\/x\\/a"}'


@pytest.mark.parametrize("name", ["Tom & Jerry", 'O\'Brien "API"', "a < b", "Tom &amp; Jerry"])
def test_create_stores_text_as_sent(call_act: Any, project: Any, token: str, name: str) -> None:
    response = call_act("folder_create", "POST", id=project.id, token=token, json={"name": name})
    assert response.status_code == 201
    assert folder_of(call_act, token, response.json["data"]["id"])["name"] == name


def test_create_accepts_a_name_of_255_multibyte_characters(
    call_act: Any, project: Any, token: str
) -> None:
    name = "é" * 255
    response = call_act("folder_create", "POST", id=project.id, token=token, json={"name": name})
    assert response.status_code == 201
    assert folder_of(call_act, token, response.json["data"]["id"])["name"] == name


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": None}, {"description": "x"}])
def test_create_without_name_is_required_field_error(
    call_act: Any, project: Any, token: str, body: dict[str, Any]
) -> None:
    response = call_act("folder_create", "POST", id=project.id, token=token, json=body)
    assert response.status_code == 400
    assert response.json["message"] == "Invalid request: Required field: Name"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"name": "   "}, 400, "Invalid request: Folder name cannot be empty"),
        ({"name": "x" * 256}, 400, "Invalid request: Input too long (max 255 characters)"),
        ({"name": "A", "description": "x" * 1001}, 400, f"{TOO_LONG} (max 1000 characters)"),
        ({"name": MARKUP[0]}, 400, INVALID_CONTENT),
        ({"name": "A", "description": MARKUP[1]}, 400, INVALID_CONTENT),
        ({"name": "A", "description": MARKUP[2]}, 400, INVALID_CONTENT),
        ({"name": {"a": 1}}, 422, "Validation failed: name: Not a valid string."),
        ({"name": "A", "headers": 5}, 422, f"Validation failed: headers: {NOT_JSON}"),
    ],
)
def test_create_refuses_bad_fields(
    call_act: Any, project: Any, token: str, body: dict[str, Any], status: int, message: str
) -> None:
    response = call_act("folder_create", "POST", id=project.id, token=token, json=body)
    assert (response.status_code, response.json["message"]) == (status, message)
    assert call_act("folders_list", id=project.id, token=token).json["data"] == []


def test_create_with_invalid_json_is_400(call_act: Any, project: Any, token: str) -> None:
    response = call_act(
        "folder_create",
        "POST",
        id=project.id,
        token=token,
        data="{bad",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json["message"] == "Invalid request: Invalid JSON format"


def test_create_under_a_parent_of_the_same_project(
    make: Factory, call_act: Any, project: Any, token: str
) -> None:
    parent = make.folder(project)
    body = {"name": "Child", "parent_id": parent.id}
    data = call_act("folder_create", "POST", id=project.id, token=token, json=body).json["data"]
    assert data["parent_id"] == parent.id


@pytest.mark.parametrize(
    ("parent", "message"),
    [
        ("missing", "Invalid request: Parent folder not found"),
        ("other", "Invalid request: Parent folder must belong to the same project"),
    ],
)
def test_create_with_invalid_parent_is_400(
    make: Factory, call_act: Any, owner: Any, project: Any, token: str, parent: str, message: str
) -> None:
    parent_id = make.folder(make.project(owner)).id if parent == "other" else "col_missing"
    body = {"name": "Child", "parent_id": parent_id}
    response = call_act("folder_create", "POST", id=project.id, token=token, json=body)
    assert (response.status_code, response.json["message"]) == (400, message)


def test_create_duplicate_name_in_project_is_409_and_writes_nothing(
    make: Factory, call_act: Any, project: Any, token: str
) -> None:
    make.folder(project, "Users")
    response = call_act("folder_create", "POST", id=project.id, token=token, json={"name": "Users"})
    assert response.status_code == 409
    assert response.json["message"] == "A folder with this name already exists in this project"
    assert len(call_act("folders_list", id=project.id, token=token).json["data"]) == 1


def test_same_name_in_another_project_is_allowed(
    make: Factory, call_act: Any, owner: Any, project: Any, token: str
) -> None:
    make.folder(make.project(owner), "Users")
    response = call_act("folder_create", "POST", id=project.id, token=token, json={"name": "Users"})
    assert response.status_code == 201


def test_create_default_unsets_the_other_defaults(
    make: Factory, call_act: Any, project: Any, token: str
) -> None:
    old = make.folder(project, is_default=1)
    body = {"name": "New", "is_default": True}
    data = call_act("folder_create", "POST", id=project.id, token=token, json=body).json["data"]
    assert data["is_default"] == 1
    assert folder_of(call_act, token, old.id)["is_default"] == 0


def test_member_and_project_mcp_token_may_create(
    make: Factory, call_act: Any, project: Any, owner: Any
) -> None:
    member = make.user()
    make.member(project, member)
    by_member = call_act(
        "folder_create", "POST", id=project.id, token=make.token(member), json={"name": "M"}
    )
    by_mcp = call_act(
        "folder_create", "POST", id=project.id, token=make.mcp_token(project), json={"name": "T"}
    )
    assert (by_member.status_code, by_mcp.status_code) == (201, 201)
    assert by_member.json["data"]["created_by"] == member.id
    assert by_mcp.json["data"]["created_by"] == owner.id


# --- folders_list -----------------------------------------------------------------------------


def test_list_is_newest_first_with_endpoint_count_appended(
    make: Factory, call_act: Any, project: Any, token: str
) -> None:
    older, newer = make.folder(project, "Older"), make.folder(project, "Newer")
    make.stamp_created(older, BASE_TIME)
    make.stamp_created(newer, BASE_TIME + timedelta(minutes=1))
    make.endpoint(older)
    make.endpoint(older)
    response = call_act("folders_list", id=project.id, token=token)
    assert response.status_code == 200
    assert response.json["message"] == "Folders fetched"
    data = response.json["data"]
    assert [row["name"] for row in data] == ["Newer", "Older"]
    assert list(data[0]) == [*FOLDER_KEYS, "endpoint_count"]
    assert [row["endpoint_count"] for row in data] == [0, 2]


def test_list_breaks_created_at_ties_by_id(
    make: Factory, call_act: Any, project: Any, token: str
) -> None:
    folders = [make.folder(project) for _ in range(4)]
    for folder in folders:
        make.stamp_created(folder, BASE_TIME)
    data = call_act("folders_list", id=project.id, token=token).json["data"]
    assert [row["id"] for row in data] == sorted((f.id for f in folders), reverse=True)


def test_list_is_capped_at_100(make: Factory, call_act: Any, project: Any, token: str) -> None:
    for _ in range(101):
        make.folder(project)
    assert len(call_act("folders_list", id=project.id, token=token).json["data"]) == 100


def test_list_of_project_without_folders_is_empty_array(
    call_act: Any, project: Any, token: str
) -> None:
    response = call_act("project_folders", id=project.id, token=token)
    assert (response.status_code, response.json["data"]) == (200, [])


def test_list_excludes_other_projects(
    make: Factory, call_act: Any, owner: Any, project: Any, token: str
) -> None:
    make.folder(make.project(owner))
    mine = make.folder(project)
    data = call_act("folders_list", id=project.id, token=token).json["data"]
    assert [row["id"] for row in data] == [mine.id]


def test_parent_id_filter_lists_children_and_is_active_is_ignored(
    make: Factory, call_act: Any, project: Any, token: str
) -> None:
    parent = make.folder(project)
    child = make.folder(project, parent_id=parent.id)
    make.folder(project, parent_id=child.id)
    response = call_act(
        "project_folders", id=project.id, token=token, is_active="true", parent_id=parent.id
    )
    assert [row["id"] for row in response.json["data"]] == [child.id]


@pytest.mark.parametrize(
    "extras",
    [
        {"is_active": "undefined", "parent_id": "undefined"},
        {"is_active": "true"},
        {"is_active": "false", "parent_id": ""},
        {"limit": "50", "offset": "0", "format": "json"},
    ],
)
def test_unset_or_unknown_filters_give_the_unfiltered_list(
    make: Factory, call_act: Any, project: Any, token: str, extras: dict[str, str]
) -> None:
    parent = make.folder(project)
    make.folder(project, parent_id=parent.id)
    plain = call_act("project_folders", id=project.id, token=token).json["data"]
    filtered = call_act("project_folders", id=project.id, token=token, **extras).json["data"]
    assert len(plain) == 2
    assert filtered == plain


@pytest.mark.parametrize("act", LIST_ACTS)
def test_every_project_folders_act_lists_on_get(
    make: Factory, call_act: Any, project: Any, token: str, act: str
) -> None:
    folder = make.folder(project)
    response = call_act(act, id=project.id, token=token)
    assert response.status_code == 200
    assert [row["id"] for row in response.json["data"]] == [folder.id]


@pytest.mark.parametrize("project_id", ["proj_missing", "other"])
def test_list_of_foreign_or_unknown_project_is_403(
    make: Factory, call_act: Any, token: str, project_id: str
) -> None:
    if project_id == "other":
        project_id = make.project(make.user()).id
    response = call_act("folders_list", id=project_id, token=token)
    assert (response.status_code, response.json["message"]) == (403, "Forbidden")


# --- folder_detail ----------------------------------------------------------------------------


@pytest.mark.parametrize("act", DETAIL_ACTS)
def test_every_folder_act_reads_the_row_on_get(
    make: Factory, call_act: Any, project: Any, token: str, act: str
) -> None:
    folder = make.folder(project, headers='{"A":"b"}')
    response = call_act(act, id=folder.id, token=token)
    assert response.status_code == 200
    assert response.json["message"] == "Folder detail"
    assert list(response.json["data"]) == FOLDER_KEYS
    assert response.json["data"]["headers"] == '{"A":"b"}'


def test_detail_of_unknown_folder_is_404_even_for_a_stranger(make: Factory, call_act: Any) -> None:
    response = call_act("folder", id="col_missing", token=make.token(make.user()))
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Folder not found"


# --- folder_update ----------------------------------------------------------------------------


def test_put_with_partial_body_changes_only_those_fields(
    make: Factory, call_act: Any, project: Any, token: str
) -> None:
    folder = make.folder(project, "Old", description="keep", headers='{"A":"b"}')
    response = call_act("folder_update", "PUT", id=folder.id, token=token, json={"name": "New"})
    assert response.status_code == 200
    assert response.json["message"] == "Folder updated successfully"
    data = response.json["data"]
    assert list(data) == FOLDER_KEYS
    assert (data["name"], data["description"], data["headers"]) == ("New", "keep", '{"A":"b"}')
    assert folder_of(call_act, token, folder.id) == data


def test_null_clears_description_and_is_ignored_for_not_null_columns(
    make: Factory, call_act: Any, project: Any, token: str
) -> None:
    folder = make.folder(project, "Keep", description="old")
    body = {"name": None, "description": None, "headers": None, "variables": None}
    data = call_act("folder", "PUT", id=folder.id, token=token, json=body).json["data"]
    assert (data["name"], data["description"]) == ("Keep", None)
    assert (data["headers"], data["variables"]) == ("{}", "{}")


def test_update_stores_json_and_text_as_sent(
    make: Factory, call_act: Any, project: Any, token: str
) -> None:
    folder = make.folder(project)
    body = {"description": "A &amp; B", "variables": '{"k":"v"}', "headers": {}}
    data = call_act("folder_update", "PUT", id=folder.id, token=token, json=body).json["data"]
    assert (data["description"], data["variables"], data["headers"]) == (
        "A &amp; B",
        '{"k":"v"}',
        "{}",
    )


def test_mcp2_move_folder_post_sets_the_parent(
    make: Factory, call_act: Any, project: Any, token: str
) -> None:
    folder, parent = make.folder(project), make.folder(project)
    body = {"parent_id": parent.id}
    response = call_act("folder_update", "POST", id=folder.id, token=token, json=body)
    assert response.status_code == 200
    assert response.json["data"]["parent_id"] == parent.id


@pytest.mark.parametrize("root", [None, ""])
def test_empty_parent_moves_the_folder_to_the_root(
    make: Factory, call_act: Any, project: Any, token: str, root: Any
) -> None:
    parent = make.folder(project)
    folder = make.folder(project, parent_id=parent.id)
    body = {"parent_id": root}
    data = call_act("folder_update", "PUT", id=folder.id, token=token, json=body).json["data"]
    assert data["parent_id"] is None


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("self", "Invalid request: A folder cannot be its own parent"),
        ("child", "Invalid request: A folder cannot be moved into one of its own subfolders"),
        ("grandchild", "Invalid request: A folder cannot be moved into one of its own subfolders"),
        ("missing", "Invalid request: Parent folder not found"),
        ("other_project", "Invalid request: Parent folder must belong to the same project"),
    ],
)
def test_invalid_parent_is_400_and_leaves_the_folder_unchanged(
    make: Factory,
    call_act: Any,
    owner: Any,
    project: Any,
    token: str,
    target: str,
    message: str,
) -> None:
    folder = make.folder(project)
    child = make.folder(project, parent_id=folder.id)
    targets = {
        "self": folder.id,
        "child": child.id,
        "grandchild": make.folder(project, parent_id=child.id).id,
        "missing": "col_missing",
        "other_project": make.folder(make.project(owner)).id,
    }
    body = {"name": "Renamed", "parent_id": targets[target]}
    response = call_act("folder_update", "PUT", id=folder.id, token=token, json=body)
    assert (response.status_code, response.json["message"]) == (400, message)
    assert folder_of(call_act, token, folder.id)["parent_id"] is None
    assert folder_of(call_act, token, folder.id)["name"] == folder.name


def test_rename_to_an_existing_name_is_409(
    make: Factory, call_act: Any, project: Any, token: str
) -> None:
    make.folder(project, "Taken")
    folder = make.folder(project, "Mine")
    response = call_act("folder_update", "PUT", id=folder.id, token=token, json={"name": "Taken"})
    assert response.status_code == 409
    assert response.json["message"] == "A folder with this name already exists in this project"
    assert folder_of(call_act, token, folder.id)["name"] == "Mine"


def test_update_default_unsets_the_other_defaults(
    make: Factory, call_act: Any, project: Any, token: str
) -> None:
    old, new = make.folder(project, is_default=1), make.folder(project)
    body = {"is_default": "1"}
    data = call_act("folder_update", "PUT", id=new.id, token=token, json=body).json["data"]
    assert data["is_default"] == 1
    assert folder_of(call_act, token, old.id)["is_default"] == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, "Invalid request: Folder name cannot be empty"),
        ({"name": MARKUP[0]}, INVALID_CONTENT),
        ({"description": MARKUP[2]}, INVALID_CONTENT),
    ],
)
def test_update_refuses_bad_text_and_writes_nothing(
    make: Factory, call_act: Any, project: Any, token: str, body: dict[str, Any], message: str
) -> None:
    folder = make.folder(project, "Same", description="same")
    response = call_act("folder_update", "PUT", id=folder.id, token=token, json=body)
    assert (response.status_code, response.json["message"]) == (400, message)
    assert folder_of(call_act, token, folder.id)["description"] == "same"


def test_update_of_unknown_folder_is_404(call_act: Any, token: str) -> None:
    response = call_act("folder_update", "PUT", id="col_missing", token=token, json={"name": "x"})
    assert (response.status_code, response.json["message"]) == (404, "Not found: Folder not found")


# --- folder_delete ----------------------------------------------------------------------------


@pytest.mark.parametrize("act", DETAIL_ACTS)
def test_delete_without_body_answers_with_the_id(
    make: Factory, call_act: Any, project: Any, token: str, act: str
) -> None:
    folder = make.folder(project)
    response = call_act(act, "DELETE", id=folder.id, token=token)
    assert response.status_code == 200
    assert response.json["message"] == "Folder deleted successfully"
    assert response.json["data"] == {"id": folder.id}
    assert call_act("folder", id=folder.id, token=token).status_code == 404


def test_delete_cascades_to_subfolders_their_endpoints_and_flows(
    make: Factory, call_act: Any, project: Any, token: str
) -> None:
    root = make.folder(project)
    child = make.folder(project, parent_id=root.id)
    grandchild = make.folder(project, parent_id=child.id)
    sibling = make.folder(project)
    doomed_endpoints = [make.endpoint(f) for f in (root, child, grandchild)]
    doomed_flows = [make.flow(project, folder_id=f.id) for f in (root, grandchild)]
    kept_endpoint = make.endpoint(sibling)
    kept_flows = [make.flow(project, folder_id=sibling.id), make.flow(project)]

    assert call_act("folder_delete", "DELETE", id=root.id, token=token).status_code == 200

    remaining = call_act("folders_list", id=project.id, token=token).json["data"]
    assert [row["id"] for row in remaining] == [sibling.id]
    assert all(endpoint_status(call_act, token, ep.id) == 404 for ep in doomed_endpoints)
    assert endpoint_status(call_act, token, kept_endpoint.id) == 200
    assert all(make.flow_row(flow.id) is None for flow in doomed_flows)
    assert all(make.flow_row(flow.id) is not None for flow in kept_flows)


def test_delete_of_a_deep_tree_succeeds(
    make: Factory, call_act: Any, project: Any, token: str
) -> None:
    """Deeper than InnoDB's 15-level foreign-key cascade limit."""
    root = parent = make.folder(project)
    for _ in range(20):
        parent = make.folder(project, parent_id=parent.id)
    endpoint = make.endpoint(parent)
    flow = make.flow(project, folder_id=parent.id)
    assert call_act("folder_delete", "DELETE", id=root.id, token=token).status_code == 200
    assert call_act("folders_list", id=project.id, token=token).json["data"] == []
    assert endpoint_status(call_act, token, endpoint.id) == 404
    assert make.flow_row(flow.id) is None


def test_delete_of_unknown_folder_is_404(call_act: Any, token: str) -> None:
    response = call_act("folder_delete", "DELETE", id="col_missing", token=token)
    assert (response.status_code, response.json["message"]) == (404, "Not found: Folder not found")


# --- routing and authentication ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("act", "method"),
    [("project_folders", "PUT"), ("folder_create", "DELETE"), ("folder", "PATCH")],
)
def test_methods_without_a_handler_are_404(
    make: Factory, call_act: Any, project: Any, token: str, act: str, method: str
) -> None:
    target = project.id if act != "folder" else make.folder(project).id
    response = call_act(act, method, id=target, token=token)
    assert response.status_code == 404
    assert response.json["success"] is False


@pytest.mark.parametrize("act", [*LIST_ACTS, *DETAIL_ACTS])
@pytest.mark.parametrize("ident", ["", "0"])
def test_missing_id_is_route_not_found(call_act: Any, token: str, act: str, ident: str) -> None:
    response = call_act(act, id=ident, token=token)
    assert (response.status_code, response.json["message"]) == (404, "Not found: Route not found")


@pytest.mark.parametrize("bad_token", [None, "garbage", "a" * 64])
@pytest.mark.parametrize(
    ("act", "method", "on"),
    [
        ("folders_list", "GET", "project"),
        ("folder_create", "POST", "project"),
        ("folder_detail", "GET", "folder"),
        ("folder_update", "PUT", "folder"),
        ("folder_update", "POST", "folder"),
        ("folder_delete", "DELETE", "folder"),
    ],
)
def test_missing_or_invalid_token_is_401_with_cors(
    make: Factory, call_act: Any, project: Any, bad_token: Any, act: str, method: str, on: str
) -> None:
    folder = make.folder(project)
    target = project.id if on == "project" else folder.id
    response = call_act(act, method, id=target, token=bad_token, json={"name": "x"})
    assert response.status_code == 401
    assert response.json["message"] == "Authentication failed: Authentication required"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    ("act", "method", "on", "body"),
    [
        ("project_folders", "GET", "project", None),
        ("folders_list", "GET", "project", None),
        ("folder_create", "POST", "project", {"name": "By MCP"}),
        ("folder", "GET", "folder", None),
        ("folder_detail", "GET", "folder", None),
        ("folder_update", "PUT", "folder", {"name": "Renamed by MCP"}),
        ("folder_update", "POST", "folder", {"parent_id": None}),
        ("folder_delete", "DELETE", "folder", None),
    ],
)
def test_project_mcp_token_works_on_every_act(
    make: Factory, call_act: Any, project: Any, act: str, method: str, on: str, body: Any
) -> None:
    target = project.id if on == "project" else make.folder(project).id
    response = call_act(act, method, id=target, token=make.mcp_token(project), json=body)
    assert response.status_code in (200, 201)
    assert response.json["success"] is True


def test_preflight_on_a_folder_act_needs_no_auth(client: Any) -> None:
    response = client.open("/?act=folder_update&id=col_x", method="OPTIONS")
    assert response.status_code == 200
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert "PUT" in response.headers["Access-Control-Allow-Methods"]


@pytest.mark.parametrize("act", ["folders", "folder_list", "move_folder"])
def test_names_that_legacy_never_had_stay_invalid_actions(
    call_act: Any, project: Any, token: str, act: str
) -> None:
    response = call_act(act, id=project.id, token=token)
    assert response.status_code == 400
    assert response.json["message"] == "Invalid request: Invalid action"


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


@pytest.mark.parametrize(
    ("act", "method", "on", "body"),
    [
        ("project_folders", "GET", "project", None),
        ("folders_list", "GET", "project", None),
        ("folder_create", "POST", "project", {"name": "Intruder"}),
        ("folder", "GET", "folder", None),
        ("folder_detail", "GET", "folder", None),
        ("folder_update", "PUT", "folder", {"name": "Hijacked"}),
        ("folder_update", "POST", "folder", {"parent_id": None, "name": "Moved"}),
        ("folder_delete", "DELETE", "folder", None),
    ],
)
def test_token_of_another_project_cannot_touch_folders(
    make: Factory,
    call_act: Any,
    project: Any,
    token: str,
    intruder: str,
    act: str,
    method: str,
    on: str,
    body: Any,
) -> None:
    folder = make.folder(project, "Original")
    before = call_act("folders_list", id=project.id, token=token).json["data"]
    target = project.id if on == "project" else folder.id
    response = call_act(act, method, id=target, token=intruder, json=body)
    assert (response.status_code, response.json["message"]) == (403, "Forbidden")
    assert "data" not in response.json
    assert call_act("folders_list", id=project.id, token=token).json["data"] == before


# --- concurrency (MariaDB: two app instances, separate pools) --------------------------------


@pytest.fixture
def twins(app: Flask, database_url: str) -> Iterator[list[Flask]]:
    if database_url.startswith("sqlite"):
        pytest.skip("needs a database server shared by two app instances")
    apps = [create_app(gateway_config(database_url)) for _ in range(2)]
    yield apps
    for twin in apps:
        with twin.app_context():
            db.engine.dispose()


def move_together(twins: list[Flask], token: str, moves: list[tuple[str, str]]) -> list[int]:
    """Send every (folder, new parent) move at once, each through its own app instance."""
    barrier = threading.Barrier(len(moves))

    def move(index: int) -> int:
        client = twins[index % 2].test_client()
        folder_id, parent_id = moves[index]
        barrier.wait()
        body = {"parent_id": parent_id}
        return call_on(client, "folder_update", "POST", id=folder_id, token=token, json=body)

    with ThreadPoolExecutor(max_workers=len(moves)) as pool:
        return [response.status_code for response in pool.map(move, range(len(moves)))]


def test_opposite_concurrent_moves_never_build_a_cycle(
    twins: list[Flask], make: Factory, call_act: Any, project: Any, token: str
) -> None:
    for _ in range(10):
        a, b = make.folder(project), make.folder(project)
        statuses = move_together(twins, token, [(a.id, b.id), (b.id, a.id)])
        assert sorted(statuses) == [200, 400]
        parents = {folder_of(call_act, token, f.id)["parent_id"] for f in (a, b)}
        assert None in parents
