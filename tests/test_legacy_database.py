"""A gateway started on a database the legacy made (no `init-db`): never a 500.

On MariaDB the database is built from the legacy DDL alone (tests/legacy_schema.sql, in a scratch
database named after GATEWAY_TEST_MYSQL_URL's with a `_legacy` suffix); on SQLite from the legacy
models alone. Either way the gateway's additive tables (`flow_executions`, `mcp_token_lifecycle`,
`project_policies`, `login_throttle`) are missing.
"""

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, inspect, make_url, text

from backend import create_app
from backend.db import db
from backend.models import additive
from tests.conftest import gateway_config
from tests.factories import PASSWORD, Factory, call_act
from tests.test_models import (
    LEGACY_TABLES,
    apply_legacy_schema,
    drop_database,
    recreate_database,
    show_create,
)

EXECUTIONS = "flow_executions"
ADDITIVE = [table.name for table in additive.ADDITIVE_TABLES]
EXECUTION_INDEXES = {
    "flow_executions_flow_started_idx",
    "flow_executions_flow_status_idx",
    "flow_executions_project_idx",
}
FLOW_ACTS = (
    ("flow_toggle_active", "PUT", 200),
    ("flow_deactivate", "PUT", 200),
    ("flow_execute", "POST", 201),
)
LEGACY_MODEL_TABLES = [t for t in db.metadata.sorted_tables if t.name not in ADDITIVE]


@pytest.fixture
def blank_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the leg's kind."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'legacy.sqlite'}"
        return
    url = make_url(database_url)
    url = url.set(database=f"{url.database}_legacy")
    recreate_database(url)
    yield url.render_as_string(hide_password=False)
    drop_database(url)


def build_legacy_tables(url: str) -> None:
    """What the legacy migrations leave: its tables, nothing of the gateway's."""
    if url.startswith("sqlite"):
        engine = create_engine(url)
        db.metadata.create_all(engine, tables=LEGACY_MODEL_TABLES)
        engine.dispose()
    else:
        apply_legacy_schema(make_url(url))


@pytest.fixture
def legacy_url(blank_url: str) -> str:
    build_legacy_tables(blank_url)
    return blank_url


@pytest.fixture
def start(blank_url: str) -> Iterator[Callable[..., Flask]]:
    """Start a gateway on the scratch database (`start(DB_AUTO_CREATE=False)`)."""
    started: list[Flask] = []

    def start_gateway(**extra: Any) -> Flask:
        app = create_app(gateway_config(blank_url, **extra))
        started.append(app)
        return app

    yield start_gateway
    for app in started:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def schema(url: str) -> tuple[set[str], set[str]]:
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        tables = set(inspector.get_table_names())
        indexes = (
            {i["name"] for i in inspector.get_indexes(EXECUTIONS)}
            if EXECUTIONS in tables
            else set()
        )
        return tables, indexes
    finally:
        engine.dispose()


def legacy_definitions(url: str) -> dict[str, str]:
    """Every legacy table's definition as the database itself prints it."""
    engine = create_engine(url)
    try:
        if url.startswith("sqlite"):
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT tbl_name, name, sql FROM sqlite_master"))
                return {name: sql for table, name, sql in rows if table not in ADDITIVE}
        return show_create(engine, LEGACY_TABLES)
    finally:
        engine.dispose()


def flow_and_token(app: Flask) -> tuple[str, str]:
    make = Factory(app)
    owner = make.user()
    return make.flow(make.project(owner)).id, make.token(owner)


def health(app: Flask) -> Any:
    return call_act(app.test_client(), "health")


# --- DB_AUTO_CREATE (the default): it just works -------------------------------------------


@pytest.mark.parametrize(("act", "method", "status"), FLOW_ACTS, ids=[a[0] for a in FLOW_ACTS])
def test_flow_acts_work_on_a_gateway_started_on_a_legacy_database(
    legacy_url: str, start: Callable[..., Flask], act: str, method: str, status: int
) -> None:
    app = start()
    flow_id, token = flow_and_token(app)
    response = call_act(app.test_client(), act, method, id=flow_id, token=token)
    assert (response.status_code, response.json["success"]) == (status, True)


def test_startup_on_a_legacy_database_adds_the_gateways_tables_and_alters_no_legacy_table(
    legacy_url: str, start: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    tables_before, _ = schema(legacy_url)
    definitions_before = legacy_definitions(legacy_url)
    app = start()
    tables, indexes = schema(legacy_url)
    assert tables - tables_before == set(ADDITIVE)
    assert indexes >= EXECUTION_INDEXES
    assert legacy_definitions(legacy_url) == definitions_before
    assert f"created the gateway's missing {EXECUTIONS}" in caplog.text
    assert health(app).json["data"]["status"] == "healthy"


def test_mcp_tokens_the_legacy_minted_work_on_a_gateway_started_on_a_legacy_database(
    legacy_url: str, start: Callable[..., Flask]
) -> None:
    app = start()
    make = Factory(app)
    owner = make.user()
    project = make.project(owner)
    legacy = make.mcp_token(project)
    client = app.test_client()
    assert call_act(client, "mcp_validate", token=legacy).status_code == 200
    minted = call_act(client, "mcp_generate_config", "POST", id=project.id, token=make.token(owner))
    assert minted.status_code == 201
    assert call_act(client, "mcp_validate", token=minted.json["data"]["token"]).status_code == 200


def test_a_second_startup_creates_nothing(
    legacy_url: str, start: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    start()
    caplog.clear()
    start()
    assert "created" not in caplog.text
    assert schema(legacy_url)[1] >= EXECUTION_INDEXES


def test_workers_starting_at_once_on_a_legacy_database_all_start(
    legacy_url: str, start: Callable[..., Flask]
) -> None:
    """gunicorn starts its workers together (and several hosts may): each creates what it finds
    missing; a table or index another one made meanwhile is no error."""
    workers = 4
    barrier = threading.Barrier(workers)
    failures: list[BaseException] = []

    def start_worker() -> None:
        barrier.wait()
        try:
            start()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            failures.append(exc)

    threads = [threading.Thread(target=start_worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    tables, indexes = schema(legacy_url)
    assert EXECUTIONS in tables and indexes >= EXECUTION_INDEXES


def test_a_start_on_an_empty_database_creates_nothing_and_leaves_the_tables_to_init_db(
    blank_url: str, start: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    start()
    assert schema(blank_url)[0] == set()
    assert additive.EMPTY in caplog.text
    assert "run init-db" not in caplog.text and "created the gateway's missing" not in caplog.text


def test_legacy_migrations_run_behind_a_running_gateway_heal_on_the_clients_retry(
    blank_url: str, start: Callable[..., Flask]
) -> None:
    """The gateway started before the legacy tables existed (nothing to attach its table to)."""
    app = start()
    build_legacy_tables(blank_url)
    flow_id, token = flow_and_token(app)
    client = app.test_client()
    first = call_act(client, "flow_toggle_active", "PUT", id=flow_id, token=token)
    assert first.status_code == 503
    assert first.json["message"] == additive.CREATED_NOW.format(EXECUTIONS)
    assert first.headers["Retry-After"] == "1"
    retry = call_act(client, "flow_toggle_active", "PUT", id=flow_id, token=token)
    assert retry.status_code == 200


# --- DB_AUTO_CREATE=false: the operator forbids DDL ----------------------------------------


@pytest.mark.parametrize(("act", "method", "status"), FLOW_ACTS, ids=[a[0] for a in FLOW_ACTS])
def test_without_auto_create_flow_acts_answer_a_clear_503(
    legacy_url: str, start: Callable[..., Flask], act: str, method: str, status: int
) -> None:
    app = start(DB_AUTO_CREATE=False)
    flow_id, token = flow_and_token(app)
    response = call_act(app.test_client(), act, method, id=flow_id, token=token)
    assert response.status_code == 503
    assert response.json["success"] is False
    assert response.json["message"] == additive.STILL_MISSING.format(EXECUTIONS)
    assert response.headers["Retry-After"] == "1"
    assert EXECUTIONS not in schema(legacy_url)[0]


def test_without_auto_create_nothing_is_half_written(
    legacy_url: str, start: Callable[..., Flask]
) -> None:
    app = start(DB_AUTO_CREATE=False)
    flow_id, token = flow_and_token(app)
    call_act(app.test_client(), "flow_toggle_active", "PUT", id=flow_id, token=token)
    make = Factory(app)
    assert make.flow_row(flow_id)["is_active"] == 1
    assert make.audit_rows(flow_id) == []


def test_without_auto_create_health_names_the_missing_table(
    legacy_url: str, start: Callable[..., Flask]
) -> None:
    response = health(start(DB_AUTO_CREATE=False))
    assert response.status_code == 200
    data = response.json["data"]
    assert (data["status"], data["missing_tables"]) == ("degraded", ADDITIVE)
    assert response.json["message"] == (
        "Health check: degraded, missing table "
        "flow_executions, mcp_token_lifecycle, project_policies, login_throttle (run init-db)"
    )


def test_without_auto_create_login_answers_a_clear_503(
    legacy_url: str, start: Callable[..., Flask]
) -> None:
    app = start(DB_AUTO_CREATE=False)
    user = Factory(app).user()
    body = {"email": user.email, "password": PASSWORD}
    response = call_act(app.test_client(), "login", "POST", json=body)
    assert response.status_code == 503
    assert response.json["message"] == additive.STILL_MISSING.format("login_throttle")


def test_after_the_operator_runs_init_db_health_and_flow_acts_recover(
    legacy_url: str, start: Callable[..., Flask]
) -> None:
    app = start(DB_AUTO_CREATE=False)
    flow_id, token = flow_and_token(app)
    assert health(app).json["data"]["status"] == "degraded"
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    assert health(app).json["data"]["status"] == "healthy"
    response = call_act(app.test_client(), "flow_toggle_active", "PUT", id=flow_id, token=token)
    assert response.status_code == 200
