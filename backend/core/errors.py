"""The error tree: each class carries the legacy status; the envelope rewrites the message."""

from typing import Any


class GatewayError(Exception):
    status: int = 500
    message: str = "Internal server error"
    keep_writes: bool = False  # a refusal that is itself recorded commits instead of rolling back
    retry_after: int | None = None  # seconds, sent as `Retry-After`

    def __init__(self, message: str | None = None, data: Any = None) -> None:
        super().__init__(message or self.message)
        if message is not None:
            self.message = message
        self.data = data


class BadRequest(GatewayError):
    status = 400
    message = "Bad request"


class InvalidAction(BadRequest):
    message = "Invalid action"


class InvalidJson(BadRequest):
    message = "Invalid JSON format"


class NotAuthenticated(GatewayError):
    status = 401
    message = "Authentication required"


class InvalidCredentials(NotAuthenticated):
    """Wrong e-mail or password; the failed attempt written by the handler is kept."""

    message = "Invalid credentials"
    keep_writes = True


class TooManyRequests(GatewayError):
    status = 429
    message = "Too many failed login attempts, try again later"
    retry_after = 60

    def __init__(self, retry_after: int | None = None) -> None:
        super().__init__()
        if retry_after is not None:
            self.retry_after = max(1, retry_after)


class Forbidden(GatewayError):
    status = 403
    message = "Forbidden"


class NotFound(GatewayError):
    status = 404
    message = "Resource not found"


class RouteNotFound(NotFound):
    message = "Route not found"


class MethodNotAllowed(NotFound):
    """The legacy answers an unsupported HTTP method with 404, never 405."""

    message = "Method not allowed"


class Conflict(GatewayError):
    status = 409
    message = "Conflict"


class PayloadTooLarge(GatewayError):
    status = 413
    message = "Input too large"


class ValidationFailed(GatewayError):
    """422 with the legacy `validation_errors`/`field_count` data shape."""

    status = 422
    message = "Invalid input"

    def __init__(self, errors: dict[str, Any], message: str | None = None) -> None:
        super().__init__(
            message or first_error(errors) or self.message,
            {"validation_errors": errors, "field_count": len(errors)},
        )


class ServiceUnavailable(GatewayError):
    status = 503
    message = "Service temporarily unavailable: database unreachable"
    retry_after = 1


def first_error(errors: dict[str, Any]) -> str:
    for field, detail in errors.items():
        while isinstance(detail, (list, dict)) and detail:
            detail = detail[0] if isinstance(detail, list) else next(iter(detail.values()))
        return f"{field}: {detail}"
    return ""
