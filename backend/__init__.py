"""The application factory."""

import logging
import os
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import Rule

from backend import additive, galera, pooling, transactions, web
from backend.cli import register_commands
from backend.db import db
from backend.dispatch import script_view, view
from backend.error_handlers import register_error_handlers
from backend.registry import registry
from backend.resilience import DB_CONNECT_TIMEOUT, DEFAULT_LOCK_WAIT_TIMEOUT, DEFAULT_READ_TIMEOUT
from config import load_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(PROJECT_ROOT / "instance"), static_folder=None)
    app.config.update(load_config(os.environ, env_file=PROJECT_ROOT / ".env"))
    app.config.update(overrides or {})
    app.config["TZINFO"] = ZoneInfo(app.config["APP_TIMEZONE"])
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"] + 1
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config))
    os.makedirs(app.instance_path, exist_ok=True)
    db.init_app(app)
    with app.app_context():
        tune_engine(db.engine)
        if app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_reset_on_return", "") is None:
            pooling.install(db.engine, ping_idle_seconds(app.config))
        transactions.install(db.engine)
        galera.install(db.engine, int(app.config.get("DB_WSREP_SYNC_WAIT", 1)))
        additive.ensure()
    import handlers  # noqa: F401  (registers every act)

    register_routes(app)
    register_error_handlers(app)
    web.install(app)
    register_commands(app)
    configure_logging(app)
    if app.config.get("PROXY_COUNT"):
        count = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]
    return app


def engine_options(config: dict[str, Any]) -> dict[str, Any]:
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": 30}}
    return {
        **pooling.engine_options(ping_idle_seconds(config)),
        "pool_recycle": 280,
        "pool_size": int(config.get("DB_POOL_SIZE", 5)),
        "max_overflow": int(config.get("DB_MAX_OVERFLOW", 5)),
        "pool_timeout": 5,
        "isolation_level": "READ COMMITTED",
        "connect_args": {
            "connect_timeout": DB_CONNECT_TIMEOUT,
            # A frozen server must cost a request less than gunicorn's 30 s worker timeout (a
            # killed worker answers nothing): ping or query 20 s + a new connection's 3 s.
            "read_timeout": int(config.get("DB_READ_TIMEOUT", DEFAULT_READ_TIMEOUT)),
            "write_timeout": int(config.get("DB_READ_TIMEOUT", DEFAULT_READ_TIMEOUT)),
            "init_command": "SET SESSION innodb_lock_wait_timeout = "
            + str(int(config.get("DB_LOCK_WAIT_TIMEOUT", DEFAULT_LOCK_WAIT_TIMEOUT))),
        },
    }


def ping_idle_seconds(config: dict[str, Any]) -> float:
    return float(config.get("DB_PING_IDLE_SECONDS", pooling.DEFAULT_PING_IDLE_SECONDS))


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


def register_routes(app: Flask) -> None:
    """One catch-all: every mount and URL form reaches the dispatcher, whatever the method.
    A legacy script's own path under each mount is more specific, so it wins."""
    app.url_map.strict_slashes = False
    app.url_map.merge_slashes = False
    app.url_map.add(Rule("/", endpoint=web.GATEWAY, defaults={"rest": ""}))
    app.url_map.add(Rule("/<path:rest>", endpoint=web.GATEWAY))
    app.view_functions[web.GATEWAY] = view
    for path, script in registry.scripts.items():
        for mount in app.config["MOUNTS"]:
            app.url_map.add(Rule(mount + path, endpoint=path))
        app.view_functions[path] = partial(script_view, script)


def configure_logging(app: Flask) -> None:
    access = logging.getLogger("gassapi.access")
    if not access.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
        access.propagate = False
    access.setLevel(app.config.get("ACCESS_LOG_LEVEL", logging.INFO))
