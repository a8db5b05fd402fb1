"""MCP acts: mint a project token with its client config, validate a token, the token's project,
and the token lifecycle: list a project's tokens, revoke one, the owner's minting policy."""

import json
from typing import Any

from flask import current_app
from sqlalchemy import update

from backend.auth.access import require_access
from backend.auth.callers import ANY_TOKEN, STRICT, AuthPolicy, authenticate
from backend.auth.tokens import AuthFailure
from backend.core.call import Call, Caller, Reply
from backend.core.errors import BadRequest, NotAuthenticated, NotFound
from backend.core.registry import action
from backend.db import db
from backend.legacy.clock import now
from backend.legacy.wire import row_dict
from backend.models import PROJECTS, McpClientToken
from schemas.mcp import McpTokenPolicyIn
from schemas.queries import McpConfigQuery, PageQuery, load_query
from services import mcp_tokens
from services.environments import environment_rows
from services.paging import page_of
from services.projects import fetch_project, project_detail_data, require_owner

# Legacy mode L: a JWT only (header, `?token=` or form field), one wording for every failure.
CONFIG_AUTH = AuthPolicy(
    mcp=False, query_token=True, missing="Unauthorized", invalid="Unauthorized"
)
API_PATH = "/gassapi2/backend/"
VALIDATE_ACTS = ("mcp_validate", "validate_token")
TOKENS_ACTS = ("mcp_tokens", "mcp_token_policy")


def api_base_url(app_url: str) -> str:
    """APP_URL + `/gassapi2/backend/`, without doubling a path APP_URL already ends with."""
    base = ("http://localhost" if app_url in ("", "localhost") else app_url).rstrip("/")
    if base.endswith(API_PATH.rstrip("/")):
        return base + "/"
    return base + API_PATH


def decoded_variables(text: str | None) -> Any:
    """Stored JSON text as a value; empty text is an empty map, unparsable text is null."""
    if not text:
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return None


def config_environment(env: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": env["id"],
        "name": env["name"],
        "is_default": bool(env["is_default"]),
        "variables": decoded_variables(env["variables"]),
    }


@action(
    "/project/<id>/generate-config",
    methods=("POST",),
    acts=("mcp_generate_config",),
    auth=CONFIG_AUTH,
    summary="Generate MCP config for project (a new token acting as the caller; optional "
    "?expires_in_days=N; members only if the owner allows it)",
    query_schemas=(McpConfigQuery,),
)
def mcp_generate_config(call: Call) -> Reply:
    project_id = call.args["id"]
    require_access(call, project_id, NotFound("Project not found"))
    expires_at = mcp_tokens.expiry(load_query(McpConfigQuery, call)["expires_in_days"])
    config = {
        "name": fetch_project(project_id)["name"],
        "project_id": project_id,
        "api_base_url": api_base_url(current_app.config["APP_URL"]),
        "mcp_validate_endpoint": "/mcp/validate",
        "token": mcp_tokens.mint(call, project_id, expires_at),
        "environments": [config_environment(env) for env in environment_rows(project_id)],
    }
    return Reply(config, "MCP config generated", 201)


def mcp_caller(token: str | None) -> Caller:
    """Only an active MCP token of an active owner passes; a JWT here is an invalid token."""
    if not token:
        raise NotAuthenticated("No token provided")
    try:
        caller = authenticate(token, ANY_TOKEN)
    except AuthFailure:
        raise NotAuthenticated("Invalid token") from None
    if caller.mcp_project_id is None:
        raise NotAuthenticated("Invalid token")
    return caller


def validation(token: str | None) -> Reply:
    caller = mcp_caller(token)
    stamp = now()
    db.session.execute(
        update(McpClientToken)
        .where(McpClientToken.id == caller.mcp_token_id)
        .values(last_validated_at=stamp, updated_at=stamp)
    )
    project_id = caller.mcp_project_id
    user = {
        "id": caller.user_id,
        "email": None,
        "project_id": project_id,
        "token_type": "mcp",
        "mcp_token_id": caller.mcp_token_id,
    }
    return Reply(
        {
            "project": row_dict(PROJECTS, fetch_project(project_id)),
            "environments": environment_rows(project_id),
            "user": user,
        },
        "Token valid",
    )


@action(
    "/mcp/validate",
    methods=("GET",),
    acts=VALIDATE_ACTS,
    summary="Validate MCP token",
    errors=(401,),
)
def mcp_validate(call: Call) -> Reply:
    """Token from `Authorization: Bearer`, else `?token=`."""
    return validation(call.token or call.query.get("token"))


@action(
    "/mcp/validate",
    methods=("POST",),
    acts=VALIDATE_ACTS,
    reads_body=True,
    summary="Validate MCP token (mcp2 validate_token; the token may be in the JSON body)",
    errors=(401,),
)
def mcp_validate_post(call: Call) -> Reply:
    return validation(call.token or call.query.get("token") or body_token(call))


def body_token(call: Call) -> str | None:
    token = call.body().get("token")
    return token if isinstance(token, str) else None


@action(
    "/mcp/project",
    methods=("GET",),
    acts=("current_project",),
    auth=ANY_TOKEN,
    summary="The project of the calling MCP token",
    errors=(400,),
)
def current_project(call: Call) -> Reply:
    if call.user.mcp_project_id is None:
        raise BadRequest(
            "current_project needs a project MCP token; with a JWT use ?act=project&id=ID"
        )
    return Reply(project_detail_data(call.user.mcp_project_id), "Project detail")


# --- token lifecycle ------------------------------------------------------------------------


@action(
    "/project/<id>/mcp-tokens",
    methods=("GET",),
    acts=TOKENS_ACTS,
    auth=STRICT,
    summary="List a project's MCP tokens, never their secret (the owner sees all, a member their "
    "own; newest first, at most 100, limit/offset) and the owner's minting policy",
    query_schemas=(PageQuery,),
)
def mcp_tokens_list(call: Call) -> Reply:
    project_id = call.args["id"]
    require_access(call, project_id, NotFound("Project not found"))
    tokens = mcp_tokens.token_rows(call, project_id, page_of(load_query(PageQuery, call)))
    data = {**mcp_tokens.policy(project_id), "tokens": tokens}
    return Reply(data, "MCP tokens fetched")


@action(
    "/project/<id>/mcp-tokens",
    methods=("PUT",),
    acts=TOKENS_ACTS,
    auth=STRICT,
    schema=McpTokenPolicyIn,
    summary="Owner only: whether members may mint MCP tokens for the project",
)
def mcp_token_policy(call: Call) -> Reply:
    project_id = call.args["id"]
    require_owner(call, project_id)
    allowed = call.body()["members_may_mint"]
    return Reply(mcp_tokens.set_members_may_mint(call, project_id, allowed), "MCP token policy set")


@action(
    "/mcp-token/<id>",
    methods=("DELETE",),
    acts=("mcp_token_revoke",),
    auth=STRICT,
    summary="Revoke an MCP token (its project's owner or its minter; idempotent)",
)
def mcp_token_revoke(call: Call) -> Reply:
    return Reply(mcp_tokens.revoke(call, call.args["id"]), "MCP token revoked")
