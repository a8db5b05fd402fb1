"""`make stress-cutover` (issue #17): the shadow compare end to end, about four minutes.

One database (STRESS_CUTOVER_DATABASE, default `gw_cutover`, recreated) seeded as for the soak.
The legacy is played by a second gateway (gunicorn, LEGACY_URL unset) on the same database. The
gateway under test (gunicorn) is started once per configuration and driven by the soak's mixed
traffic (stress/mix.lua: 30% flow toggles, reads of flow, flows, flows_active, the status history
and health), paced at one rate for every run:

    baseline     LEGACY_URL unset (run first and last: their spread is the noise)
    shadow       every legacy act with a read handler in shadow, the rest served: the cost of
                 the compare on the client path
    shadow-10%   the same with SHADOW_SAMPLE_RATE=0.1
    shadow-all   `*=shadow`: reads compared, writes forwarded to the legacy (the runbook's
                 first step)

The rate is STRESS_CUTOVER_FRACTION (0.4) of the baseline's unpaced maximum, measured first, so
neither machine is saturated (both gateways, MariaDB and wrk share this host). Prints per run the
client latency, and for the shadow runs comparisons/s, outcomes, drops and the added p99; the
figures go to instance/stress-results/cutover.json and, by hand, to docs/cutover.md.
"""

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.run import process_cpu_seconds
from stress.common import (
    Gateway,
    Seed,
    call,
    database_url,
    ensure_shared_mariadb,
    log,
    print_figures,
    save_result,
    seed,
    start_gateway,
)
from stress.soak import errors_of, mix_env, run_wrk

SECONDS = int(os.environ.get("STRESS_CUTOVER_SECONDS", "20"))
MAX_SECONDS = int(os.environ.get("STRESS_MAX_SECONDS", "10"))
FRACTION = float(os.environ.get("STRESS_CUTOVER_FRACTION", "0.4"))
WORKERS = int(os.environ.get("WEB_CONCURRENCY", "2"))
WARMUP_SECONDS = 2
FLOWS = 20
# health reports the answering process's memory: per process by nature, never the same twice
KNOWN = "health:data.*memory*"
SHADOW_RUNS = ("shadow", "shadow-10%", "shadow-all")


def read_acts() -> list[str]:
    """Every legacy act with a read handler (the report's `read` and `mixed` kinds)."""
    import handlers  # noqa: F401  (registers every act)
    from backend.core.registry import registry
    from backend.web.cutover.modes import LEGACY_PATHS
    from backend.web.cutover.report import act_kinds

    kinds = act_kinds(registry.actions(), registry.acts)
    return [act for act in LEGACY_PATHS if kinds[act] != "write"]


def configurations(legacy_port: int) -> dict[str, dict[str, str]]:
    legacy = {
        "LEGACY_URL": f"http://127.0.0.1:{legacy_port}/gassapi2/backend/",
        "SHADOW_KNOWN_DIVERGENCES": KNOWN,
    }
    reads = ",".join(f"{act}=shadow" for act in read_acts())
    shadow = {**legacy, "LEGACY_ACT_MODES": f"*=serve,{reads}"}
    return {
        "baseline": {},
        "shadow": shadow,
        "shadow-10%": {**shadow, "SHADOW_SAMPLE_RATE": "0.1"},
        "shadow-all": {**legacy, "LEGACY_ACT_MODES": "*=shadow"},
        "baseline-again": {},
    }


def report_of(gateway: Gateway, token: str) -> dict[str, Any] | None:
    answer = call(gateway.port, "cutover_report", token=token)
    return answer.data if answer.status == 200 else None


def settle(gateway: Gateway, token: str) -> dict[str, Any] | None:
    """The report once the queues are empty and every worker has written its counts."""
    previous = None
    for _ in range(20):
        time.sleep(1.5)
        report = report_of(gateway, token)
        if report is None or report == previous:
            return report
        previous = report
    return previous


def shadow_figures(report: dict[str, Any], seconds: float) -> dict[str, Any]:
    totals = {
        key: sum(row[key] for row in report["acts"])
        for key in ("compared", "different", "known", "rechecked", "legacy_errors", "dropped")
    }
    totals["proxied"] = sum(row["proxied"] for row in report["acts"])
    return {
        "comparisons_per_second": round(totals["compared"] / seconds, 1),
        **totals,
        "verdicts": {
            row["act"]: f"{row['verdict']}: {row['reason']}"
            for row in report["acts"]
            if row["requests"]
        },
        "differences": {
            row["act"]: row["differences"] for row in report["acts"] if row["differences"]
        },
    }


def cpu_seconds(*gateways: Gateway) -> list[float]:
    """CPU seconds (user + system) of each gateway's workers so far."""
    return [sum(map(process_cpu_seconds, gateway.worker_pids())) for gateway in gateways]


def one_run(
    name: str,
    url: str,
    extra: dict[str, str],
    env: dict[str, str],
    seeded: Seed,
    rate: float,
    legacy: Gateway,
) -> dict[str, Any]:
    state = Path(tempfile.mkdtemp(prefix=f"gw-cutover-{name}-"))
    gateway = start_gateway(
        url, workers=WORKERS, extra_env={**extra, "CUTOVER_STATE_DIR": str(state)}
    )
    try:
        run_wrk(gateway.port, WARMUP_SECONDS, env, rate)
        if extra:
            reset(state)
        log(f"cutover: {name} at {rate} req/s for {SECONDS}s")
        before = cpu_seconds(gateway, legacy)
        result = run_wrk(gateway.port, SECONDS, env, rate)
        used = [
            after - start for after, start in zip(cpu_seconds(gateway, legacy), before, strict=True)
        ]
        report = settle(gateway, seeded.token) if extra else None
        tracebacks = gateway.tracebacks()
    finally:
        gateway.stop()
    figures: dict[str, Any] = {
        "achieved_rps": result["per_second"],
        "requests": result["requests"],
        "errors": errors_of(result),
        "latency_ms": result["latency_ms"],
        # per client request: the gateway's workers, and the second gateway playing the legacy
        "cpu_ms_per_request": {
            side: round(seconds * 1000 / max(result["requests"], 1), 2)
            for side, seconds in zip(("gateway", "legacy"), used, strict=True)
        },
        "statuses": result["statuses"],
        "tracebacks": tracebacks,
    }
    if report is not None:
        figures["shadow"] = shadow_figures(report, result["duration_us"] / 1e6)
    return figures


def reset(state: Path) -> None:
    """`flask cutover reset` for the warm-up's counts: the marker makes live workers start over."""
    from backend.web.cutover.stats import reset as reset_counts

    reset_counts(state)
    time.sleep(1.5)  # every worker flushes (and so drops its counts) at least once a second


def summarise(runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    base = [runs["baseline"]["latency_ms"]["p99"], runs["baseline-again"]["latency_ms"]["p99"]]
    noise = round(abs(base[0] - base[1]), 2)
    reference = sum(base) / 2
    cpu = [runs[name]["cpu_ms_per_request"]["gateway"] for name in ("baseline", "baseline-again")]
    added = {name: round(runs[name]["latency_ms"]["p99"] - reference, 2) for name in SHADOW_RUNS}
    added_cpu = {
        name: round(runs[name]["cpu_ms_per_request"]["gateway"] - sum(cpu) / 2, 2)
        for name in SHADOW_RUNS
    }
    problems = [f"{name}: {run['errors']} errors" for name, run in runs.items() if run["errors"]]
    problems += [f"{name}: tracebacks" for name, run in runs.items() if run["tracebacks"]]
    for name in SHADOW_RUNS:
        shadow = runs[name].get("shadow")
        if not shadow or not shadow["compared"]:
            problems.append(f"{name}: no comparison")
        elif shadow["different"]:
            problems.append(f"{name}: {shadow['different']} differences between two gateways")
    return {
        "baseline_p99_noise_ms": noise,
        "added_p99_ms": added,
        "added_gateway_cpu_ms_per_request": added_cpu,
        "problems": problems,
    }


def main() -> dict[str, Any]:
    ensure_shared_mariadb()
    url = database_url(os.environ.get("STRESS_CUTOVER_DATABASE", "gw_cutover"))
    seeded = seed(url, FLOWS)
    env = mix_env(seeded)
    legacy = start_gateway(url, workers=WORKERS)
    try:
        probe = start_gateway(url, workers=WORKERS)
        try:
            log(f"cutover: unpaced maximum of the gateway alone for {MAX_SECONDS}s")
            peak = run_wrk(probe.port, MAX_SECONDS, env)
        finally:
            probe.stop()
        rate = round(peak["per_second"] * FRACTION, 1)
        runs = {
            name: one_run(name, url, extra, env, seeded, rate, legacy)
            for name, extra in configurations(legacy.port).items()
        }
    finally:
        legacy.stop()
    figures = {
        "workers_each": WORKERS,
        "max_rps": peak["per_second"],
        "rate_rps": rate,
        "seconds_each": SECONDS,
        "runs": runs,
        **summarise(runs),
    }
    figures["passed"] = not figures["problems"]
    return figures


if __name__ == "__main__":
    result = main()
    save_result("cutover", result)
    print_figures("cutover: shadow compare end to end", result)
    raise SystemExit(0 if result["passed"] else 1)
