"""Unique-key violations as 409s: the check that also covers a concurrent writer."""

from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Executable

from backend.core.errors import Conflict
from backend.db import db
from backend.db.resilience import error_code

MYSQL_DUPLICATE_KEY = 1062


def is_duplicate(exc: IntegrityError) -> bool:
    """A unique-key violation (as opposed to a foreign-key one)."""
    return error_code(exc) == MYSQL_DUPLICATE_KEY or "UNIQUE constraint failed" in str(exc.orig)


def execute_unique(statement: Executable, message: str) -> None:
    """Run an INSERT/UPDATE; a duplicate key becomes 409 with `message`."""
    try:
        db.session.execute(statement)
    except IntegrityError as exc:
        if is_duplicate(exc):
            raise Conflict(message) from exc
        raise


def flush_unique(message: str) -> None:
    """Flush pending ORM writes; a duplicate key becomes 409 with `message`."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        if is_duplicate(exc):
            raise Conflict(message) from exc
        raise
