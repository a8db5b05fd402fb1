"""Issue #7 item 6: soak at 70% of the measured maximum throughput.

One gateway (gunicorn, WEB_CONCURRENCY workers, default 2 x cores) on the shared MariaDB
(database `gw_stress`, recreated). First a short unpaced wrk run (stress/mix.lua: reads and
toggles) measures the maximum throughput; then wrk runs paced at 70% of it for
STRESS_SOAK_SECONDS (default 600). Passes with zero errors (no socket error, no non-2xx answer)
and every worker's VmRSS growing by less than 10% from the start of the soak to its end, with the
same worker processes throughout (none restarted).
"""

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from stress.common import (
    Seed,
    database_url,
    ensure_shared_mariadb,
    log,
    print_figures,
    save_result,
    seed,
    start_gateway,
)

SOAK_SECONDS = int(os.environ.get("STRESS_SOAK_SECONDS", "600"))
MAX_SECONDS = int(os.environ.get("STRESS_MAX_SECONDS", "15"))
LOAD_FRACTION = float(os.environ.get("STRESS_SOAK_FRACTION", "0.7"))
THREADS = 2
CONNECTIONS = int(os.environ.get("STRESS_WRK_CONNECTIONS", "8"))
WORKERS = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))
RSS_LIMIT = 0.10
FLOWS = 20
LUA = Path(__file__).with_name("mix.lua")


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    return found


def run_wrk(
    port: int,
    seconds: int,
    env: dict[str, str],
    rate: float = 0,
    *,
    host: str = "127.0.0.1",
    threads: int = THREADS,
    connections: int = CONNECTIONS,
) -> dict[str, Any]:
    command = [
        wrk_binary(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        f"http://{host}:{port}/gassapi2/backend/",
    ]
    wrk_env = {**os.environ, **env, "GW_RATE": str(rate), "GW_THREADS": str(threads)}
    done = subprocess.run(
        command, env=wrk_env, capture_output=True, text=True, timeout=seconds + 60
    )
    for line in done.stdout.splitlines():
        if line.startswith("WRK_RESULT "):
            result = json.loads(line[len("WRK_RESULT ") :])
            result["per_second"] = round(result["requests"] / (result["duration_us"] / 1e6), 1)
            return result
    raise SystemExit(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")


def vm_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise ValueError(f"no VmRSS for {pid}")


def sample(pids: list[int]) -> dict[int, int]:
    return {pid: vm_rss_kib(pid) for pid in pids}


def mix_env(seeded: Seed) -> dict[str, str]:
    """What stress/mix.lua reads: the token, the flows and the project."""
    return {
        "GW_TOKEN": seeded.token,
        "GW_FLOWS": ",".join(seeded.flow_ids),
        "GW_PROJECT": seeded.project_id,
    }


def errors_of(result: dict[str, Any]) -> int:
    socket_errors = sum(v for k, v in result["errors"].items() if k != "status")
    non_2xx = sum(v for k, v in result["statuses"].items() if not k.startswith("2"))
    return socket_errors + max(non_2xx, result["errors"]["status"])


def main() -> dict[str, Any]:
    ensure_shared_mariadb()
    url = database_url(os.environ.get("STRESS_DATABASE", "gw_stress"))
    seeded = seed(url, FLOWS)
    env = mix_env(seeded)
    gateway = start_gateway(url, workers=WORKERS)
    try:
        log(f"soak: measuring maximum throughput for {MAX_SECONDS}s ({WORKERS} workers)")
        peak = run_wrk(gateway.port, MAX_SECONDS, env)
        rate = round(peak["per_second"] * LOAD_FRACTION, 1)
        log(f"soak: max {peak['per_second']} req/s; soaking at {rate} req/s for {SOAK_SECONDS}s")
        pids = gateway.worker_pids()
        start_rss = sample(pids)
        series: list[dict[str, Any]] = []
        stop = threading.Event()

        def sampler() -> None:
            begun = time.monotonic()
            while not stop.wait(30):
                try:
                    series.append(
                        {"t": round(time.monotonic() - begun), "kib": sum(sample(pids).values())}
                    )
                except (OSError, ValueError):
                    return

        watcher = threading.Thread(target=sampler, daemon=True)
        watcher.start()
        soak = run_wrk(gateway.port, SOAK_SECONDS, env, rate)
        stop.set()
        watcher.join()
        end_pids = gateway.worker_pids()
        end_rss = sample([pid for pid in pids if pid in end_pids])
        tracebacks = gateway.tracebacks()
    finally:
        gateway.stop()
    growth = {
        str(pid): round((end_rss[pid] - start_rss[pid]) / start_rss[pid], 4)
        for pid in pids
        if pid in end_rss
    }
    figures: dict[str, Any] = {
        "workers": len(pids),
        "max_throughput_rps": peak["per_second"],
        "max_run": {k: peak[k] for k in ("requests", "errors", "latency_ms", "statuses")},
        "soak_seconds": SOAK_SECONDS,
        "target_rps": rate,
        "achieved_rps": soak["per_second"],
        "requests": soak["requests"],
        "errors": errors_of(soak),
        "socket_errors": soak["errors"],
        "statuses": soak["statuses"],
        "latency_ms": soak["latency_ms"],
        "rss_start_kib": {str(k): v for k, v in start_rss.items()},
        "rss_end_kib": {str(k): v for k, v in end_rss.items()},
        "rss_growth": growth,
        "rss_growth_max": max(growth.values(), default=0.0),
        "rss_total_series_kib": series,
        "workers_restarted": len(set(pids) - set(end_pids)),
        "gateway_tracebacks": tracebacks,
    }
    problems = []
    if figures["errors"] or errors_of(peak):
        problems.append(f"errors: soak {figures['errors']}, max run {errors_of(peak)}")
    if figures["rss_growth_max"] >= RSS_LIMIT:
        problems.append(f"worker RSS grew {figures['rss_growth_max']:.1%}")
    if figures["workers_restarted"] or len(growth) != len(pids):
        problems.append("a worker was restarted")
    if tracebacks:
        problems.append(f"{tracebacks} tracebacks in the gateway log")
    if soak["per_second"] < rate * 0.9:
        problems.append(f"achieved {soak['per_second']} req/s of the {rate} targeted")
    figures["problems"] = problems
    figures["passed"] = not problems
    return figures


if __name__ == "__main__":
    result = main()
    save_result("soak", result)
    print_figures("soak: 70% of maximum throughput", result)
    raise SystemExit(0 if result["passed"] else 1)
