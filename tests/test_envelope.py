"""Envelope keys, order, formats and legacy headers."""

import re
from datetime import UTC

import pytest
from flask import Response
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder

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


def test_an_envelope_goes_out_with_the_headers_werkzeug_would_send(client: FlaskClient) -> None:
    """Envelopes skip Werkzeug's copy of their headers; the wire is the same as with it."""
    answer = envelope.ok({"id": 1}, "Done", 200, request_id="req_1", tz=UTC)
    answer.headers.extend([("X-Frame-Options", "DENY"), ("X-Request-ID", "req_1")])
    environ = EnvironBuilder(path="/gassapi2/backend/").get_environ()
    assert answer.get_wsgi_response(environ)[2] == Response.get_wsgi_response(answer, environ)[2]
    answer.headers["Location"] = "/flows/ü"  # a header Werkzeug rewrites: its fix-ups apply
    assert answer.get_wsgi_headers(environ)["Location"] == "/flows/%C3%BC"
    response = client.get("/gassapi2/backend/?act=health")
    assert response.headers["Content-Length"] == str(len(response.data))
