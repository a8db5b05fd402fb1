"""The cut-over's own log lines: one JSON object each, on the `gassapi.cutover` logger."""

import json
import logging
import threading
from typing import Any

from backend.core import envelope

MAX_KEYS = 1000
log = logging.getLogger("gassapi.cutover")


class Once:
    """True the first time a key is seen (at most MAX_KEYS remembered: after that, silence)."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, ...]] = set()
        self._lock = threading.Lock()

    def __call__(self, *key: str) -> bool:
        with self._lock:
            if key in self._seen or len(self._seen) >= MAX_KEYS:
                return False
            self._seen.add(key)
            return True


def log_event(event: str, **fields: Any) -> None:
    line = {"time": envelope.timestamp_utc(), "event": event, **fields}
    log.warning(json.dumps(line, ensure_ascii=False))
