"""Worker model sweep: the gateway under several gunicorn settings, interleaved, same database.

    BENCH_DATABASE_URL=... python -m bench.workers [--rounds 2] [--seconds 6] \
        [--configs gevent:2,gevent:3,gevent:4,sync:4] [--scenarios flow,flow_toggle_active]

The bench database must have been seeded (`make bench`, BENCH_REUSE=1). Each round starts every
configuration in turn (`GUNICORN_WORKER_CLASS`:`WEB_CONCURRENCY`) and measures each scenario with
wrk as `make bench` does (2 s warm-up, then `--seconds`), then the reference workload of the
first scenario, so every figure has a yardstick of the same few minutes. Prints one JSON line per
measurement and a table of medians over the rounds.
"""

import argparse
import json
import os
import statistics
import sys
from typing import Any

from bench.run import (
    OUT,
    Gunicorn,
    ensure_wrk,
    gateway_env,
    issue_access_token,
    rss_mb,
    run_reference,
    scenarios,
    seeded_bench,
    warm_and_measure,
    write_inputs,
)


def measure(
    wrk: str,
    config: str,
    env: dict[str, str],
    chosen: list[Any],
    files: Any,
    token: str,
    seconds: float,
) -> list[dict[str, Any]]:
    worker_class, workers = config.split(":")
    settings = {**env, "GUNICORN_WORKER_CLASS": worker_class, "WEB_CONCURRENCY": workers}
    found = []
    with Gunicorn("wsgi:app", settings, OUT / "workers.log") as server:
        for scenario in chosen:
            found.append(
                {
                    "config": config,
                    **warm_and_measure(wrk, server, scenario, files, token, seconds),
                    "rss_mb": max(rss_mb(pid) or 0 for pid in server.workers()),
                }
            )
    return found


def table(rows: list[dict[str, Any]], reference: list[float]) -> str:
    yardstick = statistics.median(reference) if reference else 0
    lines = [
        "config        scenario            req/s   x ref  p50 ms  p99 ms  p99/p50  CPU ms  RSS"
    ]
    keys = sorted({(row["config"], row["scenario"]) for row in rows})
    for config, name in keys:
        mine = [row for row in rows if row["config"] == config and row["scenario"] == name]
        rps = statistics.median(row["rps"] for row in mine)
        p50 = statistics.median(row["p50_ms"] for row in mine)
        p99 = statistics.median(row["p99_ms"] for row in mine)
        cpu = statistics.median(row["cpu_ms"] or 0 for row in mine)
        rss = max(row["rss_mb"] for row in mine)
        ratio = f"{rps / yardstick:.3f}" if yardstick and name == "flow" else "-"
        lines.append(
            f"{config:<13} {name:<18} {rps:7.1f} {ratio:>7} {p50:7.1f} {p99:7.1f} "
            f"{p99 / p50 if p50 else 0:8.2f} {cpu:7.2f} {rss:5.1f}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--configs", default="gevent:2,gevent:3,gevent:4,sync:4")
    parser.add_argument("--scenarios", default="flow,flow_toggle_active")
    args = parser.parse_args()
    url, seeded = seeded_bench()
    OUT.mkdir(exist_ok=True)
    wrk = ensure_wrk()
    files, ids = write_inputs(seeded)
    env = gateway_env(url)
    _, token = issue_access_token(env, seeded)
    wanted = args.scenarios.split(",")
    chosen = [scenario for scenario in scenarios(ids) if scenario.name in wanted]
    rows: list[dict[str, Any]] = []
    reference: list[float] = []
    for _ in range(args.rounds):
        for config in args.configs.split(","):
            for row in measure(wrk, config, env, chosen, files, token, args.seconds):
                print(json.dumps(row), flush=True)
                rows.append(row)
        found = run_reference(url, seeded, "flow")
        reference.append(found.get("ops") or 0)
        print(json.dumps({"reference_flow": reference[-1], "loadavg": os.getloadavg()}), flush=True)
    print(table(rows, reference))
    return 0


if __name__ == "__main__":
    sys.exit(main())
