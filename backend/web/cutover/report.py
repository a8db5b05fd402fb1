"""The readiness report (pure): per legacy act, its mode, what was seen and compared, and a verdict.

Verdicts: `ready` (enough comparisons, none differing outside the known list), `not ready` (and
why), `serving` (the gateway already answers it), `manual` (writes only: never compared, since a
write must happen once; move it with its tests once the reads around it are served).
"""

from collections.abc import Iterable, Mapping
from typing import Any

from backend.web.cutover.modes import LEGACY_PATHS, PROXY, SERVE
from backend.web.cutover.stats import new_act

READY, NOT_READY, SERVING, MANUAL = "ready", "not ready", "serving", "manual"
ROW_KEYS = (
    "requests",
    "proxied",
    "proxy_errors",
    "compared",
    "different",
    "known",
    "rechecked",
    "legacy_errors",
    "dropped",
)


def act_kinds(actions: Iterable[tuple[str, Any]], acts: Mapping[str, str]) -> dict[str, str]:
    """`read` (every handler of the act's path takes GET only), `write` (none), else `mixed`."""
    read_only: dict[str, list[bool]] = {}
    for _, action in actions:
        read_only.setdefault(action.path, []).append(action.read_only)
    kinds = {}
    for act, path in acts.items():
        flags = read_only.get(path, [])
        kinds[act] = "read" if all(flags) else "write" if not any(flags) else "mixed"
    return kinds


def verdict(mode: str, kind: str, row: Mapping[str, Any], minimum: int) -> tuple[str, str]:
    if mode == SERVE:
        return SERVING, "answered by the gateway"
    if kind == "write":
        return MANUAL, "writes are never compared; move it once the reads around it are served"
    compared, different = row["compared"], row["different"]
    if different:
        paths = ", ".join(list(row["paths"])[:3])
        return NOT_READY, f"{different} of {compared} comparisons differ ({paths})"
    if compared < minimum:
        hint = "; mode proxy: set it to shadow to compare" if mode == PROXY else ""
        errors = f"; {row['legacy_errors']} legacy errors" if row["legacy_errors"] else ""
        return NOT_READY, f"{compared} of {minimum} comparisons needed{errors}{hint}"
    tail = "; its writes are not compared" if kind == "mixed" else ""
    return READY, f"{compared} comparisons, 0 differences outside the known list{tail}"


def act_row(act: str, mode: str, kind: str, row: Mapping[str, Any], minimum: int) -> dict[str, Any]:
    decided, reason = verdict(mode, kind, row, minimum)
    return {
        "act": act,
        "mode": mode,
        "kind": kind,
        **{key: row[key] for key in ROW_KEYS},
        "differences": [{"path": path, **slot} for path, slot in row["paths"].items()],
        "legacy_error_reasons": row["legacy_error_reasons"],
        "verdict": decided,
        "reason": reason,
    }


def build(
    modes: Mapping[str, str],
    kinds: Mapping[str, str],
    counts: Mapping[str, Any],
    minimum: int,
) -> dict[str, Any]:
    seen = counts.get("acts", {})
    acts = [
        act_row(act, modes[act], kinds.get(act, "write"), seen.get(act) or new_act(), minimum)
        for act in LEGACY_PATHS
    ]
    summary: dict[str, int] = {}
    for entry in acts:
        summary[entry["verdict"]] = summary.get(entry["verdict"], 0) + 1
    return {
        "since": counts.get("since"),
        "processes": counts.get("processes", 0),
        "min_comparisons": minimum,
        "summary": summary,
        "acts": acts,
    }


TABLE_COLUMNS = ("act", "mode", "kind", "requests", "compared", "different", "legacy_errors")


def details(report: Mapping[str, Any]) -> str:
    """Under the table: why each act in play is (not) ready, and one example per difference."""
    lines = [
        f"since {report['since'] or '-'}, {report['processes']} process(es); ready = at least "
        f"{report['min_comparisons']} comparisons and 0 differences outside the known list"
    ]
    for entry in report["acts"]:
        if entry["verdict"] in (NOT_READY, READY):
            lines.append(f"{entry['act']}: {entry['verdict']}: {entry['reason']}")
        for difference in entry["differences"]:
            example = difference["example"]
            lines.append(
                f"  {difference['path']} x{difference['count']}: gateway {example['gateway']}"
                f" / legacy {example['legacy']} ({example['path']}, {example['request_id']})"
            )
    summary = ", ".join(f"{count} {name}" for name, count in sorted(report["summary"].items()))
    lines.append(f"summary: {summary}")
    return "\n".join(lines)
