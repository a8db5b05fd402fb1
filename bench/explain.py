"""EXPLAIN of the flows list for each project size, and the optional indexes on and off.

The list statement is the gateway's own wire text (`bench/limit.py`, kept in sync by the capture).
The gateway never alters a legacy table; `backend/db/indexes.py` holds the indexes an operator may
add with `flask --app wsgi add-indexes`. The bench adds them for one extra measurement only and
drops them again, so the next run starts from the legacy schema.
"""

import time
from typing import Any

from sqlalchemy import create_engine, text

from backend.db.indexes import GATEWAY_INDEXES, add_indexes
from bench import limit

COLUMNS = ("table", "type", "key", "rows", "Extra")


def explain_list(url: str, project_id: str) -> list[dict[str, Any]]:
    conn = limit.connect(url, autocommit=True)
    try:
        with conn.cursor() as cur:
            params = {**limit.LIST_FIXED, "project_id": project_id, "limit": 50, "offset": 0}
            params |= {"user_id": "", "token_version": 0}  # the caller's checks: no user here
            cur.execute("EXPLAIN " + limit.LIST_FLOWS, params)
            names = [d[0] for d in cur.description]
            return [
                {k: v for k, v in zip(names, row, strict=True) if k in COLUMNS}
                for row in cur.fetchall()
            ]
    finally:
        conn.close()


def add_optional_indexes(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    started = time.perf_counter()
    try:
        created = add_indexes(engine)
    finally:
        engine.dispose()
    return {"created": created, "seconds": round(time.perf_counter() - started, 1)}


def drop_optional_indexes(url: str) -> list[str]:
    """Back to the legacy schema (only the gateway's own optional index names are touched)."""
    engine = create_engine(url)
    dropped = []
    try:
        with engine.begin() as conn:
            for table, name, _ in GATEWAY_INDEXES:
                present = conn.execute(
                    text(
                        "SELECT COUNT(*) FROM information_schema.statistics WHERE "
                        "table_schema = DATABASE() AND table_name = :t AND index_name = :n"
                    ),
                    {"t": table, "n": name},
                ).scalar_one()
                if present:
                    conn.execute(text(f"DROP INDEX {name} ON {table}"))
                    dropped.append(name)
    finally:
        engine.dispose()
    return dropped
