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
import io
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from werkzeug.test import EnvironBuilder

from bench import seed
from bench.run import BASE, DEFAULT_URL, OUT, gateway_env, issue_access_token


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    seeded = seed.load(url)
    if seeded is None:
        raise SystemExit("seed the bench database first (make bench)")
    OUT.mkdir(exist_ok=True)
    env = gateway_env(url)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = env["PROMETHEUS_MULTIPROC_DIR"]
    app, token = issue_access_token(env, seeded)
    access = logging.getLogger("gassapi.access")
    access.setLevel(logging.INFO)  # as in production: one JSON line per request, into a file
    for handler in list(access.handlers):
        access.removeHandler(handler)
    to_file = logging.FileHandler(OUT / "inproc-access.log", mode="w")
    to_file.setFormatter(logging.Formatter("%(message)s"))
    access.addHandler(to_file)
    found = {"loadavg": os.getloadavg()}
    for name, (method, path, needs_token) in requests(seeded).items():
        if args.scenarios and name not in args.scenarios:
            continue
        call = caller(app, method, path, token if needs_token else None)
        found[name] = {"bytes": call(), **measure(call, args.requests, args.rounds)}
    json.dump(found, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
