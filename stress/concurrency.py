"""Issue #7 item 1: two gunicorn gateways on one MariaDB database, mixed status traffic.

1,000 requests from 50 threads on a handful of flows — toggles, activates, deactivates,
`flow_update` with `is_active`, engine runs (execute → heartbeat → finish, some left unfinished
as a crashed engine would), reads — spread over both gateways. Every request carries its own
User-Agent tag, which the audit row records, so each audit row maps back to the one request that
made it. Afterwards:

- every flow's `is_active` equals its start state transformed, in `audit_logs` order
  (created_at, id), by the audit rows — and each row's old value is the state before it;
- audit rows = status changes acknowledged with 200 (each 200 toggle has exactly one row; an
  explicit activate/deactivate/update has one when it changed the state, none when it was a
  no-op), and no refused or failed request left one;
- once the lease has passed no execution reads `running`, stale rows are expired, and every flow
  can change status again (no lease left blocking);
- zero 5xx, zero answers that are not the JSON envelope, zero transport errors.
"""

import json
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from stress.common import (
    Answer,
    call,
    database_url,
    engine_for,
    ensure_shared_mariadb,
    gateway_now,
    gateways,
    log,
    print_figures,
    run_threads,
    save_result,
    seed,
)

REQUESTS = int(os.environ.get("STRESS_REQUESTS", "1000"))
THREADS = int(os.environ.get("STRESS_THREADS", "50"))
FLOWS = 5
LEASE_SECONDS = 2
STATUS_KINDS = ("toggle", "activate", "deactivate", "update")
WEIGHTS = {"toggle": 30, "activate": 10, "deactivate": 10, "update": 10, "run": 6, "read": 5}


@dataclass
class Budget:
    """At most `total` requests, handed out under a lock; jobs come from one seeded generator."""

    total: int
    sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> int | None:
        with self.lock:
            if self.sent >= self.total:
                return None
            self.sent += 1
            return self.sent


@dataclass
class Record:
    number: int
    kind: str
    flow_id: str
    port: int
    answer: Answer
    target: int | None = None
    execution_id: str | None = None


def jobs(flow_ids: list[str], rng: random.Random) -> Iterator[tuple[str, str]]:
    kinds = list(WEIGHTS)
    weights = [WEIGHTS[kind] for kind in kinds]
    while True:
        yield rng.choices(kinds, weights)[0], rng.choice(flow_ids)


class Runner:
    def __init__(self, ports: list[int], token: str, flow_ids: list[str]) -> None:
        self.ports, self.token = ports, token
        self.budget = Budget(REQUESTS)
        self.rng = random.Random(7)
        self.jobs = jobs(flow_ids, self.rng)
        self.jobs_lock = threading.Lock()
        self.records: list[Record] = []
        self.records_lock = threading.Lock()

    def next_job(self) -> tuple[str, str, float]:
        with self.jobs_lock:
            kind, flow_id = next(self.jobs)
            return kind, flow_id, self.rng.random()

    def send(self, kind: str, flow_id: str, act: str, method: str, **kwargs: Any) -> Record | None:
        number = self.budget.take()
        if number is None:
            return None
        tag = f"stress-c{number:05d}-{kind}"
        port = self.ports[number % len(self.ports)]
        answer = call(port, act, method, token=self.token, tag=tag, timeout=30, **kwargs)
        record = Record(number, kind, flow_id, port, answer)
        with self.records_lock:
            self.records.append(record)
        return record

    def worker(self) -> None:
        while self.budget.sent < self.budget.total:
            kind, flow_id, dice = self.next_job()
            if kind == "run":
                self.engine_run(flow_id, dice)
                continue
            record = self.single(kind, flow_id, dice)
            if record is None:
                return

    def single(self, kind: str, flow_id: str, dice: float) -> Record | None:
        if kind == "toggle":
            return self.send(kind, flow_id, "flow_toggle_active", "PUT", id=flow_id, body={})
        if kind in ("activate", "deactivate"):
            record = self.send(kind, flow_id, f"flow_{kind}", "PUT", id=flow_id, body={})
            if record:
                record.target = int(kind == "activate")
            return record
        if kind == "update":
            target = int(dice < 0.5)
            body = {"description": f"updated {dice:.6f}", "is_active": target}
            record = self.send(kind, flow_id, "flow_update", "PUT", id=flow_id, body=body)
            if record:
                record.target = target
            return record
        act = "flow_status_history" if dice < 0.5 else "flow_executions"
        return self.send(kind, flow_id, act, "GET", id=flow_id)

    def engine_run(self, flow_id: str, dice: float) -> None:
        """execute → heartbeat → finish; about one run in six "crashes" before finishing."""
        started = self.send("execute", flow_id, "flow_execute", "POST", id=flow_id)
        if started is None or started.answer.status != 201:
            return
        execution_id = started.answer.data["execution_id"]
        started.execution_id = execution_id
        beat = self.send("heartbeat", flow_id, "flow_execution_heartbeat", "POST", id=execution_id)
        if beat is None or dice < 1 / 6:
            return
        beat.execution_id = execution_id
        status = "completed" if dice < 0.8 else "failed"
        body = {"status": status, "result": {"ok": status == "completed"}}
        finish = self.send(
            "finish", flow_id, "flow_execution_finish", "POST", id=execution_id, body=body
        )
        if finish is not None:
            finish.execution_id = execution_id

    def run(self) -> float:
        return run_threads([threading.Thread(target=self.worker) for _ in range(THREADS)])


def audit_rows(url: str, project_id: str) -> list[dict[str, Any]]:
    engine = engine_for(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, resource_id, old_values, new_values, user_agent, created_at"
                " FROM audit_logs WHERE project_id = :p AND action = 'flow_status_changed'"
                " ORDER BY created_at, id"
            ),
            {"p": project_id},
        ).mappings()
        result = [dict(row) for row in rows]
    engine.dispose()
    return result


def scalar_rows(url: str, sql: str, **params: Any) -> list[Any]:
    engine = engine_for(url)
    with engine.connect() as conn:
        result = list(conn.execute(text(sql), params))
    engine.dispose()
    return result


def verify_status(url: str, seeded: Any, records: list[Record]) -> tuple[dict[str, Any], list[str]]:
    problems: list[str] = []
    by_tag = {record.answer.tag: record for record in records}
    rows = audit_rows(url, seeded.project_id)
    state = dict(seeded.start_active)
    seen_tags: Counter[str] = Counter()
    changed_explicit = 0
    for row in rows:
        old = json.loads(row["old_values"])["is_active"]
        new = json.loads(row["new_values"])["is_active"]
        flow_id = row["resource_id"]
        if old != state[flow_id]:
            problems.append(f"audit {row['id']}: old {old} but state was {state[flow_id]}")
        if old == new:
            problems.append(f"audit {row['id']}: no change recorded ({old} -> {new})")
        state[flow_id] = new
        tag = row["user_agent"] or ""
        seen_tags[tag] += 1
        record = by_tag.get(tag)
        if record is None:
            problems.append(f"audit {row['id']}: no request with tag {tag!r}")
            continue
        if record.kind not in STATUS_KINDS or record.answer.status != 200:
            problems.append(f"audit {row['id']}: from {tag} answered {record.answer.status}")
        if record.flow_id != flow_id:
            problems.append(f"audit {row['id']}: request {tag} was for {record.flow_id}")
        if record.kind != "toggle":
            changed_explicit += 1
            if record.target != new:
                problems.append(f"audit {row['id']}: {tag} asked for {record.target}, got {new}")
    problems += [f"{tag}: {count} audit rows" for tag, count in seen_tags.items() if count > 1]
    final = {
        flow_id: int(active)
        for flow_id, active in scalar_rows(
            url, "SELECT id, is_active FROM flows WHERE project_id = :p", p=seeded.project_id
        )
    }
    for flow_id, active in final.items():
        if state[flow_id] != active:
            problems.append(f"{flow_id}: is_active {active}, audit replay says {state[flow_id]}")
    toggles_ok = [r for r in records if r.kind == "toggle" and r.answer.status == 200]
    for record in toggles_ok:
        if seen_tags[record.answer.tag] != 1:
            problems.append(f"{record.answer.tag}: 200 toggle without its audit row")
    explicit_ok = [r for r in records if r.kind in STATUS_KINDS[1:] and r.answer.status == 200]
    for record in explicit_ok:
        if record.answer.data["is_active"] != record.target:
            problems.append(f"{record.answer.tag}: answered is_active != {record.target}")
    figures = {
        "audit_rows": len(rows),
        "status_changes_acknowledged": len(toggles_ok) + changed_explicit,
        "toggles_200": len(toggles_ok),
        "explicit_changes_200": changed_explicit,
        "explicit_noops_200": len(explicit_ok) - changed_explicit,
        "final_state_matches_audit_replay": all(state[f] == a for f, a in final.items()),
    }
    return figures, problems


def verify_executions(port: int, url: str, seeded: Any, records: list[Record]) -> dict[str, Any]:
    """After the lease has passed: nothing reads running, stale rows expire, nothing blocks."""
    problems: list[str] = []
    stale = (
        "SELECT COUNT(*) FROM flow_executions WHERE status = 'running' AND lease_expires_at <= :now"
    )
    stale_before = scalar_rows(url, stale, now=gateway_now())[0][0]
    listed_running = 0
    for flow_id in seeded.flow_ids:
        answer = call(port, "flow_executions", id=flow_id, token=seeded.token)
        if answer.status != 200:
            problems.append(f"flow_executions {flow_id}: {answer.status}")
            continue
        listed_running += sum(1 for row in answer.data if row["status"] == "running")
    stale_after = scalar_rows(url, stale, now=gateway_now())[0][0]
    finished = {
        r.execution_id: json.loads(r.answer.body)["data"]["status"]
        for r in records
        if r.kind == "finish" and r.answer.status == 200
    }
    stored = dict(
        scalar_rows(
            url, "SELECT id, status FROM flow_executions WHERE project_id = :p", p=seeded.project_id
        )
    )
    wrong_finish = [ident for ident, status in finished.items() if stored.get(ident) != status]
    blocked = 0
    for flow_id in seeded.flow_ids:
        for _ in range(2):  # two toggles: back to where it was
            answer = call(port, "flow_toggle_active", "PUT", id=flow_id, token=seeded.token)
            blocked += answer.status != 200
    return {
        "executions_started": sum(1 for r in records if r.kind == "execute" and r.execution_id),
        "executions_finished_200": len(finished),
        "finished_rows_with_other_status": len(wrong_finish),
        "stale_running_rows_before_listing": stale_before,
        "running_listed_after_lease": listed_running,
        "running_rows_past_lease_after_listing": stale_after,
        "flows_still_blocked_after_lease": blocked,
        "execution_problems": problems,
    }


def main() -> dict[str, Any]:
    ensure_shared_mariadb()
    url = database_url(os.environ.get("STRESS_DATABASE", "gw_stress"))
    seeded = seed(url, FLOWS)
    log(f"concurrency: {REQUESTS} requests, {THREADS} threads, {FLOWS} flows, two gateways")
    extra = {"EXECUTION_LEASE_SECONDS": str(LEASE_SECONDS)}
    with gateways(url, 2, workers=2, extra_env=extra) as pair:
        runner = Runner([gateway.port for gateway in pair], seeded.token, seeded.flow_ids)
        seconds = runner.run()
        records = sorted(runner.records, key=lambda record: record.number)
        status_figures, problems = verify_status(url, seeded, records)
        time.sleep(LEASE_SECONDS + 1.5)
        execution_figures = verify_executions(pair[0].port, url, seeded, records)
        tracebacks = sum(gateway.tracebacks() for gateway in pair)
    statuses = Counter(record.answer.status for record in records)
    by_kind = {
        kind: dict(sorted(Counter(r.answer.status for r in records if r.kind == kind).items()))
        for kind in sorted({record.kind for record in records})
    }
    not_envelope = [r.answer.tag for r in records if r.answer.status and not r.answer.is_envelope]
    figures: dict[str, Any] = {
        "requests": len(records),
        "threads": THREADS,
        "gateways": 2,
        "flows": FLOWS,
        "seconds": round(seconds, 2),
        "requests_per_second": round(len(records) / seconds, 1),
        "status_counts": {str(k): v for k, v in sorted(statuses.items())},
        "by_kind": {kind: {str(k): v for k, v in c.items()} for kind, c in by_kind.items()},
        "errors_5xx": sum(v for k, v in statuses.items() if k >= 500),
        "transport_errors": statuses.get(0, 0),
        "not_envelope": len(not_envelope),
        "max_latency_seconds": round(max(r.answer.seconds for r in records), 3),
        "gateway_tracebacks": tracebacks,
        **status_figures,
        **{k: v for k, v in execution_figures.items() if k != "execution_problems"},
    }
    problems += execution_figures["execution_problems"]
    failures = list(problems)
    for key in (
        "errors_5xx",
        "transport_errors",
        "not_envelope",
        "gateway_tracebacks",
        "finished_rows_with_other_status",
        "running_listed_after_lease",
        "running_rows_past_lease_after_listing",
        "flows_still_blocked_after_lease",
    ):
        if figures[key]:
            failures.append(f"{key} = {figures[key]}")
    if figures["audit_rows"] != figures["status_changes_acknowledged"]:
        failures.append("audit rows != acknowledged status changes")
    figures["problems"] = failures[:20]
    figures["passed"] = not failures
    return figures


if __name__ == "__main__":
    result = main()
    save_result("concurrency", result)
    print_figures("concurrency: two gateways, one database", result)
    raise SystemExit(0 if result["passed"] else 1)
