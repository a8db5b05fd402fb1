"""Authorisation: owner or member of a project; an MCP token only ever reaches its own project."""

import hmac
from collections.abc import Sequence
from typing import Any

from flask import current_app
from sqlalchemy import Select, bindparam, exists, select

from backend.auth.callers import ACCOUNT_VERDICT, pending, settle, verdict_params
from backend.core.call import Call, Caller
from backend.core.errors import Forbidden, GatewayError, NotAuthenticated
from backend.db import direct
from backend.models import MEMBERS, PROJECTS


def member_of(project_id: Any) -> Select[Any]:
    """The project's row if `user_id` owns it or is a member; `project_id` is a bound parameter,
    or a column of an enclosing select (the subquery then correlates to that row)."""
    return select(PROJECTS.c.id).where(
        PROJECTS.c.id == project_id,
        (PROJECTS.c.owner_id == bindparam("user_id"))
        | exists().where(
            MEMBERS.c.project_id == PROJECTS.c.id,
            MEMBERS.c.user_id == bindparam("user_id"),
        ),
    )


MEMBER_PROJECT = direct.Statement(member_of(bindparam("project_id")))
# The caller's account check (`AuthPolicy.account_in_statement`) and membership of the project
# `project_id` as two columns: alone (one row), or as the last two of a project's list, where
# MariaDB reads each once per statement (neither depends on the listed row).
ACCESS_COLUMNS = (ACCOUNT_VERDICT, exists(member_of(bindparam("project_id"))).label("allowed"))
ACCESS_WITH_ACCOUNT = direct.Statement(select(*ACCESS_COLUMNS))


def is_member(user_id: str, project_id: str) -> bool:
    params = {"user_id": user_id, "project_id": project_id}
    return bool(direct.rows(MEMBER_PROJECT, params))


def may_reach(caller: Caller | None, project_id: str | None) -> bool:
    """What is decided without the database: a caller, a project, and an MCP token's own one."""
    if caller is None or not project_id:
        return False
    return caller.mcp_project_id is None or caller.mcp_project_id == project_id


def can_access(caller: Caller | None, project_id: str | None) -> bool:
    """Owner or member; an MCP token only ever reaches its own project."""
    if not may_reach(caller, project_id):
        return False
    return is_member(caller.user_id, project_id)  # type: ignore[union-attr]


def require_access(call: Call, project_id: str | None, error: GatewayError | None = None) -> None:
    """403 (or `error`) unless owner or member; a pending account check first (its 401)."""
    if pending(call) is not None:
        params = {**verdict_params(call), "project_id": project_id or ""}
        found = direct.first(ACCESS_WITH_ACCOUNT, params)
        settle(call, found["account"] if found else None)
        allowed = bool(found and found["allowed"]) and may_reach(call.user, project_id)
    else:
        allowed = can_access(call.user, project_id)
    if not allowed:
        raise error or Forbidden()


def rows_with_access(
    call: Call,
    project_id: str,
    listed: direct.Statement,
    checked: direct.Statement,
    params: dict[str, Any],
) -> Sequence[tuple[Any, ...]]:
    """A project's list with `require_access`'s answers (401, then 403), in one round trip when
    the caller's account check is pending: `checked` is `listed` with `ACCESS_COLUMNS` last.
    An empty list tells nothing, so then the checks run in a statement of their own."""
    if pending(call) is None or not may_reach(call.user, project_id):
        require_access(call, project_id)
        return direct.rows(listed, params)
    found = direct.rows(checked, {**params, **verdict_params(call), "project_id": project_id})
    if not found:
        require_access(call, project_id)
        return found
    *_, account, allowed = found[0]
    settle(call, account)
    if not allowed:
        raise Forbidden()
    return found


def caller_id(call: Call) -> str:
    """The `user_id` parameter of a statement that tests membership (`member_of`) as a column."""
    return call.user.user_id if call.user else ""


def require_read_access(call: Call, project_id: str | None, member: bool) -> None:
    """`require_access` when the membership test came as a column of the caller's own statement."""
    if not (member and may_reach(call.user, project_id)):
        raise Forbidden()


def holds_metrics_token(call: Call) -> bool:
    """The operator's scrape token (METRICS_TOKEN) came as the Bearer token; constant time."""
    expected = current_app.config.get("METRICS_TOKEN")
    if not expected:
        return False
    return hmac.compare_digest((call.token or "").encode(), expected.encode())


def require_operator(call: Call) -> None:
    """Operator acts (`metrics`, `cutover_report`): METRICS_TOKEN when set, else any user token."""
    if current_app.config.get("METRICS_TOKEN"):
        if not holds_metrics_token(call):
            raise NotAuthenticated()
    elif call.user is None:
        raise NotAuthenticated()
