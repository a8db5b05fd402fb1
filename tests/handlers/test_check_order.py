"""The legacy check order (acts.md «Errors (in check order)»): 404 and 403 come before the body.

A body that is not JSON, fails validation or lacks a required field is reported only once the
resource exists and the caller may use it; the auth acts without a resource read the body first.
"""

from typing import Any

import pytest

from tests.factories import Factory

UNKNOWN_ID = "unknown_0123456789"
NOT_JSON = "{not json"
BAD_JSON = (400, "Invalid request: Invalid JSON format")
TOO_LARGE = 1_048_576 + 1
MEMBER_ONLY = (403, "Forbidden")
OWNER_ONLY = (403, "Access denied")


@pytest.fixture
def world(make: Factory, project: Any) -> dict[str, str]:
    """One resource of each kind in the owner's project, by kind."""
    folder = make.folder(project)
    flow = make.flow(project)
    return {
        "project": project.id,
        "environment": make.environment(project, "staging").id,
        "folder": folder.id,
        "endpoint": make.endpoint(folder).id,
        "flow": flow.id,
        "execution": make.execution(flow).id,
    }


@pytest.fixture
def stranger_token(make: Factory) -> str:
    """A valid token of a user who is neither owner nor member of `project`."""
    return make.token(make.user())


def send(call_act: Any, act: str, method: str, ident: str, token: str, body: Any) -> Any:
    """`body` is sent as JSON, or verbatim when it is a string."""
    if isinstance(body, str):
        kwargs = {"data": body, "headers": {"Content-Type": "application/json"}}
    else:
        kwargs = {"json": body}
    return call_act(act, method, id=ident, token=token, **kwargs)


def assert_error(response: Any, expected: tuple[int, str]) -> None:
    assert (response.status_code, response.json["message"]) == expected


# (act, method, kind of its id, 404 message when that id is unknown)
UPDATES_WITH_A_ROW = [
    ("environment_update", "PUT", "environment", "Environment not found"),
    ("environment", "POST", "environment", "Environment not found"),
    ("folder_update", "PUT", "folder", "Not found: Folder not found"),
    ("folder", "POST", "folder", "Not found: Folder not found"),
    ("endpoint_create", "POST", "folder", "Not found: Folder not found"),
    ("endpoint_update", "PUT", "endpoint", "Not found: Endpoint not found"),
    ("flow_update", "PUT", "flow", "Not found: Flow not found"),
    ("flow_detail_ui", "PUT", "flow", "Not found: Flow not found"),
    ("flow_duplicate", "POST", "flow", "Not found: Flow not found"),
    ("flow_toggle_active", "PUT", "flow", "Not found: Flow not found"),
    ("flow_activate", "PUT", "flow", "Not found: Flow not found"),
    ("flow_deactivate", "PUT", "flow", "Not found: Flow not found"),
    ("flow_execution_finish", "POST", "execution", "Not found: Execution not found"),
]
# (act, method, kind of its id, 403 answer to a caller who may not use the project)
WRITES_IN_A_PROJECT = [
    ("environment_create", "POST", "project", MEMBER_ONLY),
    ("environment_update", "PUT", "environment", MEMBER_ONLY),
    ("environment", "POST", "environment", MEMBER_ONLY),
    ("folder_create", "POST", "project", MEMBER_ONLY),
    ("folder_update", "PUT", "folder", MEMBER_ONLY),
    ("endpoint_create", "POST", "folder", MEMBER_ONLY),
    ("endpoint_update", "PUT", "endpoint", MEMBER_ONLY),
    ("flow_create", "POST", "project", MEMBER_ONLY),
    ("flow_update", "PUT", "flow", MEMBER_ONLY),
    ("flow_detail_ui", "PUT", "flow", MEMBER_ONLY),
    ("flow_duplicate", "POST", "flow", MEMBER_ONLY),
    ("flow_toggle_active", "PUT", "flow", MEMBER_ONLY),
    ("flow_activate", "PUT", "flow", MEMBER_ONLY),
    ("flow_deactivate", "PUT", "flow", MEMBER_ONLY),
    ("flows_set_active", "POST", "project", MEMBER_ONLY),
    ("flow_execution_finish", "POST", "execution", MEMBER_ONLY),
    ("project_update", "PUT", "project", OWNER_ONLY),
    ("project_add_member", "POST", "project", OWNER_ONLY),
]
# (act, method, kind of its id, a body the act refuses once it gets to the body)
INVALID_BODIES = [
    ("environment_create", "POST", "project", {"name": ["not", "text"], "variables": {}}),
    ("environment_update", "PUT", "environment", {"name": "<script>x</script>"}),
    ("environment", "POST", "environment", {"is_default": 1}),
    ("folder_create", "POST", "project", {"name": "<script>x</script>"}),
    ("folder_update", "PUT", "folder", {"name": {"not": "text"}}),
    ("endpoint_create", "POST", "folder", {"name": "A", "method": "FETCH", "url": "/a"}),
    ("endpoint_update", "PUT", "endpoint", {"method": "FETCH"}),
    ("flow_create", "POST", "project", {"name": "<script>x</script>"}),
    ("flow_update", "PUT", "flow", {"name": ["not", "text"]}),
    ("flow_detail_ui", "PUT", "flow", {"name": ["not", "text"]}),
    ("flow_duplicate", "POST", "flow", {"name": "<script>x</script>"}),
    ("flow_toggle_active", "PUT", "flow", {"reason": "r" * 501}),
    ("flow_activate", "PUT", "flow", {"reason": "r" * 501}),
    ("flows_set_active", "POST", "project", {"flow_ids": "all", "is_active": True}),
    ("flow_execution_finish", "POST", "execution", {"status": "sleeping"}),
    ("project_update", "PUT", "project", {"name": "<script>x</script>"}),
    ("project_add_member", "POST", "project", {"user_id": ["not", "text"]}),
]
# (act, method, kind of its id, the legacy REQ answer once it gets to the body)
MISSING_REQUIRED = [
    ("environment_create", "POST", "project", "Invalid request: Required field: Name"),
    ("folder_create", "POST", "project", "Invalid request: Required field: Name"),
    (
        "endpoint_create",
        "POST",
        "folder",
        "Invalid request: Required field: Name, Required field: Method, Required field: Url",
    ),
    ("flow_create", "POST", "project", "Invalid request: Required field: Name"),
    (
        "flows_set_active",
        "POST",
        "project",
        "Invalid request: Required field: Flow ids, Required field: Is active",
    ),
    ("flow_execution_finish", "POST", "execution", "Invalid request: Required field: Status"),
    ("project_add_member", "POST", "project", "Invalid request: Required field: User id"),
]


@pytest.mark.parametrize(("act", "method", "kind", "message"), UPDATES_WITH_A_ROW)
def test_an_invalid_json_body_on_an_unknown_resource_answers_404(
    call_act: Any, token: str, act: str, method: str, kind: str, message: str
) -> None:
    response = send(call_act, act, method, UNKNOWN_ID, token, NOT_JSON)
    assert_error(response, (404, message))


@pytest.mark.parametrize(("act", "method", "kind", "message"), UPDATES_WITH_A_ROW)
def test_a_body_failing_validation_on_an_unknown_resource_answers_404(
    call_act: Any, token: str, act: str, method: str, kind: str, message: str
) -> None:
    response = send(call_act, act, method, UNKNOWN_ID, token, {"name": ["not", "text"]})
    assert_error(response, (404, message))


def test_a_missing_required_field_on_an_unknown_folder_answers_404(
    call_act: Any, token: str
) -> None:
    response = send(call_act, "endpoint_create", "POST", UNKNOWN_ID, token, {})
    assert_error(response, (404, "Not found: Folder not found"))


@pytest.mark.parametrize(("act", "method", "kind", "expected"), WRITES_IN_A_PROJECT)
def test_an_invalid_json_body_on_a_foreign_project_answers_403(
    call_act: Any,
    world: dict[str, str],
    stranger_token: str,
    act: str,
    method: str,
    kind: str,
    expected: tuple[int, str],
) -> None:
    response = send(call_act, act, method, world[kind], stranger_token, NOT_JSON)
    assert_error(response, expected)


@pytest.mark.parametrize(("act", "method", "kind", "body"), INVALID_BODIES)
def test_a_body_failing_validation_on_a_foreign_project_answers_403(
    call_act: Any,
    world: dict[str, str],
    stranger_token: str,
    act: str,
    method: str,
    kind: str,
    body: dict[str, Any],
) -> None:
    expected = OWNER_ONLY if act.startswith("project_") else MEMBER_ONLY
    assert_error(send(call_act, act, method, world[kind], stranger_token, body), expected)


@pytest.mark.parametrize(("act", "method", "kind", "message"), MISSING_REQUIRED)
def test_a_missing_required_field_on_a_foreign_project_answers_403(
    call_act: Any,
    world: dict[str, str],
    stranger_token: str,
    act: str,
    method: str,
    kind: str,
    message: str,
) -> None:
    expected = OWNER_ONLY if act.startswith("project_") else MEMBER_ONLY
    assert_error(send(call_act, act, method, world[kind], stranger_token, {}), expected)


@pytest.mark.parametrize(("act", "method", "kind", "message"), MISSING_REQUIRED)
def test_a_missing_required_field_is_reported_once_the_resource_checks_pass(
    call_act: Any,
    world: dict[str, str],
    token: str,
    act: str,
    method: str,
    kind: str,
    message: str,
) -> None:
    assert_error(send(call_act, act, method, world[kind], token, {}), (400, message))


@pytest.mark.parametrize(("act", "method", "kind", "expected"), WRITES_IN_A_PROJECT)
def test_an_invalid_json_body_is_reported_once_the_resource_checks_pass(
    call_act: Any,
    world: dict[str, str],
    token: str,
    act: str,
    method: str,
    kind: str,
    expected: tuple[int, str],
) -> None:
    assert_error(send(call_act, act, method, world[kind], token, NOT_JSON), BAD_JSON)


@pytest.mark.parametrize(("act", "method", "kind", "body"), INVALID_BODIES)
def test_a_body_failing_validation_is_refused_once_the_resource_checks_pass(
    call_act: Any,
    world: dict[str, str],
    token: str,
    act: str,
    method: str,
    kind: str,
    body: dict[str, Any],
) -> None:
    response = send(call_act, act, method, world[kind], token, body)
    assert response.status_code in (400, 422)


def test_a_declared_body_over_the_limit_is_refused_before_the_resource_checks(
    call_act: Any, token: str
) -> None:
    body = '{"name": "' + "x" * TOO_LARGE + '"}'
    response = send(call_act, "environment_update", "PUT", UNKNOWN_ID, token, body)
    assert_error(response, (413, "Input too large"))


# --- users: the id and CSRF checks come before the body; the 404 after it (acts.md) -----------


@pytest.mark.parametrize(
    ("act", "method", "expected"),
    [
        ("user_update", "PUT", OWNER_ONLY),
        ("user_toggle_status", "PUT", (404, "User not found")),  # a stranger: hidden
    ],
)
def test_an_invalid_json_body_on_another_users_id_answers_the_permission_error(
    make: Factory, call_act: Any, token: str, act: str, method: str, expected: tuple[int, str]
) -> None:
    other = make.user()
    response = send(call_act, act, method, other.id, token, NOT_JSON)
    assert_error(response, expected)


@pytest.mark.parametrize(
    ("act", "method"),
    [("user_update", "PUT"), ("user_toggle_status", "PUT"), ("profile", "POST")],
)
def test_an_invalid_json_body_on_your_own_user_answers_400(
    call_act: Any, owner: Any, token: str, act: str, method: str
) -> None:
    assert_error(send(call_act, act, method, owner.id, token, NOT_JSON), BAD_JSON)


@pytest.mark.parametrize(
    ("act", "body", "expected"),
    [
        ("login", NOT_JSON, BAD_JSON),
        ("login", {}, (400, "Invalid request: Required field: Email, Required field: Password")),
        ("change-password", NOT_JSON, BAD_JSON),
        (
            "change-password",
            {},
            (
                400,
                "Invalid request: Required field: Current password, Required field: New password",
            ),
        ),
    ],
)
def test_acts_without_a_resource_still_read_the_body_first(
    call_act: Any, token: str, act: str, body: Any, expected: tuple[int, str]
) -> None:
    assert_error(send(call_act, act, "POST", "", token, body), expected)


# --- mcp: the body is a token source only when the header and the query have none -------------


def test_mcp_validate_with_a_header_token_does_not_read_an_invalid_body(
    make: Factory, call_act: Any, project: Any
) -> None:
    mcp_token = make.mcp_token(project)
    response = send(call_act, "mcp_validate", "POST", "", mcp_token, NOT_JSON)
    assert response.status_code == 200
    assert response.json["message"] == "Token valid"


def test_mcp_validate_without_a_header_token_reports_an_invalid_body(call_act: Any) -> None:
    response = call_act(
        "mcp_validate", "POST", data=NOT_JSON, headers={"Content-Type": "application/json"}
    )
    assert_error(response, BAD_JSON)
