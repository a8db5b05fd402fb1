"""Projects as other acts need them: the row (404), its detail with the member count, its lock,
its owner and the owner-only check."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from backend.core.call import Call
from backend.core.errors import Forbidden, NotFound
from backend.db import db
from backend.legacy.wire import row_dict
from backend.models import PROJECTS, ProjectMember


def fetch_project(project_id: str) -> Mapping[str, Any]:
    row = db.session.execute(select(PROJECTS).where(PROJECTS.c.id == project_id)).mappings().first()
    if row is None:
        raise NotFound("Project not found")
    return row


def project_detail_data(project_id: str) -> dict[str, Any]:
    """row(P) plus `member_count` (rows in project_members; the owner is not counted)."""
    members = select(func.count()).where(ProjectMember.project_id == project_id)
    return {
        **row_dict(PROJECTS, fetch_project(project_id)),
        "member_count": db.session.execute(members).scalar_one(),
    }


def lock_project(project_id: str) -> None:
    """Serialise a project's writes that keep one default (environments, folders) or count rows,
    and keep the project from being deleted midway."""
    db.session.execute(select(PROJECTS.c.id).where(PROJECTS.c.id == project_id).with_for_update())


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
