"""With the database away every act answers a 503 envelope quickly; health says so."""

import time

import pytest
from flask import Flask

from backend import create_app
from backend.auth.tokens import issue_token
from tests.conftest import gateway_config

UNREACHABLE = "mysql+pymysql://root@127.0.0.1:1/none?charset=utf8mb4"


@pytest.fixture
def down_app() -> Flask:
    return create_app(gateway_config(UNREACHABLE))


def test_health_reports_database_down_with_503(down_app: Flask) -> None:
    response = down_app.test_client().get("/?act=health")
    assert response.status_code == 503
    body = response.json
    assert body["success"] is False
    assert body["message"] == "Health check failed: database unreachable"
    assert body["data"] == {"status": "unhealthy", "database": "disconnected"}


@pytest.mark.parametrize(("act", "method"), [("flow_toggle_active", "PUT"), ("profile", "GET")])
def test_acts_answer_503_envelope_when_database_is_down(
    down_app: Flask, act: str, method: str
) -> None:
    with down_app.app_context():
        token = issue_token("user_1", "a@example.com", "access", 0)
    started = time.monotonic()
    response = down_app.test_client().open(
        "/gassapi2/backend/",
        method=method,
        query_string={"act": act, "id": "flow_1"},
        headers={"Authorization": f"Bearer {token}"},
        json={"email": "a@example.com", "password": "Secret123"},
    )
    assert time.monotonic() - started < 10
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json["message"] == "Service temporarily unavailable: database unreachable"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
