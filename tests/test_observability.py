"""Access-log lines and the Prometheus endpoint."""

import json
import logging
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from backend import create_app
from backend.db import db
from backend.web.metrics import METHOD_LABELS
from tests.conftest import gateway_config
from tests.factories import Factory


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "gassapi.access"]


def test_one_structured_access_line_per_request(
    make: Factory, call_act: Any, caplog: pytest.LogCaptureFixture
) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    with caplog.at_level(logging.INFO, logger="gassapi.access"):
        response = call_act("flow_toggle_active", "PUT", id=flow.id, token=make.token(owner))
    (line,) = access_lines(caplog)
    assert line["request_id"] == response.json["request_id"]
    assert line["act"] == "flow_toggle_active"
    assert line["method"] == "PUT"
    assert line["path_form"] == "act"
    assert line["status"] == 200
    assert line["user_id"] == owner.id
    assert line["flow_id"] == flow.id
    assert isinstance(line["duration_ms"], float)


def test_access_line_never_contains_the_token(
    make: Factory, call_act: Any, caplog: pytest.LogCaptureFixture
) -> None:
    owner = make.user()
    token = make.token(owner)
    with caplog.at_level(logging.DEBUG):
        call_act("profile", "GET", token=token)
        call_act("profile", "GET", token=None, headers={"Authorization": "Bearer " + token[:-2]})
    assert all(token[:20] not in record.getMessage() for record in caplog.records)


def test_metrics_need_a_token(client: FlaskClient) -> None:
    assert client.get("/?act=metrics").status_code == 401


def test_metrics_count_requests_per_act(make: Factory, client: FlaskClient, call_act: Any) -> None:
    client.get("/?act=health")
    body = call_act("metrics", "GET", token=make.token(make.user())).get_data(as_text=True)
    assert 'gassapi_requests_total{act="health",method="GET",status="200"}' in body
    assert "gassapi_request_duration_seconds_bucket" in body


def metrics_app(database_url: str, **extra: Any) -> Flask:
    app = create_app(gateway_config(database_url, **extra))
    with app.app_context():
        db.create_all()
    return app


def test_metrics_token_from_config_is_required(database_url: str) -> None:
    client = metrics_app(database_url, METRICS_TOKEN="scrape-secret-123").test_client()
    ok = client.get("/?act=metrics", headers={"Authorization": "Bearer scrape-secret-123"})
    assert ok.status_code == 200
    wrong = client.get("/?act=metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


def test_metrics_can_be_disabled(database_url: str) -> None:
    client = metrics_app(database_url, METRICS_ENABLED=False).test_client()
    assert client.get("/?act=metrics").status_code == 404


def test_metric_labels_come_from_closed_sets_whatever_method_a_client_sends(
    make: Factory, client: FlaskClient, call_act: Any
) -> None:
    """Issue 15 item 6: a client-chosen method must not become a new time series."""
    invented = [f"X{n}METHOD" for n in range(40)]
    for method in invented:
        assert client.open("/?act=health", method=method).status_code == 404
    body = call_act("metrics", "GET", token=make.token(make.user())).get_data(as_text=True)
    methods = set(re.findall(r'method="([^"]*)"', body))
    assert not [method for method in invented if method in methods]
    assert methods <= METHOD_LABELS | {"other"}
    assert 'method="other",status="404"' in body
