"""Observability under a real gunicorn with the shipped configuration and several workers
(issue #16 items 8 and 9): counts read the same on every scrape whichever worker answers, every
line of the stream is JSON (gunicorn's own, the access log, the application's errors) and there
is one access line per request, the probes answer GET and HEAD."""

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from backend.models.accounts import LOGIN_THROTTLE
from stress.common import Gateway, call, start_gateway
from tests.conftest import shared_database_url
from tests.factories import BASE

pytestmark = pytest.mark.slow
SCRAPE_TOKEN = "scrape-token-0123456789abcdef"
SERVED = {"METRICS_TOKEN": SCRAPE_TOKEN, "LOG_LEVEL": "info"}
UNREACHABLE = "mysql+pymysql://root@127.0.0.1:1/none?charset=utf8mb4"


@pytest.fixture(scope="session")
def database_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    return shared_database_url(database_url, tmp_path_factory.mktemp("observability"))


@pytest.fixture
def gunicorn(app: Flask, database_url: str) -> Iterator[Gateway]:
    gateway = start_gateway(database_url, workers=3, extra_env=SERVED)
    yield gateway
    gateway.stop()


def get(gateway: Gateway, path: str, method: str = "GET", **headers: str) -> tuple[int, bytes]:
    connection = HTTPConnection("127.0.0.1", gateway.port, timeout=15)
    try:
        connection.request(method, path, headers={"Connection": "close", **headers})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def scrape(gateway: Gateway) -> str:
    status, body = get(gateway, BASE + "metrics", Authorization=f"Bearer {SCRAPE_TOKEN}")
    assert status == 200
    return body.decode()


def count(body: str, labels: str) -> float:
    found = re.search(rf"^gassapi_requests_total\{{{re.escape(labels)}\}} (\S+)$", body, re.M)
    return float(found.group(1)) if found else 0.0


def stream(gateway: Gateway) -> list[dict[str, Any]]:
    """Every line gunicorn and the gateway wrote (stdout and stderr), each parsed as JSON."""
    return [json.loads(line) for line in gateway.log_path.read_text().splitlines() if line]


def test_the_same_requests_read_the_same_count_on_every_scrape(gunicorn: Gateway) -> None:
    for _ in range(8):
        assert get(gunicorn, BASE + "livez")[0] == 200
    for _ in range(9):  # answered by any of the 3 workers
        assert count(scrape(gunicorn), 'act="livez",method="GET",status="200"') == 8


def test_a_scrape_while_a_worker_starts_up_still_answers(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    """A starting worker creates its metrics file before it sizes it; a scrape in between
    reads the empty file (prometheus_client raised on it: 500)."""
    served = {**SERVED, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    gateway = start_gateway(database_url, workers=2, extra_env=served)
    try:
        assert get(gateway, BASE + "livez")[0] == 200
        (tmp_path / "counter_999999.db").touch()  # created, not yet sized
        assert count(scrape(gateway), 'act="livez",method="GET",status="200"') == 1
    finally:
        gateway.stop()


def test_serve_counts_over_its_workers_too(app: Flask, database_url: str) -> None:
    """`gassapi-gateway serve` makes the directory before gunicorn imports the gateway."""
    serve = (str(Path(sys.executable).parent / "gassapi-gateway"), "serve")
    gateway = start_gateway(database_url, workers=2, extra_env=SERVED, command=serve)
    try:
        for _ in range(5):
            get(gateway, "/readyz")
        for _ in range(6):
            assert count(scrape(gateway), 'act="readyz",method="GET",status="200"') == 5
    finally:
        gateway.stop()


def test_rest_and_path_forms_are_counted_under_their_act(gunicorn: Gateway) -> None:
    assert get(gunicorn, BASE + "health")[0] == 200
    assert get(gunicorn, "/index.php/flow/flow_missing/toggle-active", "PUT")[0] == 401
    body = scrape(gunicorn)
    assert count(body, 'act="health",method="GET",status="200"') >= 1
    assert count(body, 'act="flow_toggle_active",method="PUT",status="401"') == 1
    assert 'act="-"' not in body


def gauge(body: str, name: str) -> float:
    return float(re.search(rf"^{name} (\S+)$", body, re.M)[1])


def test_pool_gauges_sum_over_the_workers(gunicorn: Gateway) -> None:
    # A worker sets its gauges when it has booted (the first answer may come before the others
    # do), and a request checks its connection in after its answer has left: read until settled.
    deadline = time.monotonic() + 30
    while True:
        body = scrape(gunicorn)
        size = gauge(body, "gassapi_db_pool_size_connections")
        in_use = gauge(body, "gassapi_db_pool_checked_out_connections")
        if (size in (0, 15) and in_use == 1) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert size in (0, 3 * 5)  # DB_POOL_SIZE 5 in each of the 3 workers (SQLite: no fixed pool)
    assert in_use == 1  # the scrape's own connection


def test_every_line_is_json_with_one_access_line_per_request(gunicorn: Gateway) -> None:
    get(gunicorn, BASE + "?act=health", **{"User-Agent": "probe/1.0"})
    get(gunicorn, BASE + "?act=nope")
    gunicorn.stop()
    lines = stream(gunicorn)
    loggers = {line["logger"] for line in lines}
    assert {"gunicorn.error", "gassapi.access"} <= loggers
    assert all({"time", "level", "logger"} <= set(line) for line in lines)
    access = [line for line in lines if line["logger"] == "gassapi.access"]
    health = [line for line in access if line["user_agent"] == "probe/1.0"]
    assert len(health) == 1
    assert health[0]["act"] == "health" and health[0]["bytes"] > 0
    assert [line["act"] for line in access if line["status"] == 400] == ["unknown"]


def test_gevent_workers_start_without_a_warning(gunicorn: Gateway) -> None:
    """gevent warned at every worker's start about PyJWT's key-set client, which the gateway
    never uses (gunicorn_conf.py): an operator's log starts clean."""
    assert get(gunicorn, BASE + "livez")[0] == 200
    gunicorn.stop()
    lines = stream(gunicorn)
    assert any("Using worker: gevent" in line.get("message", "") for line in lines)
    assert [line for line in lines if line["level"] == "warning"] == []


def test_gunicorns_own_access_log_cannot_double_the_access_line(
    app: Flask, database_url: str
) -> None:
    extra = {**SERVED, "GUNICORN_CMD_ARGS": "--access-logfile -"}
    gateway = start_gateway(database_url, workers=1, extra_env=extra)
    try:
        get(gateway, BASE + "?act=health", **{"User-Agent": "counted/1.0"})
    finally:
        gateway.stop()
    lines = stream(gateway)
    assert len([line for line in lines if line.get("user_agent") == "counted/1.0"]) == 1
    assert not [line for line in lines if line["logger"] == "gunicorn.access"]


def test_client_address_behind_the_trusted_proxy(app: Flask, database_url: str) -> None:
    gateway = start_gateway(database_url, workers=1, extra_env={**SERVED, "PROXY_COUNT": "1"})
    try:
        get(gateway, "/livez", **{"X-Forwarded-For": "203.0.113.9, 198.51.100.7"})
    finally:
        gateway.stop()
    (line,) = [line for line in stream(gateway) if line.get("act") == "livez"]
    assert line["client"] == "198.51.100.7"


@pytest.fixture
def bare_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database with only the gateway's login throttle table, none of the legacy ones: `login`
    gets past the throttle and fails reading users with an error the gateway does not expect."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'bare.sqlite'}"
        with_throttle_only(url)
        yield url
        return
    url = make_url(database_url).set(database="t_obs_bare").render_as_string(hide_password=False)
    server = create_engine(make_url(database_url).set(database=""))
    with server.begin() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS t_obs_bare"))
        conn.execute(text("CREATE DATABASE t_obs_bare CHARACTER SET utf8mb4"))
    with_throttle_only(url)
    yield url
    with server.begin() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS t_obs_bare"))
    server.dispose()


def with_throttle_only(url: str) -> None:
    engine = create_engine(url)
    try:
        LOGIN_THROTTLE.create(engine)
    finally:
        engine.dispose()


def test_an_application_error_is_one_json_line_with_its_traceback(bare_database: str) -> None:
    gateway = start_gateway(bare_database, workers=1, extra_env=SERVED)
    try:
        answer = call(
            gateway.port, "login", "POST", body={"email": "a@b.co", "password": "Password123"}
        )
    finally:
        gateway.stop()
    assert answer.status == 500
    lines = stream(gateway)
    (error,) = [line for line in lines if line["logger"] == "backend" and line["level"] == "error"]
    assert error["message"] == "unhandled error in login"
    assert "Traceback" in error["exception"] and "users" in error["exception"]


def test_probes_answer_get_and_head_under_gunicorn(gunicorn: Gateway) -> None:
    for path in ("/livez", "/readyz", BASE + "livez", BASE + "readyz"):
        status, body = get(gunicorn, path)
        assert status == 200 and json.loads(body)["status"] in ("live", "ready")
        assert get(gunicorn, path, "HEAD") == (200, b"")


def test_readiness_is_503_and_liveness_200_while_the_database_is_away() -> None:
    gateway = start_gateway(UNREACHABLE, workers=1, extra_env=SERVED, require_db=False)
    try:
        assert get(gateway, "/readyz")[0] == 503
        assert get(gateway, "/readyz", "HEAD") == (503, b"")
        assert get(gateway, "/livez")[0] == 200
    finally:
        gateway.stop()


def test_a_configuration_that_cannot_count_over_workers_refuses_to_start() -> None:
    """The packaged module alone, without the directory: prometheus_client was imported before
    it could be made, so each worker would count alone; one line instead of wrong numbers."""
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    command = [sys.executable, "-m", "gunicorn", "-c", "python:backend.ops.gunicorn_conf"]
    run = subprocess.run(
        [*command, "wsgi:app", "-b", "127.0.0.1:0"],
        env={**env, "DATABASE_URL": "sqlite://"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode != 0
    assert "PROMETHEUS_MULTIPROC_DIR is unset" in run.stderr
    assert "Traceback" not in run.stderr
