"""The one table `make bench` prints, from the results dictionary it also writes as JSON."""

from typing import Any

# Issue #6: the old PHP backend on this machine, and the targets.
OLD_BACKEND = {"flow": (540, 29.0), "flow_toggle_active": (450, 34.0)}
LIMIT_TARGET = {"flow": 0.5, "flow_toggle_active": 0.8}
SCALING_TARGET = 1.5
RSS_TARGET_MB = 80


def ratio(value: float | None, reference: float | None) -> float | None:
    if not value or not reference:
        return None
    return round(value / reference, 2)


def add_ratios(results: dict[str, Any]) -> None:
    floor = results.get("floor", {}).get("rps")
    for name, row in results.get("scenarios", {}).items():
        if "na" in row:
            continue
        limit = results.get("limit", {}).get(name, {})
        row["ratio_limit"] = ratio(row["rps"], limit.get("rps"))
        row["ratio_floor"] = ratio(row["rps"], floor)
        checks = []
        if name in LIMIT_TARGET and row["ratio_limit"] is not None:
            checks.append(row["ratio_limit"] >= LIMIT_TARGET[name])
        if name in OLD_BACKEND:
            checks.append(row["p99_ms"] < OLD_BACKEND[name][1])
        row["target_met"] = all(checks) if checks else None


def fmt(value: Any, spec: str = "") -> str:
    if value is None:
        return "-"
    return format(value, spec)


def render_table(results: dict[str, Any]) -> str:
    add_ratios(results)
    wire = results.get("wire", {})
    head = (
        f"{'scenario':<20} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} "
        f"{'limit/s':>8} {'x limit':>7} {'x floor':>7} {'trips':>7} {'target':>16}"
    )
    lines = ["", head, "-" * len(head)]
    for name, row in results.get("scenarios", {}).items():
        if "na" in row:
            lines.append(f"{name:<20} {'n/a':>8}  ({row['na']})")
            continue
        limit = results.get("limit", {}).get(name, {})
        trips = wire.get(name, {})
        trip_text = "-"
        if "gateway_round_trips" in trips:
            trip_text = f"{trips['gateway_round_trips']}/{trips['baseline_round_trips']}"
            if not trips["in_sync"]:
                trip_text += "!"
        lines.append(
            f"{name:<20} {row['rps']:>8.1f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} "
            f"{row['errors']:>6} {fmt(limit.get('rps'), '.1f'):>8} "
            f"{fmt(row['ratio_limit'], '.2f'):>7} {fmt(row['ratio_floor'], '.2f'):>7} "
            f"{trip_text:>7} {target_text(name, row):>16}"
        )
    floor = results.get("floor")
    if floor:
        lines.append(
            f"{'(bare Flask floor)':<20} {floor['rps']:>8.1f} {floor['p50_ms']:>8.2f} "
            f"{floor['p99_ms']:>8.2f} {floor['errors']:>6}"
        )
    lines.append("")
    lines.append("trips = database round trips per request, gateway/PyMySQL limit ('!' = the")
    lines.append("limit's statements differ from the gateway's: see wire in results.json)")
    lines += cpu_lines(results)
    lines += scaling_lines(results.get("scaling"))
    lines += memory_lines(results.get("rss_mb"))
    return "\n".join(lines) + "\n"


def target_text(name: str, row: dict[str, Any]) -> str:
    if name in LIMIT_TARGET:
        old_p50 = OLD_BACKEND[name][1]
        verdict = "met" if row.get("target_met") else "MISSED"
        return f">={LIMIT_TARGET[name]} p99<{old_p50:g} {verdict}"
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
    rows = dict(results.get("scenarios", {}))
    if results.get("floor"):
        rows["(floor)"] = results["floor"]
    rows = {name: row for name, row in rows.items() if row.get("cpu_ms_per_request")}
    if not rows:
        return []
    lines = [
        "",
        "CPU ms per request while loaded: gateway workers, MariaDB, wrk, other processes",
        "(others = anything else on the machine during the run: noise)",
    ]
    for name, row in rows.items():
        cpu = row["cpu_ms_per_request"]
        lines.append(
            f"  {name:<20} gateway {cpu['gateway']:6.3f}  mariadb {cpu['mariadb']:6.3f}  "
            f"wrk {cpu['wrk']:6.3f}  others {cpu['others']:6.3f}"
        )
    return lines
