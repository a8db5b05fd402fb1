"""Optional secondary indexes the gateway recommends on legacy tables (opt-in, additive).

`init-db` never alters a legacy table. These indexes only add access paths (the PHP backend is
unaffected) and keep lists fast on projects with 100,000 flows; an operator adds them with
`flask --app wsgi add-indexes`. Names, tables and columns are fixed here, never user input.
"""

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

GATEWAY_INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("flows", "gw_flows_project_created_idx", ("project_id", "created_at", "id")),
    (
        "flows",
        "gw_flows_project_active_created_idx",
        ("project_id", "is_active", "created_at", "id"),
    ),
    ("audit_logs", "gw_audit_resource_idx", ("resource_type", "resource_id", "created_at")),
)


def missing_indexes(conn: Connection) -> list[tuple[str, str, tuple[str, ...]]]:
    inspector = inspect(conn)
    existing = {
        table: {index["name"] for index in inspector.get_indexes(table)}
        for table in {table for table, _, _ in GATEWAY_INDEXES}
    }
    return [spec for spec in GATEWAY_INDEXES if spec[1] not in existing[spec[0]]]


def add_indexes(engine: Engine) -> list[str]:
    """Create the missing ones; returns their names. Idempotent. One connection throughout:
    on SQLite a second one would wait for the first one's write lock."""
    created = []
    with engine.begin() as conn:
        for table, name, columns in missing_indexes(conn):
            conn.execute(text(f"CREATE INDEX {name} ON {table} ({', '.join(columns)})"))
            created.append(name)
    return created
