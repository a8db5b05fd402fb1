"""py-spy over every gunicorn worker while a scenario runs; a text summary of where time goes.

py-spy is installed into the venv by `make bench` only; it is not a runtime dependency.
"""

import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

TOP = 25


def py_spy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def record(master_pid: int, load: Callable[[], Any], stem: Path) -> dict[str, Any]:
    """Sample the master and its workers (`--subprocesses`) while `load()` runs."""
    tool = py_spy()
    if tool is None:
        return {"error": "py-spy is not installed (make bench installs it)"}
    raw = stem.with_suffix(".txt")
    command = [
        tool,
        "record",
        "--pid",
        str(master_pid),
        "--subprocesses",
        "--rate",
        "250",
        "--format",
        "raw",
        "--output",
        str(raw),
        "--nonblocking",
    ]
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        measured = load()
    finally:
        spy.send_signal(2)  # SIGINT: py-spy writes its output and exits
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()
    if not raw.exists():
        return {"error": (spy.stderr.read() if spy.stderr else b"").decode()[-500:]}
    summary = summarise(raw)
    stem.with_suffix(".summary.txt").write_text(format_summary(summary))
    return {"while_profiled": measured, "raw": str(raw), **summary}


def frame_name(frame: str) -> str:
    """`func (path/to/module.py:123)` → `func (module.py)`; keeps lines apart per function."""
    name, _, where = frame.partition(" (")
    file = where.rsplit(":", 1)[0].rsplit("/", 1)[-1]
    return f"{name} ({file})"


def summarise(raw: Path) -> dict[str, Any]:
    """Self and inclusive sample counts per function, over the workers (idle samples dropped)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [frame_name(f) for f in stack.split(";") if "(" in f]
        if not frames or any("gunicorn/arbiter.py" in f for f in stack.split(";")[:3]):
            continue
        count = int(count_text)
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    return {
        "samples": total,
        "self": [(name, round(100 * n / total, 1)) for name, n in own.most_common(TOP)],
        "inclusive": [(n, round(100 * c / total, 1)) for n, c in inclusive.most_common(TOP * 2)],
    }


def format_summary(summary: dict[str, Any]) -> str:
    lines = [f"samples: {summary['samples']}", "", "self %:"]
    lines += [f"  {pct:5.1f}  {name}" for name, pct in summary["self"]]
    lines += ["", "inclusive %:"]
    lines += [f"  {pct:5.1f}  {name}" for name, pct in summary["inclusive"]]
    return "\n".join(lines) + "\n"
