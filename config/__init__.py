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
# Never used unless set explicitly (to share tokens with a legacy backend that runs on them), and
# refused in production: anyone can forge tokens with them.
PUBLISHED_SECRETS = frozenset({DEFAULT_ACCESS_SECRET, DEFAULT_REFRESH_SECRET})
MIN_SECRET_BYTES = 32
PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = PROJECT_ROOT / ".env"
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


def number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name) or ""
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def cutover(env: Mapping[str, str]) -> dict[str, Any]:
    """The cut-over toolkit (docs/cutover.md); inert while LEGACY_URL is unset."""
    return {
        "LEGACY_URL": env.get("LEGACY_URL") or None,
        "LEGACY_ACT_MODES": env.get("LEGACY_ACT_MODES") or "*=serve",
        "LEGACY_CONNECT_TIMEOUT": number(env, "LEGACY_CONNECT_TIMEOUT", 2),
        "LEGACY_TIMEOUT": number(env, "LEGACY_TIMEOUT", 15),
        "LEGACY_MAX_RESPONSE_BYTES": int(number(env, "LEGACY_MAX_RESPONSE_BYTES", 10_485_760)),
        "LEGACY_POOL_SIZE": int(number(env, "LEGACY_POOL_SIZE", 4)),
        "SHADOW_SAMPLE_RATE": number(env, "SHADOW_SAMPLE_RATE", 1),
        "SHADOW_QUEUE_SIZE": int(number(env, "SHADOW_QUEUE_SIZE", 100)),
        "SHADOW_KNOWN_DIVERGENCES": env.get("SHADOW_KNOWN_DIVERGENCES") or "",
        "SHADOW_MIN_COMPARISONS": int(number(env, "SHADOW_MIN_COMPARISONS", 100)),
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
        "INSTANCE_PATH": str(
            Path(env.get("GATEWAY_INSTANCE_PATH") or PROJECT_ROOT / "instance").absolute()
        ),
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
        "DB_WSREP_SYNC_WAIT": int(env.get("DB_WSREP_SYNC_WAIT") or 1),
        "DB_AUTO_CREATE": env.get("DB_AUTO_CREATE", "true").lower() not in FALSE_WORDS,
        "METRICS_ENABLED": env.get("METRICS_ENABLED", "true").lower() != "false",
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        "MAX_BODY_BYTES": 1_048_576,
        "LOGIN_MAX_FAILURES": int(env.get("LOGIN_MAX_FAILURES") or 10),
        "LOGIN_FAILURE_WINDOW_SECONDS": int(env.get("LOGIN_FAILURE_WINDOW_SECONDS") or 900),
        "LOGIN_CLIENT_MAX_FAILURES": int(env.get("LOGIN_CLIENT_MAX_FAILURES") or 30),
        "LOGIN_KNOWN_CLIENT_DAYS": int(env.get("LOGIN_KNOWN_CLIENT_DAYS") or 30),
        "PROXY_COUNT": int(env.get("PROXY_COUNT") or 0),
        "ACCESS_LOG_LEVEL": "INFO",
        **cutover(env),
    }
