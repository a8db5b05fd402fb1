"""Write the last figures (instance/stress-results/*.json) into docs/reliability.md.

Only the block between the `figures:begin` and `figures:end` markers is rewritten; the rest of
the page is prose kept by hand.
"""

import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from stress.common import RESULTS, ROOT, SHARED_SERVER, server_answers

DOC = ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def machine() -> str:
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    version = "?"
    if server_answers(SHARED_SERVER):
        done = subprocess.run(
            ["mariadb", "-h", "127.0.0.1", "-u", "root", "-N", "-e", "SELECT VERSION()"],
            capture_output=True,
            text=True,
            check=False,
        )
        version = done.stdout.strip() or "?"
    return (
        f"{os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; MariaDB {version}"
    )


def hostile_cases() -> str:
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_hostile*.py"))
    if not files:
        return "— (the hostile-input matrix is not in tests/ yet; its author fills this row)"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    cases = [line for line in done.stdout.splitlines() if "::" in line]
    legs = {leg: sum(f"[{leg}" in line for line in cases) for leg in ("sqlite", "mysql")}
    return (
        f"{len(cases)} collected test cases in {', '.join(files)} "
        f"({legs['sqlite']} on SQLite, {legs['mysql']} on MariaDB)"
    )


def row(*cells: Any) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def verdict(result: dict[str, Any] | None) -> str:
    if result is None:
        return "not run"
    return "pass" if result.get("passed") else "**FAIL**: " + "; ".join(result.get("problems", []))


def concurrency_row(c: dict[str, Any]) -> str:
    return row(
        "concurrency (item 1)",
        c["finished_at"],
        f"{c['requests']} requests, {c['threads']} threads, {c['gateways']} gateways, "
        f"{c['flows']} flows in {c['seconds']} s; statuses {c['status_counts']}; "
        f"5xx {c['errors_5xx']}; audit rows {c['audit_rows']} = acknowledged status "
        f"changes {c['status_changes_acknowledged']} ({c['toggles_200']} toggles, "
        f"{c['explicit_changes_200']} explicit); final state = audit replay: "
        f"{c['final_state_matches_audit_replay']}; executions started "
        f"{c['executions_started']}, running past lease after listing "
        f"{c['running_rows_past_lease_after_listing']}, flows still blocked "
        f"{c['flows_still_blocked_after_lease']}",
        verdict(c),
    )


def outage_row(o: dict[str, Any]) -> str:
    windows = "; ".join(
        f"{w['signal']}: down {w['server_down_seconds']} s, 503 seen for "
        f"{w['clients_saw_503_for_seconds']} s, recovered {w['recovery_seconds']} s after "
        f"the server answered"
        for w in o["outage_windows"]
    )
    return row(
        "database outage (item 2)",
        o["finished_at"],
        f"{o['requests']} requests; statuses {o['status_counts']}; during outages "
        f"{o['status_by_phase'].get('outage', {})}; {windows}; recovery "
        f"{o['recovery_seconds']} s; slowest answer {o['max_latency_seconds']} s (longest held "
        f"by the gateway {o.get('max_server_side_seconds', '?')} s, worker timeouts "
        f"{o.get('worker_timeouts', '?')}); "
        f"acknowledged writes {o['acknowledged_writes']}, **lost writes "
        f"{o['lost_writes']}**, half-applied {o['half_applied_status_changes']} + "
        f"{o['projects_without_one_default_environment']}, applied but answered 503 "
        f"{o['applied_but_answered_error']}",
        verdict(o),
    )


def soak_row(s: dict[str, Any]) -> str:
    return row(
        "soak (item 6)",
        s["finished_at"],
        f"max {s['max_throughput_rps']} req/s ({s['workers']} workers); soak "
        f"{s['soak_seconds']} s at {s['achieved_rps']} req/s (target {s['target_rps']}): "
        f"{s['requests']} requests, errors {s['errors']}, p99 "
        f"{s['latency_ms']['p99']} ms; worker RSS growth max "
        f"{s['rss_growth_max']:.1%}, workers restarted {s['workers_restarted']}",
        verdict(s),
    )


def fuzz_row(f: dict[str, Any]) -> str:
    return row(
        "fuzz (item 4)",
        f["finished_at"],
        f"{f['cases']} generated cases ({f['requests_received']} requests received) "
        f"over {f['operations']} operations in {f['seconds']} s; statuses "
        f"{f['status_counts']}; 5xx {f['errors_5xx']}; schema failures "
        f"{f['schema_failures']}{runs_figure(f)}{huge_numbers_figure(f)}"
        f"{hostile_requests_figure(f)}",
        verdict(f),
    )


def runs_figure(f: dict[str, Any]) -> str:
    """Cases per schemathesis run (who calls, how many operations, examples per operation)."""
    runs = f.get("runs", {})
    parts = [
        f"{name} {run['cases']} cases / {run['operations']} operations"
        for name, run in runs.items()
    ]
    if not parts:
        return ""
    return f"; runs (at most {f['max_examples_per_operation']} examples per operation): " + (
        ", ".join(parts)
    )


def hostile_requests_figure(f: dict[str, Any]) -> str:
    """Issue 15's deterministic sweeps (absent from runs made before they existed)."""
    hostile = f.get("hostile_requests")
    if not hostile:
        return ""
    sweeps = ", ".join(
        f"{name} {sum(counts.values())} {counts}"
        for name, counts in hostile["status_counts"].items()
    )
    return f"; issue 15 sweeps {hostile['requests']} requests ({sweeps})"


def huge_numbers_figure(f: dict[str, Any]) -> str:
    """The sweep of integers past the float range (absent from runs made before it existed)."""
    huge = f.get("huge_numbers")
    if not huge:
        return ""
    return f"; huge-number sweep {huge['requests']} requests, statuses {huge['status_counts']}"


def summary_rows(results: dict[str, dict[str, Any]]) -> list[str]:
    c, o, s, f = (results.get(name) for name in ("concurrency", "outage", "soak", "fuzz"))
    rows = []
    if c:
        rows.append(row("concurrency requests / 5xx", f"{c['requests']} / {c['errors_5xx']}"))
    if o:
        rows += [
            row("outage requests / errors by status", f"{o['requests']} / {o['status_counts']}"),
            row(
                "outage windows",
                ", ".join(
                    f"{w['signal']} {w['server_down_seconds']} s" for w in o["outage_windows"]
                ),
            ),
            row("recovery seconds", o["recovery_seconds"]),
            row("lost writes", o["lost_writes"]),
        ]
    if s:
        rows.append(row("soak requests / errors", f"{s['requests']} / {s['errors']}"))
    rows.append(row("hostile cases tried", hostile_cases()))
    if f:
        rows.append(row("fuzz cases tried", f"{f['cases']} (seed {f['seed']})"))
    return rows


BUILDERS = {
    "concurrency": concurrency_row,
    "outage": outage_row,
    "soak": soak_row,
    "fuzz": fuzz_row,
}


def figures_block() -> str:
    results = {name: result for name in BUILDERS if (result := load(name)) is not None}
    lines = [BEGIN, "", f"Machine: {machine()}.", ""]
    lines += [row("run", "when", "figures", "result"), row("---", "---", "---", "---")]
    for name, result in results.items():
        try:
            lines.append(BUILDERS[name](result))
        except (KeyError, TypeError, ValueError):  # a run that broke before its figures
            lines.append(row(name, result.get("finished_at", "?"), "incomplete", verdict(result)))
    lines += ["", row("summary", "value"), row("---", "---")]
    try:
        lines += summary_rows(results)
    except (KeyError, TypeError, ValueError):
        lines.append(row("summary", "incomplete: a run broke before its figures"))
    lines += ["", END]
    return "\n".join(lines)


def rewrite_block(begin: str, end: str, block: str) -> None:
    """Replace the text between the markers (both kept, in `block`); append them if missing."""
    text = DOC.read_text() if DOC.exists() else "# Reliability\n"
    if begin not in text:
        text = f"{text.rstrip()}\n\n{begin}\n{end}\n"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    DOC.write_text(pattern.sub(lambda _: block, text, count=1))


def update() -> None:
    rewrite_block(BEGIN, END, figures_block())


if __name__ == "__main__":
    update()
    print(f"figures written to {DOC.relative_to(ROOT)}")
