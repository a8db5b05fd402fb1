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

The held connection is the worker's spare connection when it has a usable one, else a checkout;
at the end it becomes the spare or goes back to the pool (`backend.db.spare`).
"""

from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session
from sqlalchemy import Connection, Engine

from backend.db import spare
from backend.db.transactions import READ_ONLY

_held: dict[Any, Connection] = {}  # scope of the Session registry → the connection it holds


def hold(engine: Engine, scope: Any) -> Connection:
    """The worker's spare or a checkout, held for the request of `scope`."""
    held = _held[scope] = spare.take(engine)
    return held


class RequestSession(Session):
    """Flask-SQLAlchemy's Session, bound to the request's connection when one is held."""

    def get_bind(self, *args: Any, **kwargs: Any) -> Engine | Connection:
        """The held connection; where spares are kept, the Session's first statement takes one
        (the spare, or a checkout) and holds it, as a direct statement would."""
        scope = self._db.session.registry.scopefunc()
        held = _held.get(scope)
        if held is None:
            bind = super().get_bind(*args, **kwargs)
            if not isinstance(bind, Engine) or not spare.kept_for(bind):
                return bind
            held = hold(bind, scope)
        return held


SESSION_OPTIONS = {"class_": RequestSession, "join_transaction_mode": "control_fully"}


def current(db: SQLAlchemy) -> Connection:
    """The request's connection: the one held, the Session's if it is in a transaction, else a
    new one from the pool; in a transaction, or for a read-only act in autocommit without one
    (`backend.db.transactions`: its first write or lock begins it)."""
    registry = db.session.registry
    scope = registry.scopefunc()
    held = _held.get(scope)
    if held is None:
        if registry.has() and registry().in_transaction():
            return registry().connection()
        held = hold(db.engine, scope)
    if held.get_transaction() is None:
        if READ_ONLY.get():
            autocommit(held)
        else:
            held.begin()
    return held


def autocommit(held: Connection) -> None:
    """The held connection in autocommit, without SQLAlchemy's transaction bookkeeping (a read
    sends no COMMIT, so there is nothing to end); a failure is SQLAlchemy's, as `begin`'s."""
    dbapi_connection = held.connection.dbapi_connection
    if dbapi_connection.autocommit_mode:  # type: ignore[union-attr]
        return
    try:
        dbapi_connection.autocommit(True)  # type: ignore[union-attr]
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy wraps, invalidates or re-raises it
        held._handle_dbapi_exception(exc, "SET AUTOCOMMIT = 1", {}, None, None)  # noqa: SLF001


def commit(db: SQLAlchemy) -> None:
    """The Session's work (when there is a Session) and the request's transaction."""
    registry = db.session.registry
    held = _held.get(registry.scopefunc())
    if held is not None and held.get_transaction() is not None:
        send_deferred(held)
    if registry.has():
        registry().commit()  # a joined Session commits the held connection's transaction too
    if held is not None and held.get_transaction() is not None:
        held.commit()


def send_deferred(held: Connection) -> None:
    """The writes `direct.execute_later` deferred, sent before the COMMIT as statements: a
    failure is then a statement's error, with the transaction still there for the rollback."""
    dbapi_connection = held.connection.dbapi_connection
    send = getattr(dbapi_connection, "send_deferred", None)  # MySQL/MariaDB only
    if send is None:
        return
    try:
        send()
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy wraps, invalidates or re-raises it
        held._handle_dbapi_exception(exc, "(deferred writes)", {}, None, None)  # noqa: SLF001


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
    transaction rolled back), or kept as the spare."""

    @app.teardown_appcontext
    def release(_: BaseException | None) -> None:
        scope = db.session.registry.scopefunc()
        held = _held.pop(scope, None)
        if held is not None and not spare.keep(held):
            spare.give_back(held)
