"""A flow's status history, read from the audit rows its status changes wrote."""

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select

from backend.db import db
from backend.legacy.wire import format_datetime, utc_timestamp
from backend.models import AUDIT
from services.flows.status import STATUS_CHANGED
from services.paging import Page


def decoded(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def history_entry(row: Mapping[str, Any]) -> dict[str, Any]:
    """The seed's audit entry ("Status Change Tracking"), then the gateway's own keys.

    `old_status`/`new_status` are `is_active` before and after (0 or 1, as the seed shows),
    `changed_by` the acting user's id, `timestamp` the change in UTC.
    """
    metadata = decoded(row["metadata"])
    return {
        "event_type": row["action"],
        "flow_id": row["resource_id"],
        "old_status": decoded(row["old_values"]).get("is_active"),
        "new_status": decoded(row["new_values"]).get("is_active"),
        "changed_by": row["user_id"],
        "timestamp": utc_timestamp(row["created_at"]),
        "ip_address": row["ip_address"],
        "changed_at": format_datetime(row["created_at"]),
        "user_id": row["user_id"],
        "action": metadata.get("via") or row["action"],
        "reason": metadata.get("reason"),
    }


# The legacy `audit_logs` has single-column indexes only. Left alone, MariaDB intersects those on
# action, resource_type and project_id and sorts every status change of the project: 172 ms per
# page at 44,000 audit rows, growing with every toggle. Without them it reads the `created_at`
# index backwards until the page is full (0.4 ms), or uses the opt-in `gw_audit_resource_idx`.
HISTORY_INDEX_HINT = (
    "IGNORE INDEX (audit_logs_action_idx, audit_logs_resource_type_idx, audit_logs_project_idx)"
)


def history_statement(flow: dict[str, Any], page: Page) -> Select[Any]:
    """Newest first; audit ids are time-ordered, so they break ties within one second."""
    statement = (
        select(AUDIT)
        .with_hint(AUDIT, HISTORY_INDEX_HINT, "mysql")
        .where(
            AUDIT.c.project_id == flow["project_id"],
            AUDIT.c.resource_type == "flow",
            AUDIT.c.resource_id == flow["id"],
            AUDIT.c.action == STATUS_CHANGED,
        )
        .order_by(AUDIT.c.created_at.desc(), AUDIT.c.id.desc())
    )
    return page.apply(statement)


def history(flow: dict[str, Any], page: Page) -> list[dict[str, Any]]:
    rows = db.session.execute(history_statement(flow, page)).mappings()
    return [history_entry(row) for row in rows]
