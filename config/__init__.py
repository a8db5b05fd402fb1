"""Configuration: defaults, then a legacy `.env` file, then the process environment (pure).

The only place a default is written: the rest of the code reads `app.config[KEY]`.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from sqlalchemy.engine import URL

DEFAULT_ACCESS_SECRET = "default_access_secret_key_change_in_production"
DEFAULT_REFRESH_SECRET = "default_refresh_secret_key_change_in_production"
DEFAULT_MOUNTS = "/gassapi2/backend/index.php,/gassapi2/backend,/index.php,/"
DEVELOPMENT_ENVS = ("", "development", "testing")
# innodb_lock_wait_timeout of every gateway connection, and the time within which the retries of
# one request must fit (below gunicorn's 30 s worker timeout).
DEFAULT_LOCK_WAIT_TIMEOUT = 10
DEFAULT_RETRY_DEADLINE = 20.0
# Waiting for one answer of the database: a lock wait is one answer, so this stays above it.
DEFAULT_READ_TIMEOUT = 20
# A pooled connection idle for longer is pinged before use (0: pinged on every checkout).
DEFAULT_PING_IDLE_SECONDS = 1.0
FALSE_WORDS = ("false", "0", "no", "off")


class ConfigError(RuntimeError):
    pass


def read_env_file(path: str | Path) -> dict[str, str]:
    """A legacy `.env` next to the app; missing file is fine, like the PHP dotenv loader."""
    path = Path(path)
    if not path.is_file():
        return {}
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def database_url(env: Mapping[str, str]) -> str:
    if env.get("DATABASE_URL"):
        return env["DATABASE_URL"]
    if env.get("DB_HOST"):
        return URL.create(
            "mysql+pymysql",
            username=env.get("DB_USERNAME", "root"),
            password=env.get("DB_PASSWORD") or None,
            host=env["DB_HOST"],
            port=int(env.get("DB_PORT") or 3306),
            database=env.get("DB_DATABASE", "testdb"),
            query={"charset": env.get("DB_CHARSET") or "utf8mb4"},
        ).render_as_string(hide_password=False)
    return "sqlite:///gateway.sqlite"


def secrets(env: Mapping[str, str], development: bool) -> tuple[str, str]:
    access = env.get("JWT_ACCESS_SECRET") or env.get("JWT_SECRET")
    refresh = env.get("JWT_REFRESH_SECRET") or env.get("JWT_SECRET")
    if (access and refresh) or development:
        return access or DEFAULT_ACCESS_SECRET, refresh or DEFAULT_REFRESH_SECRET
    raise ConfigError("JWT_SECRET (or JWT_ACCESS_SECRET and JWT_REFRESH_SECRET) must be set")


def mounts(raw: str) -> tuple[str, ...]:
    """Mount prefixes, longest first, without trailing slash ('' is the root)."""
    cleaned = {"/" + part.strip().strip("/") for part in raw.split(",") if part.strip()}
    return tuple(sorted((m.rstrip("/") for m in cleaned), key=len, reverse=True))


def load_config(environ: Mapping[str, str], env_file: str | Path | None = None) -> dict[str, Any]:
    """Process environment wins over the `.env` file, as with the legacy loader."""
    env = {**read_env_file(env_file), **environ} if env_file else dict(environ)
    app_env = env.get("APP_ENV", "")
    development = app_env in DEVELOPMENT_ENVS
    access, refresh = secrets(env, development)
    return {
        "SQLALCHEMY_DATABASE_URI": database_url(env),
        "APP_ENV": app_env,
        "APP_NAME": env.get("APP_NAME") or "GASSAPI",
        "APP_URL": env.get("APP_URL") or "localhost",
        "APP_TIMEZONE": env.get("APP_TIMEZONE") or "Asia/Jakarta",
        "DEBUG_ENVELOPE": development,
        "JWT_ACCESS_SECRET": access,
        "JWT_REFRESH_SECRET": refresh,
        "JWT_ALGORITHM": "HS256",
        "BCRYPT_ROUNDS": 12,
        "ACCESS_TOKEN_TTL": 900,
        "REFRESH_TOKEN_TTL": 604800,
        "MOUNTS": mounts(env.get("GATEWAY_MOUNTS") or DEFAULT_MOUNTS),
        "EXECUTION_LEASE_SECONDS": int(env.get("EXECUTION_LEASE_SECONDS") or 300),
        "DB_RETRY_ATTEMPTS": int(env.get("DB_RETRY_ATTEMPTS") or 3),
        "DB_LOCK_WAIT_TIMEOUT": int(env.get("DB_LOCK_WAIT_TIMEOUT") or DEFAULT_LOCK_WAIT_TIMEOUT),
        "DB_RETRY_DEADLINE_SECONDS": float(
            env.get("DB_RETRY_DEADLINE_SECONDS") or DEFAULT_RETRY_DEADLINE
        ),
        "DB_READ_TIMEOUT": int(env.get("DB_READ_TIMEOUT") or DEFAULT_READ_TIMEOUT),
        "DB_POOL_SIZE": int(env.get("DB_POOL_SIZE") or 5),
        "DB_MAX_OVERFLOW": int(env.get("DB_MAX_OVERFLOW") or 5),
        "DB_PING_IDLE_SECONDS": float(env.get("DB_PING_IDLE_SECONDS") or DEFAULT_PING_IDLE_SECONDS),
        "DB_AUTO_CREATE": env.get("DB_AUTO_CREATE", "true").lower() not in FALSE_WORDS,
        "METRICS_ENABLED": env.get("METRICS_ENABLED", "true").lower() != "false",
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        "MAX_BODY_BYTES": 1_048_576,
        "LOGIN_MAX_FAILURES": int(env.get("LOGIN_MAX_FAILURES") or 10),
        "LOGIN_FAILURE_WINDOW_SECONDS": int(env.get("LOGIN_FAILURE_WINDOW_SECONDS") or 900),
        "PROXY_COUNT": int(env.get("PROXY_COUNT") or 0),
        "ACCESS_LOG_LEVEL": "INFO",
    }
