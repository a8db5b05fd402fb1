"""Where a request's token comes from (header, `?token=`, form field) and who it names."""

from typing import Any

from flask import Request

from backend.auth.callers import AuthPolicy, authenticate
from backend.auth.tokens import AuthFailure, bearer_token
from backend.web.body import form_fields


def header_token(req: Request) -> str | None:
    header = req.headers.get("Authorization") or req.environ.get("REDIRECT_HTTP_AUTHORIZATION")
    return bearer_token(header)


def request_token(req: Request, policy: AuthPolicy) -> tuple[str | None, bool]:
    """The token, and whether it came in the Authorization header."""
    token = header_token(req)
    if token or not policy.query_token:
        return token, token is not None
    token = req.args.get("token") or form_fields(req).get("token")
    return token or None, False


def caller_for(req: Request, policy: AuthPolicy | None) -> tuple[Any, str | None, bool]:
    """Who the request's token names (None without a policy, or an optional one failing), the
    token, and whether it came in the Authorization header."""
    if policy is None:
        token = bearer_token(req.headers.get("Authorization"))
        return None, token, token is not None
    token, in_header = request_token(req, policy)
    try:
        return authenticate(token, policy), token, in_header
    except AuthFailure as failure:
        if policy.optional:
            return None, token, in_header
        raise policy.error(failure.reason) from None
