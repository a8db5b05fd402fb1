"""One call, one transaction: run the handler, commit once, re-run it whole on a deadlock.

Used by the HTTP view and by the operator CLI alike.
"""

import time
from typing import Any

from flask import current_app
from prometheus_client import Counter
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from backend.auth.callers import reopen, settle_pending
from backend.core.call import Call
from backend.core.errors import GatewayError
from backend.core.registry import Action
from backend.db import db, request_connection
from backend.db.resilience import error_code, is_retryable

RETRIES = Counter(
    "gassapi_db_retries_total",
    "Whole-handler re-runs after a deadlock, lock wait timeout or Galera certification failure",
    ["handler", "code"],
)


def run(action: Action, call: Call) -> Any:
    """Run the handler and commit once; re-run it whole on a deadlock or lock-wait timeout.

    At most DB_RETRY_ATTEMPTS runs, and another run only while one more full lock wait still
    fits in DB_RETRY_DEADLINE_SECONDS: three 10 s lock waits would outlast gunicorn's 30 s
    worker timeout and the client would get a dropped connection instead of the 503.
    Every run gets the same `call`, so a body already read is not read again.
    """
    config = current_app.config
    attempts = max(1, int(config["DB_RETRY_ATTEMPTS"]))
    started = time.monotonic()
    for attempt in range(1, attempts + 1):
        try:
            return run_once(action, call)
        except OperationalError as exc:
            # The original error decides the answer (503): a rollback that fails on a connection
            # the error already broke must not replace it with its own (a 500).
            if not rolled_back() or not is_retryable(exc) or attempt == attempts:
                raise
            if not retry_fits(time.monotonic() - started, config):
                raise
            RETRIES.labels(action.func.__name__, str(error_code(exc) or "-")).inc()
            time.sleep(0.01 * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def rolled_back() -> bool:
    try:
        request_connection.rollback(db)
    except SQLAlchemyError:
        current_app.logger.warning("rollback after a database error failed", exc_info=True)
        return False
    return True


def retry_fits(elapsed: float, config: Any) -> bool:
    lock_wait = float(config["DB_LOCK_WAIT_TIMEOUT"])
    deadline = float(config["DB_RETRY_DEADLINE_SECONDS"])
    return elapsed + lock_wait <= deadline


def run_once(action: Action, call: Call) -> Any:
    """One run; an account check the act's own statement did not carry is made before its answer
    (`backend.auth.callers.settle_pending`): a refused token wins over the act's 404 or 403."""
    reopen(call)
    try:
        result = action.func(call)
    except GatewayError:
        settle_pending(call)
        raise
    settle_pending(call)
    request_connection.commit(db)
    return result
