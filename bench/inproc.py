"""Per-request CPU of the app itself: thousands of WSGI calls in one process, no HTTP, no wrk.

    BENCH_DATABASE_URL=... python -m bench.inproc [--requests 2000] [--rounds 5] [SCENARIO ...]

The app is built as the gunicorn workers build it (production, multi-process metrics, access log
at INFO into a file); the bench database must have been seeded (`make bench`, or BENCH_REUSE=1).
Each round calls the WSGI app `--requests` times with a prebuilt environ and reads the body; the
figure is this process's CPU time (user + system, so MariaDB's share is not in it) per request,
the minimum over the rounds (the least disturbed by the other tenants of the machine). Changes
are compared by running this on the tree before and after, interleaved; that is the evidence
behind the table in bench/README.md.
"""

import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import sys
import time
from collections.abc import Callable
from typing import Any

from werkzeug.test import EnvironBuilder

from backend.web import logs
from bench import limit, seed
from bench.floor_app import app as floor_app
from bench.run import BASE, OUT, gateway_env, issue_access_token, limit_context, seeded_bench


def requests(seeded: seed.Seeded) -> dict[str, tuple[str, str, bool]]:
    """Scenario → (method, path, needs the token); ids as in `make bench`."""
    flow = seeded.hot_flow["main"]
    return {
        "flow": ("GET", f"{BASE}?act=flow&id={flow}", True),
        "toggle": ("PUT", f"{BASE}?act=flow_toggle_active&id={flow}", True),
        "flows": ("GET", f"{BASE}?act=flows&id={seeded.projects['p50']}", True),
        "projects": ("GET", f"{BASE}?act=projects", True),
        "health": ("GET", f"{BASE}?act=health", False),
    }


def caller(app: Any, method: str, path: str, token: str | None) -> Callable[[], int]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    base = EnvironBuilder(path=path, method=method, headers=headers).get_environ()
    base["REMOTE_ADDR"] = "127.0.0.1"
    status: list[str] = []

    def start_response(line: str, headers: Any, exc_info: Any = None) -> None:
        status.append(line)

    def call() -> int:
        environ = dict(base)
        environ["wsgi.input"] = io.BytesIO(b"")
        body = app(environ, start_response)
        size = sum(len(chunk) for chunk in body)
        if hasattr(body, "close"):
            body.close()
        if not status[-1].startswith("200"):
            raise SystemExit(f"{method} {path}: {status[-1]}")
        return size

    return call


def measure(call: Callable[[], int], count: int, rounds: int) -> dict[str, float]:
    for _ in range(min(200, count)):
        call()
    samples = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(count):
            call()
        samples.append((time.process_time() - started) / count * 1e6)
    return {"min_us": round(min(samples)), "median_us": round(sorted(samples)[len(samples) // 2])}


def profile(name: str, call: Callable[[], int], count: int) -> None:
    """Where the time goes, by own time and by cumulative time, into bench/out/."""
    profiler = cProfile.Profile(time.process_time)  # CPU, not waiting for MariaDB
    profiler.runcall(lambda: [call() for _ in range(count)])
    with (OUT / f"inproc-{name}.prof.txt").open("w") as handle:
        stats = pstats.Stats(profiler, stream=handle)
        stats.sort_stats("tottime").print_stats(40)
        stats.sort_stats("cumulative").print_stats(60)


def limit_cpu(url: str, seeded: seed.Seeded, count: int, rounds: int) -> dict[str, Any]:
    """The same statements as bare PyMySQL (bench/limit.py), CPU of this process per iteration:
    what the driver alone costs, the part of a request no code above it can remove."""
    ctx = limit_context(seeded, (seeded.hot_flow["main"],))
    found = {}
    for name in ("flow", "flows", "flow_toggle_active", "projects", "health"):
        plan = limit.PLANS[name]
        conn = limit.connect(url, plan.autocommit)
        with conn.cursor() as cur:
            counter = iter(range(10**9))
            found[name] = measure(
                lambda c=cur, p=plan, i=counter: p.step(c, ctx, next(i)) or 0, count, rounds
            )
        conn.close()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile each scenario instead")
    args = parser.parse_args()
    url, seeded = seeded_bench()
    OUT.mkdir(exist_ok=True)
    env = gateway_env(url)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = env["PROMETHEUS_MULTIPROC_DIR"]
    app, token = issue_access_token(env, seeded)
    access = logging.getLogger("gassapi.access")
    access.setLevel(logging.INFO)  # as in production: one JSON line per request, into a file
    for handler in list(access.handlers):
        access.removeHandler(handler)
    to_file = logs.AccessStream()  # the production handler, into a file as journald would be
    to_file.setStream((OUT / "inproc-access.log").open("w"))  # noqa: SIM115 - open for the run
    access.addHandler(to_file)
    found: dict[str, Any] = {"loadavg": os.getloadavg()}
    if not args.scenarios or "floor" in args.scenarios:
        floor = caller(floor_app, "GET", f"{BASE}?act=health", None)
        found["floor"] = {"bytes": floor(), **measure(floor, args.requests, args.rounds)}
    if not args.scenarios or "limit" in args.scenarios:
        found["limit"] = limit_cpu(url, seeded, args.requests, args.rounds)
    for name, (method, path, needs_token) in requests(seeded).items():
        if args.scenarios and name not in args.scenarios:
            continue
        call = caller(app, method, path, token if needs_token else None)
        if args.profile:
            profile(name, call, args.requests)
            continue
        found[name] = {"bytes": call(), **measure(call, args.requests, args.rounds)}
    json.dump(found, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
