"""Instructions per request inside one gunicorn sync worker, counted by callgrind.

    python -m bench.instructions [--requests 200] [--cache] [--app gateway|probe|floor] \
        [SCENARIO ...]

This VM's timing moves by ±20 % between two processes and by 2x within an hour; an instruction
count does not. One worker (`WEB_CONCURRENCY=1`, sync, the production configuration) runs under
`valgrind --tool=callgrind` with collection off; 200 requests warm it up, then collection is
switched on in the worker and N, then 2N requests (a new connection each, as wrk against sync
workers) are counted and dumped apart: the figure is the second dump divided by 2N, the first
one shows it is steady. It counts the worker only, user space only: not MariaDB, not the kernel,
and not the cost of a cache miss. `--cache` adds callgrind's simulated caches (32 KB L1s, a
512 KB last level, 64-byte lines): the last-level misses per request approximate how much memory
a request touches that the previous one did not keep warm, which is what a worker pays after
every context switch when four workers, MariaDB and wrk share two cores.

Needs the bench database seeded (`make bench`) and Debian's `valgrind`. Scenarios: as `make
bench` (flow, flow_toggle_active, flows, projects, health).
"""

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.run import (
    BASE,
    ROOT,
    VENV_BIN,
    Scenario,
    gateway_env,
    issue_access_token,
    scenarios,
    seeded_bench,
    write_inputs,
)
from stress.common import free_port, stop_group

APPS = {"gateway": "wsgi:app", "probe": "bench.probe_app:app", "floor": "bench.floor_app:app"}
WARM_UP = 200
CACHES = ("--cache-sim=yes", "--I1=32768,8,64", "--D1=32768,8,64", "--LL=524288,8,64")
# callgrind_control finds the worker by the user and host names valgrind saw.
VGDB_NAMES = {"USER": "root", "LOGNAME": "root", "HOST": "127.0.0.1"}


@dataclass(frozen=True)
class Served:
    """The workers' environment (bench database, fresh secrets) and a token they accept."""

    env: dict[str, str]
    token: str


def summary(path: Path) -> dict[str, int]:
    """The event totals of one callgrind dump (`Ir`, and the cache events with `--cache`)."""
    text = path.read_text()
    events = re.search(r"^events: (.+)$", text, re.M)
    totals = re.search(r"^summary: (.+)$", text, re.M)
    if events is None or totals is None:
        raise SystemExit(f"no totals in {path}")
    return dict(zip(events.group(1).split(), map(int, totals.group(1).split()), strict=True))


def sender(port: int, scenario: Scenario, ids: list[str], token: str) -> Callable[[int], None]:
    """`send(n)`: n requests of the scenario, each on a new connection, every answer a 200."""
    headers = {"Authorization": f"Bearer {token}"} if scenario.token else {}

    def send(count: int) -> None:
        for number in range(count):
            path = scenario.path.replace("{id}", ids[number % len(ids)] if ids else "")
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            connection.request(scenario.method, path, headers=headers)
            response = connection.getresponse()
            response.read()
            connection.close()
            if response.status != 200:
                raise SystemExit(f"{scenario.name}: HTTP {response.status}")

    return send


def control(env: dict[str, str], *args: str) -> None:
    subprocess.run(["callgrind_control", *args], env=env, capture_output=True, check=True)


def count(
    app: str, scenario: Scenario, ids: list[str], served: Served, requests: int, cache: bool
) -> dict[str, Any]:
    port = free_port()
    out = Path(tempfile.mkdtemp(prefix="gw-callgrind-"))
    env = {**served.env, **VGDB_NAMES, "PORT": str(port), "GUNICORN_CMD_ARGS": "--timeout 600"}
    env.update(WEB_CONCURRENCY="1", GUNICORN_WORKER_CLASS="sync")
    command = ["valgrind", "--tool=callgrind", "--trace-children=yes", "--instr-atstart=no"]
    command += [*(CACHES if cache else ()), f"--callgrind-out-file={out}/worker.%p"]
    command += [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", APPS[app]]
    log = (out / "valgrind.log").open("wb")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        send = sender(port, scenario, ids, served.token)
        wait_until_serving(port, server)
        send(WARM_UP)
        worker = worker_of(server.pid)
        controls = {**os.environ, **VGDB_NAMES}
        control(controls, "-z", worker)
        control(controls, "-i", "on", worker)
        send(requests)
        control(controls, "-d", "first", worker)
        send(2 * requests)
        control(controls, "-d", "second", worker)
    finally:
        stop_group(server, 30)
        log.close()
    first, second = sorted(out.glob("worker.*.[12]"))
    per_request = {k: v / (2 * requests) for k, v in summary(second).items()}
    steady = summary(first)["Ir"] / requests
    shutil.rmtree(out)
    return {"per_request": per_request, "first_dump_ir": steady}


def wait_until_serving(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn under valgrind exited")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", BASE + "?act=health")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(1)
    raise SystemExit("gunicorn under valgrind did not answer within 120 s")


def worker_of(master: int) -> str:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    if len(children) != 1:
        raise SystemExit(f"expected one worker, found {children}")
    return children[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", default=["flow", "flow_toggle_active"])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--app", choices=sorted(APPS), default="gateway")
    parser.add_argument("--cache", action="store_true", help="simulate caches too (slower)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install -y valgrind)")
    url, seeded = seeded_bench()
    files, ids = write_inputs(seeded)
    env = gateway_env(url)
    served = Served(env, issue_access_token(env, seeded)[1])
    by_name = {scenario.name: scenario for scenario in scenarios(ids)}
    for name in args.scenarios:
        scenario = by_name[name]
        id_list = files[scenario.ids].read_text().split() if scenario.ids else []
        found = count(args.app, scenario, id_list, served, args.requests, args.cache)
        events = "  ".join(f"{k} {v / 1000:,.1f}k" for k, v in found["per_request"].items())
        print(f"{args.app} {name}: {events}  (first dump Ir {found['first_dump_ir'] / 1000:,.0f}k)")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
