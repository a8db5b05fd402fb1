"""Where a request's token comes from (header, `?token=`, form field) and who it names."""

from typing import Any

from flask import Request

from backend.auth.callers import AuthPolicy, authenticate
from backend.auth.tokens import AuthFailure, bearer_token
from backend.web.body import form_fields


def header_token(req: Request) -> str | None:
    header = req.headers.get("Authorization") or req.environ.get("REDIRECT_HTTP_AUTHORIZATION")
    return bearer_token(header)


def request_token(req: Request, policy: AuthPolicy) -> str | None:
    token = header_token(req)
    if token or not policy.query_token:
        return token
    token = req.args.get("token") or form_fields(req).get("token")
    return token or None


def caller_for(req: Request, policy: AuthPolicy | None) -> tuple[Any, str | None]:
    if policy is None:
        return None, bearer_token(req.headers.get("Authorization"))
    token = request_token(req, policy)
    try:
        return authenticate(token, policy), token
    except AuthFailure as failure:
        if policy.optional:
            return None, token
        raise policy.error(failure.reason) from None
