"""The mixed workload (stress/mix.lua: 30% toggles, flow reads, lists, history, health) on each
database topology, with what each process cost in CPU.

One wrk per gateway host (1 thread, CONNECTIONS connections) runs for WRK_SECONDS, all at once;
the figures are their sums. CPU is read from /proc (user + system time of each process and its
gunicorn workers) over the same window, in cores: 1.0 is one core busy for the whole window.
The machine has 2 cores shared by everything (nodes, HAProxy, gateways, wrk and whatever else
runs on it), so more nodes cannot add throughput here; the CPU split shows where the time goes.
"""

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stress.cluster.scenarios import Site, retries_now, retry_delta
from stress.common import Seed
from stress.soak import run_wrk

WRK_SECONDS = int(os.environ.get("STRESS_CLUSTER_WRK_SECONDS", "15"))
CONNECTIONS = 4
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid: int) -> int:
    """user + system ticks of one process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    return int(fields[11]) + int(fields[12])


def machine_busy_ticks() -> tuple[int, int]:
    """(busy, total) ticks of all CPUs since boot."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def sample(groups: dict[str, Sequence[int]]) -> dict[str, int]:
    return {name: sum(cpu_ticks(pid) for pid in pids) for name, pids in groups.items()}


def measure(
    label: str,
    sites: Sequence[Site],
    seeded: Seed,
    groups: dict[str, Sequence[int]],
) -> dict[str, Any]:
    """Run the mix through every site at once; `groups`: name → pids whose CPU is reported."""
    env = {
        "GW_TOKEN": seeded.token,
        "GW_FLOWS": ",".join(seeded.flow_ids),
        "GW_PROJECT": seeded.project_id,
    }
    groups = {
        **groups,
        "gateways": [
            pid for site in sites for pid in [site.gateway.process.pid, *site.gateway.worker_pids()]
        ],
    }
    results: dict[str, dict[str, Any]] = {}

    def one(site: Site) -> None:
        results[site.name] = run_wrk(
            site.gateway.port,
            WRK_SECONDS,
            env,
            host=site.gateway.host,
            threads=1,
            connections=CONNECTIONS,
        )

    before_retries = retries_now(sites, seeded.token)
    before, machine_before, started = sample(groups), machine_busy_ticks(), time.monotonic()
    workers = [threading.Thread(target=one, args=(site,)) for site in sites]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.monotonic() - started
    after, machine_after = sample(groups), machine_busy_ticks()
    retries = retry_delta(sites, seeded.token, before_retries)
    requests = sum(result["requests"] for result in results.values())
    statuses: dict[str, int] = {}
    for result in results.values():
        for status, count in result["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    socket_errors = sum(
        sum(v for k, v in result["errors"].items() if k != "status") for result in results.values()
    )
    busy = (machine_after[0] - machine_before[0]) / TICKS / wall
    cores = {name: round((after[name] - before[name]) / TICKS / wall, 2) for name in groups}
    return {
        "topology": label,
        "requests_per_second": round(sum(result["per_second"] for result in results.values()), 1),
        "requests": requests,
        "statuses": dict(sorted(statuses.items())),
        "socket_errors": socket_errors,
        "p99_ms_worst_host": max(result["latency_ms"]["p99"] for result in results.values()),
        "p50_ms_mean": round(
            sum(result["latency_ms"]["p50"] for result in results.values()) / len(results), 2
        ),
        "retries": sum(sum(codes.values()) for codes in retries.values()),
        "cpu_cores": cores,
        "machine_busy_cores": round(busy, 2),
        "other_load_cores": round(busy - sum(cores.values()), 2),
    }
