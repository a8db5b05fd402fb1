"""Issue 15 item 2: fail closed by default.

No published legacy key is ever used unless the operator sets it; a start without keys makes
random ones once and keeps them in the instance folder (shared by every worker, kept across
restarts); reset tokens are echoed only under the test suite's own configuration; production
refuses a weak key with one line naming the variable; `health` tells the mode only to the
metrics scraper. The systemd unit's part is in tests/test_deploy_config.py.
"""

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, suppress
from http.client import HTTPConnection
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from dotenv import dotenv_values
from flask import Flask
from sqlalchemy import select

from backend import create_app
from backend.db import db
from backend.models import User
from config import DEFAULT_ACCESS_SECRET, DEFAULT_REFRESH_SECRET, instance_secrets
from stress.common import free_port
from tests.factories import PASSWORD, Factory, call_act
from tests.test_auth import legacy_claims, php_jwt

ROOT = Path(__file__).resolve().parent.parent
KEY_VARIABLES = ("JWT_SECRET", "JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET")
START_TIMEOUT = 60
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
FLASK_INIT_DB = [str(Path(sys.executable).with_name("flask")), "--app", "wsgi", "init-db"]


@pytest.fixture
def bare_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A process environment with no key and no APP_ENV; its instance folder."""
    for name in (*KEY_VARIABLES, "APP_ENV"):
        monkeypatch.delenv(name, raising=False)
    instance = tmp_path / "instance"
    monkeypatch.setenv("GATEWAY_INSTANCE_PATH", str(instance))
    return instance


@pytest.fixture
def shared_url(app: Flask, database_url: str, tmp_path: Path) -> str:
    """A database two apps in a row both see (the in-memory SQLite one is private to its app);
    `app` creates the MariaDB tables and empties them afterwards."""
    return database_url if not database_url.startswith("sqlite") else f"sqlite:///{tmp_path}/g.db"


def bare_app(url: str) -> Flask:
    application = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "BCRYPT_ROUNDS": 4})
    with application.app_context():
        db.create_all()
    return application


@pytest.fixture
def restarted(bare_environment: Path, shared_url: str) -> Iterator[tuple[Flask, Flask]]:
    """The same bare gateway started twice on one database."""
    first, second = bare_app(shared_url), bare_app(shared_url)
    yield first, second
    for application in (first, second):
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


def register(application: Flask) -> dict[str, Any]:
    body = {"email": "bare@example.com", "name": "Bare", "password": PASSWORD}
    response = call_act(application.test_client(), "register", "POST", json=body)
    assert response.status_code == 201, response.json
    return response.json["data"]


def test_a_bare_start_makes_random_keys_once_and_users_stay_logged_in_across_restarts(
    restarted: tuple[Flask, Flask], bare_environment: Path
) -> None:
    first, second = restarted
    session = register(first)
    client = second.test_client()
    assert call_act(client, "profile", token=session["access_token"]).status_code == 200
    renewed = call_act(client, "refresh", "POST", json={"refresh_token": session["refresh_token"]})
    assert renewed.status_code == 200
    kept = bare_environment / instance_secrets.FILE_NAME
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert dotenv_values(kept) == {key: second.config[key] for key in instance_secrets.KEYS}
    assert second.config["JWT_ACCESS_SECRET"] != second.config["JWT_REFRESH_SECRET"]


def test_a_bare_start_refuses_tokens_signed_with_the_published_legacy_keys(
    restarted: tuple[Flask, Flask],
) -> None:
    first, _ = restarted
    account = SimpleNamespace(**register(first)["user"], token_version=0)  # a new account's
    client = first.test_client()
    access = php_jwt(legacy_claims(account), DEFAULT_ACCESS_SECRET)
    refresh = php_jwt(legacy_claims(account, type="refresh"), DEFAULT_REFRESH_SECRET)
    assert call_act(client, "profile", token=access).status_code == 401
    assert call_act(client, "projects", token=access).status_code == 401
    assert call_act(client, "refresh", "POST", json={"refresh_token": refresh}).status_code == 401


def make_keys(path: str) -> dict[str, str]:
    return instance_secrets.load_or_create(Path(path))


def test_workers_starting_at_once_all_read_the_one_key_file_that_won(tmp_path: Path) -> None:
    path = tmp_path / "instance" / instance_secrets.FILE_NAME
    with ProcessPoolExecutor(max_workers=6) as pool:
        seen = list(pool.map(make_keys, [str(path)] * 24, timeout=START_TIMEOUT))
    assert len({tuple(keys.values()) for keys in seen}) == 1
    assert sorted(p.name for p in path.parent.iterdir()) == [instance_secrets.FILE_NAME]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("app_env", ["", "development", "testing"])
def test_no_app_env_makes_forgot_password_echo_the_reset_token(
    bare_environment: Path, shared_url: str, monkeypatch: pytest.MonkeyPatch, app_env: str
) -> None:
    monkeypatch.setenv("APP_ENV", app_env)
    application = bare_app(shared_url)
    email = register(application)["user"]["email"]
    client = application.test_client()
    response = call_act(client, "forgot-password", "POST", json={"email": email})
    assert response.status_code == 200
    assert "reset_token" not in response.json["data"]
    with application.app_context():
        issued = db.session.execute(select(User.password_reset_token)).scalar_one()
        db.session.remove()
        db.engine.dispose()
    assert issued  # a token was made (and stays in the database, hashed)


def test_health_tells_the_mode_only_to_the_metrics_scraper(
    make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    make.app.config["METRICS_TOKEN"] = "scrape-secret-0123456789"
    client = make.app.test_client()
    seen = {
        name: call_act(client, "health", token=token).json["data"]["environment"]
        for name, token in (
            ("anonymous", None),
            ("user", make.token(make.user())),
            ("scraper", "scrape-secret-0123456789"),
        )
    }
    assert seen == {"anonymous": "unknown", "user": "unknown", "scraper": "development"}


# --- real gunicorn ------------------------------------------------------------------------------


def request(
    port: int, method: str, act: str, token: str | None = None, body: Any = None
) -> tuple[int, Any]:
    connection = HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json", "Connection": "close"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, f"/?act={act}", json.dumps(body) if body else None, headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@contextmanager
def gunicorn(env: dict[str, str]) -> Iterator[None]:
    process = subprocess.Popen(GUNICORN, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            with suppress(OSError):
                if request(int(env["PORT"]), "GET", "health")[0] == 200:
                    yield
                    return
            time.sleep(0.2)
        pytest.fail("gunicorn did not answer")
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_bare_gunicorn_start_with_several_workers_keeps_one_key_across_restarts(
    tmp_path: Path,
) -> None:
    kept = {k: v for k, v in os.environ.items() if k not in (*KEY_VARIABLES, "APP_ENV")}
    env = {
        **{k: v for k, v in kept.items() if k[:3] != "DB_"},
        "DATABASE_URL": f"sqlite:///{tmp_path}/bare.db",
        "GATEWAY_INSTANCE_PATH": str(tmp_path / "instance"),
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "WEB_CONCURRENCY": "2",
    }
    subprocess.run(FLASK_INIT_DB, cwd=ROOT, env=env, check=True, timeout=60)
    body = {"email": "bare@example.com", "name": "Bare", "password": PASSWORD}
    port = int(env["PORT"])
    with gunicorn(env):
        status, answer = request(port, "POST", "register", body=body)
        assert status == 201
        token = answer["data"]["access_token"]
        assert {request(port, "GET", "profile", token)[0] for _ in range(12)} == {200}
    with gunicorn(env):
        assert request(port, "GET", "profile", token)[0] == 200


# --- starting with a weak key in production: one line, no traceback --------------------------

GATEWAY_CLI = str(Path(sys.executable).with_name("gassapi-gateway"))
ENTRY_POINTS = {
    "gunicorn": GUNICORN,
    "gassapi-gateway init-db": [GATEWAY_CLI, "init-db"],  # the unit's ExecStartPre
    "gassapi-gateway serve": [GATEWAY_CLI, "serve"],  # the unit's ExecStart
    "flask init-db": FLASK_INIT_DB,
}
WEAK_KEYS = {
    "short": ({"JWT_SECRET": "too-short"}, "JWT_SECRET is shorter than 32 bytes"),
    "published": (
        {"JWT_SECRET": "x" * 40, "JWT_ACCESS_SECRET": DEFAULT_ACCESS_SECRET},
        "JWT_ACCESS_SECRET is the legacy's published default key",
    ),
}


def production_environment(tmp_path: Path, keys: dict[str, str]) -> dict[str, str]:
    kept = {k: v for k, v in os.environ.items() if k not in KEY_VARIABLES and k[:3] != "DB_"}
    return {
        **kept,
        **keys,
        "APP_ENV": "production",
        "DATABASE_URL": f"sqlite:///{tmp_path}/never.db",
        "GATEWAY_INSTANCE_PATH": str(tmp_path / "instance"),
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "WEB_CONCURRENCY": "2",
    }


@pytest.mark.parametrize(
    ("entry", "weak"),
    [
        ("gunicorn", "short"),
        ("gassapi-gateway init-db", "published"),
        ("gassapi-gateway serve", "short"),
        ("flask init-db", "published"),
    ],
)
def test_production_refuses_a_weak_key_in_one_line_naming_the_variable(
    tmp_path: Path, entry: str, weak: str
) -> None:
    """Each start path once (test_config.py has every refusal reason)."""
    keys, named = WEAK_KEYS[weak]
    finished = subprocess.run(
        ENTRY_POINTS[entry],
        cwd=ROOT,
        env=production_environment(tmp_path, keys),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
    )
    assert finished.returncode != 0
    assert named in finished.stderr
    assert "Traceback" not in finished.stderr + finished.stdout
    assert not (tmp_path / "never.db").exists()
