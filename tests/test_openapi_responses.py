"""The OpenAPI document declares what the gateway really answers (the fuzzer holds it to that)."""

from typing import Any

from flask.testing import FlaskClient

from backend import create_app
from tests.conftest import gateway_config
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
