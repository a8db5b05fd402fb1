"""Which database errors mean "try the transaction again" and which mean "the database is away"."""

from sqlalchemy.exc import DBAPIError

# Socket timeouts of every gateway connection: connecting (the handshake included) and waiting for
# one answer. A lock wait is one answer, so the read timeout stays above the lock wait timeout.
DB_CONNECT_TIMEOUT = 3
# MySQL/MariaDB: deadlock, lock wait timeout, Galera certification failure / WSREP not ready.
RETRYABLE_CODES = frozenset({1213, 1205, 1047, 1180})
# Can't connect, server gone away, lost connection, server shutdown in progress, connection
# killed; too many connections (server-wide or per user); read-only server (a primary being
# failed over); disconnected by the server for inactivity (MySQL 8).
UNAVAILABLE_CODES = frozenset(
    {2002, 2003, 2006, 2013, 2014, 2055, 1053, 1927, 1040, 1203, 1290, 1836, 4031}
)


def error_code(exc: DBAPIError) -> int | None:
    args = getattr(exc.orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def is_retryable(exc: DBAPIError) -> bool:
    if error_code(exc) in RETRYABLE_CODES:
        return True
    return "database is locked" in str(exc.orig)


def is_unavailable(exc: DBAPIError) -> bool:
    """Connection-level failures, retry exhaustion and lock timeouts: answer 503, not 500."""
    return (
        exc.connection_invalidated
        or error_code(exc) in UNAVAILABLE_CODES
        or is_retryable(exc)
        or "unable to open database" in str(exc.orig)
    )
