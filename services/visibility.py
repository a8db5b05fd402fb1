"""Who may see whom in the user directory: yourself, and the people you share a project with
(its owner and its members). Anyone else answers exactly like a user that does not exist."""

from sqlalchemy import ColumnElement, select, union

from backend.db import db
from backend.models import MEMBERS, PROJECTS, USERS


def visible_to(viewer_id: str) -> ColumnElement[bool]:
    """A condition on `users`: the row is the viewer, or shares a project with the viewer."""
    shared = union(
        select(PROJECTS.c.id.label("project_id")).where(PROJECTS.c.owner_id == viewer_id),
        select(MEMBERS.c.project_id).where(MEMBERS.c.user_id == viewer_id),
    ).subquery()
    projects = select(shared.c.project_id)
    people = union(
        select(PROJECTS.c.owner_id.label("user_id")).where(PROJECTS.c.id.in_(projects)),
        select(MEMBERS.c.user_id).where(MEMBERS.c.project_id.in_(projects)),
    ).subquery()
    return (USERS.c.id == viewer_id) | USERS.c.id.in_(select(people.c.user_id))


def may_see(viewer_id: str, user_id: str) -> bool:
    statement = select(USERS.c.id).where(USERS.c.id == user_id, visible_to(viewer_id))
    return db.session.execute(statement).first() is not None
