"""Rows as the legacy wrote them on the wire: datetime strings, integer flags, row dicts."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import Boolean, DateTime, Float, Integer, Numeric, String, Table

from backend.core.envelope import PlainRows

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


# The types `wire_value` returns unchanged, tested first: most columns are text or integers.
PLAIN_TYPES = frozenset({str, int, float, type(None)})


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
    names = column_names(table)
    if exclude:
        skip = set(exclude)
        names = tuple(name for name in names if name not in skip)
    mapping = type(row) is dict or isinstance(row, Mapping)  # the ABC's check only when needed
    get = row.__getitem__ if mapping else _attribute_getter(row)
    return wire_row(names, [get(name) for name in names])


_COLUMN_NAMES: dict[Table, tuple[str, ...]] = {}


def column_names(table: Table) -> tuple[str, ...]:
    """A table's column names in order (kept: tables do not change at run time)."""
    names = _COLUMN_NAMES.get(table)
    if names is None:
        names = _COLUMN_NAMES[table] = tuple(c.name for c in table.columns)
    return names


def wire_row(names: Sequence[str], values: Sequence[Any]) -> dict[str, Any]:
    """`row_dict` of a tuple whose first values are the columns `names`, in that order."""
    return {
        name: value if value.__class__ in PLAIN_TYPES else wire_value(value)
        for name, value in zip(names, values, strict=False)
    }


AS_SENT = (String, Integer)  # the driver gives `str`, `int` or None: already wire values
CONVERTED = (DateTime, Numeric, Boolean)  # `wire_value` makes text or integers of them


class RowShape:
    """How the rows of some columns become wire dicts, decided once from the columns' types.

    PyMySQL gives text and integer columns as `str`, `int` or None, which the wire takes as they
    are; only the other columns (DATETIMEs, DECIMALs) can need `wire_value`, so only those are
    looked at. `plain`: every wire value is text, an integer or None (no FLOAT, DATE or binary
    column, whose values `wire_value` leaves as they are), so orjson may write the rows unchecked.
    """

    def __init__(self, columns: Iterable[Any]) -> None:
        columns = list(columns)
        loose = [
            (position, column)
            for position, column in enumerate(columns)
            if not isinstance(column.type, AS_SENT)
        ]
        self.names = tuple(column.name for column in columns)
        self.loose = tuple((position, column.name) for position, column in loose)
        self.plain = all(
            isinstance(column.type, CONVERTED) and not isinstance(column.type, Float)
            for _, column in loose
        )

    def answer(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows made by `wire` (plus fields that are text, integers or None), marked for the
        envelope as plain when they are (`envelope.PlainRows`)."""
        return PlainRows(rows) if self.plain else rows

    def wire(self, values: Sequence[Any]) -> dict[str, Any]:
        """`wire_row(self.names, values)`."""
        row = dict(zip(self.names, values, strict=False))
        for position, name in self.loose:
            value = values[position]
            if value.__class__ not in PLAIN_TYPES:
                row[name] = wire_value(value)
        return row


def _attribute_getter(obj: Any) -> Any:
    mapper = obj.__mapper__
    keys = {c.name: mapper.get_property_by_column(c).key for c in mapper.local_table.columns}
    return lambda name: getattr(obj, keys[name])
