"""Response caps (issue 15 item 10): every list in an answer stops at 100 rows (the legacy cap
where it had one), so no single GET answers tens of megabytes."""

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import insert

from backend.db import db
from backend.legacy.clock import now
from backend.legacy.ids import new_id
from backend.models import Endpoint, Environment, Folder, McpClientToken, ProjectMember, User
from tests.factories import Factory

pytestmark = pytest.mark.usefixtures("deadline")
CAP = 100


def bulk(app: Flask, model: Any, rows: list[dict[str, Any]]) -> None:
    with app.app_context():
        db.session.execute(insert(model.__table__), rows)
        db.session.commit()


def many_folders(app: Flask, project: Any, count: int) -> list[str]:
    """`count` folders created one second apart (newest last); their ids."""
    with app.app_context():
        start = now() - timedelta(seconds=count)
    rows = [
        {
            "id": new_id("col"),
            "name": f"Folder {n:04d}",
            "project_id": project.id,
            "headers": "{}",
            "variables": "{}",
            "is_default": 0,
            "created_by": project.owner_id,
            "created_at": start + timedelta(seconds=n),
            "updated_at": start,
        }
        for n in range(count)
    ]
    bulk(app, Folder, rows)
    return [row["id"] for row in rows]


def many_environments(app: Flask, project: Any, count: int) -> None:
    with app.app_context():
        stamp = now()
    rows = [
        {
            "id": new_id("env"),
            "project_id": project.id,
            "name": f"env {n:04d}",
            "variables": "{}",
            "is_default": 0,
            "created_at": stamp,
            "updated_at": stamp,
        }
        for n in range(count)
    ]
    bulk(app, Environment, rows)


def test_project_context_caps_folders_and_environments_at_100(
    app: Flask, make: Factory, call_act: Any
) -> None:
    owner = make.user()
    project = make.project(owner)
    folders = many_folders(app, project, CAP + 1)
    many_environments(app, project, CAP)  # plus the default one
    data = call_act("project_context", id=project.id, token=make.token(owner)).json["data"]
    assert [folder["id"] for folder in data["folders"]] == folders[::-1][:CAP]
    assert len(data["environments"]) == CAP
    assert data["environments"][0]["name"] == "development"


@pytest.mark.parametrize("act", ["project_environments", "mcp_validate", "mcp_generate_config"])
def test_environment_lists_stop_at_100(app: Flask, make: Factory, call_act: Any, act: str) -> None:
    owner = make.user()
    project = make.project(owner)
    many_environments(app, project, CAP)
    if act == "mcp_validate":
        response = call_act(act, token=make.mcp_token(project))
    elif act == "mcp_generate_config":
        response = call_act(act, "POST", id=project.id, token=make.token(owner))
    else:
        response = call_act(act, id=project.id, token=make.token(owner))
    data = response.json["data"]
    environments = data if isinstance(data, list) else data["environments"]
    assert len(environments) == CAP


def test_grouped_endpoints_stop_at_100_across_folders(
    app: Flask, make: Factory, call_act: Any
) -> None:
    owner = make.user()
    project = make.project(owner)
    folders = many_folders(app, project, 3)
    with app.app_context():
        stamp = now()
    rows = [
        {
            "id": new_id("ep"),
            "name": f"E{n}",
            "method": "GET",
            "url": "https://example.com",
            "headers": "{}",
            "folder_id": folders[n % 3],
            "created_by": owner.id,
            "created_at": stamp,
            "updated_at": stamp,
        }
        for n in range(CAP + 20)
    ]
    bulk(app, Endpoint, rows)
    jwt = make.token(owner)
    first = call_act("project_endpoints_grouped", id=project.id, token=jwt).json["data"]
    second = call_act("project_endpoints_grouped", id=project.id, token=jwt, offset=CAP)
    assert sum(len(group["endpoints"]) for group in first) == CAP
    assert sum(len(group["endpoints"]) for group in second.json["data"]) == 20
    small = call_act("project_endpoints_grouped", id=project.id, token=jwt, limit=5)
    assert sum(len(group["endpoints"]) for group in small.json["data"]) == 5


def test_members_and_tokens_lists_stop_at_100(app: Flask, make: Factory, call_act: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    with app.app_context():
        stamp = now()
    people = [
        {"id": f"user_bulk_{n}", "email": f"bulk{n}@example.com", "password_hash": "x",
         "name": f"Bulk {n}", "created_at": stamp, "updated_at": stamp}
        for n in range(CAP + 1)
    ]  # fmt: skip
    bulk(app, User, people)
    bulk(
        app,
        ProjectMember,
        [
            {"id": f"pm_bulk_{n}", "project_id": project.id, "user_id": person["id"],
             "invited_by": owner.id, "joined_at": stamp, "created_at": stamp}
            for n, person in enumerate(people)
        ],
    )  # fmt: skip
    bulk(
        app,
        McpClientToken,
        [
            {"id": f"mcp_bulk_{n}", "project_id": project.id, "token_hash": f"{n:064x}",
             "created_by": owner.id, "created_at": stamp, "updated_at": stamp, "is_active": 1}
            for n in range(CAP + 1)
        ],
    )  # fmt: skip
    jwt = make.token(owner)
    members = call_act("project_members", id=project.id, token=jwt, limit=5000).json["data"]
    rest = call_act("project_members", id=project.id, token=jwt, offset=CAP).json["data"]
    assert (len(members), len(rest)) == (CAP, 2)  # the owner and 101 members
    tokens = call_act("mcp_tokens", id=project.id, token=jwt).json["data"]["tokens"]
    assert len(tokens) == CAP
