"""The login throttle: attempts counted per account and per client address, in the database.

Every worker and every host sees the same counts (the `login_throttle` table, gateway-owned).
An attempt takes its slots *before* the password is checked, in one short transaction of its own
that commits at once: of concurrent guesses exactly as many get through as there are slots left,
and a refused one costs no bcrypt work. A login that succeeds gives its slots back (in the
request's transaction), so only failures use them up.

- client address (behind PROXY_COUNT; IPv6 by /64): LOGIN_CLIENT_MAX_FAILURES per window;
- account (the e-mail, existing or not, so the answer reveals nothing): LOGIN_MAX_FAILURES per
  window, except for a client address that logged into that account within
  LOGIN_KNOWN_CLIENT_DAYS: a stranger who locks the account out locks out strangers only.

Each window (LOGIN_FAILURE_WINDOW_SECONDS) starts at the first attempt after the last one ended;
a 429 carries `Retry-After`, the seconds until the refusing window ends. Keys are sha256 hashes:
the table holds no e-mail or address.
"""

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Connection, case, delete, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from backend.core.errors import TooManyRequests
from backend.db import db
from backend.legacy.clock import now
from backend.models import LOGIN_THROTTLE

KEEP_EXPIRED = timedelta(days=1)  # expired rows are deleted this long after their end


@dataclass(frozen=True)
class Claim:
    """The slots one attempt took (the account's is not taken by a known client of a locked
    account) and the scope that marks its client as known for the account."""

    client: str
    account: str | None
    known: str


def scope(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def client_address(ip: str | None) -> str:
    """The address a client is counted by: IPv4 as is, IPv6 by its /64 (one host's share)."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(getattr(address, "ipv4_mapped", None) or address)


def claim(email: str, ip: str | None) -> Claim:
    """Take a slot for the client and the account, or raise TooManyRequests (nothing taken)."""
    client = client_address(ip)
    scopes = Claim(scope("client", client), scope("account", email), scope("known", email, client))
    config = current_app.config
    stamp = now()
    with db.engine.begin() as conn:
        conn.execute(
            delete(LOGIN_THROTTLE).where(LOGIN_THROTTLE.c.expires_at < stamp - KEEP_EXPIRED)
        )
        add_missing(conn, [scopes.client, scopes.account], stamp)
        if not take(conn, scopes.client, config["LOGIN_CLIENT_MAX_FAILURES"], stamp):
            refuse(conn, scopes.client, stamp)
        if take(conn, scopes.account, config["LOGIN_MAX_FAILURES"], stamp):
            return scopes
        if not is_known(conn, scopes.known, stamp):
            refuse(conn, scopes.account, stamp)
    return Claim(scopes.client, None, scopes.known)


def add_missing(conn: Connection, scopes: list[str], stamp: datetime) -> None:
    """Rows for new scopes, their window already over (the first take starts one)."""
    rows = [{"scope": key, "attempts": 0, "expires_at": stamp} for key in scopes]
    conn.execute(upsert(conn.dialect.name, rows))


def upsert(dialect: str, rows: list[dict[str, Any]], **changes: Any) -> Any:
    """INSERT that leaves an existing row of the same scope alone, or applies `changes` to it."""
    if dialect == "sqlite":
        statement = sqlite_insert(LOGIN_THROTTLE).values(rows)
        if not changes:
            return statement.on_conflict_do_nothing()
        return statement.on_conflict_do_update(
            index_elements=[LOGIN_THROTTLE.c.scope], set_=changes
        )
    statement = mysql_insert(LOGIN_THROTTLE).values(rows)
    return statement.on_duplicate_key_update(**(changes or {"scope": statement.inserted.scope}))


def take(conn: Connection, key: str, limit: int, stamp: datetime) -> bool:
    """One conditional UPDATE: a slot of the current window, or a new window once it is over."""
    ended = LOGIN_THROTTLE.c.expires_at <= stamp
    window = timedelta(seconds=current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"])
    taken = conn.execute(
        update(LOGIN_THROTTLE)
        .where(LOGIN_THROTTLE.c.scope == key, ended | (LOGIN_THROTTLE.c.attempts < limit))
        # `attempts` first: MySQL applies SET clauses in order and must still see the old end.
        .ordered_values(
            (LOGIN_THROTTLE.c.attempts, case((ended, 1), else_=LOGIN_THROTTLE.c.attempts + 1)),
            (
                LOGIN_THROTTLE.c.expires_at,
                case((ended, stamp + window), else_=LOGIN_THROTTLE.c.expires_at),
            ),
        )
    )
    return taken.rowcount == 1


def is_known(conn: Connection, key: str, stamp: datetime) -> bool:
    query = select(LOGIN_THROTTLE.c.scope).where(
        LOGIN_THROTTLE.c.scope == key, LOGIN_THROTTLE.c.expires_at > stamp
    )
    return conn.execute(query).first() is not None


def refuse(conn: Connection, key: str, stamp: datetime) -> None:
    ends = conn.execute(
        select(LOGIN_THROTTLE.c.expires_at).where(LOGIN_THROTTLE.c.scope == key)
    ).scalar_one()
    raise TooManyRequests(retry_after=seconds_until(ends, stamp))


def seconds_until(moment: datetime, stamp: datetime) -> int:
    return int((moment - stamp).total_seconds() + 0.999)


def succeeded(taken: Claim) -> None:
    """In the request's transaction: give the slots back, remember the client for the account."""
    given_back = [key for key in (taken.client, taken.account) if key is not None]
    db.session.execute(
        update(LOGIN_THROTTLE)
        .where(LOGIN_THROTTLE.c.scope.in_(given_back), LOGIN_THROTTLE.c.attempts > 0)
        .values(attempts=LOGIN_THROTTLE.c.attempts - 1)
    )
    until = now() + timedelta(days=current_app.config["LOGIN_KNOWN_CLIENT_DAYS"])
    row = {"scope": taken.known, "attempts": 0, "expires_at": until}
    db.session.execute(upsert(db.session.get_bind().dialect.name, [row], expires_at=until))
