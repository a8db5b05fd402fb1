"""Project members (issue 15 item 8): only the owner adds or removes members, members may leave,
and every change is audited."""

from typing import Any

import pytest

from backend.models import AuditLog, ProjectMember, User
from tests.factories import Factory

pytestmark = pytest.mark.usefixtures("deadline")
DENIED = (403, "Access denied")


def answer(response: Any) -> tuple[int, str]:
    return response.status_code, response.json["message"]


def team(make: Factory) -> tuple[User, User, Any]:
    owner, member = make.user(), make.user()
    project = make.project(owner)
    make.member(project, member)
    return owner, member, project


def remove(call_act: Any, project: Any, jwt: str | None, user_id: str) -> Any:
    body = {"user_id": user_id}
    return call_act("project_remove_member", "DELETE", id=project.id, token=jwt, json=body)


def test_adding_a_member_is_audited(make: Factory, call_act: Any) -> None:
    owner, _, project = team(make)
    newcomer = make.user()
    body = {"user_id": newcomer.id}
    response = call_act(
        "project_add_member", "POST", id=project.id, token=make.token(owner), json=body
    )
    assert answer(response) == (201, "Member added")
    [added] = make.rows(AuditLog, action="project_member_added")
    assert (added["user_id"], added["project_id"], added["resource_id"]) == (
        owner.id,
        project.id,
        newcomer.id,
    )


def test_the_owner_removes_a_member_who_then_loses_the_project(
    make: Factory, call_act: Any
) -> None:
    owner, member, project = team(make)
    response = remove(call_act, project, make.token(owner), member.id)
    assert answer(response) == (200, "Member removed")
    assert response.json["data"] == {"project_id": project.id, "user_id": member.id}
    assert make.rows(ProjectMember, project_id=project.id) == []
    assert call_act("project", id=project.id, token=make.token(member)).status_code == 403
    [removed] = make.rows(AuditLog, action="project_member_removed")
    assert (removed["user_id"], removed["resource_id"]) == (owner.id, member.id)


@pytest.mark.parametrize("who", ["other_member", "stranger", "nobody"])
def test_only_the_owner_removes_someone_else(make: Factory, call_act: Any, who: str) -> None:
    owner, member, project = team(make)
    other = make.user()
    make.member(project, other)
    tokens = {"other_member": make.token(other), "stranger": make.token(make.user())}
    response = remove(call_act, project, tokens.get(who), member.id)
    expected = (
        (401, "Authentication failed: Authentication required") if who == "nobody" else DENIED
    )
    assert answer(response) == expected
    assert len(make.rows(ProjectMember, project_id=project.id)) == 2
    assert make.rows(AuditLog) == []


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("owner", (409, "User is the owner of this project")),
        ("stranger", (404, "Not found: User is not a member of this project")),
    ],
)
def test_removing_the_owner_or_a_non_member_is_refused(
    make: Factory, call_act: Any, target: str, expected: tuple[int, str]
) -> None:
    owner, _, project = team(make)
    user_id = owner.id if target == "owner" else make.user().id
    assert answer(remove(call_act, project, make.token(owner), user_id)) == expected
    assert len(make.rows(ProjectMember, project_id=project.id)) == 1


@pytest.mark.parametrize("how", ["project_leave", "project_remove_member"])
def test_a_member_leaves(make: Factory, call_act: Any, how: str) -> None:
    _, member, project = team(make)
    jwt = make.token(member)
    if how == "project_leave":
        response = call_act("project_leave", "POST", id=project.id, token=jwt)
    else:
        response = remove(call_act, project, jwt, member.id)
    assert response.status_code == 200
    assert make.rows(ProjectMember, project_id=project.id) == []
    [left] = make.rows(AuditLog, action="project_member_left")
    assert (left["user_id"], left["resource_id"], left["project_id"]) == (
        member.id,
        member.id,
        project.id,
    )


@pytest.mark.parametrize(
    ("who", "expected"),
    [("owner", (409, "User is the owner of this project")), ("stranger", DENIED)],
)
def test_the_owner_and_strangers_cannot_leave(
    make: Factory, call_act: Any, who: str, expected: tuple[int, str]
) -> None:
    owner, _, project = team(make)
    jwt = make.token(owner if who == "owner" else make.user())
    assert answer(call_act("project_leave", "POST", id=project.id, token=jwt)) == expected
    assert len(make.rows(ProjectMember, project_id=project.id)) == 1


def test_members_list_shows_the_owner_then_members(make: Factory, call_act: Any) -> None:
    owner, member, project = team(make)
    response = call_act("project_members", id=project.id, token=make.token(member))
    assert answer(response) == (200, "Members fetched")
    rows = response.json["data"]
    assert [(r["user_id"], r["role"]) for r in rows] == [(owner.id, "owner"), (member.id, "member")]
    assert list(rows[0]) == ["user_id", "name", "email", "role", "joined_at", "invited_by"]
    assert "token_version" not in response.get_data(as_text=True)


def test_members_list_pages_past_the_owner(make: Factory, call_act: Any) -> None:
    owner, member, project = team(make)
    second = make.user()
    make.member(project, second)
    jwt = make.token(owner)
    page = call_act("project_members", id=project.id, token=jwt, limit=2, offset=1).json["data"]
    assert sorted(r["user_id"] for r in page) == sorted([member.id, second.id])
    first = call_act("project_members", id=project.id, token=jwt, limit=2).json["data"]
    assert [r["role"] for r in first] == ["owner", "member"]


@pytest.mark.parametrize("act", ["project_members", "project_leave", "project_remove_member"])
def test_member_acts_refuse_strangers_and_mcp_tokens(
    make: Factory, call_act: Any, act: str
) -> None:
    owner, member, project = team(make)
    method = {"project_members": "GET", "project_leave": "POST"}.get(act, "DELETE")
    body = {"user_id": member.id}
    for jwt, status in ((make.token(make.user()), 403), (make.mcp_token(project), 401)):
        assert call_act(act, method, id=project.id, token=jwt, json=body).status_code == status
    assert len(make.rows(ProjectMember, project_id=project.id)) == 1
