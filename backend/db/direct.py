"""Hot statements on the request's own DBAPI connection: the same SQL, the same transaction.

`Session.execute` of a prebuilt Core statement still costs more Python than PyMySQL's own work
for a one-row read (the compiled-cache lookup, the execution context, the Result and its rows).
`rows` runs a statement, compiled once per dialect, on the request's DBAPI connection without a
cursor (`backend.db.driver.Connection.run`), so it stays inside the request's one transaction
(`backend.db.request_connection`): begun when the connection is first used (a read-only act runs
in autocommit instead, with no SQLAlchemy transaction: `backend.db.transactions`), committed or
rolled back by the dispatcher, a deadlock re-running the handler. What SQLAlchemy adds around
a statement is kept where it means something: a write or a lock in a read-only act begins the
transaction and leaves autocommit first (`transactions.leave_autocommit`), and a driver error
goes through SQLAlchemy's own handling (the same `OperationalError` for the retry and the 503,
a dead connection invalidated).

Other dialects (SQLite in the tests) run the same statement through the Session; both give plain
tuples in the statement's column order.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from pymysql import converters
from pymysql.constants import FIELD_TYPE
from sqlalchemy import text
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable, Select

from backend.db import db, request_connection
from backend.db.transactions import leaves_autocommit

LEGACY_DATETIME = len("2025-01-31 23:59:59")


def text_datetime(text: str) -> Any:
    """A DATETIME/TIMESTAMP as MariaDB sends it when that is already the legacy wire text
    (`backend.legacy.wire.DATETIME_FORMAT`); anything else (fractions) is parsed as usual."""
    return text if len(text) == LEGACY_DATETIME else converters.convert_datetime(text)


TEXT_DATETIMES = {FIELD_TYPE.DATETIME: text_datetime, FIELD_TYPE.TIMESTAMP: text_datetime}


class Statement:
    """A Core statement whose parameters are all named `bindparam`s (constants may be inlined);
    an INSERT names the `columns` its parameters give."""

    def __init__(
        self,
        statement: Executable,
        columns: Sequence[str] | None = None,
        *,
        text_datetimes: bool = False,
    ) -> None:
        """`text_datetimes`: the rows only go to the wire, so DATETIME columns may stay the text
        the server sent instead of a `datetime` formatted back into the same text."""
        self.statement = statement
        self.text_datetimes = text_datetimes
        selected = statement.selected_columns if isinstance(statement, Select) else ()
        self.names = tuple(column.name for column in selected)
        self.columns = list(columns) if columns is not None else None
        self._compiled: tuple[Dialect, str, dict[str, Any]] | None = None

    def compiled(self, dialect: Dialect) -> tuple[str, dict[str, Any]]:
        """The SQL text for `dialect` and the values of the constants bound in it."""
        if self._compiled is None or self._compiled[0] is not dialect:
            compiled = self.statement.compile(dialect=dialect, column_keys=self.columns)
            if compiled._bind_processors:  # noqa: SLF001 - a type that converts its values
                raise TypeError("a statement for the direct path takes no converted parameters")
            fixed = {key: value for key, value in compiled.params.items() if value is not None}
            self._compiled = (dialect, compiled.string, fixed)
        return self._compiled[1], self._compiled[2]


def rows(statement: Statement, params: Mapping[str, Any]) -> Sequence[tuple[Any, ...]]:
    """Every row of a select as a tuple, in the request's transaction."""
    return _run(statement, params, fetch=True)  # type: ignore[return-value]


def execute(statement: Statement, params: Mapping[str, Any]) -> int:
    """An INSERT, UPDATE or DELETE in the request's transaction; the rows it matched."""
    return _run(statement, params, fetch=False)  # type: ignore[return-value]


def execute_later(statement: Statement, params: Mapping[str, Any]) -> None:
    """A write whose result the caller does not read, in the request's transaction: on MariaDB
    sent with the other deferred writes before the connection's next statement or the COMMIT,
    one round trip for all of them (`driver.Connection.run_later`); its error is raised there,
    so the transaction never commits without it. Elsewhere it runs at once."""
    _run(statement, params, fetch=False, later=True)


def _run(
    statement: Statement, params: Mapping[str, Any], *, fetch: bool, later: bool = False
) -> Sequence[tuple[Any, ...]] | int:
    dialect = db.engine.dialect
    if dialect.driver != "pymysql":
        result = db.session.execute(statement.statement, params)
        return [tuple(row) for row in result] if fetch else result.rowcount  # type: ignore[attr-defined]
    connection = request_connection.current(db)
    sql, fixed = statement.compiled(dialect)
    values = {**fixed, **params}
    dbapi_connection = connection.connection.dbapi_connection
    leaving = leaves_autocommit(dbapi_connection, sql)
    if leaving and connection.get_transaction() is None:
        connection.begin()  # a read-only act's first write or lock (`request_connection.current`)
    decoders = dbapi_connection.decoders
    try:
        if leaving:  # one transaction from here on (`transactions.leave_autocommit`)
            dbapi_connection.autocommit(False)
        if statement.text_datetimes:  # read whole inside `run`: the swap ends with it
            dbapi_connection.decoders = {**decoders, **TEXT_DATETIMES}
        if later:
            dbapi_connection.run_later(sql, values)
            return 0
        result = dbapi_connection.run(sql, values)
        return (result.rows or ()) if fetch else result.affected_rows
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy wraps, invalidates or re-raises it
        connection._handle_dbapi_exception(exc, sql, values, None, None)  # noqa: SLF001
    finally:
        dbapi_connection.decoders = decoders


def first(statement: Statement, params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The first row as a dict keyed by the statement's column names, or None."""
    found = rows(statement, params)
    return dict(zip(statement.names, found[0], strict=True)) if found else None


PING = Statement(text("SELECT 1"))


def ping() -> None:
    """One round trip on the request's connection (`health`, the readiness probe)."""
    rows(PING, {})
