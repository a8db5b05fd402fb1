"""User directory (issue 15 item 9): `users`, `user` and `users_stats` show the caller and the
people they share a project with; anyone else answers like a user that does not exist, and
`token_version` never leaves the gateway."""

from typing import Any

import pytest

from backend.models import ProjectMember
from tests.factories import PASSWORD, Factory

pytestmark = pytest.mark.usefixtures("deadline")


def world(make: Factory) -> dict[str, Any]:
    """`me` owns a project with `colleague`; `teammate` shares another owner's project with me;
    `stranger` shares nothing with me."""
    me, colleague, teammate, boss = (make.user(name=n) for n in ("Me", "Col", "Team", "Boss"))
    stranger = make.user(name="Stranger Smith")
    make.member(make.project(me), colleague)
    theirs = make.project(boss)
    make.member(theirs, me)
    make.member(theirs, teammate)
    make.project(stranger)
    return {
        "me": me,
        "colleague": colleague,
        "teammate": teammate,
        "boss": boss,
        "stranger": stranger,
    }


def ids(rows: list[dict[str, Any]]) -> set[str]:
    return {row["id"] for row in rows}


def test_users_lists_only_the_caller_and_the_people_they_share_a_project_with(
    make: Factory, call_act: Any
) -> None:
    people = world(make)
    jwt = make.token(people["me"])
    seen = {people[k].id for k in ("me", "colleague", "teammate", "boss")}
    paged = call_act("users", token=jwt, limit=100).json["data"]
    assert ids(paged["users"]) == seen
    assert paged["pagination"]["total"] == 4
    assert ids(call_act("users", token=jwt, active_only="true").json["data"]["users"]) == seen
    assert call_act("users", token=jwt, search="Smith").json["data"] == {
        "users": [],
        "total": 0,
        "search_query": "Smith",
    }


def test_users_stats_counts_only_the_people_the_caller_may_see(
    make: Factory, call_act: Any
) -> None:
    people = world(make)
    data = call_act("users_stats", token=make.token(people["colleague"])).json["data"]
    assert data == {"total_users": 2, "active_users": 2, "inactive_users": 0}


def comparable(response: Any) -> tuple[int, dict[str, Any]]:
    body = {k: v for k, v in response.json.items() if k not in ("timestamp", "request_id")}
    return response.status_code, body


def test_a_stranger_answers_exactly_like_a_missing_user(make: Factory, call_act: Any) -> None:
    people = world(make)
    jwt = make.token(people["me"])
    hidden = call_act("user", id=people["stranger"].id, token=jwt)
    missing = call_act("user", id="user_0000000000_000000", token=jwt)
    assert comparable(hidden) == comparable(missing)
    assert (hidden.status_code, hidden.json["message"]) == (404, "User not found")


@pytest.mark.parametrize("other", ["colleague", "teammate", "boss"])
def test_people_sharing_a_project_read_each_other(make: Factory, call_act: Any, other: str) -> None:
    people = world(make)
    response = call_act("user", id=people[other].id, token=make.token(people["me"]))
    assert response.status_code == 200
    assert response.json["data"]["user"]["id"] == people[other].id


def test_leaving_the_shared_project_hides_each_other_again(make: Factory, call_act: Any) -> None:
    people = world(make)
    teammate = make.token(people["teammate"])
    assert call_act("user", id=people["me"].id, token=teammate).status_code == 200
    [shared] = make.rows(ProjectMember, user_id=people["me"].id)
    left = call_act(
        "project_leave", "POST", id=shared["project_id"], token=make.token(people["me"])
    )
    assert left.status_code == 200
    assert call_act("user", id=people["me"].id, token=teammate).status_code == 404


def test_token_version_is_never_shown(make: Factory, call_act: Any) -> None:
    people = world(make)
    me = people["me"]
    jwt = make.token(me)
    fresh = {"email": "fresh@example.com", "name": "Fresh", "password": "Fresh1234"}
    answers = [
        call_act("login", "POST", json={"email": me.email, "password": PASSWORD}),
        call_act("register", "POST", json=fresh),
        call_act("profile", token=jwt),
        call_act("users", token=jwt),
        call_act("users", token=jwt, search="e"),
        call_act("users", token=jwt, active_only="true"),
        call_act("user", id=people["boss"].id, token=jwt),
        call_act("user_update", "PUT", id=me.id, token=jwt, json={"name": "Renamed"}),
    ]
    for response in answers:
        assert response.status_code in (200, 201)
        assert "token_version" not in response.get_data(as_text=True)
