"""`init-db`: create the missing tables, each in one statement; never alter an existing one.

On MySQL/MariaDB a table's indexes go inside its CREATE TABLE instead of following it as
separate CREATE INDEX statements. On a Galera cluster each DDL statement is replicated in total
order and applied on every node. A CREATE INDEX on the new `flow_executions`, whose foreign keys
point at `flows` and `projects`, raced the other nodes' writes to those tables on MariaDB 10.11
("MDL BF-BF conflict"): the node wedged and the whole cluster stalled (docs/scaling.md). One
CREATE TABLE leaves no such window: the table appears with its indexes at one point of the order.
"""

from sqlalchemy import Index, MetaData, Table, inspect
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.schema import CreateIndex, CreateTable

MYSQL_DIALECTS = ("mysql", "mariadb")


def index_clause(index: Index, dialect: Dialect) -> str:
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(column.name) for column in index.columns)
    return f"{'UNIQUE INDEX' if index.unique else 'INDEX'} {quote(str(index.name))} ({columns})"


def create_statement(table: Table, dialect: Dialect) -> str:
    """The table's CREATE TABLE IF NOT EXISTS with its indexes inside (MySQL/MariaDB syntax):
    two hosts starting at once may both find the table missing, and the second is a no-op."""
    statement = str(CreateTable(table, if_not_exists=True).compile(dialect=dialect)).strip()
    body_end = statement.rindex("\n)")
    indexes = sorted(table.indexes, key=lambda index: str(index.name))
    inline = "".join(f", \n\t{index_clause(index, dialect)}" for index in indexes)
    return statement[:body_end] + inline + statement[body_end:]


def create_table(conn: Connection, table: Table) -> None:
    """CREATE TABLE IF NOT EXISTS: on MySQL/MariaDB one statement, elsewhere its indexes after."""
    if conn.dialect.name in MYSQL_DIALECTS:
        conn.exec_driver_sql(create_statement(table, conn.dialect))
        return
    conn.execute(CreateTable(table, if_not_exists=True))
    for index in table.indexes:
        conn.execute(CreateIndex(index, if_not_exists=True))


def create_missing(engine: Engine, metadata: MetaData) -> list[str]:
    """Create the tables that do not exist yet, parents first; returns their names."""
    with engine.begin() as conn:
        existing = set(inspect(conn).get_table_names())
        missing = [table for table in metadata.sorted_tables if table.name not in existing]
        for table in missing:
            create_table(conn, table)
    return [table.name for table in missing]
