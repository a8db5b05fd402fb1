"""Rows as the legacy wrote them on the wire: datetime strings, integer flags, row dicts."""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import Table

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_datetime(value: datetime | None) -> str | None:
    return value.strftime(DATETIME_FORMAT) if value is not None else None


def utc_timestamp(value: datetime | None) -> str | None:
    """A stored APP_TIMEZONE wall-clock time as ISO 8601 UTC: `2025-10-25T12:00:00Z`."""
    if value is None:
        return None
    local = value.replace(tzinfo=current_app.config["TZINFO"])
    return local.astimezone(UTC).strftime(UTC_FORMAT)


def wire_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime(DATETIME_FORMAT)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


def row_dict(table: Table, row: Any, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """A row (ORM object or Core mapping) as the legacy's `SELECT *`: table column order."""
    skip = set(exclude)
    get = row.__getitem__ if isinstance(row, Mapping) else _attribute_getter(row)
    return {c.name: wire_value(get(c.name)) for c in table.columns if c.name not in skip}


def _attribute_getter(obj: Any) -> Any:
    mapper = obj.__mapper__
    keys = {c.name: mapper.get_property_by_column(c).key for c in mapper.local_table.columns}
    return lambda name: getattr(obj, keys[name])
