"""Audit rows in the legacy `audit_logs` table, written in the caller's transaction."""

import json
from typing import Any

from sqlalchemy import insert

from backend.core.call import Call
from backend.db import db, direct
from backend.legacy.clock import now
from backend.legacy.ids import audit_id
from backend.models import AUDIT

COLUMN_LIMIT = 255
INSERT_AUDIT = insert(AUDIT)  # built once; the columns come with the parameters
ENTRY_COLUMNS = (
    "id",
    "user_id",
    "project_id",
    "action",
    "resource_type",
    "resource_id",
    "old_values",
    "new_values",
    "ip_address",
    "user_agent",
    "created_at",
    "category",
    "metadata",
    "severity",
)
INSERT_ENTRY = direct.Statement(INSERT_AUDIT, ENTRY_COLUMNS)  # the columns of `entry`


def clip(value: str | None) -> str | None:
    return value[:COLUMN_LIMIT] if value else value


def entry(
    call: Call,
    action: str,
    *,
    resource_type: str,
    resource_id: str,
    project_id: str | None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    category: str = "system",
) -> dict[str, Any]:
    """One audit row's values, for `record_many`."""
    return {
        "id": audit_id(),
        "user_id": call.user.user_id if call.user else None,
        "project_id": project_id,
        "action": action,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "old_values": json.dumps(old) if old is not None else None,
        "new_values": json.dumps(new) if new is not None else None,
        "ip_address": clip(call.client.ip),
        "user_agent": clip(call.client.user_agent),
        "created_at": now(),
        "category": category,
        "metadata": json.dumps(metadata) if metadata else None,
        "severity": "low",
    }


def record(call: Call, action: str, **fields: Any) -> str:
    """Write one audit row (the keywords of `entry`); returns its id. Nothing reads the insert's
    answer, so it goes with the transaction's next statement or its COMMIT
    (`direct.execute_later`): the same transaction, a round trip less."""
    values = entry(call, action, **fields)
    direct.execute_later(INSERT_ENTRY, values)
    return values["id"]


def record_many(entries: list[dict[str, Any]]) -> None:
    """Write rows built by `entry` in one statement (a cascade may remove many resources)."""
    if entries:
        db.session.execute(INSERT_AUDIT, entries)
