"""Project ownership and membership: only the owner adds or removes members; members may leave.

Every change is audited, and a member who leaves or is removed loses the MCP tokens they minted
for the project in the same transaction.
"""

from typing import Any

from sqlalchemy import delete, insert, select

from backend.core.call import Call
from backend.core.errors import Conflict, NotFound
from backend.db import db
from backend.db.integrity import execute_unique
from backend.legacy.clock import now
from backend.legacy.ids import new_id
from backend.legacy.wire import format_datetime
from backend.models import MEMBERS, PROJECTS, USERS
from services import audit, mcp_tokens
from services.projects import project_owner

IS_OWNER = "User is the owner of this project"
NOT_A_MEMBER = "User is not a member of this project"
USER_FIELDS = select(USERS.c.id.label("user_id"), USERS.c.name, USERS.c.email)


def add_member(call: Call, project_id: str, user_id: str) -> str:
    """The owner (project row locked by `require_owner`) adds an existing user; audited."""
    if db.session.execute(select(USERS.c.id).where(USERS.c.id == user_id)).first() is None:
        raise NotFound("User not found")
    if project_owner(project_id) == user_id:
        raise Conflict(IS_OWNER)
    member_id, stamp = new_id("pm"), now()
    row = {"id": member_id, "project_id": project_id, "user_id": user_id}
    execute_unique(
        insert(MEMBERS).values(
            **row, invited_by=call.user.user_id, joined_at=stamp, created_at=stamp
        ),
        "User is already a member of this project",
    )
    record(call, "project_member_added", project_id, user_id, new={"member_id": member_id})
    return member_id


def remove_member(call: Call, project_id: str, user_id: str, *, leaving: bool) -> None:
    """Delete the membership (404 if there is none), its MCP tokens, and audit it."""
    if project_owner(project_id) == user_id:
        raise Conflict(IS_OWNER)
    statement = select(MEMBERS.c.id, MEMBERS.c.invited_by).where(
        MEMBERS.c.project_id == project_id, MEMBERS.c.user_id == user_id
    )
    found = db.session.execute(statement.with_for_update()).first()
    if found is None:
        raise NotFound(NOT_A_MEMBER)
    db.session.execute(delete(MEMBERS).where(MEMBERS.c.id == found.id))
    reason = "left_project" if leaving else "removed_from_project"
    mcp_tokens.revoke_where(call, mcp_tokens.minted_by(user_id, project_id), reason)
    old = {"member_id": found.id, "invited_by": found.invited_by}
    action = "project_member_left" if leaving else "project_member_removed"
    record(call, action, project_id, user_id, old=old)


def record(call: Call, action: str, project_id: str, user_id: str, **values: Any) -> None:
    audit.record_many([entry(call, action, project_id, user_id, **values)])


def entry(call: Call, action: str, project_id: str, user_id: str, **values: Any) -> dict[str, Any]:
    return audit.entry(
        call,
        action,
        resource_type="project_member",
        resource_id=user_id,
        project_id=project_id,
        category="project",
        **values,
    )


def member_rows(project_id: str, limit: int, offset: int) -> list[dict[str, Any]]:
    """The owner first, then members by join date, with the name and e-mail of each (people who
    share a project see each other); `limit`/`offset` page over that whole list."""
    rows: list[tuple[str, Any]] = []
    if offset == 0:
        owner = USER_FIELDS.join(PROJECTS, PROJECTS.c.owner_id == USERS.c.id)
        statement = owner.add_columns(PROJECTS.c.created_at.label("joined_at")).where(
            PROJECTS.c.id == project_id
        )
        rows += [("owner", row) for row in db.session.execute(statement).mappings()]
    members = (
        USER_FIELDS.join(MEMBERS, MEMBERS.c.user_id == USERS.c.id)
        .add_columns(MEMBERS.c.joined_at, MEMBERS.c.invited_by)
        .where(MEMBERS.c.project_id == project_id)
        .order_by(MEMBERS.c.joined_at, MEMBERS.c.id)
        .offset(max(offset - 1, 0))
        .limit(limit - len(rows))
    )
    rows += [("member", row) for row in db.session.execute(members).mappings()]
    return [member_row(role, row) for role, row in rows]


def member_row(role: str, row: Any) -> dict[str, Any]:
    return {
        "user_id": row["user_id"],
        "name": row["name"],
        "email": row["email"],
        "role": role,
        "joined_at": format_datetime(row["joined_at"]),
        "invited_by": row.get("invited_by"),
    }


def leave_all(call: Call, user_id: str) -> None:
    """Account deletion: every membership of the user ends, one audit row each."""
    statement = select(MEMBERS.c.id, MEMBERS.c.project_id, MEMBERS.c.invited_by).where(
        MEMBERS.c.user_id == user_id
    )
    found = db.session.execute(statement.with_for_update()).all()
    audit.record_many(
        [
            entry(
                call,
                "project_member_left",
                row.project_id,
                user_id,
                old={"member_id": row.id, "invited_by": row.invited_by},
                metadata={"reason": "account_deleted"},
            )
            for row in found
        ]
    )
    db.session.execute(delete(MEMBERS).where(MEMBERS.c.user_id == user_id))
