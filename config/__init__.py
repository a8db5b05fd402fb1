"""Configuration: defaults, then a legacy `.env` file, then the process environment (pure).

The only place a default is written: the rest of the code reads `app.config[KEY]`.
"""

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from dotenv import dotenv_values
from sqlalchemy.engine import URL

DEFAULT_ACCESS_SECRET = "default_access_secret_key_change_in_production"
DEFAULT_REFRESH_SECRET = "default_refresh_secret_key_change_in_production"
DEFAULT_MOUNTS = "/gassapi2/backend/index.php,/gassapi2/backend,/index.php,/"
DEVELOPMENT_ENVS = ("", "development", "testing")
# Never used unless set explicitly (to share tokens with a legacy backend that runs on them), and
# refused in production: anyone can forge tokens with them.
PUBLISHED_SECRETS = frozenset({DEFAULT_ACCESS_SECRET, DEFAULT_REFRESH_SECRET})
MIN_SECRET_BYTES = 32
MIN_SCRAPE_TOKEN_CHARS = 16
# innodb_lock_wait_timeout of every gateway connection, and the time within which the retries of
# one request must fit (below gunicorn's 30 s worker timeout).
DEFAULT_LOCK_WAIT_TIMEOUT = 10
DEFAULT_RETRY_DEADLINE = 20.0
# Waiting for one answer of the database: a lock wait is one answer, so this stays above it.
DEFAULT_READ_TIMEOUT = 20
# A pooled connection idle for longer is pinged before use (0: pinged on every checkout).
DEFAULT_PING_IDLE_SECONDS = 1.0
FALSE_WORDS = ("false", "0", "no", "off")
TRUE_WORDS = ("true", "1", "yes", "on")
# Read from the working directory, under gunicorn as under the CLI; never from next to the code.
ENV_FILE = Path(".env")
N = TypeVar("N", int, float)


class ConfigError(RuntimeError):
    """A setting that cannot be used: the message names the variable (one line for the operator)."""


def number(
    env: Mapping[str, str], name: str, default: N, kind: Callable[[str], N], minimum: N
) -> N:
    """`name` read as `kind` (int or float), finite and at least `minimum`; unset: `default`."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        noun = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name}={env[name]}: not {noun}") from None
    if not minimum <= value < math.inf:
        raise ConfigError(f"{name}={env[name]}: must be finite and at least {minimum}")
    return value


def whole(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    return number(env, name, default, int, minimum)


def seconds(env: Mapping[str, str], name: str, default: float) -> float:
    return number(env, name, default, float, 0.0)


def switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in TRUE_WORDS + FALSE_WORDS:
        words = "/".join(TRUE_WORDS + FALSE_WORDS)
        raise ConfigError(f"{name}={env[name]}: expected one of {words}")
    return raw in TRUE_WORDS


def read_env_file(path: str | Path) -> dict[str, str]:
    """The working directory's legacy `.env`; a missing file is fine, like the PHP loader."""
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
            port=whole(env, "DB_PORT", 3306, minimum=1),
            database=env.get("DB_DATABASE", "testdb"),
            query={"charset": env.get("DB_CHARSET") or "utf8mb4"},
        ).render_as_string(hide_password=False)
    return "sqlite:///gateway.sqlite"


def secret_setting(env: Mapping[str, str], kind: str) -> tuple[str, str | None]:
    """The variable that supplies the `access` or `refresh` key (legacy precedence), its value."""
    for name in (f"JWT_{kind.upper()}_SECRET", "JWT_SECRET"):
        if env.get(name):
            return name, env[name]
    return f"JWT_{kind.upper()}_SECRET", None


def check_production_secret(name: str, value: str | None) -> None:
    if not value:
        raise ConfigError("JWT_SECRET (or JWT_ACCESS_SECRET and JWT_REFRESH_SECRET) must be set")
    if value in PUBLISHED_SECRETS:
        raise ConfigError(f"{name} is the legacy's published default key: set a random secret")
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"{name} is shorter than {MIN_SECRET_BYTES} bytes: set a longer secret")


def scrape_token(env: Mapping[str, str]) -> str | None:
    """METRICS_TOKEN: the static Bearer token a Prometheus scraper sends (docs/observability.md)."""
    value = env.get("METRICS_TOKEN") or None
    if value is not None and len(value) < MIN_SCRAPE_TOKEN_CHARS:
        raise ConfigError(
            f"METRICS_TOKEN is shorter than {MIN_SCRAPE_TOKEN_CHARS} characters: "
            "set a long random token"
        )
    return value


def secrets(env: Mapping[str, str], development: bool) -> tuple[str | None, str | None]:
    """Only keys the operator set; in development a missing one is the instance folder's own."""
    settings = [secret_setting(env, kind) for kind in ("access", "refresh")]
    if not development:
        for name, value in settings:
            check_production_secret(name, value)
    return settings[0][1], settings[1][1]


def mounts(raw: str) -> tuple[str, ...]:
    """Mount prefixes, longest first, without trailing slash ('' is the root)."""
    cleaned = {"/" + part.strip().strip("/") for part in raw.split(",") if part.strip()}
    return tuple(sorted((m.rstrip("/") for m in cleaned), key=len, reverse=True))


def cutover(env: Mapping[str, str]) -> dict[str, Any]:
    """The cut-over toolkit (docs/cutover.md); inert while LEGACY_URL is unset."""
    return {
        "LEGACY_URL": env.get("LEGACY_URL") or None,
        "LEGACY_ACT_MODES": env.get("LEGACY_ACT_MODES") or "*=serve",
        "LEGACY_CONNECT_TIMEOUT": seconds(env, "LEGACY_CONNECT_TIMEOUT", 2),
        "LEGACY_TIMEOUT": seconds(env, "LEGACY_TIMEOUT", 15),
        "LEGACY_MAX_RESPONSE_BYTES": whole(env, "LEGACY_MAX_RESPONSE_BYTES", 10_485_760, minimum=1),
        "LEGACY_POOL_SIZE": whole(env, "LEGACY_POOL_SIZE", 4, minimum=1),
        "SHADOW_SAMPLE_RATE": seconds(env, "SHADOW_SAMPLE_RATE", 1),
        "SHADOW_QUEUE_SIZE": whole(env, "SHADOW_QUEUE_SIZE", 100, minimum=1),
        "SHADOW_KNOWN_DIVERGENCES": env.get("SHADOW_KNOWN_DIVERGENCES") or "",
        "SHADOW_MIN_COMPARISONS": whole(env, "SHADOW_MIN_COMPARISONS", 100, minimum=1),
        "CUTOVER_STATE_DIR": env.get("CUTOVER_STATE_DIR") or "",  # "": instance/cutover
    }


def load_config(environ: Mapping[str, str], env_file: str | Path | None = None) -> dict[str, Any]:
    """Process environment wins over the `.env` file, as with the legacy loader."""
    env = {**read_env_file(env_file), **environ} if env_file else dict(environ)
    app_env = env.get("APP_ENV", "")
    development = app_env in DEVELOPMENT_ENVS
    access, refresh = secrets(env, development)
    return {
        "SQLALCHEMY_DATABASE_URI": database_url(env),
        "INSTANCE_PATH": str(Path(env.get("GATEWAY_INSTANCE_PATH") or "instance").absolute()),
        "APP_ENV": app_env,
        "APP_NAME": env.get("APP_NAME") or "GASSAPI",
        "APP_URL": env.get("APP_URL") or "localhost",
        "APP_TIMEZONE": env.get("APP_TIMEZONE") or "Asia/Jakarta",
        "DEBUG_ENVELOPE": development,
        "JWT_ACCESS_SECRET": access,
        "JWT_REFRESH_SECRET": refresh,
        "RESET_TOKEN_IN_RESPONSE": False,  # the test suite's own configuration only, never env
        "JWT_ALGORITHM": "HS256",
        "BCRYPT_ROUNDS": 12,
        "ACCESS_TOKEN_TTL": 900,
        "REFRESH_TOKEN_TTL": 604800,
        "MOUNTS": mounts(env.get("GATEWAY_MOUNTS") or DEFAULT_MOUNTS),
        "EXECUTION_LEASE_SECONDS": whole(env, "EXECUTION_LEASE_SECONDS", 300, minimum=1),
        "DB_RETRY_ATTEMPTS": whole(env, "DB_RETRY_ATTEMPTS", 3, minimum=1),
        "DB_LOCK_WAIT_TIMEOUT": whole(env, "DB_LOCK_WAIT_TIMEOUT", DEFAULT_LOCK_WAIT_TIMEOUT, 1),
        "DB_RETRY_DEADLINE_SECONDS": seconds(
            env, "DB_RETRY_DEADLINE_SECONDS", DEFAULT_RETRY_DEADLINE
        ),
        "DB_READ_TIMEOUT": whole(env, "DB_READ_TIMEOUT", DEFAULT_READ_TIMEOUT, minimum=1),
        "DB_POOL_SIZE": whole(env, "DB_POOL_SIZE", 5, minimum=1),
        "DB_MAX_OVERFLOW": whole(env, "DB_MAX_OVERFLOW", 5),
        "DB_PING_IDLE_SECONDS": seconds(env, "DB_PING_IDLE_SECONDS", DEFAULT_PING_IDLE_SECONDS),
        "DB_WSREP_SYNC_WAIT": whole(env, "DB_WSREP_SYNC_WAIT", 1, minimum=0),
        "DB_AUTO_CREATE": switch(env, "DB_AUTO_CREATE", True),
        "METRICS_ENABLED": switch(env, "METRICS_ENABLED", True),
        "METRICS_TOKEN": scrape_token(env),
        "MAX_BODY_BYTES": 1_048_576,
        "LOGIN_MAX_FAILURES": whole(env, "LOGIN_MAX_FAILURES", 10, minimum=1),
        "LOGIN_FAILURE_WINDOW_SECONDS": whole(env, "LOGIN_FAILURE_WINDOW_SECONDS", 900, minimum=1),
        "LOGIN_CLIENT_MAX_FAILURES": whole(env, "LOGIN_CLIENT_MAX_FAILURES", 30, minimum=1),
        "LOGIN_KNOWN_CLIENT_DAYS": whole(env, "LOGIN_KNOWN_CLIENT_DAYS", 30),
        "PROXY_COUNT": whole(env, "PROXY_COUNT", 0),
        "ACCESS_LOG_LEVEL": "INFO",
        **cutover(env),
    }
