"""The OpenAPI document declares what the gateway really answers (the fuzzer holds it to that)."""

from typing import Any

from flask.testing import FlaskClient

from backend import create_app
from tests.conftest import gateway_config
from tests.factories import Factory, call_act
from tests.test_database_down import UNREACHABLE


def document(client: FlaskClient) -> dict[str, Any]:
    return client.get("/gassapi2/backend/openapi.json").json


def test_raw_acts_declare_their_own_content_types(client: FlaskClient) -> None:
    paths = document(client)["paths"]
    assert set(paths["/docs"]["get"]["responses"]["200"]["content"]) == {"text/html"}
    assert set(paths["/metrics"]["get"]["responses"]["200"]["content"]) == {"text/plain"}
    assert set(paths["/docs/{id}"]["get"]["responses"]["200"]["content"]) == {
        "application/javascript",
        "text/css",
    }
    spec = paths["/openapi.json"]["get"]["responses"]["200"]["content"]["application/json"]
    assert spec["schema"]["required"] == ["openapi", "info", "paths"]
    # their errors are still envelopes
    error = paths["/metrics"]["get"]["responses"]["401"]["content"]["application/json"]
    assert error["schema"] == {"$ref": "#/components/schemas/ErrorEnvelope"}


def test_every_response_declares_the_request_id_header_and_503_retry_after(
    client: FlaskClient,
) -> None:
    doc = document(client)
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            for status, response in op["responses"].items():
                assert response["headers"]["X-Request-ID"]["required"], (path, method, status)
            assert op["responses"]["503"]["headers"]["Retry-After"]["required"]


def test_legacy_required_fields_are_required_body_keys(client: FlaskClient) -> None:
    schemas = document(client)["components"]["schemas"]
    assert schemas["ProjectCreateIn"]["required"] == ["name"]
    assert schemas["LoginIn"]["required"] == ["email", "password"]
    assert "required" not in schemas["ReasonIn"]


def test_a_503_really_carries_retry_after_and_the_request_id() -> None:
    down = create_app(gateway_config(UNREACHABLE))
    response = down.test_client().get("/gassapi2/backend/?act=health")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.headers["X-Request-ID"] == response.json["request_id"]


def errors_of(doc: dict[str, Any], path: str, method: str) -> set[str]:
    return {status for status in doc["paths"][path][method]["responses"] if status[0] in "45"}


def test_each_operation_lists_only_the_errors_it_can_answer(client: FlaskClient) -> None:
    doc = document(client)
    assert errors_of(doc, "/health", "get") == {"414", "503"}
    assert errors_of(doc, "/login", "post") == {
        *("400", "401", "403", "413", "414", "422", "429", "503")
    }
    assert errors_of(doc, "/flow/{id}", "get") == {"401", "403", "404", "414", "503"}
    assert errors_of(doc, "/flow/{id}", "put") == {
        *("400", "401", "403", "404", "409", "413", "414", "422", "503")
    }


def test_errors_the_rule_cannot_see_are_declared_and_really_answered(
    client: FlaskClient, make: Factory
) -> None:
    """Found by `make fuzz`: a user id outside `[A-Za-z0-9_-]+` answers 400 on GET and DELETE
    `/user/{id}`, and the cut-over report 404 while no legacy upstream is configured."""
    doc = document(client)
    token = make.token(make.user())
    for method in ("GET", "DELETE"):
        assert "400" in errors_of(doc, "/user/{id}", method.lower())
        answer = call_act(client, "user", method, id="\x01\x8f", token=token)
        assert (answer.status_code, answer.json["message"]) == (
            400,
            "Invalid request: Validation failed",
        )
    assert "404" in errors_of(doc, "/cutover/report", "get")
    answer = call_act(client, "cutover_report", token=token)
    assert (answer.status_code, answer.json["message"]) == (
        404,
        "Not found: Cut-over is not configured",
    )


def test_success_envelopes_type_data_and_never_carry_the_error_status(client: FlaskClient) -> None:
    doc = document(client)
    success = doc["components"]["schemas"]["Envelope"]
    assert "status" not in success["properties"]
    assert doc["components"]["schemas"]["ErrorEnvelope"]["properties"]["status"]["enum"] == [
        "error"
    ]
    ok = doc["paths"]["/flow/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"]["allOf"][1]["properties"]["data"] == {
        "$ref": "#/components/schemas/FlowOut"
    }
    listed = doc["paths"]["/project/{id}/flows"]["get"]["responses"]["200"]["content"]
    data = listed["application/json"]["schema"]["allOf"][1]["properties"]["data"]
    assert data == {"type": "array", "items": {"$ref": "#/components/schemas/FlowListItemOut"}}


def test_operations_are_tagged_by_domain_and_list_acts_declare_their_filters(
    client: FlaskClient,
) -> None:
    doc = document(client)
    assert doc["paths"]["/flow/{id}/toggle-active"]["put"]["tags"] == ["flow_status"]
    assert {"flows", "projects", "users", "auth"} <= {tag["name"] for tag in doc["tags"]}
    executions = doc["paths"]["/flow/{id}/executions"]["get"]["parameters"]
    assert [p["name"] for p in executions] == ["id", "status", "limit", "offset"]
    users = doc["paths"]["/users"]["get"]["parameters"]
    assert {p["name"] for p in users} == {"limit", "search", "active_only", "page"}
