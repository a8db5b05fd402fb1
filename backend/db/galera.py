"""MariaDB Galera: causal reads on every gateway connection; nothing at all on other servers.

Galera commits synchronously but applies asynchronously: right after a commit on node A, a read
on node C may still see the old row (measured on the stress cluster: 152 of 300 reads of a row
just updated through another node). The gateway promises read-your-writes across its hosts —
`logout-all` refuses the old token on the very next request, an execution started anywhere
blocks a status change everywhere — so each new connection to a Galera node sets
`wsrep_sync_wait` (DB_WSREP_SYNC_WAIT, default 1: every SELECT first waits until the node has
applied everything the cluster committed before it). Writes need no such wait: a write based on a
stale read fails certification at COMMIT (1213) and the dispatcher re-runs the whole handler.
"""

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

IS_GALERA = "SHOW VARIABLES LIKE 'wsrep_on'"  # an empty result on servers without wsrep


def causal_reads(dbapi_connection: Any, sync_wait: int) -> None:
    """On a new connection: one question, and the setting only where the server is Galera."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute(IS_GALERA)
        row = cursor.fetchone()
        if row is not None and str(row[1]).upper() == "ON":
            cursor.execute("SET SESSION wsrep_sync_wait = %s", (int(sync_wait),))


def install(engine: Engine, sync_wait: int) -> None:
    """`sync_wait` (DB_WSREP_SYNC_WAIT, bit 1: each SELECT waits for causality); 0 turns it off
    (no extra statement on connect)."""
    if engine.dialect.driver != "pymysql" or sync_wait <= 0:
        return

    @event.listens_for(engine, "connect")
    def _causal_reads(dbapi_connection: Any, _record: Any) -> None:
        causal_reads(dbapi_connection, sync_wait)
