"""A fresh benchmark database, seeded through the models' tables with bulk Core inserts.

Layout (every flow has realistic Steps `flow_data`, the React Flow `ui_data` the gateway derives
from it, and `flow_inputs`):

| project   | flows   | used by                                                           |
| --------- | ------- | ----------------------------------------------------------------- |
| main      | 1,000   | `flow`, `flow_toggle_active`, `flows_active`                      |
| one       | 1       | toggle scaling (1 flow in the project)                            |
| p50       | 50      | `flows` (the whole project: the list of issue #14)                |
| p100      | 100     | list scaling                                                      |
| p10k      | 10,000  | list scaling                                                      |
| p100k     | 100,000 | list scaling                                                      |

Every definition has three steps (headers, bodies on writes, outputs, tests): the shape of the
flows the legacy backend was measured with. Two users: the owner of every project and a member
of `main`.
"""

import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import bcrypt
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from backend.db import db
from backend.models import Environment, Flow, Folder, Project, ProjectMember, User
from services.flows.definition import steps_to_react_flow

PASSWORD = "BenchPass123!"
OWNER_EMAIL = "bench-owner@example.com"
MEMBER_EMAIL = "bench-member@example.com"
PROJECT_SIZES = {"main": 1_000, "one": 1, "p50": 50, "p100": 100, "p10k": 10_000, "p100k": 100_000}
FOLDERS_PER_PROJECT = 5
CHUNK = 2_000
STEPS = 3
EPOCH = datetime(2024, 1, 1, 8, 0, 0)


@dataclass
class Seeded:
    owner_id: str = ""
    member_id: str = ""
    projects: dict[str, str] = field(default_factory=dict)  # name -> project id
    flows: dict[str, list[str]] = field(default_factory=dict)  # name -> flow ids (main, one)
    hot_flow: dict[str, str] = field(default_factory=dict)  # name -> one flow id per project
    seconds: float = 0.0
    bytes_per_flow: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "owner_id": self.owner_id,
            "member_id": self.member_id,
            "projects": self.projects,
            "flows": {name: len(ids) for name, ids in self.flows.items()},
            "seconds": round(self.seconds, 1),
            "bytes_per_flow": self.bytes_per_flow,
        }


def server_url(url: str) -> str:
    return make_url(url).set(database="").render_as_string(hide_password=False)


def recreate_database(url: str) -> None:
    name = make_url(url).database
    engine = create_engine(server_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        conn.execute(
            text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        )
    engine.dispose()


def bcrypt_hash(password: str) -> str:
    """Cost 12, PHP's `$2y$` spelling: what the legacy backend stored, so login costs the same."""
    return "$2y$" + bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=12)).decode()[4:]


def step(rng: random.Random, index: int) -> dict[str, Any]:
    method = ("POST", "GET", "PUT")[index % 3]  # two bodies per three-step flow
    resource = rng.choice(("users", "orders", "products", "invoices", "sessions"))
    body = None
    if method in ("POST", "PUT"):
        body = {
            "name": "{{input.name}}",
            "email": "{{input.email}}",
            "quantity": rng.randint(1, 20),
            "tags": ["bench", resource],
        }
    return {
        "id": f"step{index + 1}",
        "name": f"{method.title()} {resource} #{index + 1}",
        "method": method,
        "url": f"{{{{env.baseUrl}}}}/api/v1/{resource}/{{{{input.id}}}}",
        "headers": {"Authorization": "Bearer {{env.apiToken}}", "Accept": "application/json"},
        "body": body,
        "outputs": {"id": "response.body.data.id", "status": "response.status"},
        "tests": [{"name": "status is 2xx", "assert": "response.status < 300"}],
    }


def flow_blobs(rng: random.Random) -> tuple[str, str, str]:
    steps = [step(rng, i) for i in range(STEPS)]
    flow_data = {
        "version": "1.0",
        "steps": steps,
        "config": {"delay": 0, "retryCount": 1, "parallel": False},
    }
    inputs = [
        {"name": "id", "type": "string", "required": True, "description": "Resource id"},
        {"name": "email", "type": "email", "required": False, "description": "Contact"},
    ]
    return (
        json.dumps(flow_data),
        json.dumps(steps_to_react_flow(flow_data)),
        json.dumps(inputs),
    )


def seed(url: str, sizes: dict[str, int] | None = None) -> Seeded:
    started = time.perf_counter()
    sizes = sizes or PROJECT_SIZES
    recreate_database(url)
    engine = create_engine(url)
    db.metadata.create_all(engine)
    result = Seeded()
    with engine.begin() as conn:
        conn.execute(text("SET SESSION foreign_key_checks = 0, unique_checks = 0"))
        seed_rows(conn, sizes, result)
    result.seconds = time.perf_counter() - started
    with engine.connect() as conn:
        conn.execute(text("ANALYZE TABLE flows, projects, project_members, users"))
    engine.dispose()
    return result


def load(url: str, sizes: dict[str, int] | None = None) -> Seeded | None:
    """The state of an earlier seed of the same layout (BENCH_REUSE=1), or None."""
    sizes = sizes or PROJECT_SIZES
    engine = create_engine(url)
    result = Seeded()
    try:
        with engine.connect() as conn:
            users = dict(conn.execute(text("SELECT email, id FROM users")).all())
            result.owner_id, result.member_id = users[OWNER_EMAIL], users[MEMBER_EMAIL]
            for name, count in sizes.items():
                project_id = conn.execute(
                    text("SELECT id FROM projects WHERE name = :name"), {"name": f"Bench {name}"}
                ).scalar_one()
                ids = list(
                    conn.execute(
                        text("SELECT id FROM flows WHERE project_id = :p ORDER BY id"),
                        {"p": project_id},
                    ).scalars()
                )
                if len(ids) != count:
                    return None
                result.projects[name] = project_id
                result.hot_flow[name] = ids[len(ids) // 2]
                if count <= PROJECT_SIZES["main"]:
                    result.flows[name] = ids
    except Exception:  # noqa: BLE001 - any trouble means "seed afresh"
        return None
    finally:
        engine.dispose()
    return result


def seed_rows(conn: Any, sizes: dict[str, int], result: Seeded) -> None:
    rng = random.Random(6)
    stamp = EPOCH
    result.owner_id, result.member_id = "user_1704096000_0a0a0a", "user_1704096000_0b0b0b"
    conn.execute(
        insert(User.__table__),
        [
            user_row(result.owner_id, OWNER_EMAIL, "Bench Owner", stamp),
            user_row(result.member_id, MEMBER_EMAIL, "Bench Member", stamp),
        ],
    )
    blobs = [flow_blobs(rng) for _ in range(64)]  # varied shapes, cheap to generate
    result.bytes_per_flow = sum(len(a) + len(b) + len(c) for a, b, c in blobs) // len(blobs)
    for number, (name, count) in enumerate(sizes.items()):
        project_id = f"proj_1704096000_{number:08x}"
        result.projects[name] = project_id
        conn.execute(insert(Project.__table__), [project_row(project_id, name, result, stamp)])
        conn.execute(insert(Environment.__table__), [environment_row(project_id, number, stamp)])
        folders = [f"col_{number:04x}{i:04x}bench" for i in range(FOLDERS_PER_PROJECT)]
        conn.execute(insert(Folder.__table__), folder_rows(project_id, folders, result, stamp))
        if name == "main":
            conn.execute(
                insert(ProjectMember.__table__),
                [
                    {
                        "id": "pm_1704096000_0c0c0c0c",
                        "project_id": project_id,
                        "user_id": result.member_id,
                        "invited_by": result.owner_id,
                        "joined_at": stamp,
                        "created_at": stamp,
                    }
                ],
            )
        ids = insert_flows(conn, project_id, count, folders, blobs, result.owner_id, rng)
        result.hot_flow[name] = ids[len(ids) // 2]
        if count <= PROJECT_SIZES["main"]:
            result.flows[name] = ids


def insert_flows(
    conn: Any,
    project_id: str,
    count: int,
    folders: list[str],
    blobs: list[tuple[str, str, str]],
    owner_id: str,
    rng: random.Random,
) -> list[str]:
    # Random legacy ids, inserted in key order (random-order inserts into a clustered index larger
    # than the buffer pool cost minutes); creation times stay uncorrelated with the ids.
    ids = sorted(f"flow_{rng.getrandbits(128):032x}" for _ in range(count))
    ages = list(range(count))
    rng.shuffle(ages)
    table = Flow.__table__
    for start in range(0, count, CHUNK):
        rows = []
        for i in range(start, min(count, start + CHUNK)):
            flow_id = ids[i]
            flow_data, ui_data, inputs = blobs[i % len(blobs)]
            created = EPOCH + timedelta(seconds=ages[i] * 37)
            rows.append(
                {
                    "id": flow_id,
                    "name": f"Flow {ages[i]:06d}",
                    "description": f"Benchmark flow {ages[i]} of {count}",
                    "project_id": project_id,
                    "folder_id": folders[i % len(folders)] if i % 3 else None,
                    "flow_data": flow_data,
                    "created_by": owner_id,
                    "is_active": 1 if i % 4 else 0,
                    "created_at": created,
                    "updated_at": created,
                    "flow_inputs": inputs,
                    "ui_data": ui_data,
                    "ai_version": None,
                    "generation_strategy": None,
                    "complexity_score": None,
                }
            )
        conn.execute(insert(table), rows)
    return ids


def user_row(user_id: str, email: str, name: str, stamp: datetime) -> dict[str, Any]:
    return {
        "id": user_id,
        "email": email,
        "password_hash": bcrypt_hash(PASSWORD),
        "name": name,
        "avatar_url": None,
        "is_active": 1,
        "email_verified": 1,
        "password_reset_token": None,
        "password_reset_token_expires_at": None,
        "token_version": 0,
        "last_login_at": None,
        "created_at": stamp,
        "updated_at": stamp,
    }


def project_row(project_id: str, name: str, result: Seeded, stamp: datetime) -> dict[str, Any]:
    return {
        "id": project_id,
        "name": f"Bench {name}",
        "description": f"Benchmark project {name}",
        "owner_id": result.owner_id,
        "api_key": None,
        "is_public": 0,
        "settings": '{"visibility":"private"}',
        "last_sync_at": None,
        "created_at": stamp,
        "updated_at": stamp,
    }


def environment_row(project_id: str, number: int, stamp: datetime) -> dict[str, Any]:
    return {
        "id": f"env_1704096000_{number:08x}",
        "project_id": project_id,
        "name": "development",
        "description": None,
        "variables": '{"baseUrl":"https:\\/\\/api.example.com"}',
        "is_default": 1,
        "created_at": stamp,
        "updated_at": stamp,
    }


def folder_rows(
    project_id: str, folders: list[str], result: Seeded, stamp: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "id": folder_id,
            "name": f"Folder {i}",
            "description": None,
            "project_id": project_id,
            "parent_id": None,
            "headers": "[]",
            "variables": "[]",
            "is_default": int(i == 0),
            "created_by": result.owner_id,
            "created_at": stamp,
            "updated_at": stamp,
        }
        for i, folder_id in enumerate(folders)
    ]
