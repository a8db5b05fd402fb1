"""Every failure leaves as the legacy envelope: gateway errors, validation, HTTP, database, bugs."""

from flask import Flask, current_app, g
from flask import Response as FlaskResponse
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from backend.core import envelope
from backend.core.errors import (
    GatewayError,
    MethodNotAllowed,
    PayloadTooLarge,
    RouteNotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from backend.db import db, request_connection
from backend.db.resilience import is_retryable, is_unavailable
from backend.models import additive
from backend.web.hooks import request_id

DATABASE_BUSY = "Service temporarily unavailable: database busy, please retry"
HTTP_TRANSLATIONS: dict[int, type[GatewayError]] = {
    404: RouteNotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
}


def rollback() -> None:
    try:
        request_connection.rollback(db)
    except SQLAlchemyError:
        current_app.logger.warning("rollback failed; the connection is discarded")


def commit_refusal() -> None:
    try:
        request_connection.commit(db)
    except DBAPIError:
        rollback()
        current_app.logger.warning("could not record a refused request")


def render(error: GatewayError) -> FlaskResponse:
    if error.keep_writes:
        commit_refusal()
    else:
        rollback()
    response = envelope.fail(
        error.status,
        error.message,
        data=error.data,
        request_id=request_id(),
        tz=current_app.config["TZINFO"],
        debug=current_app.config["DEBUG_ENVELOPE"],
    )
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def on_gateway_error(error: GatewayError) -> FlaskResponse:
    return render(error)


def on_validation_error(error: ValidationError) -> FlaskResponse:
    messages = error.messages if isinstance(error.messages, dict) else {"general": error.messages}
    return render(ValidationFailed(messages))


def on_http_exception(error: HTTPException) -> FlaskResponse:
    translated = HTTP_TRANSLATIONS.get(error.code or 500)
    if translated is not None:
        return render(translated())
    failure = GatewayError(error.description or error.name)
    failure.status = error.code or 500
    return render(failure)


def on_database_error(error: DBAPIError) -> FlaskResponse:
    """Still locked or deadlocked after the bounded retries: busy; connection-level: unreachable;
    a gateway table missing (a legacy database): unavailable until it is created."""
    table = additive.missing_table(error)
    if table is not None:
        rollback()  # before any DDL: this transaction may hold locks on the legacy parents
        return render(additive.table_unavailable(table))
    if is_retryable(error):
        current_app.logger.warning("database busy after retries: %s", error.orig)
        return render(ServiceUnavailable(DATABASE_BUSY))
    if is_unavailable(error):
        current_app.logger.warning("database unavailable: %s", type(error.orig).__name__)
        return render(ServiceUnavailable())
    return on_unexpected(error)


def on_pool_timeout(error: PoolTimeout) -> FlaskResponse:
    """Every pooled connection busy for `pool_timeout` seconds: a load problem, not a bug."""
    current_app.logger.warning("database pool exhausted: %s", error)
    return render(ServiceUnavailable(DATABASE_BUSY))


def on_unexpected(error: Exception) -> FlaskResponse:
    info = g.get("info")
    current_app.logger.exception("unhandled error in %s", info.act if info else None)
    return render(GatewayError())


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(GatewayError, on_gateway_error)
    app.register_error_handler(ValidationError, on_validation_error)
    app.register_error_handler(HTTPException, on_http_exception)
    app.register_error_handler(DBAPIError, on_database_error)
    app.register_error_handler(PoolTimeout, on_pool_timeout)
    app.register_error_handler(Exception, on_unexpected)
