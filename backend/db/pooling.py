"""Pool checkout and return without round trips that tell nothing (MySQL/MariaDB).

Two round trips of the stock pool settings carry no information on a busy sync worker, which
checks the same connection out again a few milliseconds after it returned it:

- `pool_pre_ping` pings on *every* checkout. Here a connection is pinged (and replaced when the
  ping fails, exactly like pre-ping) only when it has been idle in the pool for more than
  `DB_PING_IDLE_SECONDS` (default 1 s; 0 pings on every checkout as before). A server restart or
  fail-over takes longer than that, so a connection that outlived one is always pinged first; one
  that died while busy was already invalidated by the failing request.
- `reset_on_return="rollback"` sends a ROLLBACK on every return, even after the dispatcher's
  COMMIT. Here the rollback is skipped only when both SQLAlchemy's last word on the connection was
  a COMMIT or ROLLBACK (no BEGIN since) and the server's own status flags say no transaction is
  open; otherwise the connection is rolled back as before.
"""

import time
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from pymysql.constants import SERVER_STATUS
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError

IN_TRANSACTION = SERVER_STATUS.SERVER_STATUS_IN_TRANS
RETURNED_AT = "gateway_returned_at"
CHECKED_OUT_AT = "gateway_checked_out_at"
ENDED = "gateway_transaction_ended"


def engine_options(ping_idle_seconds: float) -> dict[str, Any]:
    """What replaces `pool_pre_ping=True` and the default reset in the engine options."""
    if ping_idle_seconds <= 0:
        return {"pool_pre_ping": True}
    return {"pool_pre_ping": False, "pool_reset_on_return": None}


_ping_idle: "WeakKeyDictionary[Engine, float]" = WeakKeyDictionary()
_spare_watchers: "WeakKeyDictionary[Engine, list[Callable[[int], None]]]" = WeakKeyDictionary()


def ping_idle_seconds(engine: Engine) -> float:
    """The idle time after which `engine`'s connections are pinged; 0 when this module does not
    manage them (another driver, or a ping on every checkout)."""
    return _ping_idle.get(engine, 0.0)


def checked_out_at(connection: Connection) -> float:
    """When `connection` left the pool (monotonic seconds; 0 if not seen leaving it)."""
    return connection.info.get(CHECKED_OUT_AT, 0.0)


def watch_spares(engine: Engine, watcher: Callable[[int], None]) -> None:
    """`watcher(by)` when a checked-out connection becomes the worker's spare (-1: no longer in
    use by a request) or leaves that state (+1), see `backend.db.spare`."""
    _spare_watchers.setdefault(engine, []).append(watcher)


def spare_moved(engine: Engine, by: int) -> None:
    for watcher in _spare_watchers.get(engine, ()):
        watcher(by)


def install(engine: Engine, ping_idle_seconds: float) -> None:
    if engine.dialect.driver != "pymysql" or ping_idle_seconds <= 0:
        return
    _ping_idle[engine] = ping_idle_seconds

    @event.listens_for(engine, "connect")
    def _fresh(dbapi_connection: Any, record: Any) -> None:
        record.info[RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        now = time.monotonic()
        record.info[ENDED] = False
        record.info[CHECKED_OUT_AT] = now
        returned = record.info.get(RETURNED_AT)
        if returned is not None and now - returned <= ping_idle_seconds:
            return
        try:
            dbapi_connection.ping(reconnect=False)
        except Exception as exc:  # noqa: BLE001 - any failure: replace the connection
            raise DisconnectionError(f"ping failed: {exc!r}") from exc

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        if not conn.invalidated:
            conn.connection.info[ENDED] = False

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _ended(conn: Any) -> None:
        # An invalidated connection (server gone mid-request) is discarded, never reset; reaching
        # for it here would raise PendingRollbackError out of the rollback: a 500 for a 503.
        if not conn.invalidated:
            conn.connection.info[ENDED] = True

    @event.listens_for(engine, "reset")
    def _reset(dbapi_connection: Any, record: Any, state: Any) -> None:
        if state.terminate_only or state.transaction_was_reset:
            return
        # A read-only act's connection in autocommit had no SQLAlchemy transaction to end.
        ended = dbapi_connection.autocommit_mode or (
            record is not None and record.info.get(ENDED, False)
        )
        in_transaction = (dbapi_connection.server_status or 0) & IN_TRANSACTION
        if not ended or in_transaction:
            dbapi_connection.rollback()
