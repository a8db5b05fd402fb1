"""The one table `make bench` prints, from the results dictionary it also writes as JSON."""

from typing import Any

# Issue #14: gateway req/s ÷ reference ops/s (same run, same database), and the legacy PHP
# backend's own ratio against the same yardstick (shared/perf/README.md).
REFERENCE_TARGET = {"flow": 0.40, "flow_toggle_active": 0.64, "flows": 0.74, "projects": 0.29}
LEGACY_RATIO = {
    "flow": 0.32,
    "flow_toggle_active": 0.51,
    "flows": 0.59,
    "projects": 0.23,
    "health": 0.066,
}
P99_OVER_P50 = 2.0
SCALING_TARGET = 1.5
RSS_TARGET_MB = 80
FLOOR_ROWS = (("floor", "(bare Flask floor)"), ("wsgi_floor", "(bare WSGI floor)"))


def ratio(value: float | None, reference: float | None, digits: int = 2) -> float | None:
    if not value or not reference:
        return None
    return round(value / reference, digits)


def add_ratios(results: dict[str, Any]) -> None:
    floor = results.get("floor", {}).get("rps")
    for name, row in results.get("scenarios", {}).items():
        if "na" in row:
            continue
        limit = results.get("limit", {}).get(name, {})
        reference = results.get("reference", {}).get(name, {})
        row["ratio_limit"] = ratio(row["rps"], limit.get("rps"))
        row["ratio_floor"] = ratio(row["rps"], floor)
        row["ratio_reference"] = ratio(row["rps"], reference.get("ops"), 3)
        row["p99_within"] = row["p99_ms"] <= P99_OVER_P50 * row["p50_ms"]
        checks = [row["p99_within"], row["errors"] == 0]
        if name in REFERENCE_TARGET:
            checks.append((row["ratio_reference"] or 0) >= REFERENCE_TARGET[name])
        row["target_met"] = all(checks) if name in REFERENCE_TARGET else None
    for name, row in results.get("ceiling", {}).items():
        if "na" not in row:
            reference = results.get("reference", {}).get(name, {})
            row["ratio_reference"] = ratio(row["rps"], reference.get("ops"), 3)


def fmt(value: Any, spec: str = "") -> str:
    if value is None:
        return "-"
    return format(value, spec)


def render_table(results: dict[str, Any]) -> str:
    add_ratios(results)
    wire = results.get("wire", {})
    head = (
        f"{'scenario':<20} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'err':>4} "
        f"{'ref/s':>8} {'x ref':>6} {'probe x ref':>11} {'legacy':>6} {'target':>17} "
        f"{'limit/s':>8} {'x limit':>7} {'x floor':>7} {'trips':>6}"
    )
    lines = ["", head, "-" * len(head)]
    for name, row in results.get("scenarios", {}).items():
        if "na" in row:
            lines.append(f"{name:<20} {'n/a':>8}  ({row['na']})")
            continue
        limit = results.get("limit", {}).get(name, {})
        reference = results.get("reference", {}).get(name, {})
        lines.append(
            f"{name:<20} {row['rps']:>8.1f} {row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f} "
            f"{row['errors']:>4} {fmt(reference.get('ops'), '.0f'):>8} "
            f"{fmt(row['ratio_reference'], '.3f'):>6} "
            f"{ceiling_text(results.get('ceiling', {}).get(name)):>11} "
            f"{fmt(LEGACY_RATIO.get(name), '.3f'):>6} "
            f"{target_text(name, row):>17} {fmt(limit.get('rps'), '.1f'):>8} "
            f"{fmt(row['ratio_limit'], '.2f'):>7} {fmt(row['ratio_floor'], '.2f'):>7} "
            f"{trip_text(wire.get(name, {})):>6}"
        )
    for key, label in FLOOR_ROWS:
        if floor := results.get(key):
            lines.append(
                f"{label:<20} {floor['rps']:>8.1f} {floor['p50_ms']:>7.2f} "
                f"{floor['p99_ms']:>7.2f} {floor['errors']:>4}"
            )
    lines.append("")
    lines += [
        "x ref = gateway req/s / reference ops/s (bench/reference.py, same run, same rows);",
        "legacy = the PHP backend's ratio to the same yardstick; target = issue #14 (ratio,",
        f"p99 <= {P99_OVER_P50:g} x p50, no errors). trips = database round trips per",
        "request, gateway/PyMySQL limit ('!' = the limit's statements differ: see wire in",
        "results.json)",
        "probe x ref = issue #14's probe (bench/probe_app.py) / the same reference: bare Flask +",
        "PyJWT + PyMySQL (the caller checked in the read's own statement) + json.dumps, same",
        "gunicorn: what this stack reaches with the least work on this machine; not a bound where",
        "the gateway does less (orjson, remembered definitions: flows). '!' = the probe had errors",
    ]
    lines += cpu_lines(results)
    lines += layer_lines(results)
    lines += scaling_lines(results.get("scaling"))
    lines += memory_lines(results.get("rss_mb"))
    lines.append(f"gunicorn worker class: {results.get('worker_class', 'gevent')}")
    load = results.get("machine", {})
    lines.append(
        f"load average: {fmt_load(load.get('loadavg_at_start'))} at the start, "
        f"{fmt_load(load.get('loadavg_at_end'))} at the end"
    )
    return "\n".join(lines) + "\n"


def fmt_load(values: Any) -> str:
    return "/".join(f"{v:.2f}" for v in values) if values else "-"


def ceiling_text(row: dict[str, Any] | None) -> str:
    if row is None:
        return "-"
    if "na" in row:
        return "n/a"
    text = fmt(row.get("ratio_reference"), ".3f")
    return text + "!" if row["errors"] else text


def trip_text(trips: dict[str, Any]) -> str:
    if "gateway_round_trips" not in trips:
        return "-"
    text = f"{trips['gateway_round_trips']}/{trips['baseline_round_trips']}"
    return text if trips["in_sync"] else text + "!"


def target_text(name: str, row: dict[str, Any]) -> str:
    if name in REFERENCE_TARGET:
        verdict = "met" if row.get("target_met") else "MISSED"
        return f">={REFERENCE_TARGET[name]:.2f} {verdict}"
    if name == "health":
        return "report"
    if name == "login":
        return "bcrypt-bound"
    return ""


def scaling_lines(scaling: dict[str, Any] | None) -> list[str]:
    if not scaling:
        return []
    lines = ["", "scaling (flows list at 1 connection; toggles of one hot flow at full load):"]
    for label in ("100", "10k", "100k"):
        row = scaling[f"flows_list_{label}"]
        ratio_text = ""
        if label != "100":
            value = scaling[f"list_p50_ratio_{label}"]
            if value is None:
                ratio_text = "  no request finished: MISSED"
            else:
                verdict = "met" if value <= SCALING_TARGET else "MISSED"
                ratio_text = f"  x{value:.2f} of 100 (target <= {SCALING_TARGET}) {verdict}"
        lines.append(
            f"  flows list, {label:>4} flows: p50 {row['p50_ms']:9.2f} ms  "
            f"({row['requests']} requests, {row['errors']} errors){ratio_text}"
        )
    for label in ("1", "1000"):
        row = scaling[f"toggle_hot_{label}"]
        lines.append(
            f"  toggle, {label:>4} flows in project: {row['rps']:8.1f} req/s  "
            f"p50 {row['p50_ms']:.2f} ms  ({row['errors']} errors)"
        )
    lines.append(f"  toggle ratio 1000 vs 1: {scaling['toggle_rps_ratio_1000_vs_1']:.2f}")
    for label, plan in scaling.get("explain", {}).items():
        flows = plan[0] if plan else {}
        lines.append(
            f"  EXPLAIN list {label:>4}: key {flows.get('key')}, rows {flows.get('rows')}, "
            f"{flows.get('Extra')}"
        )
    extra = scaling.get("with_optional_indexes")
    if extra:
        lines.append(
            f"  with the optional `add-indexes` ({extra['added']['seconds']} s to add, "
            "not part of the legacy schema):"
        )
        for label in ("100", "10k", "100k"):
            row = extra.get(f"flows_list_{label}")
            if row:
                ratio_value = extra.get(f"list_p50_ratio_{label}")
                ratio_text = f"  x{ratio_value:.2f} of 100" if ratio_value else ""
                lines.append(
                    f"    flows list, {label:>4} flows: p50 {row['p50_ms']:9.2f} ms{ratio_text}"
                )
        plan = extra.get("explain", {}).get("100k") or [{}]
        lines.append(f"    EXPLAIN list 100k: key {plan[0].get('key')}, {plan[0].get('Extra')}")
    return lines


def memory_lines(rss: dict[str, float | None] | None) -> list[str]:
    if not rss:
        return []
    values = [v for v in rss.values() if v is not None]
    worst = max(values) if values else None
    verdict = "met" if worst is not None and worst <= RSS_TARGET_MB else "MISSED"
    listed = ", ".join(f"{v:.1f}" for v in values)
    return ["", f"gateway RSS per worker (MB): {listed}  (target <= {RSS_TARGET_MB}) {verdict}"]


def cpu_lines(results: dict[str, Any]) -> list[str]:
    rows = {}
    ceiling = results.get("ceiling", {})
    for name, row in results.get("scenarios", {}).items():
        rows[name] = row
        if name in ceiling:
            rows[f"{name} (probe)"] = ceiling[name]
    for key, label in FLOOR_ROWS:
        if results.get(key):
            rows[label] = results[key]
    rows = {name: row for name, row in rows.items() if row.get("cpu_ms_per_request")}
    if not rows:
        return []
    lines = [
        "",
        "CPU ms per request while loaded: gateway workers (the floor's and the probe's for",
        "their rows), MariaDB, wrk, other processes",
        "(others = anything else on the machine during the run: noise)",
    ]
    for name, row in rows.items():
        cpu = row["cpu_ms_per_request"]
        lines.append(
            f"  {name:<26} gateway {cpu['gateway']:6.3f}  mariadb {cpu['mariadb']:6.3f}  "
            f"wrk {cpu['wrk']:6.3f}  others {cpu['others']:6.3f}"
        )
    return lines


def layers(results: dict[str, Any], name: str) -> dict[str, float] | None:
    """A referenced scenario's worker CPU per request split by layer, each measured in this run:
    gunicorn and the kernel (the WSGI floor), Flask's request handling (the Flask floor above
    it), the scenario's least work (the probe above the Flask floor: PyJWT, PyMySQL, JSON) and
    the gateway's own duties (the gateway above the probe); `budget` is what a worker may spend
    per request at the target, the row's MariaDB, wrk and others taken as measured."""
    cpu = results.get("scenarios", {}).get(name, {}).get("cpu_ms_per_request")
    probe = results.get("ceiling", {}).get(name, {}).get("cpu_ms_per_request")
    flask_floor = results.get("floor", {}).get("cpu_ms_per_request")
    wsgi_floor = results.get("wsgi_floor", {}).get("cpu_ms_per_request")
    ops = results.get("reference", {}).get(name, {}).get("ops")
    cores = results.get("machine", {}).get("cores")
    if not (cpu and probe and flask_floor and wsgi_floor and ops and cores):
        return None
    flask, bare = flask_floor["gateway"], wsgi_floor["gateway"]
    around = cpu["mariadb"] + cpu["wrk"] + cpu["others"]
    return {
        "gunicorn": bare,
        "flask": flask - bare,
        "least_work": probe["gateway"] - flask,
        "duties": cpu["gateway"] - probe["gateway"],
        "gateway": cpu["gateway"],
        "budget": cores * 1000 / (REFERENCE_TARGET[name] * ops) - around,
    }


def layer_lines(results: dict[str, Any]) -> list[str]:
    found = {name: layers(results, name) for name in REFERENCE_TARGET}
    lines = [
        f"  {name:<20} {row['gunicorn']:6.3f} {row['flask']:+7.3f} {row['least_work']:+7.3f} "
        f"{row['duties']:+7.3f} = {row['gateway']:6.3f}   {row['budget']:6.3f}"
        for name, row in found.items()
        if row
    ]
    if not lines:
        return []
    return [
        "",
        "worker CPU ms per request by layer: gunicorn alone (WSGI floor), + Flask (Flask floor),",
        "+ the least work of the scenario (probe), + the gateway's own duties (gateway); budget =",
        "what a worker may spend at the target, with this row's MariaDB, wrk and others",
        f"  {'scenario':<20} {'wsgi':>6} {'flask':>7} {'least':>7} {'duties':>7}   {'worker':>6}"
        f"   {'budget':>6}",
        *lines,
    ]
