"""Models on SQLite, and on MariaDB/MySQL against the schema the legacy migrations leave.

The MySQL tests use their own scratch database (the one named in GATEWAY_TEST_MYSQL_URL with a
`_legacy` suffix), dropped and recreated per test. They skip when the variable is unset, except
under CI=true where that is a failure.
"""

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pymysql
import pytest
from flask import Flask
from sqlalchemy import URL, Engine, create_engine, event, inspect, make_url, select, text

from backend import models
from backend.db import db
from backend.db.tables import create_statement
from backend.models.additive import ADDITIVE_TABLES

LEGACY_SQL = Path(__file__).with_name("legacy_schema.sql")
NOW = datetime(2025, 10, 28, 13, 45, 7)
USER_ID = "user_1761600000_a1b2c3"
PROJECT_ID = "proj_1761633804_12f1eeb6"
FOLDER_ID = "col_" + "a" * 32
FLOW_ID = "flow_" + "c" * 32

LEGACY_MODELS: tuple[type[Any], ...] = (
    models.User,
    models.Project,
    models.Folder,
    models.Endpoint,
    models.Environment,
    models.Flow,
    models.McpClientToken,
    models.TestFlow,
    models.ProjectMember,
    models.AuditLog,
    models.EmailVerificationToken,
    models.PasswordResetToken,
    models.RefreshToken,
)
LEGACY_TABLES = ("migrations", *(model.__tablename__ for model in LEGACY_MODELS))

# One row per table, parents first; values as the legacy code would store them.
SAMPLE_ROWS: tuple[tuple[type[Any], dict[str, Any]], ...] = (
    (
        models.User,
        {
            "id": USER_ID,
            "email": "ada@example.com",
            "password_hash": "$2y$12$" + "x" * 53,
            "name": "Ada",
            "created_at": NOW,
        },
    ),
    (
        models.Project,
        {
            "id": PROJECT_ID,
            "name": "Demo",
            "owner_id": USER_ID,
            "settings": '{"visibility":"private"}',
            "created_at": NOW,
        },
    ),
    (
        models.Folder,
        {
            "id": FOLDER_ID,
            "name": "Root",
            "project_id": PROJECT_ID,
            "headers": '{"Content-Type":"application\\/json"}',
            "variables": "[]",
            "created_by": USER_ID,
            "created_at": NOW,
        },
    ),
    (
        models.Endpoint,
        {
            "id": "ep_" + "b" * 32,
            "name": "List items",
            "method": "GET",
            "url": "https://api.example.com/items?id=1&amp;page=2",
            "purpose": "Lists items",
            "headers": "[]",
            "folder_id": FOLDER_ID,
            "created_by": USER_ID,
            "created_at": NOW,
            "request_params": '{"id":"item id"}',
        },
    ),
    (
        models.Environment,
        {
            "id": "env_1761633804_0a1b2c3d",
            "project_id": PROJECT_ID,
            "name": "dev",
            "variables": '{"base_url":"http:\\/\\/localhost"}',
            "created_at": NOW,
        },
    ),
    (
        models.Flow,
        {
            "id": FLOW_ID,
            "name": "Checkout",
            "project_id": PROJECT_ID,
            "folder_id": FOLDER_ID,
            "flow_data": '{"version":"1.0","steps":[]}',
            "created_by": USER_ID,
            "created_at": NOW,
            "flow_inputs": "[]",
            "complexity_score": Decimal("0.50"),
        },
    ),
    (
        models.McpClientToken,
        {
            "id": "mcp_1761633804_0f0f0f0f",
            "project_id": PROJECT_ID,
            "token_hash": "d" * 64,
            "created_by": USER_ID,
            "created_at": NOW,
        },
    ),
    (
        models.TestFlow,
        {
            "id": "tf_1761633804_1a2b3c4d",
            "name": "Smoke",
            "project_id": PROJECT_ID,
            "config": "{}",
            "steps": "[]",
            "created_by": USER_ID,
            "success_rate": 0.75,
            "created_at": NOW,
        },
    ),
    (
        models.ProjectMember,
        {
            "id": "pm_1761633804_5e6f7a8b",
            "project_id": PROJECT_ID,
            "user_id": USER_ID,
            "invited_by": USER_ID,
        },
    ),
    (
        models.AuditLog,
        {
            "id": "audit_1761633804_9c8d7e6f",
            "user_id": USER_ID,
            "project_id": PROJECT_ID,
            "action": "flow_status_changed",
            "resource_type": "flow",
            "resource_id": FLOW_ID,
            "old_values": '{"is_active":1}',
            "new_values": '{"is_active":0}',
            "ip_address": "203.0.113.9",
            "user_agent": "pytest",
            "created_at": NOW,
            "metadata_": '{"source":"test"}',
        },
    ),
    (
        models.EmailVerificationToken,
        {
            "id": "evt_1",
            "token_hash": "e" * 64,
            "user_id": USER_ID,
            "expires_at": NOW,
            "created_at": NOW,
        },
    ),
    (
        models.PasswordResetToken,
        {
            "id": "prt_1",
            "token_hash": "f" * 64,
            "user_id": USER_ID,
            "expires_at": NOW,
            "created_at": NOW,
        },
    ),
    (
        models.RefreshToken,
        {
            "id": "rt_1761633804_3c4d5e6f",
            "token_hash": "1" * 64,
            "user_id": USER_ID,
            "expires_at": NOW,
            "created_at": NOW,
        },
    ),
    (
        models.FlowExecution,
        {
            "id": "fx_1",
            "flow_id": FLOW_ID,
            "project_id": PROJECT_ID,
            "status": "running",
            "started_by": USER_ID,
            "started_at": NOW,
            "heartbeat_at": NOW,
            "lease_expires_at": NOW,
        },
    ),
)
SAMPLE_IDS = [model.__tablename__ for model, _ in SAMPLE_ROWS]


def make_app(database_url: str) -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url
    db.init_app(app)
    return app


def insert_rows(rows: tuple[tuple[type[Any], dict[str, Any]], ...]) -> None:
    for model, values in rows:
        db.session.add(model(**values))
        # Without relationship() the unit of work orders tables by class name, not by FK.
        db.session.flush()
    db.session.commit()
    db.session.expunge_all()


def read_back(model: type[Any], values: dict[str, Any]) -> dict[str, Any]:
    row = db.session.get(model, values["id"])
    assert row is not None
    return {key: getattr(row, key) for key in values}


def legacy_ddl_columns() -> dict[str, list[str]]:
    """Column names per table, in order, parsed from tests/legacy_schema.sql."""
    tables = re.findall(r"CREATE TABLE `(\w+)` \((.*?)\n\) ENGINE", LEGACY_SQL.read_text(), re.S)
    return {name: re.findall(r"^  `(\w+)`", body, re.M) for name, body in tables}


# --- SQLite ------------------------------------------------------------------------------


def enforce_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA foreign_keys=ON")


@pytest.fixture
def sqlite_app() -> Iterator[Flask]:
    app = make_app("sqlite://")
    with app.app_context():
        event.listen(db.engine, "connect", enforce_foreign_keys)
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()


@pytest.mark.parametrize(("model", "values"), SAMPLE_ROWS, ids=SAMPLE_IDS)
def test_row_round_trips_on_sqlite(
    sqlite_app: Flask, model: type[Any], values: dict[str, Any]
) -> None:
    insert_rows(SAMPLE_ROWS)

    assert read_back(model, values) == values


def test_server_defaults_fill_unset_columns_on_sqlite(sqlite_app: Flask) -> None:
    insert_rows(SAMPLE_ROWS)

    user = db.session.get(models.User, USER_ID)
    member = db.session.get(models.ProjectMember, "pm_1761633804_5e6f7a8b")
    audit = db.session.get(models.AuditLog, "audit_1761633804_9c8d7e6f")
    assert user is not None and member is not None and audit is not None
    assert (user.is_active, user.email_verified, user.token_version) == (1, 0, 0)
    assert isinstance(user.updated_at, datetime)
    assert isinstance(member.joined_at, datetime) and isinstance(member.created_at, datetime)
    assert (audit.category, audit.severity) == ("system", "low")


@pytest.mark.parametrize("model", LEGACY_MODELS, ids=lambda model: model.__tablename__)
def test_model_columns_follow_legacy_ddl_order(model: type[Any]) -> None:
    expected = legacy_ddl_columns()[model.__tablename__]

    assert [column.name for column in model.__table__.columns] == expected


# --- MariaDB / MySQL ---------------------------------------------------------------------


def server_connection(url: URL, database: str | None = None) -> pymysql.Connection:
    return pymysql.connect(
        host=url.host or "localhost",
        port=url.port or 3306,
        user=url.username or "root",
        password=url.password or "",
        database=database,
        charset="utf8mb4",
        autocommit=True,
    )


def recreate_database(url: URL) -> None:
    with server_connection(url) as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{url.database}`")
        cursor.execute(
            f"CREATE DATABASE `{url.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )


def drop_database(url: URL) -> None:
    with server_connection(url) as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{url.database}`")


def apply_legacy_schema(url: URL) -> None:
    chunks = re.split(r";\s*$", LEGACY_SQL.read_text(), flags=re.M)
    statements = [chunk for chunk in chunks if re.search(r"^\s*[^-\s]", chunk, re.M)]
    with server_connection(url, url.database) as conn, conn.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def show_create(engine: Engine, tables: tuple[str, ...]) -> dict[str, str]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SHOW CREATE TABLE `{t}`")).one()[1] for t in tables}


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def canonical_create(statement: str) -> tuple[list[str], list[str], str]:
    """Columns in order, keys and constraints as a set, table options: SQLAlchemy emits indexes
    after the table, so key order differs from the legacy DDL without meaning anything."""
    lines = statement.splitlines()
    body = [line.strip().rstrip(",") for line in lines[1:-1]]
    columns = [line for line in body if line.startswith("`")]
    keys = sorted(line for line in body if not line.startswith("`"))
    return columns, keys, lines[-1]


@pytest.fixture
def mysql_url() -> URL:
    raw = os.environ.get("GATEWAY_TEST_MYSQL_URL", "")
    if not raw:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("GATEWAY_TEST_MYSQL_URL must be set when CI=true")
        pytest.skip("GATEWAY_TEST_MYSQL_URL is not set")
    url = make_url(raw)
    if not url.database:
        pytest.fail("GATEWAY_TEST_MYSQL_URL must name a database")
    return url.set(database=f"{url.database}_legacy")


@pytest.fixture
def empty_mysql(mysql_url: URL) -> Iterator[URL]:
    recreate_database(mysql_url)
    yield mysql_url
    drop_database(mysql_url)


@pytest.fixture
def legacy_mysql(empty_mysql: URL) -> URL:
    apply_legacy_schema(empty_mysql)
    return empty_mysql


@pytest.fixture
def legacy_engine(legacy_mysql: URL) -> Iterator[Engine]:
    engine = create_engine(legacy_mysql)
    yield engine
    engine.dispose()


@pytest.fixture
def legacy_app(legacy_mysql: URL) -> Iterator[Flask]:
    app = make_app(legacy_mysql.render_as_string(hide_password=False))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_create_all_on_legacy_schema_adds_only_the_gateways_own_tables(legacy_app: Flask) -> None:
    before = table_names(db.engine)

    db.create_all()

    assert table_names(db.engine) - before == {
        "flow_executions",
        "mcp_token_lifecycle",
        "project_policies",
        "login_throttle",
    }
    assert {table.name for table in ADDITIVE_TABLES} == table_names(db.engine) - before


def test_create_all_on_legacy_schema_alters_no_legacy_table(legacy_app: Flask) -> None:
    before = show_create(db.engine, LEGACY_TABLES)

    db.create_all()

    assert show_create(db.engine, LEGACY_TABLES) == before


def gateway_app(url: URL, **extra: Any) -> Flask:
    from backend import create_app
    from tests.conftest import gateway_config

    return create_app(gateway_config(url.render_as_string(hide_password=False), **extra))


@contextmanager
def ddl_sent() -> Iterator[list[str]]:
    """The DDL statements any engine sends meanwhile."""
    sent: list[str] = []

    def keep(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("CREATE", "ALTER", "DROP")):
            sent.append(statement.strip())

    event.listen(Engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", keep)


def run_init_db(app: Flask) -> list[str]:
    with app.app_context(), ddl_sent() as sent:
        result = app.test_cli_runner().invoke(args=["init-db"])
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    assert "database ready" in result.output
    return sent


def assert_created_in_one_statement(sent: list[str], engine: Engine) -> None:
    """On Galera each DDL statement is its own cluster-wide event: a CREATE INDEX following the
    CREATE TABLE raced other nodes' writes to the parent tables (docs/scaling.md)."""
    assert len(sent) == 1
    assert sent[0].startswith("CREATE TABLE IF NOT EXISTS flow_executions")
    indexes = {index["name"] for index in inspect(engine).get_indexes("flow_executions")}
    assert indexes == {index.name for index in models.FlowExecution.__table__.indexes}
    parents = {fk["referred_table"] for fk in inspect(engine).get_foreign_keys("flow_executions")}
    assert parents == {"flows", "projects"}


def test_init_db_on_legacy_schema_creates_flow_executions_in_one_statement(
    legacy_mysql: URL, legacy_engine: Engine
) -> None:
    sent = run_init_db(gateway_app(legacy_mysql, DB_AUTO_CREATE=False))

    assert_created_in_one_statement(sent, legacy_engine)


def test_a_gateway_starting_on_legacy_schema_creates_flow_executions_in_one_statement(
    legacy_mysql: URL, legacy_engine: Engine
) -> None:
    with ddl_sent() as sent:
        app = gateway_app(legacy_mysql)
    with app.app_context():
        db.engine.dispose()

    assert_created_in_one_statement(sent, legacy_engine)


def test_init_db_builds_the_same_table_as_create_all(legacy_mysql: URL, legacy_app: Flask) -> None:
    run_init_db(gateway_app(legacy_mysql, DB_AUTO_CREATE=False))
    by_init_db = show_create(db.engine, ("flow_executions",))
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE flow_executions"))

    db.create_all()

    by_create_all = show_create(db.engine, ("flow_executions",))
    assert canonical_create(by_init_db["flow_executions"]) == canonical_create(
        by_create_all["flow_executions"]
    )


def test_init_db_after_another_created_the_table_is_a_no_op(
    legacy_mysql: URL, legacy_engine: Engine
) -> None:
    """Two hosts starting at once both find the table missing; the later CREATE changes nothing
    (on Galera the other node's CREATE may not have reached this node's dictionary yet)."""
    statement = create_statement(models.FlowExecution.__table__, legacy_engine.dialect)
    with legacy_engine.begin() as conn:
        conn.exec_driver_sql(statement)
        before = show_create(legacy_engine, ("flow_executions",))
        conn.exec_driver_sql(statement)

    assert show_create(legacy_engine, ("flow_executions",)) == before


def test_init_db_sends_no_ddl_when_every_table_exists(legacy_mysql: URL) -> None:
    app = gateway_app(legacy_mysql)
    run_init_db(app)

    assert run_init_db(app) == []


def test_models_write_and_read_legacy_schema(legacy_app: Flask) -> None:
    db.create_all()
    wanted = (models.User, models.Project, models.Folder, models.Flow)
    rows = tuple(row for row in SAMPLE_ROWS if row[0] in wanted)

    insert_rows(rows)

    assert [read_back(model, values) for model, values in rows] == [v for _, v in rows]
    flow = db.session.scalars(select(models.Flow).where(models.Flow.id == FLOW_ID)).one()
    assert (flow.is_active, flow.ui_data, flow.complexity_score) == (1, None, Decimal("0.50"))


@pytest.mark.parametrize("model", LEGACY_MODELS, ids=lambda model: model.__tablename__)
def test_model_column_order_matches_legacy_database(
    legacy_engine: Engine, model: type[Any]
) -> None:
    columns = inspect(legacy_engine).get_columns(model.__tablename__)

    assert [column.name for column in model.__table__.columns] == [c["name"] for c in columns]


def test_create_all_on_empty_database_reproduces_legacy_tables(empty_mysql: URL) -> None:
    legacy_tables = LEGACY_TABLES[1:]
    app = make_app(empty_mysql.render_as_string(hide_password=False))
    with app.app_context():
        db.create_all()
        created = show_create(db.engine, legacy_tables)
        db.engine.dispose()
    recreate_database(empty_mysql)
    apply_legacy_schema(empty_mysql)
    engine = create_engine(empty_mysql)
    legacy = show_create(engine, legacy_tables)
    engine.dispose()

    assert {t: canonical_create(s) for t, s in created.items()} == {
        t: canonical_create(s) for t, s in legacy.items()
    }
