"""Two gateway instances on one MariaDB: status changes and executions serialise across processes.

MariaDB only: the point is row locks shared by separate app instances (separate engines and
connection pools), which an in-memory SQLite database cannot show.
"""

import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask

from backend import create_app
from backend.db import db
from tests.conftest import gateway_config
from tests.factories import Factory, call_act

THREADS = 50
TOGGLES = 10


@pytest.fixture
def twins(app: Flask, database_url: str) -> Iterator[list[Flask]]:
    """Two more app instances on the fixture app's (already emptied) database."""
    if database_url.startswith("sqlite"):
        pytest.skip("needs a database server shared by two app instances")
    pool = {"DB_POOL_SIZE": THREADS // 2, "DB_MAX_OVERFLOW": 5}
    apps = [create_app(gateway_config(database_url, **pool)) for _ in range(2)]
    yield apps
    for twin in apps:
        with twin.app_context():
            db.engine.dispose()


def in_parallel(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run every job on its own thread, all released at once; results in job order."""
    barrier = threading.Barrier(len(jobs))

    def released(job: Callable[[], Any]) -> Any:
        barrier.wait()
        return job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return [future.result() for future in [pool.submit(released, job) for job in jobs]]


def requester(twin: Flask, act: str, method: str, times: int = 1, **kwargs: Any) -> Callable:
    def job() -> list[tuple[int, str]]:
        client = twin.test_client()
        responses = [call_act(client, act, method, **kwargs) for _ in range(times)]
        return [(r.status_code, r.json["message"]) for r in responses]

    return job


def assert_serial_history(rows: list[dict[str, Any]], start: int) -> None:
    """Audit ids are time-ordered: each change must start from the state the previous one left."""
    state = start
    for row in rows:
        assert json.loads(row["old_values"]) == {"is_active": state}
        state = json.loads(row["new_values"])["is_active"]
        assert state == 1 - json.loads(row["old_values"])["is_active"]


def test_concurrent_toggles_through_two_instances_give_exact_flips(
    twins: list[Flask], make: Factory
) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    token = make.token(owner)
    jobs = [
        requester(twins[i % 2], "flow_toggle_active", "PUT", TOGGLES, id=flow.id, token=token)
        for i in range(THREADS)
    ]
    answers = Counter(answer for result in in_parallel(jobs) for answer in result)
    flips = THREADS * TOGGLES
    assert answers == {(200, "Flow activated"): flips // 2, (200, "Flow deactivated"): flips // 2}
    assert make.flow_row(flow.id)["is_active"] == 1
    rows = make.audit_rows(flow.id)
    assert len(rows) == flips
    assert_serial_history(rows, start=1)


def test_live_execution_started_on_one_instance_blocks_toggle_on_the_other(
    twins: list[Flask], make: Factory
) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    token = make.token(owner)
    first, second = (twin.test_client() for twin in twins)
    started = call_act(first, "flow_execute", "POST", id=flow.id, token=token)
    toggle = call_act(second, "flow_toggle_active", "PUT", id=flow.id, token=token)
    assert toggle.status_code == 409
    assert toggle.json["message"] == "Cannot toggle status: Flow is currently being executed"
    make.set_lease(started.json["data"]["execution_id"], -1)
    toggle = call_act(second, "flow_toggle_active", "PUT", id=flow.id, token=token)
    assert toggle.status_code == 200


def test_flow_deactivated_concurrently_never_gets_a_new_execution(
    twins: list[Flask], make: Factory
) -> None:
    owner = make.user()
    flow = make.flow(make.project(owner))
    token = make.token(owner)
    executes = [
        requester(twins[i % 2], "flow_execute", "POST", id=flow.id, token=token) for i in range(20)
    ]
    deactivate = requester(twins[0], "flow_deactivate", "PUT", id=flow.id, token=token)
    *executed, [(deactivated, _)] = in_parallel([*executes, deactivate])
    started = sum(status == 201 for [(status, _)] in executed)
    if deactivated == 200:
        assert started == 0
        assert {status for [(status, _)] in executed} == {400}
        assert make.flow_row(flow.id)["is_active"] == 0
    else:
        assert deactivated == 409
        assert started == 20
        assert make.flow_row(flow.id)["is_active"] == 1


def test_overlapping_batches_in_any_order_all_succeed_serially(
    twins: list[Flask], make: Factory
) -> None:
    owner = make.user()
    project = make.project(owner)
    flows = [make.flow(project) for _ in range(10)]
    token = make.token(owner)
    rng = random.Random(5)
    jobs = []
    for i in range(20):
        ids = rng.sample([flow.id for flow in flows], k=len(flows))
        body = {"flow_ids": ids, "is_active": bool(i % 2)}
        jobs.append(
            requester(
                twins[i % 2], "flows_set_active", "POST", id=project.id, token=token, json=body
            )
        )
    results = in_parallel(jobs)
    assert {status for [(status, _)] in results} == {200}
    for flow in flows:
        rows = make.audit_rows(flow.id)
        assert_serial_history(rows, start=1)
        final = json.loads(rows[-1]["new_values"])["is_active"] if rows else 1
        assert make.flow_row(flow.id)["is_active"] == final
