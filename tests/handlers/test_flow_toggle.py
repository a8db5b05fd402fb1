"""flow_toggle_active: the seed document's contract."""

from typing import Any

import pytest

from tests.factories import Factory


def test_toggle_deactivates_then_activates(make: Factory, call_act: Any) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    token = make.token(owner)

    first = call_act("flow_toggle_active", "PUT", id=flow.id, token=token)
    assert first.status_code == 200
    assert first.json["message"] == "Flow deactivated"
    assert first.json["data"]["is_active"] == 0
    assert first.json["data"]["id"] == flow.id

    second = call_act("flow_toggle_active", "PUT", id=flow.id, token=token)
    assert second.json["message"] == "Flow activated"
    assert second.json["data"]["is_active"] == 1


def test_toggle_returns_full_row_with_json_columns_as_strings(make: Factory, call_act: Any) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    data = call_act("flow_toggle_active", "PUT", id=flow.id, token=make.token(owner)).json["data"]
    assert list(data)[:6] == ["id", "name", "description", "project_id", "folder_id", "flow_data"]
    assert isinstance(data["flow_data"], str)
    assert isinstance(data["flow_inputs"], str)


@pytest.mark.parametrize(
    ("url", "method", "headers"),
    [
        ("/gassapi2/backend/flow_toggle_active?id={id}", "PUT", {}),
        ("/gassapi2/backend/flow/{id}/toggle-active", "PUT", {}),
        ("/index.php/?act=flow_toggle_active&id={id}", "PUT", {}),
        ("/?act=flow_toggle_active&id={id}", "POST", {"X-HTTP-Method-Override": "PUT"}),
    ],
)
def test_toggle_works_in_every_url_form(
    make: Factory, client: Any, url: str, method: str, headers: dict[str, str]
) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    response = client.open(
        url.format(id=flow.id),
        method=method,
        headers={"Authorization": f"Bearer {make.token(owner)}", **headers},
    )
    assert response.status_code == 200
    assert response.json["data"]["is_active"] == 0


def test_toggle_unknown_flow_is_404(make: Factory, call_act: Any) -> None:
    owner = make.user()
    response = call_act("flow_toggle_active", "PUT", id="flow_missing", token=make.token(owner))
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Flow not found"


def test_toggle_by_non_member_is_403(make: Factory, call_act: Any) -> None:
    flow = make.flow(make.project(make.user()))
    stranger = make.user()
    response = call_act("flow_toggle_active", "PUT", id=flow.id, token=make.token(stranger))
    assert response.status_code == 403
    assert response.json["message"] == "Forbidden"


def test_toggle_by_member_is_allowed(make: Factory, call_act: Any) -> None:
    owner, member = make.user(), make.user()
    project = make.project(owner)
    make.member(project, member)
    flow = make.flow(project)
    assert (
        call_act("flow_toggle_active", "PUT", id=flow.id, token=make.token(member)).status_code
        == 200
    )


@pytest.mark.parametrize("token", [None, "garbage"])
def test_toggle_without_valid_token_is_401(make: Factory, call_act: Any, token: Any) -> None:
    flow = make.flow(make.project(make.user()))
    response = call_act("flow_toggle_active", "PUT", id=flow.id, token=token)
    assert response.status_code == 401
    assert response.json["message"] == "Authentication failed: Authentication required"


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_toggle_with_other_methods_is_404_and_does_not_toggle(
    make: Factory, call_act: Any, method: str
) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    token = make.token(owner)
    assert call_act("flow_toggle_active", method, id=flow.id, token=token).status_code == 404
    assert (
        call_act("flow_toggle_active", "PUT", id=flow.id, token=token).json["data"]["is_active"]
        == 0
    )


@pytest.mark.parametrize("ident", ["", "0"])
def test_toggle_without_id_is_route_not_found(make: Factory, call_act: Any, ident: str) -> None:
    owner = make.user()
    response = call_act("flow_toggle_active", "PUT", id=ident, token=make.token(owner))
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Route not found"


def test_toggle_with_project_mcp_token(make: Factory, call_act: Any) -> None:
    project = make.project(make.user())
    flow = make.flow(project)
    response = call_act("flow_toggle_active", "PUT", id=flow.id, token=make.mcp_token(project))
    assert response.status_code == 200


def test_mcp_token_of_another_project_of_same_owner_is_403(make: Factory, call_act: Any) -> None:
    owner = make.user()
    project, other = make.project(owner), make.project(owner)
    flow = make.flow(project)
    response = call_act("flow_toggle_active", "PUT", id=flow.id, token=make.mcp_token(other))
    assert response.status_code == 403
