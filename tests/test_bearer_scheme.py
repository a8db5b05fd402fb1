"""Issue 15 item 12: `Authorization` is read strictly: `Bearer` (any case) first, one token.

The legacy matched `Bearer\\s+(.*)$` anywhere in the header (`xBearer abc`, `Basic …, Bearer …`
passed). The accepted forms below are what RFC 6750 §2.1 allows and what every client sends.
"""

from typing import Any

import pytest

from tests.factories import Factory, call_act

ACCEPTED = {
    "canonical": "Bearer {token}",
    "lower-case scheme": "bearer {token}",
    "upper-case scheme": "BEARER {token}",
    "several spaces": "Bearer   {token}",
    "surrounding whitespace": "  Bearer {token}  ",
}
REFUSED = {
    "scheme glued to a prefix": "xBearer {token}",
    "scheme after another word": "Token Bearer {token}",
    "after basic credentials": "Basic dXNlcjpwdw==, Bearer {token}",
    "two tokens": "Bearer {token} {token}",
    "token glued to the scheme": "Bearer{token}",
    "tab instead of a space": "Bearer\t{token}",
    "no scheme": "{token}",
    "scheme alone": "Bearer",
}
# `profile` reads a JWT (legacy mode S), `projects` a JWT or an MCP token (mode U).
ACTS = ("profile", "projects")


def with_header(client: Any, act: str, value: str) -> Any:
    return call_act(client, act, "GET", headers={"Authorization": value})


FORMS = [(form, 200) for form in ACCEPTED.values()] + [(form, 401) for form in REFUSED.values()]


@pytest.mark.parametrize(("form", "status"), FORMS, ids=[*ACCEPTED, *REFUSED])
def test_only_the_bearer_scheme_first_in_any_case_then_one_token_is_accepted(
    make: Factory, client: Any, form: str, status: int
) -> None:
    token = make.token(make.user())
    for act in ACTS:
        response = with_header(client, act, form.format(token=token))
        assert response.status_code == status, (act, response.json)


def test_an_mcp_token_is_read_by_the_same_strict_rule(make: Factory, client: Any) -> None:
    mcp = make.mcp_token(make.project(make.user()))
    assert with_header(client, "projects", f"bearer {mcp}").status_code == 200
    assert with_header(client, "projects", f"Basic x, Bearer {mcp}").status_code == 401
