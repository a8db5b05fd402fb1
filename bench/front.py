"""The gateway behind the shipped nginx (`deploy/nginx.conf`) against gunicorn served directly.

    BENCH_DATABASE_URL=... python -m bench.front [--rounds 3] [--seconds 8] \
        [--configs nginx+sync:4,nginx+gevent:4,gevent:4] [--scenarios flow,flows] [--slow-clients]

The bench database must have been seeded (`make bench`, BENCH_REUSE=1) and `nginx` be on PATH
(Debian's package). A `nginx+` configuration runs a local nginx in front (`stress/nginx.py`:
`deploy/nginx.conf` with only the listen address and the upstream port changed, Debian's
defaults around it) and gunicorn with `PROXY_COUNT=1`, as the systemd unit. wrk measures as
`make bench` does (2 s warm-up, then `--seconds`), against nginx's port for a `nginx+`
configuration; "CPU ms" is then gunicorn's workers and nginx's together. Every configuration is
started once (an idle one costs nothing); each round measures one scenario on every configuration
in turn, the order rotating from round to round, then that scenario's reference workload, so
every figure has a yardstick of the same minutes. `--slow-clients` instead checks, for each
configuration, the idea of `tests/test_slow_clients.py` against the port wrk would use.
"""

import argparse
import json
import os
import socket
import statistics
import sys
import threading
import time
import urllib.request
from contextlib import ExitStack
from typing import Any

from bench.run import (
    BASE,
    OUT,
    Gunicorn,
    children,
    ensure_wrk,
    gateway_env,
    issue_access_token,
    own_metrics,
    run_reference,
    scenarios,
    seeded_bench,
    warm_and_measure,
    write_inputs,
)
from stress import nginx
from stress.nginx import LocalNginx


class Fronted:
    """nginx in front of a running gunicorn, with `url` and `workers` as `Gunicorn` has them."""

    def __init__(self, upstream: Gunicorn, front: LocalNginx) -> None:
        self.upstream = upstream
        self.front = front

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.front.port}{path}"

    def workers(self) -> list[int]:
        """gunicorn's workers and nginx's: "CPU ms" is the whole server side."""
        front = children(self.front.proc.pid) if self.front.proc else []
        return self.upstream.workers() + front


class Served:
    """`[nginx+]class:workers`: gunicorn with that worker class and count, nginx in front or not."""

    def __init__(self, config: str, env: dict[str, str]) -> None:
        front, _, workers = config.rpartition(":")
        self.nginx = front.startswith("nginx+")
        worker_class = front.removeprefix("nginx+")
        settings = {
            **own_metrics(env, f"metrics-{config.replace(':', '-')}"),  # several run at once
            "GUNICORN_WORKER_CLASS": worker_class,
            "WEB_CONCURRENCY": workers,
        }
        if self.nginx:
            settings["PROXY_COUNT"] = "1"  # as the systemd unit
        self.gunicorn = Gunicorn("wsgi:app", settings, OUT / "front.log")
        self.front: LocalNginx | None = None

    def __enter__(self) -> Any:
        self.gunicorn.__enter__()
        if not self.nginx:
            return self.gunicorn
        try:
            self.front = LocalNginx(self.gunicorn.port).__enter__()
        except BaseException:
            self.gunicorn.stop()
            raise
        return Fronted(self.gunicorn, self.front)

    def __exit__(self, *exc: Any) -> None:
        if self.front is not None:
            self.front.__exit__(*exc)
        self.gunicorn.stop()


def table(rows: list[dict[str, Any]], reference: dict[str, list[float]]) -> str:
    lines = [
        "config          scenario            req/s   x ref  p50 ms  p99 ms  p99/p50  CPU ms  errors"
    ]
    for config, name in sorted({(row["config"], row["scenario"]) for row in rows}):
        mine = [row for row in rows if row["config"] == config and row["scenario"] == name]
        rps = statistics.median(row["rps"] for row in mine)
        p50 = statistics.median(row["p50_ms"] for row in mine)
        p99 = statistics.median(row["p99_ms"] for row in mine)
        cpu = statistics.median(row["cpu_ms"] or 0 for row in mine)
        errors = sum(row["errors"] for row in mine)
        yardstick = statistics.median(reference[name]) if reference.get(name) else 0
        ratio = f"{rps / yardstick:.3f}" if yardstick else "-"
        lines.append(
            f"{config:<15} {name:<18} {rps:7.1f} {ratio:>7} {p50:7.1f} {p99:7.1f} "
            f"{p99 / p50 if p50 else 0:8.2f} {cpu:7.2f} {errors:7d}"
        )
    return "\n".join(lines)


# --- slow clients: the idea of tests/test_slow_clients.py against any port ----------------------

SLOW_CONNECTIONS = 50
TRICKLE_SECONDS = 0.3
HEAD = "POST /gassapi2/backend/?act=login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
STARTS = {
    "headers": (HEAD + "X-Slow: ").encode(),
    "body": (HEAD + "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{").encode(),
}


def health_seconds(url: str, probes: int = 10) -> list[float]:
    found = []
    for _ in range(probes):
        started = time.monotonic()
        try:
            with urllib.request.urlopen(url + BASE + "?act=health", timeout=8) as answer:
                answer.read()
            found.append(time.monotonic() - started)
        except OSError:
            found.append(float("inf"))
    return found


def slow_clients(server: Any, start: bytes) -> dict[str, Any]:
    normal = health_seconds(server.url())
    port = int(server.url().rsplit(":", 1)[1])
    sockets = [socket.create_connection(("127.0.0.1", port), 5) for _ in range(SLOW_CONNECTIONS)]
    stopped = threading.Event()

    def trickle() -> None:
        while not stopped.wait(TRICKLE_SECONDS):
            for sock in sockets:
                try:
                    sock.sendall(b"a")
                except OSError:
                    continue

    for sock in sockets:
        sock.sendall(start)
    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        time.sleep(2 * TRICKLE_SECONDS)
        hindered = health_seconds(server.url())
        still_open = 0
        for sock in sockets:
            sock.setblocking(False)
            try:
                sock.recv(1, socket.MSG_PEEK)
            except BlockingIOError:
                still_open += 1
            except OSError:
                pass
    finally:
        stopped.set()
        thread.join(5)
        for sock in sockets:
            sock.close()
    return {
        "normal_max_ms": round(max(normal) * 1000, 1),
        "hindered_max_ms": round(max(hindered) * 1000, 1),
        "slow_still_open": still_open,
        "passes": still_open == SLOW_CONNECTIONS and max(hindered) <= max(1.0, 5 * max(normal)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--configs", default="nginx+sync:4,nginx+gevent:4,gevent:4")
    parser.add_argument("--scenarios", default="flow,flows")
    parser.add_argument("--slow-clients", action="store_true")
    args = parser.parse_args()
    url, seeded = seeded_bench()
    if not nginx.available():
        raise SystemExit("nginx is missing: apt-get install -y nginx")
    OUT.mkdir(exist_ok=True)
    env = gateway_env(url)
    if args.slow_clients:
        for config in args.configs.split(","):
            with Served(config, env) as server:
                for kind, start in STARTS.items():
                    found = {"config": config, "trickled": kind, **slow_clients(server, start)}
                    print(json.dumps(found), flush=True)
        return 0
    wrk = ensure_wrk()
    files, ids = write_inputs(seeded)
    _, token = issue_access_token(env, seeded)
    wanted = args.scenarios.split(",")
    chosen = [scenario for scenario in scenarios(ids) if scenario.name in wanted]
    rows: list[dict[str, Any]] = []
    reference: dict[str, list[float]] = {}
    configs = args.configs.split(",")
    with ExitStack() as stack:
        servers = {config: stack.enter_context(Served(config, env)) for config in configs}
        for round_number in range(args.rounds):
            turn = configs[round_number % len(configs) :] + configs[: round_number % len(configs)]
            for scenario in chosen:
                for config in turn:
                    row = {
                        "config": config,
                        **warm_and_measure(
                            wrk, servers[config], scenario, files, token, args.seconds
                        ),
                    }
                    print(json.dumps(row), flush=True)
                    rows.append(row)
                if scenario.reference:
                    ops = run_reference(url, seeded, scenario.reference).get("ops") or 0
                    reference.setdefault(scenario.name, []).append(ops)
                    print(json.dumps({"reference": scenario.name, "ops": ops}), flush=True)
            print(json.dumps({"loadavg": os.getloadavg()}), flush=True)
    print(table(rows, reference))
    return 0


if __name__ == "__main__":
    sys.exit(main())
