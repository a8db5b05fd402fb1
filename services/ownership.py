"""Who owns a project: the owner-only check and the owner's id."""

from sqlalchemy import select

from backend.db import db
from backend.errors import Forbidden
from backend.models import Project
from backend.registry import Call

PROJECTS = Project.__table__


def require_owner(call: Call, project_id: str) -> None:
    """Owner-only acts lock the project row; anyone else (or no such project) gets 403."""
    owned = select(PROJECTS.c.id).where(
        PROJECTS.c.id == project_id, PROJECTS.c.owner_id == call.user.user_id
    )
    if db.session.execute(owned.with_for_update()).first() is None:
        raise Forbidden("Access denied")


def project_owner(project_id: str) -> str | None:
    statement = select(PROJECTS.c.owner_id).where(PROJECTS.c.id == project_id)
    return db.session.execute(statement).scalar()
