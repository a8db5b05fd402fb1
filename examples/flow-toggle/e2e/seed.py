"""Database side of the FlowToggle browser test, through the gateway's own models.

Uses the same configuration as the gateway (DATABASE_URL, JWT secrets, APP_ENV), so the token it
issues is one the gateway accepts. Each command prints one JSON object on stdout:

    seed.py seed              tables, a user, a project they own, an active flow
                              -> {"token", "user_id", "project_id", "flow_id"}
    seed.py execute FLOW_ID   a running execution with a live lease, as an engine registers it
                              -> {"execution_id"}
    seed.py state FLOW_ID     -> {"is_active", "status_changes"} (audit rows of that flow)
"""

import json
import sys
from datetime import timedelta
from typing import Any

import bcrypt
from sqlalchemy import func, select

from backend import create_app
from backend.auth.tokens import issue_token
from backend.db import db
from backend.legacy.clock import now
from backend.legacy.ids import new_id
from backend.models import AuditLog, Flow, FlowExecution, Project, User
from services.flows.status import STATUS_CHANGED

PASSWORD = "Secret123"
STEPS = {
    "version": "1.0",
    "steps": [{"id": "step1", "name": "Ping", "method": "GET", "url": "https://example.com/"}],
    "config": {"delay": 0, "retryCount": 1, "parallel": False},
}


def seed() -> dict[str, Any]:
    db.create_all()
    stamp = now()
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    user = User(
        id=new_id("user"),
        email=f"{new_id('e2e')}@example.com",
        password_hash="$2y$" + hashed[4:],
        name="Browser Test",
        is_active=1,
        email_verified=1,
        token_version=0,
        created_at=stamp,
        updated_at=stamp,
    )
    project = Project(
        id=new_id("proj"),
        name="FlowToggle e2e",
        owner_id=user.id,
        is_public=0,
        settings='{"visibility":"private"}',
        created_at=stamp,
        updated_at=stamp,
    )
    flow = Flow(
        id=new_id("flow"),
        name="User Registration Flow",
        description="Toggled from the seed's React component",
        project_id=project.id,
        flow_data=json.dumps(STEPS),
        flow_inputs="[]",
        created_by=user.id,
        is_active=1,
        created_at=stamp,
        updated_at=stamp,
    )
    db.session.add(user)
    db.session.flush()
    db.session.add(project)
    db.session.flush()
    db.session.add(flow)
    db.session.commit()
    token = issue_token(user.id, user.email, "access", user.token_version)
    return {"token": token, "user_id": user.id, "project_id": project.id, "flow_id": flow.id}


def execute(flow_id: str) -> dict[str, Any]:
    flow = db.session.get(Flow, flow_id)
    if flow is None:
        raise SystemExit(f"no flow {flow_id}")
    stamp = now()
    execution = FlowExecution(
        id=new_id("exec"),
        flow_id=flow.id,
        project_id=flow.project_id,
        status="running",
        started_by=flow.created_by,
        started_at=stamp,
        heartbeat_at=stamp,
        lease_expires_at=stamp + timedelta(minutes=10),
        finished_at=None,
        result=None,
    )
    db.session.add(execution)
    db.session.commit()
    return {"execution_id": execution.id}


def state(flow_id: str) -> dict[str, Any]:
    flow = db.session.get(Flow, flow_id)
    if flow is None:
        raise SystemExit(f"no flow {flow_id}")
    changes = db.session.scalar(
        select(func.count())
        .select_from(AuditLog)
        .where(AuditLog.resource_id == flow_id, AuditLog.action == STATUS_CHANGED)
    )
    return {"is_active": int(flow.is_active), "status_changes": int(changes or 0)}


def main(argv: list[str]) -> None:
    commands = {"seed": seed, "execute": execute, "state": state}
    if not argv or argv[0] not in commands:
        raise SystemExit(__doc__)
    with create_app().app_context():
        print(json.dumps(commands[argv[0]](*argv[1:])))


if __name__ == "__main__":
    main(sys.argv[1:])
