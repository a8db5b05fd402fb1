"""Access-log lines, the application's own log records, the Prometheus endpoint and the probes
(issue #16 items 8 and 9). The same promises under a real gunicorn with several workers:
tests/test_observability_gunicorn.py."""

import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from backend import create_app
from backend.db import db
from backend.web import logs
from backend.web.metrics import METHOD_LABELS
from handlers import system
from tests.conftest import gateway_config
from tests.factories import BASE, Factory

SCRAPE_TOKEN = "scrape-token-0123456789abcdef"
UNREACHABLE = "mysql+pymysql://root@127.0.0.1:1/none?charset=utf8mb4"


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "gassapi.access"]


def test_one_structured_access_line_per_request(
    make: Factory, call_act: Any, caplog: pytest.LogCaptureFixture
) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    with caplog.at_level(logging.INFO, logger="gassapi.access"):
        response = call_act(
            "flow_toggle_active",
            "PUT",
            id=flow.id,
            token=make.token(owner),
            headers={"User-Agent": "werkzeug-test/1.0"},
        )
    (line,) = access_lines(caplog)
    assert line["request_id"] == response.json["request_id"]
    assert line["act"] == "flow_toggle_active"
    assert line["method"] == "PUT"
    assert line["path"] == BASE
    assert line["path_form"] == "act"
    assert line["status"] == 200
    assert line["bytes"] == len(response.get_data())
    assert line["level"] == "info"
    assert line["logger"] == "gassapi.access"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])
    assert line["client"] == "127.0.0.1"
    assert line["user_agent"] == "werkzeug-test/1.0"
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


def count(body: str, labels: str) -> float:
    found = re.search(rf"^gassapi_requests_total\{{{re.escape(labels)}\}} (\S+)$", body, re.M)
    return float(found.group(1)) if found else 0.0


def scrape(client: FlaskClient) -> str:
    response = client.get(BASE + "metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def scraped(app: Flask) -> FlaskClient:
    app.config["METRICS_TOKEN"] = SCRAPE_TOKEN
    return app.test_client()


def test_every_url_form_is_labelled_and_logged_with_its_act(
    make: Factory, scraped: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    auth = {"Authorization": f"Bearer {make.token(owner)}"}
    toggled = 'act="flow_toggle_active",method="PUT",status="200"'
    read = 'act="flow",method="GET",status="200"'
    before = scrape(scraped)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="gassapi.access"):
        assert scraped.put(f"{BASE}flow/{flow.id}/toggle-active", headers=auth).status_code == 200
        assert scraped.get(f"{BASE}flow?id={flow.id}", headers=auth).status_code == 200
        assert scraped.get("/gassapi2/backend/index.php/health").status_code == 200
    lines = access_lines(caplog)
    assert [(line["act"], line["path_form"]) for line in lines] == [
        ("flow_toggle_active", "rest"),
        ("flow", "path"),
        ("health", "path"),
    ]
    assert lines[0]["flow_id"] == lines[1]["flow_id"] == flow.id
    after = scrape(scraped)
    assert count(after, toggled) - count(before, toggled) == 1
    assert count(after, read) - count(before, read) == 1
    assert 'gassapi_requests_total{act="-"' not in after


def test_unknown_acts_and_paths_share_one_label(scraped: FlaskClient) -> None:
    for n in range(30):
        scraped.get(BASE, query_string={"act": f"invented_{n}"})
        scraped.get(f"{BASE}invented/{n}/path")
    acts = set(re.findall(r'gassapi_requests_total\{act="([^"]*)"', scrape(scraped)))
    assert not [act for act in acts if act.startswith("invented")]
    assert "unknown" in acts


def test_metric_names_follow_prometheus_conventions(make: Factory, scraped: FlaskClient) -> None:
    scraped.get(BASE, query_string={"act": "health"})
    families = {
        family.name: family.type for family in text_string_to_metric_families(scrape(scraped))
    }
    ours = {name: kind for name, kind in families.items() if name.startswith("gassapi_")}
    assert {"gassapi_requests", "gassapi_request_duration_seconds"} <= set(ours)
    for name, kind in ours.items():
        assert re.fullmatch(r"gassapi(_[a-z]+)+", name), name
        assert not re.search(r"_(milli|micro|kilo|mega)", name), name  # base units only
        if kind == "histogram":
            assert name.endswith(("_seconds", "_bytes")), name
    counters = [name for name, kind in ours.items() if kind == "counter"]
    body = scrape(scraped)
    assert all(f"{name}_total" in body for name in counters)


def pool_gauges(client: FlaskClient) -> dict[str, float]:
    found = re.findall(r"^gassapi_db_pool_(\w+)_connections (\S+)$", scrape(client), re.M)
    return {name: float(value) for name, value in found}


def test_pool_gauges_show_connections_in_use_and_open(scraped: FlaskClient) -> None:
    first = pool_gauges(scraped)
    scraped.get(BASE, query_string={"act": "health"})
    second = pool_gauges(scraped)
    assert set(second) == {"checked_out", "open", "size", "overflow"}
    # Each scrape holds one connection while it answers (the process may hold others: earlier
    # tests' apps share these gauges); health gave its own back.
    assert second["checked_out"] == first["checked_out"] >= 1
    assert second["open"] >= second["checked_out"]


def live_leases(client: FlaskClient) -> float:
    (value,) = re.findall(r"^gassapi_execution_leases (\S+)$", scrape(client), re.MULTILINE)
    return float(value)


def test_execution_lease_gauge_counts_live_executions(make: Factory, scraped: FlaskClient) -> None:
    owner = make.user()
    flows = [make.flow(make.project(owner)) for _ in range(2)]
    auth = {"Authorization": f"Bearer {make.token(owner)}"}
    assert live_leases(scraped) == 0
    started = [
        scraped.post(BASE, query_string={"act": "flow_execute", "id": flow.id}, headers=auth)
        for flow in flows
    ]
    assert live_leases(scraped) == 2
    execution = started[0].json["data"]["execution_id"]
    finished = scraped.post(
        BASE,
        query_string={"act": "flow_execution_finish", "id": execution},
        json={"status": "completed"},
        headers=auth,
    )
    assert finished.status_code == 200
    assert live_leases(scraped) == 1


def test_client_address_is_the_forwarded_one_only_behind_a_trusted_proxy(
    app_with: Any, caplog: pytest.LogCaptureFixture
) -> None:
    forwarded = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}
    with caplog.at_level(logging.INFO, logger="gassapi.access"):
        app_with(PROXY_COUNT=1).test_client().get("/livez", headers=forwarded)
        app_with().test_client().get("/livez", headers=forwarded)
    behind_proxy, direct = (line["client"] for line in access_lines(caplog))
    assert behind_proxy == "198.51.100.7"  # the entry the one trusted proxy (nginx) added
    assert direct == "127.0.0.1"


def test_a_5xx_access_line_has_level_error(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(system, "read_memory", broken)
    monkeypatch.setattr(system, "_memory", [float("-inf"), (0, 0)])
    with caplog.at_level(logging.INFO, logger="gassapi.access"):
        assert client.get(BASE, query_string={"act": "health"}).status_code == 500
    assert [(line["level"], line["status"]) for line in access_lines(caplog)] == [("error", 500)]


def broken(*_args: Any) -> Any:
    raise RuntimeError("bug in the test")


# --- probes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/livez", "/readyz", f"{BASE}livez", "/index.php/readyz"])
def test_probes_answer_200_json_to_get_and_head(client: FlaskClient, path: str) -> None:
    got, head = client.get(path), client.head(path)
    assert (got.status_code, head.status_code) == (200, 200)
    assert got.json["status"] in ("live", "ready")
    assert got.content_type.startswith("application/json")
    assert head.get_data() == b""


def test_readiness_fails_while_a_gateway_table_is_missing(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'ready.sqlite'}" if database_url == "sqlite://" else database_url
    first = metrics_app(url)
    try:
        with first.app_context():
            db.session.execute(text("DROP TABLE project_policies"))
            db.session.commit()
        client = create_app(gateway_config(url, DB_AUTO_CREATE=False)).test_client()
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json == {"status": "not ready", "missing_tables": ["project_policies"]}
        assert client.get("/livez").status_code == 200
    finally:
        with first.app_context():
            db.create_all()


def test_readiness_fails_while_the_database_is_away() -> None:
    client = create_app(gateway_config(UNREACHABLE)).test_client()
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json["status"]) == (503, "not ready")
    assert client.head("/readyz").status_code == 503
    assert client.get("/livez").status_code == 200


def test_head_on_the_health_act_stays_404_as_the_legacy_answered(client: FlaskClient) -> None:
    """Decision (issue #16 item 9): the act router keeps the legacy's answer on every URL form;
    HEAD probes go to /livez and /readyz."""
    for url in (f"{BASE}?act=health", f"{BASE}health"):
        assert client.head(url).status_code == 404
    assert client.get(f"{BASE}?act=health").status_code == 200


def test_health_reports_memory_without_reading_proc_on_every_call(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    real = system.read_memory
    monkeypatch.setattr(system, "_memory", [float("-inf"), (0, 0)])
    monkeypatch.setattr(system, "read_memory", lambda: reads.append(1) or real())
    answers = [client.get(BASE, query_string={"act": "health"}).json["data"] for _ in range(5)]
    assert len(reads) == 1
    assert all(data["memory_usage"] > 0 and data["peak_memory"] > 0 for data in answers)


@pytest.mark.parametrize(
    "text",
    [
        "werkzeug-test/1.0",
        "é ü 中文 🚀",
        "".join(chr(code) for code in range(0x80)),  # every control character and quote
        "\u2028\u2029\x7f\x80\x9f\xa0\xff",
        "\ud800 a lone surrogate",  # orjson refuses it: the standard encoder writes the line
    ],
)
def test_an_access_line_is_written_as_the_standard_json_encoder_writes_it(text: str) -> None:
    line = {"path": "/gassapi2/backend/", "user_agent": text, "status": 200}
    line |= {"duration_ms": 12.34, "bytes": 4217, "user_id": None}
    assert logs.render(line) == logs.encode(line)
