"""Shadow compare: after the client has the gateway's answer, a sample of read requests is
replayed to the legacy and the two envelopes are compared, off the request path.

One bounded queue and one worker thread per process (started in the process that serves, so a
forked gunicorn worker gets its own). The request thread only ever does a `put_nowait`: a full
queue drops the replay and counts it, so the client never waits for the legacy.
"""

import os
import queue
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from backend.web.cutover.compare import Comparison, KnownDivergence, compare, envelope_of
from backend.web.cutover.events import Once, log, log_event
from backend.web.cutover.masking import shown
from backend.web.cutover.metrics import SHADOW_TOTAL
from backend.web.cutover.stats import FLUSH_SECONDS, Stats
from backend.web.cutover.upstream import LegacyFailure, Upstream, invalid

RECHECK_ROUNDS = 3


@dataclass(frozen=True)
class Replay:
    act: str
    method: str
    query: str
    headers: Any
    body: bytes
    request_id: str
    gateway_status: int = 0
    gateway_body: bytes = b""

    def answered(self, status: int, body: bytes) -> "Replay":
        return replace(self, gateway_status=status, gateway_body=body)


class Shadow:
    def __init__(
        self,
        upstream: Upstream,
        stats: Stats,
        known: tuple[KnownDivergence, ...],
        recheck: Callable[[Replay], bytes],
        *,
        queue_size: int,
        sample_rate: float,
    ) -> None:
        self.upstream, self.stats, self.known, self.recheck = upstream, stats, known, recheck
        self.queue_size, self.sample_rate = queue_size, sample_rate
        self._pid = 0
        self._queue: queue.Queue[Replay] = queue.Queue(queue_size)
        self.first_time = Once()
        self._lock = threading.Lock()

    def sampled(self) -> bool:
        return self.sample_rate >= 1 or random.random() < self.sample_rate

    def start(self) -> None:
        """The worker of this process (also the one that writes the counts to disk)."""
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._queue = queue.Queue(self.queue_size)
                thread = threading.Thread(
                    target=self._work, args=(self._queue,), name="shadow", daemon=True
                )
                thread.start()
                self._pid = os.getpid()

    def submit(self, replay: Replay) -> None:
        self.start()
        try:
            self._queue.put_nowait(replay)
        except queue.Full:
            self.stats.count(replay.act, "dropped")
            SHADOW_TOTAL.labels(replay.act, "dropped").inc()

    def drain(self, timeout: float) -> bool:
        """Wait until every queued replay is compared (tests, the end-to-end run)."""
        pending = self._queue
        with pending.all_tasks_done:
            return pending.all_tasks_done.wait_for(lambda: not pending.unfinished_tasks, timeout)

    def _work(self, pending: "queue.Queue[Replay]") -> None:
        while True:
            try:
                replay = pending.get(timeout=FLUSH_SECONDS)
            except queue.Empty:
                self.stats.flush()
                continue
            try:
                self.process(replay)
            except Exception:  # a bug here must not end the thread (the client is long served)
                log.exception("shadow comparison of %s failed", replay.act)
            finally:
                self.stats.flush()
                pending.task_done()

    def process(self, replay: Replay) -> str:
        try:
            legacy = self.legacy_envelope(replay)
            comparison = self.compare(replay, replay.gateway_body, legacy)
            if not comparison.same:
                comparison = self.settle(replay, comparison)
        except LegacyFailure as failure:
            return self.legacy_error(replay, failure.outcome)
        self.stats.compared(replay.act, comparison, replay.request_id)
        outcome = "same" if comparison.same else "different"
        SHADOW_TOTAL.labels(replay.act, outcome).inc()
        if not comparison.same:
            self.log_difference(replay, comparison)
        return outcome

    def legacy_envelope(self, replay: Replay) -> dict[str, Any]:
        answer = self.upstream.send(replay.method, replay.query, replay.headers, replay.body)
        legacy = envelope_of(answer.body)
        if legacy is None:
            raise invalid("no envelope")
        return legacy

    def settle(self, replay: Replay, comparison: Comparison) -> Comparison:
        """Both sides read one database: a write landing between the two reads looks like a
        difference. Ask both again at the same moment, up to RECHECK_ROUNDS times: agreeing
        answers end it (a race), and so does the very same difference twice in a row (a
        divergence, which then costs the legacy one request more, not three)."""
        for _ in range(RECHECK_ROUNDS):
            previous = comparison
            gateway_now, legacy_now = self.both_now(replay)
            comparison = self.compare(replay, gateway_now, legacy_now)
            if comparison.same:
                self.stats.count(replay.act, "rechecked")
                break
            if comparison.differences == previous.differences:
                break
        return comparison

    def both_now(self, replay: Replay) -> tuple[bytes, dict[str, Any]]:
        """The gateway's answer (asked from a helper thread) and the legacy's, side by side."""
        answers: list[bytes] = []
        helper = threading.Thread(target=lambda: answers.append(self.recheck(replay)))
        helper.start()
        try:
            legacy = self.legacy_envelope(replay)
        finally:
            helper.join()
        return (answers[0] if answers else b""), legacy

    def compare(self, replay: Replay, body: bytes, legacy: dict[str, Any]) -> Comparison:
        return compare(replay.act, envelope_of(body) or {}, legacy, self.known)

    def legacy_error(self, replay: Replay, outcome: str) -> str:
        self.stats.legacy_error(replay.act, outcome)
        SHADOW_TOTAL.labels(replay.act, "legacy_error").inc()
        if self.first_time(replay.act, "legacy_error", outcome):
            log_event("shadow_legacy_error", **context(replay), reason=outcome)
        return "legacy_error"

    def log_difference(self, replay: Replay, comparison: Comparison) -> None:
        shape = sorted({difference.shape for difference in comparison.differences})
        if not self.first_time(replay.act, *shape):
            return
        details = [
            {
                "path": difference.path,
                "gateway": shown(difference.gateway, difference.key),
                "legacy": shown(difference.legacy, difference.key),
            }
            for difference in comparison.differences
        ]
        log_event(
            "shadow_difference",
            **context(replay),
            shape=shape,
            differences=details,
            truncated=comparison.truncated,
        )


def context(replay: Replay) -> dict[str, str]:
    return {"act": replay.act, "method": replay.method, "request_id": replay.request_id}
