"""`make stress`: concurrency (item 1), database outage (item 2), soak (item 6), then the report.

Every run is bounded (concurrency ~20 s, outage ~2 min, soak STRESS_SOAK_SECONDS plus ~30 s;
STRESS_SOAK_SECONDS=0 skips it) and prints its figures; the exit code is non-zero when any run
failed. The figures land in instance/stress-results/ and docs/reliability.md.
"""

import os
import traceback
from collections.abc import Callable
from typing import Any

from stress import concurrency, outage, report, soak
from stress.common import log, print_figures, save_result

RUNS: tuple[tuple[str, str, Callable[[], dict[str, Any]]], ...] = (
    ("concurrency", "concurrency: two gateways, one database", concurrency.main),
    ("outage", "outage: database stopped under load", outage.main),
    ("soak", "soak: 70% of maximum throughput", soak.main),
)


def main() -> int:
    failed = []
    for name, title, run in RUNS:
        if name == "soak" and int(os.environ.get("STRESS_SOAK_SECONDS", "600")) <= 0:
            log("soak skipped (STRESS_SOAK_SECONDS=0)")
            continue
        try:
            figures = run()
        except (Exception, SystemExit) as exc:  # a broken run still lets the others report
            traceback.print_exc()
            figures = {"passed": False, "problems": [f"{type(exc).__name__}: {exc}"]}
        save_result(name, figures)
        print_figures(title, figures)
        if not figures.get("passed"):
            failed.append(name)
    report.update()
    log(f"figures written to {report.DOC.relative_to(report.ROOT)}")
    if failed:
        log(f"FAILED: {', '.join(failed)}")
        return 1
    log("stress: every run passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
