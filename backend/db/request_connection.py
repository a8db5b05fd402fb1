"""The request's one connection and one transaction, with or without an ORM Session.

Most acts on the hot path never touch the ORM: their statements run on a DBAPI cursor
(`backend.db.direct`). For them the Session's own machinery (its construction, its transaction
object, the autobegin, the commit's bookkeeping and the teardown) costs more than the statement
itself. So on MySQL/MariaDB the first direct statement of a request opens a plain Core
connection and begins its transaction (the same pool, the same `begin`/`commit`/`rollback`
events, the same error handling); the dispatcher commits or rolls it back; the app context's
teardown returns it to the pool.

Where the ORM is needed after all, the Session joins that connection and its transaction
(`RequestSession.get_bind`, `join_transaction_mode="control_fully"`): a request still has one
connection and one transaction, whichever of the two began it. A Session already in a
transaction when the first direct statement runs lends its own connection instead. The held
connection is scoped exactly like the Session (Flask-SQLAlchemy's scope: the app context).
"""

import logging
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

_held: dict[Any, Connection] = {}  # scope of the Session registry → the connection it holds


class RequestSession(Session):
    """Flask-SQLAlchemy's Session, bound to the request's connection when one is held."""

    def get_bind(self, *args: Any, **kwargs: Any) -> Engine | Connection:
        held = _held.get(self._db.session.registry.scopefunc())
        return held if held is not None else super().get_bind(*args, **kwargs)


SESSION_OPTIONS = {"class_": RequestSession, "join_transaction_mode": "control_fully"}


def current(db: SQLAlchemy) -> Connection:
    """The request's connection, in a transaction: the one held, the Session's if it is in a
    transaction, else a new one from the pool."""
    registry = db.session.registry
    scope = registry.scopefunc()
    held = _held.get(scope)
    if held is None:
        if registry.has() and registry().in_transaction():
            return registry().connection()
        held = _held[scope] = db.engine.connect()
    if held.get_transaction() is None:
        held.begin()  # `backend.db.transactions`: autocommit for a read-only act
    return held


def commit(db: SQLAlchemy) -> None:
    """The Session's work (when there is a Session) and the request's transaction."""
    registry = db.session.registry
    if registry.has():
        registry().commit()  # a joined Session commits the held connection's transaction too
    held = _held.get(registry.scopefunc())
    if held is not None and held.get_transaction() is not None:
        held.commit()


def rollback(db: SQLAlchemy) -> None:
    """Both, like `commit`; a transaction a failed statement or commit left inactive too."""
    registry = db.session.registry
    if registry.has():
        registry().rollback()
    held = _held.get(registry.scopefunc())
    if held is not None and held.get_transaction() is not None:
        held.rollback()


def install(app: Flask, db: SQLAlchemy) -> None:
    """Before `db.init_app`: teardown functions run in reverse order, so the Session is removed
    first and the connection it may have joined is returned to the pool after it (an unfinished
    transaction rolled back)."""

    @app.teardown_appcontext
    def release(_: BaseException | None) -> None:
        held = _held.pop(db.session.registry.scopefunc(), None)
        if held is not None:
            close(held)


def close(held: Connection) -> None:
    """Back to the pool. A rollback that fails here (the server went away after the answer was
    made) has already had SQLAlchemy discard the connection; the answer stands."""
    try:
        held.close()
    except SQLAlchemyError:
        logging.getLogger(__name__).warning("closing the request's connection failed; discarded")
