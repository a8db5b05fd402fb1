"""Shared pieces of the stress and fuzz runs: databases, seed rows, gateway processes, HTTP calls.

Every run talks only to 127.0.0.1: the shared MariaDB (its own database names), a private MariaDB
it starts itself (the outage run), and gunicorn gateways it starts on free ports and stops.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import bcrypt
import pymysql
from flask import Flask
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "instance" / "stress-results"
BASE = "/gassapi2/backend/"
SHARED_SERVER = os.environ.get("STRESS_MYSQL_SERVER", "mysql+pymysql://root@127.0.0.1:3306")
ACCESS_SECRET = "stress-access-secret-0123456789abcdef0123456789abcdef"
REFRESH_SECRET = "stress-refresh-secret-0123456789abcdef0123456789abcdef"
PASSWORD = "StressPass123!"
STEPS_FLOW = {
    "version": "1.0",
    "steps": [
        {"id": "step1", "name": "Ping", "method": "GET", "url": "https://example.com/ping"},
        {"id": "step2", "name": "Pong", "method": "POST", "url": "{{baseUrl}}/pong"},
    ],
    "config": {"delay": 0, "retryCount": 1, "parallel": False},
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- databases ------------------------------------------------------------------------------


def database_url(name: str, server: str = SHARED_SERVER) -> str:
    return f"{server.rstrip('/')}/{name}?charset=utf8mb4"


def server_answers(url: str) -> bool:
    parsed = make_url(url)
    try:
        pymysql.connect(
            host=parsed.host or "127.0.0.1",
            port=parsed.port or 3306,
            user=parsed.username or "root",
            password=parsed.password or "",
            connect_timeout=2,
        ).close()
    except pymysql.MySQLError:
        return False
    return True


def ensure_shared_mariadb(url: str = SHARED_SERVER) -> None:
    """Start the machine's MariaDB the way CI does, only when nothing answers (never restart it)."""
    if server_answers(url):
        return
    log("MariaDB is not answering on the shared port; starting it")
    subprocess.run(
        ["start-stop-daemon", "--start", "--oknodo", "--background"]
        + ["--exec", "/usr/sbin/mariadbd"],
        check=False,
    )
    for _ in range(60):
        if server_answers(url):
            return
        time.sleep(1)
    raise SystemExit("MariaDB did not start")


def recreate_database(url: str) -> None:
    name = make_url(url).database
    engine = create_engine(make_url(url).set(database=""), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        conn.execute(
            text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        )
    engine.dispose()


def tooling_app(url: str) -> Flask:
    """An app bound to the run's database: creates tables, signs long-lived tokens."""
    from backend import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "JWT_ACCESS_SECRET": ACCESS_SECRET,
            "JWT_REFRESH_SECRET": REFRESH_SECRET,
            "ACCESS_TOKEN_TTL": 86_400,
            "APP_ENV": "production",
        }
    )


# --- seed -----------------------------------------------------------------------------------


@dataclass
class Seed:
    url: str
    user_id: str = ""
    email: str = ""
    token: str = ""
    project_id: str = ""
    flow_ids: list[str] = field(default_factory=list)
    folder_id: str = ""
    endpoint_id: str = ""
    environment_id: str = ""
    start_active: dict[str, int] = field(default_factory=dict)


def new_id(prefix: str) -> str:
    return f"{prefix}_{int(time.time())}_{secrets.token_hex(8)}"


def seed(url: str, flows: int = 5, *, fresh: bool = True) -> Seed:
    """One user owning one project (default environment, a folder, an endpoint) and its flows."""
    from backend.auth.tokens import issue_token
    from backend.db import db
    from backend.db.tables import create_missing
    from backend.models import Endpoint, Environment, Flow, Folder, Project, User

    if fresh:
        recreate_database(url)
    app = tooling_app(url)
    result = Seed(url)
    stamp = datetime.now().replace(microsecond=0)
    with app.app_context():
        create_missing(db.engine, db.metadata)  # what init-db does
        result.user_id, result.email = new_id("user"), f"stress-{secrets.token_hex(4)}@example.com"
        result.project_id, result.folder_id = new_id("proj"), new_id("col")
        result.endpoint_id, result.environment_id = new_id("ep"), new_id("env")
        hashed = "$2y$" + bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()[4:]
        rows: list[tuple[Any, list[dict[str, Any]]]] = [
            (
                User,
                [
                    {
                        "id": result.user_id,
                        "email": result.email,
                        "password_hash": hashed,
                        "name": "Stress Owner",
                        "is_active": 1,
                        "email_verified": 1,
                        "token_version": 0,
                        "created_at": stamp,
                        "updated_at": stamp,
                    }
                ],
            ),
            (
                Project,
                [
                    {
                        "id": result.project_id,
                        "name": "Stress project",
                        "description": "seeded by stress/",
                        "owner_id": result.user_id,
                        "is_public": 0,
                        "settings": '{"visibility":"private"}',
                        "created_at": stamp,
                        "updated_at": stamp,
                    }
                ],
            ),
            (
                Environment,
                [
                    {
                        "id": result.environment_id,
                        "project_id": result.project_id,
                        "name": "development",
                        "variables": '{"baseUrl":"https:\\/\\/api.example.com"}',
                        "is_default": 1,
                        "created_at": stamp,
                        "updated_at": stamp,
                    }
                ],
            ),
            (
                Folder,
                [
                    {
                        "id": result.folder_id,
                        "name": "Stress folder",
                        "project_id": result.project_id,
                        "headers": "[]",
                        "variables": "[]",
                        "is_default": 1,
                        "created_by": result.user_id,
                        "created_at": stamp,
                        "updated_at": stamp,
                    }
                ],
            ),
            (
                Endpoint,
                [
                    {
                        "id": result.endpoint_id,
                        "name": "Stress endpoint",
                        "method": "GET",
                        "url": "https://example.com/users",
                        "headers": "[]",
                        "folder_id": result.folder_id,
                        "created_by": result.user_id,
                        "created_at": stamp,
                        "updated_at": stamp,
                    }
                ],
            ),
        ]
        flow_rows = []
        for number in range(flows):
            flow_id = new_id("flow")
            active = number % 2
            result.flow_ids.append(flow_id)
            result.start_active[flow_id] = active
            flow_rows.append(
                {
                    "id": flow_id,
                    "name": f"Stress flow {number}",
                    "description": "seeded by stress/",
                    "project_id": result.project_id,
                    "folder_id": result.folder_id if number % 3 == 0 else None,
                    "flow_data": json.dumps(STEPS_FLOW),
                    "created_by": result.user_id,
                    "is_active": active,
                    "created_at": stamp,
                    "updated_at": stamp,
                    "flow_inputs": "[]",
                }
            )
        rows.append((Flow, flow_rows))
        for model, values in rows:
            if values:
                db.session.execute(insert(model.__table__), values)
        db.session.commit()
        result.token = issue_token(result.user_id, result.email, "access", 0)
        db.session.remove()
        db.engine.dispose()
    return result


def gateway_now() -> datetime:
    """The gateway stores naive local times in APP_TIMEZONE (not the database server's zone)."""
    zone = ZoneInfo(os.environ.get("APP_TIMEZONE") or "Asia/Jakarta")
    return datetime.now(zone).replace(tzinfo=None, microsecond=0)


def engine_for(url: str) -> Engine:
    return create_engine(url, pool_pre_ping=True, isolation_level="READ COMMITTED")


# --- gateway processes ----------------------------------------------------------------------


def stop_group(proc: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """SIGTERM to a process started with `start_new_session`, then SIGKILL to its whole group
    when it has not exited within `timeout` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def free_port() -> int:
    """A free local port: within STRESS_PORT_RANGE (`LOW-HIGH`) when set, else any."""
    low, _, high = os.environ.get("STRESS_PORT_RANGE", "0-0").partition("-")
    for port in range(int(low), int(high or low) + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise SystemExit(f"no free port in STRESS_PORT_RANGE {low}-{high}")


@dataclass
class Gateway:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    host: str = "127.0.0.1"

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return sorted(int(pid) for pid in children.read_text().split())
        except OSError:
            return []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(25)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def tracebacks(self) -> int:
        try:
            return self.log_path.read_text(errors="replace").count("Traceback (most recent call")
        except OSError:
            return 0


LEGACY_DB_VARIABLES = ("DB_HOST", "DB_PORT", "DB_USERNAME", "DB_PASSWORD", "DB_DATABASE")


def gateway_env(
    url: str, port: int, workers: int, extra: Mapping[str, str] | None, host: str = "127.0.0.1"
) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in LEGACY_DB_VARIABLES and not key.startswith("PROMETHEUS_MULTIPROC")
    }
    env.update(
        {
            "DATABASE_URL": url,
            "HOST": host,
            "PORT": str(port),
            "WEB_CONCURRENCY": str(workers),
            "APP_ENV": "production",
            "JWT_ACCESS_SECRET": ACCESS_SECRET,
            "JWT_REFRESH_SECRET": REFRESH_SECRET,
            "LOG_LEVEL": "warning",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def start_gateway(
    url: str,
    *,
    workers: int = 2,
    extra_env: Mapping[str, str] | None = None,
    log_dir: Path | None = None,
    require_db: bool = True,
    host: str = "127.0.0.1",
    port: int | None = None,
    wrap: Callable[[list[str]], list[str]] = list,
    command: Sequence[str] = (
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "gunicorn.conf.py",
        "wsgi:app",
    ),
    cwd: Path = ROOT,
) -> Gateway:
    """`command` (gunicorn on wsgi:app by default) in `cwd` on host:port (a free port by
    default), once it serves; `wrap` prefixes the command (a netns)."""
    port = port or free_port()
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="gw-stress-"))
    log_path = log_dir / f"gateway-{port}.log"
    process = subprocess.Popen(
        wrap(list(command)),
        cwd=cwd,
        env=gateway_env(url, port, workers, extra_env, host),
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    gateway = Gateway(port, process, log_path, host)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gateway on {host}:{port} exited:\n{gateway.log_tail()}")
        answer = call(port, "health", timeout=5, host=host)
        answered = answer.status == 200 or (answer.status == 503 and not require_db)
        if answered and len(gateway.worker_pids()) >= workers:
            return gateway
        time.sleep(0.2)
    gateway.stop()
    raise SystemExit(f"gateway on {host}:{port} did not come up:\n{gateway.log_tail()}")


@contextmanager
def gateways(url: str, count: int, **kwargs: Any) -> Iterator[list[Gateway]]:
    started: list[Gateway] = []
    try:
        for _ in range(count):
            started.append(start_gateway(url, **kwargs))
        yield started
    finally:
        for gateway in started:
            gateway.stop()


# --- HTTP -----------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no HTTP answer (refused, reset, timeout)
    body: bytes = b""
    content_type: str = ""
    started: float = 0.0
    ended: float = 0.0
    error: str | None = None
    tag: str = ""
    reason: str = ""  # the status line's reason phrase

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def is_envelope(self) -> bool:
        body = self.json()
        return (
            self.content_type.startswith("application/json")
            and isinstance(body, dict)
            and {"success", "status_code", "message", "timestamp", "request_id"} <= body.keys()
            and body["status_code"] == self.status
        )

    @property
    def data(self) -> Any:
        body = self.json()
        return body.get("data") if isinstance(body, dict) else None


def call(
    port: int,
    act: str,
    method: str = "GET",
    *,
    id: str | None = None,
    token: str | None = None,
    body: Any = None,
    timeout: float = 15.0,
    tag: str = "",
    query: Mapping[str, str] | None = None,
    host: str = "127.0.0.1",
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """One request on a fresh connection (gunicorn's sync workers close after each answer).

    `body` is sent as JSON, or as it is when it is bytes; `headers` are added last (an
    `Authorization` there replaces the one `token` makes)."""
    params = {"act": act, **({"id": id} if id is not None else {}), **(query or {})}
    sent = {"User-Agent": tag or "stress", "Connection": "close"}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    payload = None
    if body is not None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    sent.update(headers or {})
    started = time.monotonic()
    connection = HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request(method, f"{BASE}?{urlencode(params)}", body=payload, headers=sent)
        response = connection.getresponse()
        data = response.read()
        return Answer(
            response.status,
            data,
            response.getheader("Content-Type", ""),
            started,
            time.monotonic(),
            tag=tag,
            reason=response.reason,
        )
    except (OSError, HTTPException) as exc:
        return Answer(0, started=started, ended=time.monotonic(), error=repr(exc), tag=tag)
    finally:
        connection.close()


def run_threads(threads: list[threading.Thread]) -> float:
    """Start them all, wait for them all; returns the seconds taken."""
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


# --- results --------------------------------------------------------------------------------


def save_result(name: str, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    figures = {
        "name": name,
        "finished_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        **figures,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2, sort_keys=False) + "\n")
    return path


def print_figures(title: str, figures: Mapping[str, Any]) -> None:
    print(f"\n== {title} ==", flush=True)
    for key, value in figures.items():
        if isinstance(value, dict | list):
            value = json.dumps(value, sort_keys=True)
        print(f"  {key:<34} {value}", flush=True)


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
