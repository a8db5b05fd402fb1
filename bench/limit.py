"""The physical limit: the statements each act issues, replayed by bare PyMySQL loops.

One process per core, one connection each, no HTTP, no Flask, no SQLAlchemy. The statements are
the gateway's own wire text (captured with `bench/capture.py` and compared on every run, so a
handler that changes its SQL shows up as "out of sync" in the report). Writes run under the
gateway's session settings (READ COMMITTED, 10 s lock wait) and commit per iteration; reads run in
autocommit, i.e. the cheapest way to issue the same SELECTs.
"""

import hashlib
import multiprocessing
import os
import secrets
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import bcrypt
import pymysql
from sqlalchemy.dialects.mysql import pymysql as mysql_pymysql
from sqlalchemy.engine import make_url

from handlers import projects as projects_handlers
from services import audit
from services.flows import listing
from services.flows import status as flow_status

TZ = ZoneInfo("Asia/Jakarta")


def gateway_sql(statement: Any) -> tuple[str, dict[str, Any]]:
    """The wire text of one of the gateway's hot statements (`backend.db.direct.Statement`), with
    the values of its constants: the limit issues exactly what the gateway issues."""
    return statement.compiled(DIALECT)


DIALECT = mysql_pymysql.dialect(paramstyle="pyformat")
FLOW_DETAIL, FLOW_DETAIL_FIXED = gateway_sql(flow_status.FLOW_DETAIL)
LOCK_FOR_CHANGE, LOCK_FIXED = gateway_sql(flow_status.LOCK_FOR_CHANGE)
UPDATE_FLOW, UPDATE_FIXED = gateway_sql(flow_status.SET_STATUS)
INSERT_AUDIT, _ = gateway_sql(audit.INSERT_ENTRY)
LIST_FLOWS, LIST_FIXED = gateway_sql(listing.list_statement((), False, True))
LIST_ACTIVE, ACTIVE_FIXED = gateway_sql(listing.list_statement((1,), False, True))
PROJECTS, PROJECTS_FIXED = gateway_sql(projects_handlers.OWN_PROJECTS)
USER_COLUMNS = (
    "users.id, users.email, users.password_hash, users.name, users.avatar_url, users.is_active, "
    "users.email_verified, users.password_reset_token, users.password_reset_token_expires_at, "
    "users.token_version, users.last_login_at, users.created_at, users.updated_at"
)
THROTTLE_PURGE = "DELETE FROM login_throttle WHERE login_throttle.expires_at < %(horizon)s"
THROTTLE_ROWS = (
    "INSERT INTO login_throttle (scope, attempts, expires_at) VALUES (%(client)s, 0, %(now)s), "
    "(%(account)s, 0, %(now)s) ON DUPLICATE KEY UPDATE scope = VALUES(scope)"
)
THROTTLE_TAKE = (
    "UPDATE login_throttle SET attempts=CASE WHEN (login_throttle.expires_at <= %(now)s) THEN 1 "
    "ELSE login_throttle.attempts + 1 END, expires_at=CASE WHEN (login_throttle.expires_at <= "
    "%(now)s) THEN %(window_end)s ELSE login_throttle.expires_at END WHERE login_throttle.scope = "
    "%(scope)s AND (login_throttle.expires_at <= %(now)s OR login_throttle.attempts < %(limit)s)"
)
THROTTLE_GIVE_BACK = (
    "UPDATE login_throttle SET attempts=(login_throttle.attempts - 1) WHERE login_throttle.scope "
    "IN (%(client)s, %(account)s) AND login_throttle.attempts > 0"
)
THROTTLE_KNOWN = (
    "INSERT INTO login_throttle (scope, attempts, expires_at) VALUES (%(known)s, 0, %(until)s) "
    "ON DUPLICATE KEY UPDATE expires_at = %(until)s"
)
USER_BY_EMAIL = f"SELECT {USER_COLUMNS} \nFROM users \nWHERE users.email = %(email_1)s"
INSERT_REFRESH = (
    "INSERT INTO refresh_tokens (id, token_hash, user_id, expires_at, created_at, is_active) "
    "VALUES (%(id)s, %(token_hash)s, %(user_id)s, %(expires_at)s, %(created_at)s, %(is_active)s)"
)
UPDATE_LOGIN = (
    "UPDATE users SET last_login_at=%(last_login_at)s, updated_at=%(updated_at)s "
    "WHERE users.id = %(id_1)s"
)
HEALTH = "SELECT 1"
COMMIT = "COMMIT"


@dataclass(frozen=True)
class Context:
    """What the seed made and the caller's identity: enough to issue every statement."""

    user_id: str
    email: str
    password: str
    password_hash: str
    project_id: str
    list_project_id: str
    flow_ids: tuple[str, ...]


def now() -> datetime:
    return datetime.now(TZ).replace(tzinfo=None, microsecond=0)


def account(ctx: Context) -> dict[str, Any]:
    """The caller's account check, carried by every hot statement (`token_version` of the seed)."""
    return {"user_id": ctx.user_id, "token_version": 0}


def health(cur: Any, ctx: Context, i: int) -> None:
    cur.execute(HEALTH)
    cur.fetchall()


def flow_read(cur: Any, ctx: Context, i: int) -> None:
    flow_id = ctx.flow_ids[i % len(ctx.flow_ids)]
    cur.execute(FLOW_DETAIL, {**FLOW_DETAIL_FIXED, **account(ctx), "flow_id": flow_id})
    cur.fetchone()


def listed(cur: Any, ctx: Context, project_id: str, sql: str, fixed: dict[str, Any]) -> None:
    """One statement: the list with the caller's account and membership as its last columns."""
    params = {**fixed, **account(ctx), "project_id": project_id, "limit": 100, "offset": 0}
    cur.execute(sql, params)
    cur.fetchall()


def flow_list(cur: Any, ctx: Context, i: int) -> None:
    listed(cur, ctx, ctx.list_project_id, LIST_FLOWS, LIST_FIXED)


def flow_list_active(cur: Any, ctx: Context, i: int) -> None:
    listed(cur, ctx, ctx.project_id, LIST_ACTIVE, ACTIVE_FIXED)


def projects(cur: Any, ctx: Context, i: int) -> None:
    cur.execute(PROJECTS, {**PROJECTS_FIXED, **account(ctx)})
    cur.fetchall()


def toggle(cur: Any, ctx: Context, i: int) -> None:
    flow_id = ctx.flow_ids[i % len(ctx.flow_ids)]
    stamp = now()
    params = {**LOCK_FIXED, **account(ctx), "flow_id": flow_id, "now": stamp}
    cur.execute(LOCK_FOR_CHANGE, params)
    row = cur.fetchone()
    old = int(row[7])
    change = {**UPDATE_FIXED, "new_status": 1 - old, "stamp": stamp, "flow_id": flow_id}
    cur.execute(UPDATE_FLOW, change)
    cur.execute(
        INSERT_AUDIT,
        {
            "id": f"audit_{time.time_ns():016x}{secrets.token_hex(4)}",
            "user_id": ctx.user_id,
            "project_id": row[3],
            "action": "flow_status_changed",
            "resource_type": "flow",
            "resource_id": flow_id,
            "old_values": f'{{"is_active": {old}}}',
            "new_values": f'{{"is_active": {1 - old}}}',
            "ip_address": "127.0.0.1",
            "user_agent": None,
            "created_at": stamp,
            "category": "flow",
            "metadata": '{"via": "flow_toggle_active", "reason": null}',
            "severity": "low",
        },
    )
    cur.connection.commit()


def throttle_scopes(email: str) -> dict[str, str]:
    """services/login_throttle.py's scopes for a client on 127.0.0.1."""

    def scope(*parts: str) -> str:
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    return {
        "client": scope("client", "127.0.0.1"),
        "account": scope("account", email),
        "known": scope("known", email, "127.0.0.1"),
    }


def login(cur: Any, ctx: Context, i: int) -> None:
    scopes, stamp = throttle_scopes(ctx.email), now()
    window = {**scopes, "now": stamp, "window_end": stamp + timedelta(minutes=15)}
    cur.execute(THROTTLE_PURGE, {"horizon": stamp - timedelta(days=1)})
    cur.execute(THROTTLE_ROWS, window)
    cur.execute(THROTTLE_TAKE, {**window, "scope": scopes["client"], "limit": 30})
    cur.execute(THROTTLE_TAKE, {**window, "scope": scopes["account"], "limit": 10})
    cur.connection.commit()  # the throttle's own transaction
    cur.execute(USER_BY_EMAIL, {"email_1": ctx.email})
    row = cur.fetchone()
    bcrypt.checkpw(ctx.password.encode(), ("$2b$" + row[2][4:]).encode())
    cur.execute(THROTTLE_GIVE_BACK, scopes)
    cur.execute(THROTTLE_KNOWN, {**scopes, "until": stamp + timedelta(days=30)})
    cur.execute(
        INSERT_REFRESH,
        {
            "id": f"rt_{int(time.time())}_{secrets.token_hex(4)}",
            "token_hash": hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
            "user_id": row[0],
            "expires_at": stamp,
            "created_at": stamp,
            "is_active": 1,
        },
    )
    cur.execute(UPDATE_LOGIN, {"last_login_at": stamp, "updated_at": stamp, "id_1": row[0]})
    cur.connection.commit()


@dataclass(frozen=True)
class Plan:
    step: Callable[[Any, Context, int], None]
    autocommit: bool


PLANS = {
    "health": Plan(health, autocommit=True),
    "flow": Plan(flow_read, autocommit=True),
    "flows": Plan(flow_list, autocommit=True),
    "flows_active": Plan(flow_list_active, autocommit=True),
    "projects": Plan(projects, autocommit=True),
    "flow_toggle_active": Plan(toggle, autocommit=False),
    "login": Plan(login, autocommit=False),
}


def connect(url: str, autocommit: bool) -> pymysql.Connection:
    parsed = make_url(url)
    return pymysql.connect(
        unix_socket=parsed.query.get("unix_socket"),
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 3306,
        user=parsed.username or "root",
        password=parsed.password or "",
        database=parsed.database,
        charset="utf8mb4",
        autocommit=autocommit,
        init_command="SET SESSION innodb_lock_wait_timeout = 10",
    )


RETRYABLE = (1213, 1205)  # deadlock, lock wait timeout: retried, as the gateway's dispatcher does


def attempt(plan: Plan, cur: Any, ctx: Context, i: int) -> int:
    """One iteration; returns how many times it had to be retried."""
    retries = 0
    while True:
        try:
            plan.step(cur, ctx, i)
            return retries
        except pymysql.err.OperationalError as exc:
            if exc.args[0] not in RETRYABLE or retries >= 5:
                raise
            cur.connection.rollback()
            retries += 1


def worker(url: str, name: str, ctx: Context, index: int, seconds: float, queue: Any) -> None:
    try:
        queue.put(loop(url, name, ctx, index, seconds))
    except Exception as exc:  # noqa: BLE001 - reported to the parent instead of hanging it
        queue.put(("error", repr(exc), []))


def loop(url: str, name: str, ctx: Context, index: int, seconds: float) -> tuple[Any, ...]:
    plan = PLANS[name]
    conn = connect(url, plan.autocommit)
    with conn.cursor() as cur:
        cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
    # Each process works on its own half of the ids, as the wrk threads do.
    ctx = Context(**{**ctx.__dict__, "flow_ids": ctx.flow_ids[index::2] or ctx.flow_ids})
    latencies: list[float] = []
    i = retries = 0
    with conn.cursor() as cur:
        warm_until = time.perf_counter() + min(1.0, seconds / 5)
        while time.perf_counter() < warm_until:
            attempt(plan, cur, ctx, i)
            i += 1
        started = time.perf_counter()
        deadline = started + seconds
        while True:
            t0 = time.perf_counter()
            if t0 >= deadline:
                break
            retries += attempt(plan, cur, ctx, i)
            latencies.append(time.perf_counter() - t0)
            i += 1
        elapsed = time.perf_counter() - started
    conn.close()
    return (len(latencies), elapsed, latencies, retries)


def run(url: str, name: str, ctx: Context, seconds: float, processes: int) -> dict[str, Any]:
    """`processes` loops for `seconds`; operations per second summed, latency percentiles."""
    mp = multiprocessing.get_context("spawn")
    queue = mp.Queue()
    procs = [
        mp.Process(target=worker, args=(url, name, ctx, i, seconds, queue))
        for i in range(processes)
    ]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=seconds + 60) for _ in procs]
    for proc in procs:
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()
    failed = [r[1] for r in results if r[0] == "error"]
    if failed:
        return {"error": failed[0], "rps": None, "p50_ms": None, "p99_ms": None}
    latencies = sorted(x for r in results for x in r[2])
    rate = sum(r[0] / r[1] for r in results)
    return {
        "retries": sum(r[3] for r in results),
        "rps": round(rate, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 3),
        "p99_ms": round(percentile(latencies, 99) * 1000, 3),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 3) if latencies else None,
        "processes": processes,
    }


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(pct / 100 * len(values)) - 1))
    return values[index]


def default_processes() -> int:
    return os.cpu_count() or 2
