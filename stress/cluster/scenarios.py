"""The cluster run's checks (issue #18 item 3), each against gateways attached to given nodes.

A `Site` is one gateway host attached (through HAProxy's `nodeN` front end) to one Galera node:
site A to n1, B to n2, C to n3. Requests carry a User-Agent tag that the audit rows record, so
every audit row maps back to the one request that wrote it (as in stress/concurrency.py).
"""

import itertools
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pymysql
from sqlalchemy import text

from backend.web.error_handlers import DATABASE_BUSY
from stress.cluster.galera import GaleraNode
from stress.cluster.haproxy import HAProxy
from stress.common import (
    ROOT,
    STEPS_FLOW,
    Answer,
    Gateway,
    Seed,
    call,
    engine_for,
    gateway_env,
    log,
    run_threads,
)
from stress.concurrency import Record, verify_status
from stress.outage import CLIENT_TIMEOUT, Load, verify_writes

SETTLE_SECONDS = 6.0
DOWN_SECONDS = 8.0
PROBE_ROUNDS = 300
GRACE = 3.0  # after HAProxy marks a node DOWN, requests already on their way may still fail
RETRY_LINE = re.compile(r'^gassapi_db_retries_total\{code="([^"]*)",handler="[^"]*"\} ([0-9.e+]+)$')


@dataclass
class Site:
    name: str
    node: int  # 0-2: the node its gateway prefers
    gateway: Gateway
    causal: bool = True  # DB_WSREP_SYNC_WAIT on (the default) or 0

    def call(self, act: str, method: str = "GET", **kwargs: Any) -> Answer:
        kwargs.setdefault("timeout", 30)
        return call(self.gateway.port, act, method, host=self.gateway.host, **kwargs)

    def retries(self, token: str) -> Counter[str]:
        """The gateway's whole-handler re-runs so far, by MySQL error code (all workers)."""
        answer = self.call("metrics", token=token)
        found: Counter[str] = Counter()
        for line in answer.body.decode(errors="replace").splitlines():
            match = RETRY_LINE.match(line)
            if match:
                found[match.group(1)] += int(float(match.group(2)))
        return found


def retry_delta(sites: Sequence[Site], token: str, before: dict[str, Counter[str]]) -> dict:
    return {site.name: dict(site.retries(token) - before[site.name]) for site in sites}


def retries_now(sites: Sequence[Site], token: str) -> dict[str, Counter[str]]:
    return {site.name: site.retries(token) for site in sites}


def latency_ms(answers: Sequence[Answer]) -> dict[str, float]:
    seconds = sorted(answer.seconds for answer in answers) or [0.0]
    pick = lambda q: seconds[min(len(seconds) - 1, int(q * len(seconds)))]  # noqa: E731
    return {
        "p50": round(pick(0.5) * 1000, 1),
        "p99": round(pick(0.99) * 1000, 1),
        "max": round(seconds[-1] * 1000, 1),
        "mean": round(statistics.fmean(seconds) * 1000, 1),
    }


def statuses(answers: Sequence[Answer]) -> dict[str, int]:
    return {str(k): v for k, v in sorted(Counter(a.status for a in answers).items())}


def fan_out(total: int, threads: int, job: Callable[[int], None]) -> float:
    """Run job(1..total) on `threads` threads; returns the seconds taken."""
    numbers = itertools.count(1)
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                number = next(numbers)
            if number > total:
                return
            job(number)

    return run_threads([threading.Thread(target=worker) for _ in range(threads)])


# --- init-db on one node while the others serve -------------------------------------------------


def init_db(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "init-db"],
        cwd=ROOT,
        env=gateway_env(url, 0, 1, None),
        capture_output=True,
        text=True,
        timeout=120,
    )


def table_definitions(node_urls: Sequence[str], table: str) -> list[str | None]:
    found = []
    for url in node_urls:
        engine = engine_for(url)
        with engine.connect() as conn:
            exists = conn.execute(text(f"SHOW TABLES LIKE '{table}'")).first()
            found.append(
                conn.execute(text(f"SHOW CREATE TABLE `{table}`")).one()[1] if exists else None
            )
        engine.dispose()
    return found


def init_db_while_serving(
    sites: Sequence[Site], seeded: Seed, init_url: str, node_urls: Sequence[str]
) -> dict[str, Any]:
    """The additive table is missing (a legacy database); sites B and C serve projects, flows
    and reads while `init-db` runs through node 1 — once creating the table, once as a no-op."""
    engine = engine_for(node_urls[1])
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE flow_executions"))
    engine.dispose()
    stop = threading.Event()
    answers: list[Answer] = []

    def serve(site: Site, kind: str) -> None:
        for number in itertools.count(1):
            if stop.is_set():
                return
            tag = f"stress-i{site.name}{number:05d}-{kind}"
            if kind == "write":
                body = {"name": f"Init-db project {tag}", "description": "init-db run"}
                answer = site.call("projects", "POST", token=seeded.token, body=body, tag=tag)
                if answer.status == 201:
                    flow = {"name": f"Flow {tag}", "flow_data": STEPS_FLOW}
                    answers.append(answer)
                    answer = site.call(
                        "flow_create", "POST", id=answer.data["id"], token=seeded.token,
                        body=flow, tag=tag,
                    )  # fmt: skip
            else:
                answer = site.call("flows", id=seeded.project_id, token=seeded.token, tag=tag)
            answers.append(answer)

    workers = [
        threading.Thread(target=serve, args=(site, kind))
        for site in sites[1:]
        for kind in ("write", "read")
    ]
    for worker in workers:
        worker.start()
    time.sleep(2)
    started = time.monotonic()
    first = init_db(init_url)
    first_seconds = time.monotonic() - started
    time.sleep(1)
    second = init_db(init_url)
    time.sleep(2)
    stop.set()
    for worker in workers:
        worker.join(60)
    definitions = table_definitions(node_urls, "flow_executions")
    problems = []
    for number, done in enumerate((first, second), start=1):
        if done.returncode != 0 or "database ready" not in done.stdout:
            problems.append(f"init-db run {number}: exit {done.returncode}: {done.stderr[-300:]}")
    if None in definitions or len(set(definitions)) != 1:
        problems.append("flow_executions is not the same table on every node")
    bad = [a for a in answers if not 200 <= a.status < 300]
    problems += [f"{a.tag}: {a.status} {a.body[:120]!r}" for a in bad[:5]]
    return {
        "init_db_requests_served": len(answers),
        "init_db_statuses": statuses(answers),
        "init_db_create_seconds": round(first_seconds, 2),
        "init_db_table_on_every_node": None not in definitions and len(set(definitions)) == 1,
        "init_db_problems": problems,
    }


# --- a toggle storm on one flow from three nodes ----------------------------------------------


def toggle_storm(
    sites: Sequence[Site], seeded: Seed, node_urls: Sequence[str], total: int, threads: int
) -> dict[str, Any]:
    """`total` toggles of one flow, spread over the sites; checked on every node afterwards."""
    flow_id = seeded.flow_ids[0]
    records: list[Record] = []
    lock = threading.Lock()
    before = retries_now(sites, seeded.token)

    def toggle(number: int) -> None:
        site = sites[number % len(sites)]
        tag = f"stress-s{number:05d}-toggle"
        answer = site.call("flow_toggle_active", "PUT", id=flow_id, token=seeded.token, tag=tag)
        with lock:
            records.append(Record(number, "toggle", flow_id, site.gateway.port, answer))

    seconds = fan_out(total, threads, toggle)
    retries = retry_delta(sites, seeded.token, before)
    records.sort(key=lambda record: record.number)
    answers = [record.answer for record in records]
    acknowledged = sum(answer.status == 200 for answer in answers)
    per_node = [verify_status(url, seeded, records) for url in node_urls]
    problems = [f"node {n + 1}: {p}" for n, (_, found) in enumerate(per_node) for p in found]
    figures = per_node[0][0]
    flips = figures["audit_rows"]
    start = seeded.start_active[flow_id]
    expected_final = start ^ (acknowledged % 2)
    final = current_state(node_urls, flow_id)
    if len(set(final)) != 1 or final[0] != expected_final:
        problems.append(f"final is_active per node {final}, expected {expected_final}")
    if any(f != figures for f, _ in per_node):
        problems.append("the nodes disagree about the audit rows")
    other = [a for a in answers if a.status not in (200, 503)]
    problems += [f"{a.tag}: answered {a.status} {a.body[:100]!r}" for a in other[:5]]
    retried = sum(sum(by_code.values()) for by_code in retries.values())
    return {
        "storm_toggles_sent": len(answers),
        "storm_threads": threads,
        "storm_seconds": round(seconds, 2),
        "storm_statuses": statuses(answers),
        "storm_acknowledged": acknowledged,
        "storm_audit_rows": flips,
        "storm_flips": flips,
        "storm_final_state_ok": not any("final" in p for p in problems),
        "storm_retries_by_site": retries,
        "storm_retries": retried,
        "storm_retries_per_acknowledged": round(retried / max(1, acknowledged), 2),
        "storm_latency_ms": latency_ms(answers),
        "storm_problems": problems[:10],
    }


def current_state(node_urls: Sequence[str], flow_id: str) -> list[int]:
    found = []
    for url in node_urls:
        engine = engine_for(url)
        with engine.connect() as conn:
            query = text("SELECT is_active FROM flows WHERE id = :f")
            found.append(int(conn.execute(query, {"f": flow_id}).scalar_one()))
        engine.dispose()
    return found


# --- an execution's lease across nodes; logout-all across nodes ---------------------------------


def lease_rounds(a: Site, b: Site, c: Site, seeded: Seed, flow_id: str, rounds: int) -> dict:
    """Start on A, refuse a toggle on C (409), finish on B, toggle on C (200): `rounds` times."""
    token = seeded.token
    wrong: Counter[str] = Counter()
    for number in range(rounds):
        tag = f"stress-l{c.name}{number:04d}"
        ready = a.call("flow_activate", "PUT", id=flow_id, token=token, tag=f"{tag}-activate")
        started = a.call("flow_execute", "POST", id=flow_id, token=token, tag=f"{tag}-execute")
        if ready.status != 200 or started.status != 201:
            wrong[f"setup {ready.status}/{started.status}"] += 1
            continue
        refused = c.call("flow_toggle_active", "PUT", id=flow_id, token=token, tag=f"{tag}-live")
        wrong["toggle while live not 409"] += refused.status != 409
        done = b.call(
            "flow_execution_finish", "POST", id=started.data["execution_id"], token=token,
            body={"status": "completed"}, tag=f"{tag}-finish",
        )  # fmt: skip
        wrong["finish not 200"] += done.status != 200
        allowed = c.call("flow_toggle_active", "PUT", id=flow_id, token=token, tag=f"{tag}-done")
        wrong["toggle after finish not 200"] += allowed.status != 200
    return {"rounds": rounds, "wrong": {k: v for k, v in wrong.items() if v}}


def login(site: Site, email: str, password: str) -> str:
    answer = site.call("login", "POST", body={"email": email, "password": password})
    if answer.status != 200:
        raise SystemExit(f"login through {site.name}: {answer.status} {answer.body[:200]!r}")
    return str(answer.data["access_token"])


def logout_rounds(a: Site, b: Site, c: Site, user: Seed, password: str, rounds: int) -> dict:
    """Log in on B, `logout-all` on A, then the old token on C: refused (401) every time."""
    wrong: Counter[str] = Counter()
    for _ in range(rounds):
        token = login(b, user.email, password)
        wrong["fresh token refused"] += c.call("profile", token=token).status != 200
        wrong["logout-all not 200"] += a.call("logout-all", "POST", token=token).status != 200
        wrong["old token accepted"] += c.call("profile", token=token).status != 401
    return {"rounds": rounds, "wrong": {k: v for k, v in wrong.items() if v}}


# --- one node killed mid-storm ----------------------------------------------------------------


class SpreadLoad(Load):
    """stress/outage.py's steady load (toggles, projects, flows, reads, health), each request
    sent through the next site in turn, with more toggle threads: a storm."""

    KINDS = ("toggle",) * 4 + ("project", "flow", "read", "health")

    def __init__(self, sites: Sequence[Site], seeded: Seed) -> None:
        super().__init__(0, seeded)
        self.sites = sites
        self.turn = itertools.count()

    def call(self, port: int, act: str, method: str = "GET", **kwargs: Any) -> Answer:
        site = self.sites[next(self.turn) % len(self.sites)]
        return site.call(act, method, **{**kwargs, "timeout": CLIENT_TIMEOUT})


@dataclass
class Failure:
    killed: float = 0.0
    marked_down: float = 0.0
    restarted: float = 0.0
    synced: float = 0.0
    marked_up: float = 0.0


def busy(answer: Answer) -> bool:
    """A 503 because the retries of a conflict ran out (any time in a storm), not the switch."""
    body = answer.json()
    return answer.status == 503 and isinstance(body, dict) and body.get("message") == DATABASE_BUSY


def windows(failure: Failure) -> dict[str, tuple[float, float]]:
    """The two switches: the node taken out, and the rejoin (its donor leaves the rotation for
    a moment: the clustercheck counts only Synced nodes, and HAProxy cuts their sessions)."""
    return {
        "kill": (failure.killed, failure.marked_down + GRACE),
        "rejoin": (failure.restarted, failure.marked_up + GRACE),
    }


def switch_of(answer: Answer, failure: Failure) -> str | None:
    for name, (start, end) in windows(failure).items():
        if start <= answer.ended and answer.started <= end:
            return name
    return None


def switch_problems(answers: Sequence[tuple[str, Answer]], failure: Failure) -> list[str]:
    """2xx and 503 only; "database unreachable" only during a switch; "database busy" (a
    conflict whose retries ran out) at any time."""
    found = []
    for kind, answer in answers:
        if answer.status == 0:
            found.append(f"{answer.tag}: no answer ({answer.error})")
        elif not answer.is_envelope:
            found.append(f"{answer.tag}: {answer.status} without the envelope")
        elif answer.status == 503 and not busy(answer) and switch_of(answer, failure) is None:
            found.append(f"{answer.tag} ({kind}): 503 outside the switches: {answer.data}")
        elif answer.status != 503 and not 200 <= answer.status < 300:
            found.append(f"{answer.tag} ({kind}): answered {answer.status}")
    return found


def node_failure(
    sites: Sequence[Site],
    seeded: Seed,
    node: GaleraNode,
    haproxy: HAProxy,
    node_urls: Sequence[str],
) -> dict[str, Any]:
    """SIGKILL one node under load, restart it after DOWN_SECONDS, let it rejoin."""
    load = SpreadLoad(sites, seeded)
    threads = load.start()
    failure = Failure()
    time.sleep(SETTLE_SECONDS)
    log(f"failover: SIGKILL {node.name} under load")
    failure.killed = time.monotonic()
    node.kill()
    failure.marked_down = haproxy.wait(node.name, up=False)
    time.sleep(DOWN_SECONDS)
    log(f"failover: restarting {node.name}")
    failure.restarted = time.monotonic()
    offset = node.log_size()
    node.rejoin()
    failure.synced = node.wait_synced()
    failure.marked_up = haproxy.wait(node.name, up=True)
    log(f"failover: {node.name} synced and back in HAProxy")
    time.sleep(SETTLE_SECONDS)
    load.stop.set()
    for thread in threads:
        thread.join(60)
    answers = sorted(load.answers, key=lambda pair: pair[1].started)
    problems = switch_problems(answers, failure)
    unavailable = [a for _, a in answers if a.status == 503 and not busy(a)]
    writes = [verify_writes(url, seeded, answers) for url in node_urls]
    for number, found in enumerate(writes, start=1):
        if found["lost_writes"] or found["half_applied_status_changes"]:
            problems.append(f"node {number}: lost {found['lost_writes']}, half-applied writes")
    if any(found != writes[0] for found in writes):
        problems.append("the nodes disagree after the rejoin")
    first = writes[0]
    return {
        "failover_requests": len(answers),
        "failover_statuses": statuses([a for _, a in answers]),
        "failover_503_at_kill": sum(switch_of(a, failure) == "kill" for a in unavailable),
        "failover_503_at_rejoin": sum(switch_of(a, failure) == "rejoin" for a in unavailable),
        "failover_503_busy": sum(busy(a) for _, a in answers),
        "failover_marked_down_after_seconds": round(failure.marked_down - failure.killed, 2),
        "failover_rejoin_synced_seconds": round(failure.synced - failure.restarted, 2),
        "failover_back_in_haproxy_seconds": round(failure.marked_up - failure.restarted, 2),
        "failover_state_transfer": node.transfer(offset),
        "failover_acknowledged_writes": first["acknowledged_writes"],
        "failover_lost_writes": max(found["lost_writes"] for found in writes),
        "failover_applied_but_answered_503": first["applied_but_answered_error"],
        "failover_nodes_identical": all(found == first for found in writes),
        "failover_max_latency_seconds": round(max(a.seconds for _, a in answers), 2),
        "failover_problems": problems[:10],
    }


# --- what causal reads buy and cost, without a gateway in between --------------------------------


def stale_reads(writer_port: int, reader_port: int, database: str, flow_id: str) -> dict:
    """Write a flow's name through one node, read it at once through another, PROBE_ROUNDS
    times, with wsrep_sync_wait 0 and 1; and the mean time of a read that follows no write."""
    found: dict[str, Any] = {}
    writer = pymysql.connect(
        host="127.0.0.1", port=writer_port, user="root", database=database, autocommit=True
    )
    reader = pymysql.connect(
        host="127.0.0.1", port=reader_port, user="root", database=database, autocommit=True
    )
    read = "SELECT name FROM flows WHERE id = %s"
    with writer, reader, writer.cursor() as w, reader.cursor() as r:
        for wait in (0, 1):
            r.execute("SET SESSION wsrep_sync_wait = %s", (wait,))
            stale = 0
            for number in range(PROBE_ROUNDS):
                name = f"probe {wait} {number}"
                w.execute("UPDATE flows SET name = %s WHERE id = %s", (name, flow_id))
                r.execute(read, (flow_id,))
                stale += r.fetchone()[0] != name
            started = time.perf_counter()
            for _ in range(PROBE_ROUNDS):
                r.execute(read, (flow_id,))
                r.fetchone()
            found[f"sync_wait_{wait}"] = {
                "stale_reads": stale,
                "of": PROBE_ROUNDS,
                "read_ms": round((time.perf_counter() - started) / PROBE_ROUNDS * 1000, 3),
            }
    return found
