"""The worker's spare connection: the one its last request used, kept for its next request.

A pool checkout and return (SQLAlchemy's `Connection`, the pool's events, its reset) cost more
than most of the statements a request sends. A sync worker serves one request at a time, so a
connection its request left clean (no transaction, not invalidated) stays checked out as the
spare, and the next request takes it instead of the pool's. One spare per process, for the engine
of the last request; under threads or greenlets the other requests of the moment use the pool as
before.

Kept only where `backend.db.pooling` manages the pool (MySQL/MariaDB, pings after an idle spell),
and under its rules: a spare idle for longer than the ping threshold is pinged before it is used
(one that fails is discarded, the request checks out another), and it goes back to the pool
`KEEP_SECONDS` after it left it, so the pool's recycling still applies. The pool gauges count it
as idle (`pooling.spare_moved`). `Engine.dispose()` closes it with the pool's connections.
"""

import logging
import os
import time
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import SQLAlchemyError

from backend.db import pooling

KEEP_SECONDS = 60.0


@dataclass(eq=False)
class Spare:
    engine: Engine
    connection: Connection
    released: float  # when its last request ended (monotonic)
    pid: int = field(default_factory=os.getpid)


_slot: list[Spare] = []  # one; briefly two when two threads keep theirs at the same moment


def kept_for(engine: Engine) -> bool:
    """Whether spares are kept for `engine`: where `backend.db.pooling` manages its pool."""
    return pooling.ping_idle_seconds(engine) > 0


def take(engine: Engine) -> Connection:
    """A connection for a request on `engine`: the spare when it is usable, else a checkout."""
    spare = pop()
    if spare is not None and spare.engine is not engine:
        _slot.append(spare)  # another app's (tests): left for it
        spare = None
    if spare is not None:
        pooling.spare_moved(engine, 1)
        if usable(spare, time.monotonic()):
            return spare.connection
    return engine.connect()


def pop() -> Spare | None:
    """The spare, taken; None when there is none (another thread may just have taken it:
    `list.pop` is atomic, a look first and a pop after are not)."""
    try:
        return _slot.pop()
    except IndexError:
        return None


def usable(spare: Spare, now: float) -> bool:
    """Idle no longer than the ping threshold, or answering a ping now."""
    if now - spare.released <= pooling.ping_idle_seconds(spare.engine):
        return True
    try:
        spare.connection.connection.dbapi_connection.ping(reconnect=False)  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - any failure: discarded, the request checks out another
        spare.connection.invalidate()
        give_back(spare.connection)
        return False
    return True


def keep(held: Connection) -> bool:
    """Keep `held` as the spare when it is clean and young enough (a spare of another engine
    goes back to its pool); False: the caller returns it to the pool."""
    now = time.monotonic()
    engine = held.engine
    if (
        not kept_for(engine)
        or held.invalidated
        or held.closed
        or held.get_transaction() is not None
        or now - pooling.checked_out_at(held) > KEEP_SECONDS
    ):
        return False
    while (other := pop()) is not None:
        pooling.spare_moved(other.engine, 1)
        give_back(other.connection)
    _slot.append(Spare(engine, held, now))
    pooling.spare_moved(engine, -1)
    return True


def give_back(connection: Connection) -> None:
    """Back to the pool. A rollback that fails here (the server went away after the answer was
    made) has already had SQLAlchemy discard the connection; the answer stands."""
    try:
        connection.close()
    except SQLAlchemyError:
        logging.getLogger(__name__).warning("closing the request's connection failed; discarded")


@event.listens_for(Engine, "engine_disposed")
def _disposed(engine: Engine) -> None:
    """A disposed engine's spare is closed like its pool's idle connections. One inherited from
    a parent process is only forgotten (`dispose(close=False)` after a fork): its socket is the
    parent's."""
    for spare in [spare for spare in list(_slot) if spare.engine is engine]:
        try:
            _slot.remove(spare)
        except ValueError:  # a request took it meanwhile
            continue
        pooling.spare_moved(engine, 1)
        if spare.pid == os.getpid():
            spare.connection.invalidate()
            give_back(spare.connection)
