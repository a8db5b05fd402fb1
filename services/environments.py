"""Environments as other acts need them: a project's list, the default every project starts with."""

from typing import Any

from sqlalchemy import select

from backend.db import db
from backend.legacy.ids import new_id
from backend.legacy.wire import row_dict
from backend.models import ENVIRONMENTS
from services.paging import LIST_LIMIT


def environment_rows(project_id: str) -> list[dict[str, Any]]:
    """Default first, then oldest first (the legacy list order); at most `LIST_LIMIT` (the legacy
    list had no cap; every other legacy list stops at 100)."""
    query = (
        select(ENVIRONMENTS)
        .where(ENVIRONMENTS.c.project_id == project_id)
        .order_by(ENVIRONMENTS.c.is_default.desc(), ENVIRONMENTS.c.created_at, ENVIRONMENTS.c.id)
        .limit(LIST_LIMIT)
    )
    return [row_dict(ENVIRONMENTS, row) for row in db.session.execute(query).mappings()]


def default_environment(project_id: str, stamp: Any) -> dict[str, Any]:
    """The `development` environment every new project starts with."""
    return {
        "id": new_id("env"),
        "project_id": project_id,
        "name": "development",
        "description": "Default development environment",
        "variables": "{}",
        "is_default": 1,
        "created_at": stamp,
        "updated_at": stamp,
    }
