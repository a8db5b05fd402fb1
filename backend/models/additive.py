"""The gateway's own tables (additive, never a legacy one), made present when a process starts.

A database built by the legacy migrations alone lacks them. Every process (each gunicorn worker,
on every host) checks at start-up and creates what is missing: CREATE TABLE IF NOT EXISTS, and an
index another process created meanwhile counts as made, so simultaneous start-ups all succeed.
DB_AUTO_CREATE=false forbids that DDL: the acts that need a missing table then answer 503 and
`health` names it. The check costs a few catalogue queries per process start, none per request:
a request learns of a missing table only from the database's own error.
"""

from flask import current_app
from sqlalchemy import Table, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateIndex

from backend.core.errors import ServiceUnavailable
from backend.db import db
from backend.db.resilience import error_code
from backend.db.tables import create_table
from backend.models.accounts import LOGIN_THROTTLE
from backend.models.flows import EXECUTIONS
from backend.models.projects import MCP_LIFECYCLE, POLICIES

ADDITIVE_TABLES: tuple[Table, ...] = (EXECUTIONS, MCP_LIFECYCLE, POLICIES, LOGIN_THROTTLE)
MISSING = "gassapi.missing_tables"  # app.extensions: the missing names, None until known
NO_SUCH_TABLE = 1146  # MySQL/MariaDB ER_NO_SUCH_TABLE; SQLite says "no such table"
CREATED_NOW = "Service temporarily unavailable: table {} has just been created, please retry"
STILL_MISSING = "Service unavailable: table {} is missing; run init-db"
EMPTY = "the database has no tables yet: init-db creates them (until then acts answer 503)"


def parents(table: Table) -> set[str]:
    return {key.column.table.name for key in table.foreign_keys}


def index_names(engine: Engine, table: Table) -> set[str]:
    return {index["name"] for index in inspect(engine).get_indexes(table.name)}


def table_names(bind: Engine | Connection) -> set[str]:
    return set(inspect(bind).get_table_names())


def legacy_tables_present(present: set[str]) -> bool:
    return bool(present - {table.name for table in ADDITIVE_TABLES})


def missing_tables(bind: Engine | Connection) -> list[str]:
    present = table_names(bind)
    return [table.name for table in ADDITIVE_TABLES if table.name not in present]


def create_missing(engine: Engine, present: set[str] | None = None) -> list[str]:
    """Create each missing additive table and index whose legacy parent tables exist (on an empty
    database `init-db` creates everything); `present`: the table names just read, when the caller
    has them. Returns the names this process created."""
    present = table_names(engine) if present is None else present
    created: list[str] = []
    for table in ADDITIVE_TABLES:
        if not parents(table) <= present:
            continue
        if table.name not in present:
            with engine.begin() as conn:
                create_table(conn, table)  # with its indexes: one statement on MySQL/MariaDB
            created.append(table.name)
        created += create_missing_indexes(engine, table)
    return created


def create_missing_indexes(engine: Engine, table: Table) -> list[str]:
    present = index_names(engine, table)
    created = []
    for index in sorted(table.indexes, key=lambda index: str(index.name)):
        if index.name in present:
            continue
        try:
            with engine.begin() as conn:
                conn.execute(CreateIndex(index))
        except DBAPIError:
            if index.name not in index_names(engine, table):
                raise
            continue  # another process created it meanwhile
        created.append(str(index.name))
    return created


def settle(present: set[str] | None = None) -> list[str] | None:
    """Create what is missing (unless DB_AUTO_CREATE=false), then note and return what still is:
    None when the database cannot be asked now (a request meeting a missing table asks again).
    `present`: the table names just read, when the caller has them."""
    app = current_app
    try:
        if app.config["DB_AUTO_CREATE"]:
            created = create_missing(db.engine, present)
            if created:
                app.logger.warning("created the gateway's missing %s", ", ".join(created))
        missing: list[str] | None = missing_tables(db.engine)
    except DBAPIError as exc:
        app.logger.warning("could not check or create the gateway's tables: %s", exc.orig)
        missing = None
    app.extensions[MISSING] = missing
    return missing


def ensure() -> None:
    """At start-up, in the app context. An empty database (no legacy table either) is left to
    `init-db`, which creates every table: nothing is created here, and only that is said."""
    try:
        present: set[str] | None = table_names(db.engine)
    except DBAPIError:
        present = None  # `settle` says the database cannot be asked
    if present is not None and not legacy_tables_present(present):
        current_app.logger.warning(EMPTY)
        current_app.extensions[MISSING] = None
        return
    missing = settle(present)
    if missing:
        names = ", ".join(missing)
        current_app.logger.warning("missing %s (run init-db): acts using it answer 503", names)


def missing_now() -> list[str]:
    """For `health`: the start-up answer while nothing was missing, else a fresh look."""
    if current_app.extensions.get(MISSING) == []:
        return []
    missing = missing_tables(db.session.connection())  # SQLite: a 2nd connection would wait
    current_app.extensions[MISSING] = missing
    return missing


def missing_table(error: DBAPIError) -> str | None:
    """The additive table a "no such table" error names, if it names one."""
    text = str(error.orig)
    if error_code(error) != NO_SUCH_TABLE and "no such table" not in text:
        return None
    return next((table.name for table in ADDITIVE_TABLES if table.name in text), None)


def table_unavailable(name: str) -> ServiceUnavailable:
    """A request met a missing additive table (its transaction already rolled back): create it
    now where allowed, so that the client's retry works; else say what the operator must do."""
    missing = settle()
    if missing is not None and name not in missing:
        return ServiceUnavailable(CREATED_NOW.format(name))
    return ServiceUnavailable(STILL_MISSING.format(name))
