"""`add-indexes`: optional, additive, idempotent secondary indexes on legacy tables."""

from pathlib import Path

from flask import Flask
from sqlalchemy import inspect

from backend import create_app
from backend.db import db
from backend.db.indexes import GATEWAY_INDEXES
from tests.conftest import gateway_config


def index_names(app: Flask, table: str) -> set[str]:
    with app.app_context():
        return {index["name"] for index in inspect(db.engine).get_indexes(table)}


def drop_gateway_indexes(app: Flask) -> None:
    with app.app_context(), db.engine.begin() as conn:
        for table, name, _ in GATEWAY_INDEXES:
            if name in {i["name"] for i in inspect(conn).get_indexes(table)}:
                on_table = "" if conn.dialect.name == "sqlite" else f" ON {table}"
                conn.exec_driver_sql(f"DROP INDEX {name}{on_table}")


def test_add_indexes_creates_them_once(app: Flask) -> None:
    drop_gateway_indexes(app)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["add-indexes"])
    assert first.exit_code == 0, first.output
    assert "gw_flows_project_created_idx" in first.output
    assert "gw_flows_project_created_idx" in index_names(app, "flows")
    second = runner.invoke(args=["add-indexes"])
    assert second.output.strip() == "all indexes present"
    drop_gateway_indexes(app)


def test_init_db_adds_no_gateway_index(app: Flask) -> None:
    drop_gateway_indexes(app)
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    assert not {name for _, name, _ in GATEWAY_INDEXES} & index_names(app, "flows")


def test_add_indexes_works_on_a_sqlite_file(tmp_path: Path) -> None:
    """A file database has a real pool: the command must not wait on its own write lock."""
    app = create_app(gateway_config(f"sqlite:///{tmp_path / 'gateway.sqlite'}"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    result = runner.invoke(args=["add-indexes"])
    assert result.exit_code == 0, result.output
    assert "gw_audit_resource_idx" in result.output
