"""Envelope keys, order, formats and legacy headers."""

import re

import pytest
from flask.testing import FlaskClient

from backend.core import envelope

REQUEST_ID = re.compile(r"^req_[0-9a-f]{13}[0-9]\.[0-9]{8}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def test_success_envelope_keys_in_legacy_order(client: FlaskClient) -> None:
    body = client.get("/?act=health").json
    assert list(body) == ["success", "status_code", "message", "timestamp", "request_id", "data"]
    assert body["status_code"] == 200
    assert TIMESTAMP.match(body["timestamp"])
    assert REQUEST_ID.match(body["request_id"])


def test_error_envelope_has_status_error_and_debug_in_development(client: FlaskClient) -> None:
    body = client.get("/?act=nope").json
    assert list(body) == [
        "success",
        "status_code",
        "message",
        "timestamp",
        "request_id",
        "debug",
        "status",
    ]
    assert body["debug"] == {
        "error_type": "client_error",
        "suggestion": "Check the data format sent",
    }


def test_request_id_is_echoed_as_header(client: FlaskClient) -> None:
    response = client.get("/?act=health")
    assert response.headers["X-Request-ID"] == response.json["request_id"]


def test_well_formed_incoming_request_id_is_reused(client: FlaskClient) -> None:
    response = client.get("/?act=health", headers={"X-Request-ID": "trace-1234abcd"})
    assert response.json["request_id"] == "trace-1234abcd"
    assert response.headers["X-Request-ID"] == "trace-1234abcd"


def test_malformed_incoming_request_id_is_replaced(client: FlaskClient) -> None:
    response = client.get("/?act=health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert REQUEST_ID.match(response.json["request_id"])


def test_request_ids_are_unique(client: FlaskClient) -> None:
    ids = {client.get("/?act=health").json["request_id"] for _ in range(20)}
    assert len(ids) == 20


def test_legacy_security_headers_on_json_responses(client: FlaskClient) -> None:
    headers = client.get("/?act=health").headers
    assert headers["Server"] == "GASS-API"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-XSS-Protection"] == "1; mode=block"
    assert headers["Content-Security-Policy"] == "default-src 'self'"
    assert "Strict-Transport-Security" not in headers


def test_hsts_only_over_https(client: FlaskClient) -> None:
    headers = client.get("/?act=health", headers={"X-Forwarded-Proto": "https"}).headers
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.parametrize(
    ("status", "raw", "wire"),
    [
        (400, "Invalid action", "Invalid request: Invalid action"),
        (400, "Invalid email format", "Invalid email format"),
        (401, "Invalid credentials", "Authentication failed: Invalid credentials"),
        (401, "User not found", "User not found"),
        (403, "Forbidden", "Forbidden"),
        (403, "Project access denied", "Access denied: Project access denied"),
        (404, "Route not found", "Not found: Route not found"),
        (404, "Environment not found", "Environment not found"),
        (409, "User already exists", "User already exists"),
        (413, "Input too large", "Input too large"),
        (422, "X", "Validation failed: X"),
        (500, "Failed to create flow", "Failed to create flow"),
    ],
)
def test_legacy_message_rewrite(status: int, raw: str, wire: str) -> None:
    assert envelope.wire_message(status, raw) == wire


def test_generated_request_id_has_legacy_shape() -> None:
    assert REQUEST_ID.match(envelope.new_request_id())


def test_json_keeps_unicode_and_slashes_unescaped() -> None:
    assert envelope.dumps({"a": "é/ü"}) == '{"a":"é/ü"}'.encode()
