"""Deletes that remove flows (issue 15 item 7): 409 while one of those flows is being executed,
one audit row per flow removed, and deleting one's account never deletes another owner's data."""

import json
from typing import Any

import pytest
from flask import Flask

from backend.models import (
    AuditLog,
    Endpoint,
    Folder,
    McpClientToken,
    Project,
    ProjectMember,
    TestFlow,
)
from tests.factories import Factory
from tests.test_security import in_parallel, racing  # noqa: F401  (the racing fixture)

pytestmark = pytest.mark.usefixtures("deadline")


def answer(response: Any) -> tuple[int, str]:
    return response.status_code, response.json["message"]


def deleted_audit(make: Factory, flow_id: str) -> dict[str, Any]:
    [row] = [row for row in make.audit_rows(flow_id) if row["action"] == "flow_deleted"]
    return row


# --- 409 while a flow is being executed -------------------------------------------------


RUNNING = "a flow in it is currently being executed"


@pytest.mark.parametrize(
    ("act", "target", "message"),
    [
        ("folder_delete", "folder", f"Cannot delete folder: {RUNNING}"),
        ("project_delete", "project", f"Cannot delete project: {RUNNING}"),
        (
            "user_delete",
            "owner",
            "Cannot delete user: a flow of one of their projects is currently being executed",
        ),
    ],
)
def test_a_delete_that_would_remove_a_running_flow_is_409_and_removes_nothing(
    make: Factory, call_act: Any, act: str, target: str, message: str
) -> None:
    owner = make.user()
    project = make.project(owner)
    parent = make.folder(project)
    child = make.folder(project, parent_id=parent.id)
    running = make.flow(project, folder_id=child.id)
    make.execution(running)
    ident = {"folder": parent.id, "project": project.id, "owner": owner.id}[target]
    response = call_act(act, "DELETE", id=ident, token=make.token(owner))
    assert answer(response) == (409, message)
    assert make.flow_row(running.id) is not None
    assert len(make.rows(Folder, project_id=project.id)) == 2
    assert make.rows(AuditLog) == []


@pytest.mark.parametrize("act", ["folder_delete", "project_delete", "user_delete"])
def test_a_finished_or_expired_run_does_not_block_the_delete(
    make: Factory, call_act: Any, act: str
) -> None:
    owner = make.user()
    project = make.project(owner)
    folder = make.folder(project)
    done, stale = make.flow(project, folder_id=folder.id), make.flow(project, folder_id=folder.id)
    make.execution(done, status="completed")
    make.execution(stale, lease_seconds=-1)
    ident = {"folder_delete": folder.id, "project_delete": project.id}.get(act, owner.id)
    assert call_act(act, "DELETE", id=ident, token=make.token(owner)).status_code == 200
    assert make.flow_row(done.id) is None and make.flow_row(stale.id) is None


# --- every removed flow is audited ------------------------------------------------------


def test_folder_delete_audits_each_flow_it_removes(make: Factory, call_act: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    parent = make.folder(project)
    child = make.folder(project, parent_id=parent.id)
    flows = [make.flow(project, folder_id=parent.id), make.flow(project, folder_id=child.id)]
    kept = make.flow(project)
    assert (
        call_act("folder_delete", "DELETE", id=parent.id, token=make.token(owner)).status_code
        == 200
    )
    for flow in flows:
        row = deleted_audit(make, flow.id)
        assert (row["user_id"], row["project_id"], row["resource_type"]) == (
            owner.id,
            project.id,
            "flow",
        )
        assert json.loads(row["metadata"]) == {"via": "folder_delete"}
        assert json.loads(row["old_values"])["name"] == flow.name
    assert make.flow_row(kept.id) is not None


def test_project_delete_audits_each_flow_and_the_project(make: Factory, call_act: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    flow = make.flow(project, folder_id=make.folder(project).id)
    assert (
        call_act("project_delete", "DELETE", id=project.id, token=make.token(owner)).status_code
        == 200
    )
    row = deleted_audit(make, flow.id)
    assert row["project_id"] is None  # the project is gone: it is named in the old values
    assert json.loads(row["old_values"])["project_id"] == project.id
    assert json.loads(row["metadata"]) == {"via": "project_delete"}
    [gone] = make.rows(AuditLog, action="project_deleted")
    assert (gone["resource_id"], gone["user_id"]) == (project.id, owner.id)


def test_flow_delete_is_audited(make: Factory, call_act: Any) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    assert call_act("flow_delete", "DELETE", id=flow.id, token=make.token(owner)).status_code == 200
    assert json.loads(deleted_audit(make, flow.id)["metadata"]) == {"via": "flow_delete"}


def test_user_delete_audits_the_flows_of_their_projects(make: Factory, call_act: Any) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    assert (
        call_act("user_delete", "DELETE", id=owner.id, token=make.token(owner)).status_code == 200
    )
    row = deleted_audit(make, flow.id)
    assert (row["user_id"], row["project_id"]) == (None, None)
    assert json.loads(row["metadata"]) == {"via": "user_delete"}


# --- deleting one's account keeps everyone else's data ---------------------------------


def test_a_member_deleting_their_account_keeps_what_they_made_in_the_owners_project(
    app: Flask, make: Factory, call_act: Any
) -> None:
    owner, member = make.user(), make.user()
    project = make.project(owner)
    make.member(project, member)
    jwt = make.token(member)
    folder = call_act("folder_create", "POST", id=project.id, token=jwt, json={"name": "Theirs"})
    folder_id = folder.json["data"]["id"]
    endpoint = {"name": "E", "method": "GET", "url": "https://example.com/e"}
    assert (
        call_act("endpoint_create", "POST", id=folder_id, token=jwt, json=endpoint).status_code
        == 201
    )
    flow = call_act("flow_create", "POST", id=project.id, token=jwt, json={"name": "F"})
    flow_id = flow.json["data"]["id"]
    make._add(
        TestFlow(id="tf_member", name="T", project_id=project.id, config="{}", steps="[]",
                 created_by=member.id)
    )  # fmt: skip
    response = call_act("user_delete", "DELETE", id=member.id, token=jwt)
    assert answer(response) == (200, "User deleted successfully")
    assert make.flow_row(flow_id)["created_by"] == owner.id
    assert [row["created_by"] for row in make.rows(Folder, id=folder_id)] == [owner.id]
    assert [row["created_by"] for row in make.rows(Endpoint, folder_id=folder_id)] == [owner.id]
    assert [row["created_by"] for row in make.rows(TestFlow, project_id=project.id)] == [owner.id]
    assert make.rows(Project, id=project.id) != []
    assert make.rows(ProjectMember, project_id=project.id) == []
    [left] = make.rows(AuditLog, action="project_member_left")
    assert json.loads(left["metadata"]) == {"reason": "account_deleted"}


def test_a_member_deleting_their_account_leaves_the_owners_tokens_alone(
    make: Factory, call_act: Any
) -> None:
    owner, member = make.user(), make.user()
    project = make.project(owner)
    make.member(project, member)
    owners = make.mcp_token(project)
    assert (
        call_act("user_delete", "DELETE", id=member.id, token=make.token(member)).status_code == 200
    )
    assert [row["created_by"] for row in make.rows(McpClientToken)] == [owner.id]
    assert call_act("flows", id=project.id, token=owners).status_code == 200


# --- the guard holds under concurrency ---------------------------------------------------


def test_a_delete_racing_an_execution_never_removes_a_running_flow(racing: Flask) -> None:  # noqa: F811
    make = Factory(racing)
    owner = make.user()
    project, jwt = make.project(owner), make.token(owner)
    for _ in range(4):
        folder = make.folder(project)
        flow = make.flow(project, folder_id=folder.id)
        delete = {"act": "folder_delete", "method": "DELETE", "id": folder.id, "token": jwt}
        execute = {"act": "flow_execute", "method": "POST", "id": flow.id, "token": jwt}
        deleted, started = (a.status_code for a in in_parallel(racing, [delete, execute]))
        assert (deleted, started) in ((200, 404), (409, 201))
        assert (make.flow_row(flow.id) is None) == (deleted == 200)
