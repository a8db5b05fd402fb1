"""flow_toggle_active: the seed document's contract."""

import json
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


# --- audit trail, reason, executions -----------------------------------------------------------


def test_toggle_writes_one_audit_row_per_flip(make: Factory, call_act: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    flow = make.flow(project)
    call_act(
        "flow_toggle_active",
        "PUT",
        id=flow.id,
        token=make.token(owner),
        headers={"User-Agent": "seed-ci/1.0"},
    )
    [row] = make.audit_rows(flow.id)
    assert row["action"] == "flow_status_changed"
    assert row["resource_type"] == "flow"
    assert (row["project_id"], row["user_id"]) == (project.id, owner.id)
    assert json.loads(row["old_values"]) == {"is_active": 1}
    assert json.loads(row["new_values"]) == {"is_active": 0}
    assert row["ip_address"] == "127.0.0.1"
    assert row["user_agent"] == "seed-ci/1.0"


def test_toggle_stores_the_reason_in_the_audit_metadata(make: Factory, call_act: Any) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    body = {"reason": "maintenance window"}
    call_act("flow_toggle_active", "PUT", id=flow.id, token=make.token(owner), json=body)
    [row] = make.audit_rows(flow.id)
    assert json.loads(row["metadata"]) == {"via": "flow_toggle_active", "reason": body["reason"]}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"reason": "x" * 501}, 422),
        ({"reason": ["not", "text"]}, 422),
        ({"reason": {"nested": 1}}, 422),
        ("[1, 2]", 400),
        ("{not json", 400),
    ],
)
def test_toggle_with_a_bad_body_is_refused_and_does_not_toggle(
    make: Factory, call_act: Any, body: Any, status: int
) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    payload = {"json": body} if isinstance(body, dict) else {"data": body}
    response = call_act("flow_toggle_active", "PUT", id=flow.id, token=make.token(owner), **payload)
    assert response.status_code == status
    assert response.json["success"] is False
    assert make.flow_row(flow.id)["is_active"] == 1
    assert make.audit_rows(flow.id) == []


def test_toggle_accepts_a_reason_of_500_characters(make: Factory, call_act: Any) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    body = {"reason": "x" * 500}
    response = call_act("flow_toggle_active", "PUT", id=flow.id, token=make.token(owner), json=body)
    assert response.status_code == 200


def test_toggle_is_409_while_an_execution_holds_a_live_lease(make: Factory, call_act: Any) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    make.execution(flow)
    response = call_act("flow_toggle_active", "PUT", id=flow.id, token=make.token(owner))
    assert response.status_code == 409
    assert response.json["message"] == "Cannot toggle status: Flow is currently being executed"
    assert make.flow_row(flow.id)["is_active"] == 1
    assert make.audit_rows(flow.id) == []


def test_toggle_ignores_an_execution_whose_lease_has_expired(make: Factory, call_act: Any) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    run = make.execution(flow)
    make.set_lease(run.id, -1)
    response = call_act("flow_toggle_active", "PUT", id=flow.id, token=make.token(owner))
    assert response.status_code == 200
    assert response.json["data"]["is_active"] == 0


@pytest.mark.parametrize("status", ["completed", "failed", "expired"])
def test_toggle_ignores_finished_executions(make: Factory, call_act: Any, status: str) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    make.execution(flow, status=status)
    response = call_act("flow_toggle_active", "PUT", id=flow.id, token=make.token(owner))
    assert response.status_code == 200


def test_execution_of_another_flow_does_not_block_toggle(make: Factory, call_act: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    flow, busy = make.flow(project), make.flow(project)
    make.execution(busy)
    response = call_act("flow_toggle_active", "PUT", id=flow.id, token=make.token(owner))
    assert response.status_code == 200


def test_toggle_after_an_execution_lease_ends_works_again(make: Factory, call_act: Any) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    token = make.token(owner)
    run = make.execution(flow)
    assert call_act("flow_toggle_active", "PUT", id=flow.id, token=token).status_code == 409
    make.set_lease(run.id, 0)
    assert call_act("flow_toggle_active", "PUT", id=flow.id, token=token).status_code == 200


# --- the seed document's own examples ----------------------------------------------------------


def test_seed_maintenance_mode_with_bare_puts(make: Factory, client: Any, call_act: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    flow = make.flow(project)
    token = make.token(owner)
    url = f"/gassapi2/backend/?act=flow_toggle_active&id={flow.id}"
    bare = {"Authorization": f"Bearer {token}"}  # like curl -X PUT: no body, no Content-Type

    disabled = client.put(url, headers=bare)
    assert (disabled.status_code, disabled.json["message"]) == (200, "Flow deactivated")
    assert call_act("flows_active", id=project.id, token=token).json["data"] == []
    assert call_act("flow_execute", id=flow.id, token=token).status_code == 400

    enabled = client.put(url, headers=bare)
    assert (enabled.status_code, enabled.json["message"]) == (200, "Flow activated")
    listed = call_act("flows_active", id=project.id, token=token).json["data"]
    assert [row["id"] for row in listed] == [flow.id]
    assert call_act("flow_execute", "POST", id=flow.id, token=token).status_code == 201


def test_seed_ci_pipeline_deactivates_before_and_activates_after_deploy(
    make: Factory, client: Any
) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    url = f"/gassapi2/backend/flow_toggle_active?id={flow.id}"
    bare = {"Authorization": f"Bearer {make.token(owner)}"}
    assert client.put(url, headers=bare).json["data"]["is_active"] == 0
    assert client.put(url, headers=bare).json["data"]["is_active"] == 1


def test_seed_ab_switch_disables_a_and_enables_b(make: Factory, call_act: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    flow_a, flow_b = make.flow(project), make.flow(project, is_active=0)
    token = make.token(owner)
    disable_a = call_act("flow_toggle_active", "PUT", id=flow_a.id, token=token)
    enable_b = call_act("flow_toggle_active", "PUT", id=flow_b.id, token=token)
    assert (disable_a.json["message"], enable_b.json["message"]) == (
        "Flow deactivated",
        "Flow activated",
    )
    listed = call_act("flows_active", id=project.id, token=token).json["data"]
    assert [row["id"] for row in listed] == [flow_b.id]


def test_seed_status_validation_reads_flow_data_is_active(make: Factory, call_act: Any) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    token = make.token(owner)
    call_act("flow_toggle_active", "PUT", id=flow.id, token=token)
    inactive = call_act("flow", "GET", id=flow.id, token=token).json
    assert inactive["data"]["is_active"] == 0  # falsy: checkFlowStatus throws "is not active"
    call_act("flow_toggle_active", "PUT", id=flow.id, token=token)
    assert call_act("flow", "GET", id=flow.id, token=token).json["data"]["is_active"] == 1
