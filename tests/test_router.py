"""The legacy router table on every mount and URL form (contract README §1–§5)."""

import pytest
from flask.testing import FlaskClient

MOUNTS = [
    "/gassapi2/backend/",
    "/gassapi2/backend",
    "/gassapi2/backend/index.php",
    "/",
    "/index.php",
    "/index.php/",
]


@pytest.mark.parametrize("mount", MOUNTS)
def test_help_answers_on_every_mount_without_redirect(client: FlaskClient, mount: str) -> None:
    response = client.get(mount, query_string={"act": "help"})
    assert response.status_code == 200
    assert response.json["message"] == "API Documentation"


@pytest.mark.parametrize("mount", MOUNTS)
def test_missing_act_serves_help(client: FlaskClient, mount: str) -> None:
    response = client.get(mount)
    assert response.status_code == 200
    assert response.json["message"] == "API Documentation"
    assert response.json["data"]["endpoints"]


@pytest.mark.parametrize("mount", MOUNTS)
def test_health_answers_on_every_mount(client: FlaskClient, mount: str) -> None:
    response = client.get(mount, query_string={"act": "health"})
    assert response.status_code == 200
    assert response.json["success"] is True
    assert response.json["data"]["database"] == "connected"


@pytest.mark.parametrize("mount", ["/gassapi2/backend/", "/", "/index.php/"])
def test_path_style_act_is_routed_like_the_query_form(client: FlaskClient, mount: str) -> None:
    response = client.get(mount.rstrip("/") + "/health")
    assert response.status_code == 200
    assert response.json["message"] == "Health check successful"


@pytest.mark.parametrize("mount", MOUNTS)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_unknown_act_is_invalid_action(client: FlaskClient, mount: str, method: str) -> None:
    response = client.open(mount, method=method, query_string={"act": "no_such_act"})
    assert response.status_code == 400
    assert response.json["success"] is False
    assert response.json["message"] == "Invalid request: Invalid action"
    assert response.json["status"] == "error"


def test_empty_act_is_invalid_action_not_help(client: FlaskClient) -> None:
    response = client.get("/gassapi2/backend/?act=")
    assert response.status_code == 400
    assert response.json["message"] == "Invalid request: Invalid action"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_known_act_with_wrong_method_is_route_not_found(client: FlaskClient, method: str) -> None:
    response = client.open("/gassapi2/backend/", method=method, query_string={"act": "health"})
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Route not found"


def test_unsupported_method_is_legacy_404(client: FlaskClient) -> None:
    response = client.patch("/gassapi2/backend/", query_string={"act": "health"})
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Method not allowed"


def test_unsupported_method_on_unknown_act_is_invalid_action(client: FlaskClient) -> None:
    response = client.patch("/gassapi2/backend/", query_string={"act": "nope"})
    assert response.status_code == 400


def test_lowercase_override_header_is_taken_verbatim(client: FlaskClient) -> None:
    response = client.post(
        "/gassapi2/backend/?act=health", headers={"X-HTTP-Method-Override": "get"}
    )
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Method not allowed"


def test_override_header_turns_post_into_get(client: FlaskClient) -> None:
    response = client.post(
        "/gassapi2/backend/?act=health", headers={"X-HTTP-Method-Override": "GET"}
    )
    assert response.status_code == 200


def test_form_method_field_turns_post_into_get(client: FlaskClient) -> None:
    response = client.post("/gassapi2/backend/?act=health", data={"_method": "get"})
    assert response.status_code == 200


def test_override_is_ignored_on_non_post(client: FlaskClient) -> None:
    response = client.put(
        "/gassapi2/backend/?act=health", headers={"X-HTTP-Method-Override": "GET"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("mount", MOUNTS)
@pytest.mark.parametrize("act", ["help", "no_such_act", "flow_toggle_active"])
def test_options_preflight_answers_any_act_without_auth(
    client: FlaskClient, mount: str, act: str
) -> None:
    response = client.options(mount, query_string={"act": act})
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "PUT" in response.headers["Access-Control-Allow-Methods"]
    assert "X-HTTP-Method-Override" in response.headers["Access-Control-Allow-Headers"]
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert response.headers["Access-Control-Max-Age"] == "86400"


def test_options_on_a_rest_path_is_a_preflight(client: FlaskClient) -> None:
    response = client.options("/gassapi2/backend/flow/abc/toggle-active")
    assert response.status_code == 200


def test_unknown_query_parameters_are_ignored(client: FlaskClient) -> None:
    response = client.get("/?act=health&format=json&limit=undefined&x[]=1")
    assert response.status_code == 200


def test_unknown_rest_path_is_route_not_found(client: FlaskClient) -> None:
    response = client.get("/gassapi2/backend/no/such/path")
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Route not found"


def test_unknown_path_style_act_is_invalid_action(client: FlaskClient) -> None:
    response = client.get("/gassapi2/backend/no_such_act")
    assert response.status_code == 400


def test_errors_carry_cors_and_json_content_type(client: FlaskClient) -> None:
    response = client.get("/?act=nope")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"


def test_help_document_is_static_across_calls(client: FlaskClient) -> None:
    first = client.get("/?act=help").json["data"]
    assert client.get("/?act=help").json["data"] == first
