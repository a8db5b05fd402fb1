"""Reads without a transaction on MySQL/MariaDB: a read-only act pays no COMMIT round trip.

Under READ COMMITTED every statement reads its own fresh snapshot, so plain SELECTs inside a
transaction see exactly what the same SELECTs in autocommit see; the transaction only adds the
COMMIT at the end (and holds metadata locks until then). So:

- a request for an act whose every method is GET (`Action.read_only`) runs its connection in
  autocommit, and the dispatcher's commit sends nothing (its direct statements run without a
  SQLAlchemy transaction at all: `request_connection.current`);
- every other transaction (other acts, the CLI, tests) runs as before; switching a pooled
  connection's mode costs one `SET AUTOCOMMIT` round trip, only when it differs from the mode
  the connection's previous transaction used;
- a read-only act that writes or takes a row lock after all (any statement but a plain SELECT)
  leaves autocommit just before that statement, so the write and everything after it are one
  transaction, committed or rolled back by the dispatcher as usual.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

READ_ONLY: ContextVar[bool] = ContextVar("gateway_read_only", default=False)
LOCKING_CLAUSES = ("FOR UPDATE", "LOCK IN SHARE MODE", "FOR SHARE")


@contextmanager
def reads_only(read_only: bool) -> Iterator[None]:
    """Transactions begun inside run in autocommit when `read_only` (MySQL/MariaDB only)."""
    token = READ_ONLY.set(read_only)
    try:
        yield
    finally:
        READ_ONLY.reset(token)


def plain_read(statement: str) -> bool:
    head = statement.lstrip()[:6].upper()
    return head == "SELECT" and not any(clause in statement for clause in LOCKING_CLAUSES)


def leaves_autocommit(dbapi_connection: Any, statement: str) -> bool:
    """A write or a lock in autocommit: the transaction starts with it."""
    return bool(dbapi_connection.autocommit_mode) and not plain_read(statement)


def leave_autocommit(dbapi_connection: Any, statement: str) -> None:
    """Before a write or a lock in autocommit: a transaction from here on."""
    if leaves_autocommit(dbapi_connection, statement):
        dbapi_connection.autocommit(False)


def install(engine: Engine) -> None:
    if engine.dialect.driver != "pymysql":
        return
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection: Any) -> None:
        if not dbapi_connection.autocommit_mode:
            commit(dbapi_connection)

    def do_rollback(dbapi_connection: Any) -> None:
        if not dbapi_connection.autocommit_mode:
            rollback(dbapi_connection)

    def do_begin(dbapi_connection: Any) -> None:
        # Here, not in a "begin" event: SQLAlchemy wraps what `do_begin` raises (a connection
        # that died in the pool answers 503 and is replaced), but not what an event raises.
        dbapi_connection.autocommit(READ_ONLY.get())

    dialect.do_begin = do_begin  # type: ignore[method-assign]
    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]

    @event.listens_for(engine, "before_cursor_execute")
    def _first_write(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        leave_autocommit(cursor.connection, statement)
