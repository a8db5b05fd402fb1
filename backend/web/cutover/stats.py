"""Per-act cut-over counts of one process, kept on disk so every worker's count reaches the report.

Each process writes `CUTOVER_STATE_DIR/<pid>-<random>.json` (atomically, at most once a second,
from the shadow worker thread, and at exit); the report adds every file up. Files of workers that
are gone keep counting until `cutover reset`, which removes them and leaves a marker telling the
live processes to start again from zero.
"""

import json
import os
import secrets
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backend.web.cutover.compare import Comparison
from backend.web.cutover.events import log
from backend.web.cutover.masking import shown

COUNTS = (
    "requests",
    "proxied",
    "proxy_errors",
    "compared",
    "same",
    "different",
    "known",
    "rechecked",
    "legacy_errors",
    "dropped",
)
MAX_PATHS_PER_ACT = 50
FLUSH_SECONDS = 1.0
RESET_MARKER = "reset"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_act() -> dict[str, Any]:
    return {**dict.fromkeys(COUNTS, 0), "paths": {}, "legacy_error_reasons": {}}


class Stats:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._acts: dict[str, dict[str, Any]] = {}
        self._since = utc_now()
        self._pid = 0
        self._name = ""
        self._dirty = False
        self._flushed = 0.0
        self._reset_seen = reset_time(directory)

    def count(self, act: str, key: str) -> None:
        with self._lock:
            self._act(act)[key] += 1
            self._dirty = True

    def _act(self, act: str) -> dict[str, Any]:
        entry = self._acts.get(act)
        if entry is None:
            entry = self._acts[act] = new_act()
        return entry

    def compared(self, act: str, comparison: Comparison, request_id: str) -> None:
        with self._lock:
            entry = self._act(act)
            entry["compared"] += 1
            entry["same" if comparison.same else "different"] += 1
            entry["known"] += comparison.known > 0
            for difference in comparison.differences:
                self._path(entry, difference, request_id)
            self._dirty = True

    def _path(self, entry: dict[str, Any], difference: Any, request_id: str) -> None:
        paths = entry["paths"]
        if difference.shape not in paths and len(paths) >= MAX_PATHS_PER_ACT:
            return
        slot = paths.setdefault(
            difference.shape,
            {
                "count": 0,
                "example": {
                    "path": difference.path,
                    "gateway": shown(difference.gateway, difference.key),
                    "legacy": shown(difference.legacy, difference.key),
                    "request_id": request_id,
                },
            },
        )
        slot["count"] += 1

    def legacy_error(self, act: str, outcome: str) -> None:
        with self._lock:
            entry = self._act(act)
            entry["legacy_errors"] += 1
            reasons = entry["legacy_error_reasons"]
            reasons[outcome] = reasons.get(outcome, 0) + 1
            self._dirty = True

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            acts = json.loads(json.dumps(self._acts))
        return {"since": self._since, "updated": utc_now(), "acts": acts}

    def file(self) -> Path:
        if self._pid != os.getpid():  # a forked worker writes its own file
            self._pid, self._name = os.getpid(), f"{os.getpid()}-{secrets.token_hex(4)}.json"
        return self.directory / self._name

    def restart_after_reset(self) -> None:
        marker = reset_time(self.directory)
        if marker > self._reset_seen:
            with self._lock:
                self._acts, self._since, self._dirty = {}, utc_now(), True
            self._reset_seen = marker

    def flush(self, force: bool = False) -> None:
        """Write this process's counts (at most once a second unless forced; one writer at once)."""
        with self._flush_lock:
            self.restart_after_reset()
            if not self._dirty or (not force and time.monotonic() - self._flushed < FLUSH_SECONDS):
                return
            self._dirty, self._flushed = False, time.monotonic()
            self.write(self.file())

    def write(self, target: Path) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".tmp")
            partial.write_text(json.dumps(self.snapshot()))
            partial.replace(target)
        except OSError as exc:
            log.warning("cut-over counts not written to %s: %s", self.directory, exc)

    def own_file(self) -> Path | None:
        return self.directory / self._name if self._name else None


def load(directory: Path, skip: Path | None = None) -> list[dict[str, Any]]:
    snapshots = []
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else ():
        if path == skip:
            continue
        try:
            snapshots.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            log.warning("unreadable cut-over counts in %s", path.name)
    return snapshots


def merge(snapshots: Iterable[dict[str, Any]]) -> dict[str, Any]:
    acts: dict[str, dict[str, Any]] = {}
    since = []
    snapshots = list(snapshots)
    for snapshot in snapshots:
        since.append(snapshot.get("since", ""))
        for act, counts in snapshot.get("acts", {}).items():
            merge_act(acts.setdefault(act, new_act()), counts)
    first = min(filter(None, since), default=None)
    return {"since": first, "processes": len(snapshots), "acts": acts}


def merge_act(into: dict[str, Any], counts: dict[str, Any]) -> None:
    for key in COUNTS:
        into[key] += int(counts.get(key, 0))
    for shape, slot in counts.get("paths", {}).items():
        merged = into["paths"].setdefault(shape, {"count": 0, "example": slot.get("example")})
        merged["count"] += int(slot.get("count", 0))
    reasons = into["legacy_error_reasons"]
    for outcome, number in counts.get("legacy_error_reasons", {}).items():
        reasons[outcome] = reasons.get(outcome, 0) + int(number)


def reset_time(directory: Path) -> float:
    try:
        return (directory / RESET_MARKER).stat().st_mtime
    except OSError:
        return 0.0


def reset(directory: Path) -> int:
    """Remove every process's counts; live processes drop theirs at their next flush."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / RESET_MARKER).write_text(utc_now())
    removed = 0
    for path in directory.glob("*.json"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed
