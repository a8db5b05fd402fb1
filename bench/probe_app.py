"""Issue #14's probe: the least honest work of each referenced scenario on this stack.

A bare Flask view under the gateway's own gunicorn config (`gunicorn -c gunicorn.conf.py
bench.probe_app:app`), PyJWT (verified tokens remembered, times re-checked), one persistent
PyMySQL connection per worker (autocommit; BEGIN/COMMIT around the toggle) and `json.dumps` of
the gateway's envelope. Reads ask the caller's account (active, `token_version`) and membership
in the scenario's own statement; DATETIME columns stay the text the server sent, as the
gateway's reads keep them. No gateway module is imported: the configuration comes from the
environment the gunicorn workers get (`JWT_ACCESS_SECRET`, `DATABASE_URL`, `APP_TIMEZONE`).

What it leaves out, on purpose: routing tables, schemas, the access log, metrics, security
headers, the toggle's live-execution check. `make bench` serves it after the floor and prints its
ratio to the reference beside the gateway's: what this stack reaches at best on the machine.
"""

import contextlib
import json
import os
import random
import secrets
import time
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import jwt
import pymysql
from flask import Flask, Response, request
from pymysql.constants import FIELD_TYPE
from pymysql.converters import conversions

SECRET = os.environ.get("JWT_ACCESS_SECRET", "")
TZ = ZoneInfo(os.environ.get("APP_TIMEZONE") or "Asia/Jakarta")  # config/'s default
TEXT_DATETIMES = {  # PyMySQL's encoders and decoders, DATETIME columns left as the server's text
    k: v for k, v in conversions.items() if k not in (FIELD_TYPE.DATETIME, FIELD_TYPE.TIMESTAMP)
}
JSON_TYPE = "application/json; charset=utf-8"

# The caller's account as one column: NULL (no user), 'disabled', 'revoked' or 'ok'; `row`, a
# column of the locked row, makes the toggle read it after the lock, as the gateway does.
ACCOUNT = (
    "(select case when coalesce(u.is_active, 0) = 0 then 'disabled'"
    " when u.token_version = %(version)s then 'ok' else 'revoked' end"
    " from users u where u.id = %(user)s and {row} is not null) as account"
)
MEMBER = (
    "exists(select 1 from projects p where p.id = {project} and p.owner_id = %(user)s"
    " union all select 1 from project_members m where m.project_id = {project}"
    " and m.user_id = %(user)s) as allowed"
)
FLOW_CHECKS = MEMBER.format(project="f.project_id") + ", " + ACCOUNT.format(row="f.id")
FLOW = (
    "select f.*, fo.name as folder_name, "
    + FLOW_CHECKS
    + " from flows f left join folders fo on fo.id = f.folder_id where f.id = %(id)s"
)
LOCK = "select f.*, " + FLOW_CHECKS + " from flows f where f.id = %(id)s for update"
ALONE = "select " + ACCOUNT.format(row="1")
CALLER = ALONE + ", " + MEMBER.format(project="%(id)s")
LIST = (
    "select f.*, fo.name as folder_name from flows f left join folders fo on fo.id = f.folder_id"
    " where f.project_id = %(id)s order by f.created_at desc, f.id desc limit 100"
)
PROJECTS = (
    "select p.*, "
    + ACCOUNT.format(row="p.id")
    + " from projects p where p.owner_id = %(user)s or exists(select 1 from project_members m"
    " where m.project_id = p.id and m.user_id = %(user)s)"
    " order by p.created_at desc, p.id desc limit 100"
)
UPDATE = "update flows set is_active = %s, updated_at = %s where id = %s"
AUDIT = (
    "insert into audit_logs (id, user_id, project_id, action, resource_type, resource_id,"
    " old_values, new_values, ip_address, user_agent, created_at, category, metadata, severity)"
    " values (%s, %s, %s, 'flow_status_changed', 'flow', %s, %s, %s, %s, %s, %s, 'flow', %s,"
    " 'low')"
)

app = Flask(__name__)
_connection: list[pymysql.Connection] = []  # this worker's one connection, opened on first use
_tokens: dict[str, dict[str, Any]] = {}
_clock: list[Any] = [0, ""]


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def connection() -> pymysql.Connection:
    if not _connection:
        url = urlsplit(os.environ["DATABASE_URL"])
        _connection.append(
            pymysql.connect(
                host=url.hostname or "127.0.0.1",
                port=url.port or 3306,
                user=unquote(url.username or "root"),
                password=unquote(url.password or ""),
                database=url.path.lstrip("/"),
                charset="utf8mb4",
                autocommit=True,
                conv=TEXT_DATETIMES,
                cursorclass=pymysql.cursors.DictCursor,
                init_command="SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
            )
        )
    return _connection[0]


def stamp() -> str:
    """The wall-clock second in the app's time zone, built once a second."""
    second = int(time.time())
    if _clock[0] != second:
        _clock[:] = [second, datetime.fromtimestamp(second, TZ).strftime("%Y-%m-%d %H:%M:%S")]
    return _clock[1]


def answer(status: int, message: str, data: Any = None) -> Response:
    now = time.time()
    body: dict[str, Any] = {
        "success": status < 400,
        "status_code": status,
        "message": message,
        "timestamp": stamp(),
        "request_id": f"req_{int(now):08x}{int(now % 1 * 1e6):05x}{random.randrange(10)}"
        f".{random.randrange(10**8):08d}",
    }
    if data is not None:
        body["data"] = data
    if status >= 400:
        body["status"] = "error"
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)
    return Response(text.encode(), status=status, content_type=JSON_TYPE)


def caller() -> dict[str, Any]:
    """`user` and `version` of a valid access token (PyJWT once per token, times every time)."""
    header = request.headers.get("Authorization", "")
    token = header[7:] if header[:7].lower() == "bearer " else ""
    claims = _tokens.get(token)
    if claims is None:
        try:
            claims = jwt.decode(
                token,
                SECRET,
                algorithms=["HS256"],
                options={"verify_aud": False, "require": ["exp", "sub", "type"]},
            )
        except jwt.PyJWTError as exc:
            raise Refused(401, "Authentication required") from exc
        if len(_tokens) >= 4096:
            _tokens.clear()
        _tokens[token] = claims
    if claims.get("type") != "access" or claims["exp"] <= time.time():
        raise Refused(401, "Authentication required")
    return {"user": str(claims["sub"]), "version": claims.get("version")}


def account_alone(cur: Any, who: dict[str, Any]) -> None:
    """The account in a statement of its own, when no row came back to carry it."""
    cur.execute(ALONE, who)
    if cur.fetchone()["account"] != "ok":
        raise Refused(401, "Authentication required")


def settle(cur: Any, found: dict[str, Any] | None, who: dict[str, Any]) -> dict[str, Any]:
    """401 for the account, then 404 for no row, then 403, as the gateway orders them."""
    if found is None:
        account_alone(cur, who)
        raise Refused(404, "Flow not found")
    if found.pop("account") != "ok":
        raise Refused(401, "Authentication required")
    if not found.pop("allowed", 1):
        raise Refused(403, "Access denied")
    return found


def summary(flow_data: str | None) -> tuple[str, int]:
    """(`format_type`, `step_count`): the definition decoded once per row."""
    try:
        data = json.loads(flow_data or "null")
    except ValueError:
        return "unknown", 0
    if not isinstance(data, dict):
        return "unknown", 0
    if data.get("nodes") is not None and data.get("edges") is not None:
        return "react_flow", len(data["nodes"])
    steps = data.get("steps")
    return ("steps", len(steps)) if isinstance(steps, list) else ("unknown", 0)


def flow(cur: Any, who: dict[str, Any]) -> Response:
    cur.execute(FLOW, {**who, "id": request.args.get("id", "")})
    return answer(200, "Flow detail", settle(cur, cur.fetchone(), who))


def toggle(cur: Any, who: dict[str, Any]) -> Response:
    flow_id = request.args.get("id", "")
    cur.execute("begin")
    try:
        cur.execute(LOCK, {**who, "id": flow_id})
        row = settle(cur, cur.fetchone(), who)
        old, new, now = int(row["is_active"]), 1 - int(row["is_active"]), stamp()
        cur.execute(UPDATE, (new, now, flow_id))
        audit = (
            f"audit_{time.time_ns():016x}{secrets.token_hex(4)}",
            who["user"],
            row["project_id"],
            flow_id,
            f'{{"is_active": {old}}}',
            f'{{"is_active": {new}}}',
            request.remote_addr,
            request.headers.get("User-Agent", "")[:255] or None,
            now,
            '{"via": "flow_toggle_active", "reason": null}',
        )
        cur.execute(AUDIT, audit)
        cur.execute("commit")
    except Exception:
        cur.execute("rollback")
        raise
    row.update(is_active=new, updated_at=now)
    return answer(200, "Flow activated" if new else "Flow deactivated", row)


def flows(cur: Any, who: dict[str, Any]) -> Response:
    params = {**who, "id": request.args.get("id", "")}
    cur.execute(CALLER, params)
    settle(cur, cur.fetchone(), who)
    cur.execute(LIST, params)
    rows = cur.fetchall()
    for row in rows:
        row["format_type"], row["step_count"] = summary(row["flow_data"])
    return answer(200, "Flows fetched", rows)


def projects(cur: Any, who: dict[str, Any]) -> Response:
    cur.execute(PROJECTS, who)
    rows = cur.fetchall()
    if not rows:
        account_alone(cur, who)
    for row in rows:
        settle(cur, row, who)
    return answer(200, "Projects fetched", rows)


ACTS = {"flow": flow, "flow_toggle_active": toggle, "flows": flows, "projects": projects}
METHODS = {"flow_toggle_active": "PUT"}


@app.route("/gassapi2/backend/", methods=["GET", "PUT"])
def view() -> Response:
    act = request.args.get("act", "")
    try:
        with connection().cursor() as cur:
            if act == "health":
                cur.execute("select 1")
                cur.fetchall()
                return answer(200, "Health check successful", {"status": "healthy"})
            handler = ACTS.get(act)
            if handler is None or request.method != METHODS.get(act, "GET"):
                raise Refused(404, "Unknown act")
            return handler(cur, caller())
    except Refused as refused:
        return answer(refused.status, refused.message)
    except pymysql.MySQLError:
        with contextlib.suppress(pymysql.MySQLError, OSError):
            _connection.pop().close()  # the next request opens a fresh one
        raise
