"""The application factory and the console script: wiring only, above every other module."""

import os
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from flask import Flask
from flask.cli import FlaskGroup
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import Rule

from backend.core import lazy_crypto  # noqa: F401  (first: before PyJWT or PyMySQL is imported)
from backend.core.registry import registry
from backend.db import db, driver, galera, pooling, request_connection, transactions
from backend.db.engine import engine_options, ping_idle_seconds, tune_engine
from backend.models import additive
from backend.ops.cli import CommandFailed, register_commands, serve
from backend.ops.version import __version__
from backend.web import cutover, hooks, logs, metrics, probes
from backend.web.application import Gateway
from backend.web.error_handlers import register_error_handlers
from backend.web.view import script_view, view
from config import ENV_FILE, ConfigError, instance_secrets, load_config


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """The app; its state (SQLite file, generated keys) lives in INSTANCE_PATH, never in the code's
    own folder, which may be read-only (docs/deploying.md)."""
    config = {**load_config(os.environ, env_file=ENV_FILE), **(overrides or {})}
    app = Gateway(__name__, instance_path=config["INSTANCE_PATH"], static_folder=None)
    app.config.update(config)
    logs.configure(app)
    app.config["TZINFO"] = ZoneInfo(app.config["APP_TIMEZONE"])
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"] + 1
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config))
    os.makedirs(app.instance_path, exist_ok=True)
    instance_secrets.fill_missing(app.config, Path(app.instance_path))
    request_connection.install(app, db)
    db.init_app(app)
    with app.app_context():
        metrics.watch_pool(db.engine)  # before the first connection
        driver.install(db.engine)
        tune_engine(db.engine)
        if app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_reset_on_return", "") is None:
            pooling.install(db.engine, ping_idle_seconds(app.config))
        transactions.install(db.engine)
        galera.install(db.engine, app.config["DB_WSREP_SYNC_WAIT"])
        additive.ensure()
    import handlers  # noqa: F401  (registers every act)

    register_routes(app)
    register_error_handlers(app)
    hooks.install(app)
    cutover.install(app)
    register_commands(app)
    if app.config.get("PROXY_COUNT"):
        count = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]
    return app


def register_routes(app: Flask) -> None:
    """One catch-all: every mount and URL form reaches the dispatcher, whatever the method.
    A legacy script's own path under each mount is more specific, so it wins."""
    app.url_map.strict_slashes = False
    app.url_map.merge_slashes = False
    app.url_map.add(Rule("/", endpoint=hooks.GATEWAY, defaults={"rest": ""}))
    app.url_map.add(Rule("/<path:rest>", endpoint=hooks.GATEWAY))
    app.view_functions[hooks.GATEWAY] = view
    probes.register(app)
    for path, script in registry.scripts.items():
        for mount in app.config["MOUNTS"]:
            app.url_map.add(Rule(mount + path, endpoint=path))
        app.view_functions[path] = partial(script_view, script)


def configured_app() -> Flask:
    """The app, or one line naming the bad variable (exit 1) instead of a traceback."""
    try:
        return create_app()
    except ConfigError as exc:
        raise CommandFailed(f"configuration: {exc}") from None


def main() -> None:
    """The `gassapi-gateway` console script: the app's commands, and `serve`. Only the working
    directory's `.env` counts (read by load_config), as under gunicorn."""
    group = FlaskGroup(
        name="gassapi-gateway",
        help="GassAPI Gateway: operator commands acting through the same handlers as the API.",
        create_app=configured_app,
        add_default_commands=False,
        load_dotenv=False,
        add_version_option=False,
    )
    click.version_option(__version__, prog_name="gassapi-gateway", message="%(prog)s %(version)s")(
        group
    )
    group.add_command(serve)
    group()
