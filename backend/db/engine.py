"""Engine options and tuning per database: MySQL/MariaDB timeouts and pool, SQLite locking."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from backend.db import pooling
from backend.db.resilience import (
    DB_CONNECT_TIMEOUT,
)


def engine_options(config: dict[str, Any]) -> dict[str, Any]:
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": 30}}
    return {
        **pooling.engine_options(ping_idle_seconds(config)),
        "pool_recycle": 280,
        "pool_size": int(config["DB_POOL_SIZE"]),
        "max_overflow": int(config["DB_MAX_OVERFLOW"]),
        "pool_timeout": 5,
        "isolation_level": "READ COMMITTED",
        "connect_args": {
            "connect_timeout": DB_CONNECT_TIMEOUT,
            # A frozen server must cost a request less than gunicorn's 30 s worker timeout (a
            # killed worker answers nothing): ping or query 20 s + a new connection's 3 s.
            "read_timeout": int(config["DB_READ_TIMEOUT"]),
            "write_timeout": int(config["DB_READ_TIMEOUT"]),
            "init_command": "SET SESSION innodb_lock_wait_timeout = "
            + str(int(config["DB_LOCK_WAIT_TIMEOUT"])),
        },
    }


def ping_idle_seconds(config: dict[str, Any]) -> float:
    return float(config["DB_PING_IDLE_SECONDS"])


def tune_engine(engine: Engine) -> None:
    """SQLite: every transaction takes the write lock up front, so read-check-write is atomic."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
