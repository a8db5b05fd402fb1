"""Issue #7 item 2: the database goes away under steady load and comes back.

A private MariaDB (temporary data directory, free port; the shared server is never touched) serves
one gateway (2 gunicorn workers). A few threads keep toggling flows, creating projects and flows,
listing flows and asking `health`. The server is stopped twice for STRESS_OUTAGE_SECONDS (10 s):
first with SIGTERM (clean shutdown), then with SIGKILL (crash, InnoDB recovery on start). Checks:

- during an outage every request gets a 503 JSON envelope, quickly (no hang, no 500, no HTML);
  `health` says the database is disconnected;
- once the server answers again, every request started 5 s later or more succeeds (pool_pre_ping:
  no gateway restart);
- nothing acknowledged with a 2xx is lost: each 200 toggle has its audit row, each 201 project and
  flow exists; nothing is half-applied: replaying the audit rows gives every flow's stored status
  and every project has exactly one default environment.
"""

import json
import os
import signal
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from stress.common import (
    STEPS_FLOW,
    Answer,
    call,
    database_url,
    engine_for,
    log,
    print_figures,
    save_result,
    seed,
    server_answers,
    start_gateway,
)
from stress.mariadb import PrivateMariaDB

OUTAGE_SECONDS = float(os.environ.get("STRESS_OUTAGE_SECONDS", "10"))
FREEZE_SECONDS = float(os.environ.get("STRESS_FREEZE_SECONDS", "25"))
# While frozen, a request may wait behind others for a worker; the gateway itself must give up on
# the database (read timeout 20 s + connect 3 s) well inside gunicorn's 30 s worker timeout.
FREEZE_HANG_LIMIT = 60.0
SERVER_SIDE_LIMIT = 25.0
CLIENT_TIMEOUT = 60.0
SETTLE_SECONDS = 8.0
RECOVERY_LIMIT = 5.0
HANG_LIMIT = 8.0  # connect_timeout is 3 s; nothing may take longer than this
PAUSE = 0.02
FLOWS = 3
DISCONNECTED = {"status": "unhealthy", "database": "disconnected"}


@dataclass
class Outage:
    signal_name: str
    freeze: bool = False
    stop_sent: float = 0.0
    down: float = 0.0
    restart: float = 0.0
    ready: float = 0.0


class Load:
    """Steady traffic from a few threads until stopped; every answer is kept with its kind."""

    KINDS: tuple[str, ...] = ("toggle", "toggle", "project", "flow", "read", "health")

    def __init__(self, port: int, seeded: Any) -> None:
        self.port, self.seeded = port, seeded
        self.stop = threading.Event()
        self.answers: list[tuple[str, Answer]] = []
        self.lock = threading.Lock()
        self.counter = 0

    def tag(self, kind: str) -> str:
        with self.lock:
            self.counter += 1
            return f"stress-o{self.counter:06d}-{kind}"

    def call(self, port: int, act: str, method: str = "GET", **kwargs: Any) -> Answer:
        return call(port, act, method, timeout=CLIENT_TIMEOUT, **kwargs)

    def keep(self, kind: str, answer: Answer) -> None:
        with self.lock:
            self.answers.append((kind, answer))

    def loop(self, kind: str, offset: int) -> None:
        seeded, n, call = self.seeded, offset, self.call
        while not self.stop.is_set():
            n += 1
            tag = self.tag(kind)
            if kind == "toggle":
                flow_id = seeded.flow_ids[n % len(seeded.flow_ids)]
                answer = call(
                    self.port, "flow_toggle_active", "PUT", id=flow_id, token=seeded.token, tag=tag
                )
            elif kind == "project":
                body = {"name": f"Outage project {tag}", "description": "outage run"}
                answer = call(self.port, "projects", "POST", token=seeded.token, body=body, tag=tag)
            elif kind == "flow":
                body = {"name": f"Outage flow {tag}", "flow_data": STEPS_FLOW}
                answer = call(
                    self.port,
                    "flow_create",
                    "POST",
                    id=seeded.project_id,
                    token=seeded.token,
                    body=body,
                    tag=tag,
                )
            elif kind == "read":
                answer = call(self.port, "flows", id=seeded.project_id, token=seeded.token, tag=tag)
            else:
                answer = call(self.port, "health", tag=tag)
            self.keep(kind, answer)
            time.sleep(PAUSE)

    def start(self) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self.loop, args=(kind, i), daemon=True)
            for i, kind in enumerate(self.KINDS)
        ]
        for thread in threads:
            thread.start()
        return threads


def phase(answer: Answer, outages: list[Outage]) -> str:
    for outage in outages:
        if outage.freeze:
            if outage.stop_sent <= answer.ended and answer.started < outage.ready + RECOVERY_LIMIT:
                return "freeze"
            continue
        if answer.started >= outage.down and answer.ended <= outage.restart:
            return "outage"
        if outage.stop_sent <= answer.ended and answer.started < outage.ready + RECOVERY_LIMIT:
            return "transition"
    return "steady"


def violations(kind: str, answer: Answer, where: str) -> list[str]:
    found = []
    if answer.status == 0:
        found.append(f"no answer ({answer.error})")
    elif not answer.is_envelope:
        found.append(f"{answer.status} without the JSON envelope ({answer.content_type})")
    if answer.seconds > (FREEZE_HANG_LIMIT if where == "freeze" else HANG_LIMIT):
        found.append(f"took {answer.seconds:.1f}s")
    if answer.status >= 500 and answer.status != 503:
        found.append(f"answered {answer.status}")
    if 400 <= answer.status < 500:
        found.append(f"answered {answer.status}")
    if where == "outage":
        if answer.status != 503:
            found.append(f"answered {answer.status} during the outage")
        elif kind == "health" and answer.data != DISCONNECTED:
            found.append(f"health said {answer.data}")
    if where == "steady" and not 200 <= answer.status < 300:
        found.append(f"answered {answer.status} outside any outage")
    return [f"{answer.tag} {where}: {text}" for text in found]


def recovery(outage: Outage, answers: list[tuple[str, Answer]], until: float) -> dict[str, float]:
    """Seconds from the server answering again to the end of the last request sent after that
    which failed."""
    window = [a for _, a in answers if outage.stop_sent <= a.ended < until]
    failed = [a for a in window if not 200 <= a.status < 300]
    after = [a for a in failed if a.started >= outage.ready]
    first_ok = min(
        (a.ended for a in window if a.started >= outage.restart and 200 <= a.status < 300),
        default=until,
    )
    unavailable = [a for a in window if a.status == 503]
    return {
        "signal": outage.signal_name,
        "server_down_seconds": round(outage.restart - outage.down, 2),
        "server_start_seconds": round(outage.ready - outage.restart, 2),
        "clients_saw_503_for_seconds": round(
            max((a.ended for a in unavailable), default=0)
            - min((a.started for a in unavailable), default=0),
            2,
        ),
        "first_success_after_ready_seconds": round(max(0.0, first_ok - outage.ready), 2),
        "recovery_seconds": round(max([0.0] + [a.ended - outage.ready for a in after]), 2),
        "answers_503": len(unavailable),
    }


def gateway_durations(log_path: Any) -> dict[str, Any]:
    """The longest request as the gateway timed it, and gunicorn's worker timeouts."""
    longest, timeouts = 0.0, 0
    for line in log_path.read_text(errors="replace").splitlines():
        if "WORKER TIMEOUT" in line:
            timeouts += 1
        elif line.startswith("{") and '"duration_ms"' in line:
            try:
                longest = max(longest, json.loads(line)["duration_ms"] / 1000)
            except (ValueError, KeyError, TypeError):
                continue
    return {"max_seconds": round(longest, 2), "worker_timeouts": timeouts}


def freeze(server: PrivateMariaDB, seconds: float) -> Outage:
    """SIGSTOP: the server keeps its sockets but answers nothing (a hung host), then SIGCONT."""
    assert server.process is not None
    outage = Outage("SIGSTOP", freeze=True)
    log(f"outage: freezing MariaDB (SIGSTOP) for {seconds:.0f}s")
    outage.stop_sent = outage.down = time.monotonic()
    server.process.send_signal(signal.SIGSTOP)
    time.sleep(seconds)
    outage.restart = time.monotonic()
    server.process.send_signal(signal.SIGCONT)
    while not server_answers(server.server_url):
        time.sleep(0.05)
    outage.ready = time.monotonic()
    return outage


def verify_writes(url: str, seeded: Any, answers: list[tuple[str, Answer]]) -> dict[str, Any]:
    """The seeded user's projects and the seeded project's flows, replayed from their audit."""
    acked = {
        kind: [a for k, a in answers if k == kind and 200 <= a.status < 300]
        for kind in ("toggle", "project", "flow")
    }
    engine = engine_for(url)
    mine = {"p": seeded.project_id, "u": seeded.user_id}
    with engine.connect() as conn:
        audit = [
            dict(row)
            for row in conn.execute(
                text(
                    "SELECT id, resource_id, old_values, new_values, user_agent FROM audit_logs"
                    " WHERE action = 'flow_status_changed' AND project_id = :p"
                    " ORDER BY created_at, id"
                ),
                mine,
            ).mappings()
        ]
        stored = dict(
            conn.execute(text("SELECT id, is_active FROM flows WHERE project_id = :p"), mine).all()
        )
        projects = {
            row[0]
            for row in conn.execute(text("SELECT id FROM projects WHERE owner_id = :u"), mine)
        }
        without_default = conn.execute(
            text(
                "SELECT COUNT(*) FROM projects p WHERE p.owner_id = :u AND (SELECT COUNT(*)"
                " FROM environments e WHERE e.project_id = p.id AND e.is_default = 1) <> 1"
            ),
            mine,
        ).scalar_one()
    engine.dispose()
    state = dict(seeded.start_active)
    audit_by_tag: Counter[str] = Counter()
    effect: dict[str, int] = {}
    chain_breaks = 0
    for row in audit:
        old = json.loads(row["old_values"])["is_active"]
        new = json.loads(row["new_values"])["is_active"]
        chain_breaks += old != state[row["resource_id"]] or old == new
        state[row["resource_id"]] = new
        audit_by_tag[row["user_agent"]] += 1
        effect[row["user_agent"]] = new
    chain_breaks += sum(state[flow_id] != int(stored[flow_id]) for flow_id in seeded.flow_ids)
    toggle_tags = {a.tag for a in acked["toggle"]}
    lost_toggles = sum(audit_by_tag[tag] != 1 for tag in toggle_tags)
    wrong_effect = sum(
        effect.get(a.tag) != a.data["is_active"] for a in acked["toggle"] if a.tag in effect
    )
    lost_projects = sum(a.data["id"] not in projects for a in acked["project"])
    lost_flows = sum(a.data["id"] not in stored for a in acked["flow"])
    created_flows = len(stored) - len(seeded.flow_ids)
    return {
        "acknowledged_writes": sum(len(v) for v in acked.values()),
        "acknowledged_toggles": len(acked["toggle"]),
        "acknowledged_projects": len(acked["project"]),
        "acknowledged_flows": len(acked["flow"]),
        "audit_rows": len(audit),
        "lost_writes": lost_toggles + lost_projects + lost_flows,
        "lost_toggles": lost_toggles,
        "lost_projects": lost_projects,
        "lost_flows": lost_flows,
        "applied_but_answered_error": (len(audit) - len(toggle_tags & set(audit_by_tag)))
        + (len(projects) - 1 - len(acked["project"]))
        + (created_flows - len(acked["flow"])),
        "toggles_answered_other_than_recorded": wrong_effect,
        "half_applied_status_changes": chain_breaks,
        "projects_without_one_default_environment": without_default,
    }


def main() -> dict[str, Any]:
    server = PrivateMariaDB()
    gateway = None
    try:
        log(f"outage: private MariaDB on 127.0.0.1:{server.port} ({server.root})")
        server.install()
        server.start()
        url = database_url("gw_outage", server.server_url)
        seeded = seed(url, FLOWS)
        gateway = start_gateway(url, workers=2)
        load = Load(gateway.port, seeded)
        threads = load.start()
        started = time.monotonic()
        time.sleep(SETTLE_SECONDS)
        outages = []
        if FREEZE_SECONDS > 0:
            outages.append(freeze(server, FREEZE_SECONDS))
            time.sleep(SETTLE_SECONDS)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            outage = Outage(sig.name)
            log(f"outage: stopping MariaDB with {sig.name} for {OUTAGE_SECONDS:.0f}s")
            outage.stop_sent = time.monotonic()
            outage.down = server.stop(sig)
            time.sleep(max(0.0, OUTAGE_SECONDS - (outage.down - outage.stop_sent)))
            outage.restart = time.monotonic()
            outage.ready = server.start()
            log(f"outage: MariaDB answers again after {outage.ready - outage.restart:.1f}s")
            outages.append(outage)
            time.sleep(SETTLE_SECONDS)
        load.stop.set()
        for thread in threads:
            thread.join(30)
        ended = time.monotonic()
        answers = sorted(load.answers, key=lambda pair: pair[1].started)
        found: list[str] = []
        by_phase: dict[str, Counter[int]] = defaultdict(Counter)
        for kind, answer in answers:
            where = phase(answer, outages)
            by_phase[where][answer.status] += 1
            found += violations(kind, answer, where)
        limits = [o.stop_sent for o in outages[1:]] + [ended]
        windows = [recovery(o, answers, limit) for o, limit in zip(outages, limits, strict=True)]
        writes = verify_writes(url, seeded, answers)
        tracebacks = gateway.tracebacks()
        server_side = gateway_durations(gateway.log_path)
        health_during = [a for k, a in answers if k == "health" and phase(a, outages) == "outage"]
    finally:
        if gateway is not None:
            gateway.stop()
        server.destroy()
    statuses = Counter(answer.status for _, answer in answers)
    figures: dict[str, Any] = {
        "requests": len(answers),
        "seconds": round(ended - started, 1),
        "status_counts": {str(k): v for k, v in sorted(statuses.items())},
        "status_by_phase": {
            where: {str(k): v for k, v in sorted(counts.items())}
            for where, counts in sorted(by_phase.items())
        },
        "errors_5xx_other_than_503": sum(v for k, v in statuses.items() if k >= 500 and k != 503),
        "transport_errors": statuses.get(0, 0),
        "max_latency_seconds": round(max(a.seconds for _, a in answers), 3),
        "max_server_side_seconds": server_side["max_seconds"],
        "worker_timeouts": server_side["worker_timeouts"],
        "health_503_during_outage": sum(a.status == 503 for a in health_during),
        "outage_windows": windows,
        "outage_seconds": OUTAGE_SECONDS,
        "recovery_seconds": max(w["recovery_seconds"] for w in windows),
        **writes,
        "gateway_tracebacks": tracebacks,
    }
    if writes["lost_writes"]:
        found.append(f"lost writes: {writes['lost_writes']}")
    if writes["toggles_answered_other_than_recorded"]:
        found.append(
            f"{writes['toggles_answered_other_than_recorded']} toggles answered a state "
            "other than the one their audit row recorded"
        )
    if writes["half_applied_status_changes"] or writes["projects_without_one_default_environment"]:
        found.append("half-applied writes")
    if figures["recovery_seconds"] > RECOVERY_LIMIT:
        found.append(f"recovery took {figures['recovery_seconds']}s")
    if figures["max_server_side_seconds"] >= SERVER_SIDE_LIMIT or figures["worker_timeouts"]:
        found.append(
            f"a request held a worker {figures['max_server_side_seconds']}s; "
            f"{figures['worker_timeouts']} worker timeouts"
        )
    if not figures["health_503_during_outage"]:
        found.append("health never reported the outage")
    figures["violations"] = len(found)
    figures["problems"] = found[:20]
    figures["passed"] = not found
    return figures


if __name__ == "__main__":
    result = main()
    save_result("outage", result)
    print_figures("outage: database stopped under load", result)
    raise SystemExit(0 if result["passed"] else 1)
