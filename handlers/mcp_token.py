"""`POST /public/generate-mcp-token.php`: the legacy's public script that mcp2's `mcptoken.md`
sends users to. Not an act: bare JSON instead of the envelope, the script's own CORS headers,
405 for any other method, as the PHP file answered. Where the PHP file called the `login`,
`project` and `mcp_generate_config` acts over HTTP, this logs in, checks membership and mints the
token in-process, with the same login checks and throttle as `login` and the same minting as
`mcp_generate_config` (acting as the user who logged in, under the owner's minting policy)."""

from typing import Any

from sqlalchemy import bindparam

from backend.auth.access import member_of
from backend.core import envelope
from backend.core.call import Call, Caller, Raw
from backend.core.errors import GatewayError, InvalidJson, TooManyRequests
from backend.core.registry import script
from backend.db import db
from backend.legacy.php import php_truthy
from backend.models import PROJECTS, User
from schemas.auth import LoginIn
from services import mcp_tokens
from services.credentials import password_login, stamp_login

PATH = "/public/generate-mcp-token.php"
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
}
REQUIRED = ("email", "password", "project_id")
PROJECT_ACCESS_DENIED = "Project access denied"  # what `?act=project` answers, as legacy relayed
MINT_REFUSED = "Failed to generate MCP token"  # the legacy script's words for a refused mint
# The project's card, if the user owns it or is a member (params `user_id`, `project_id`).
MEMBER_PROJECT_CARD = member_of(bindparam("project_id")).add_columns(
    PROJECTS.c.name, PROJECTS.c.description
)
LOGIN_SCHEMA = LoginIn()


def answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Raw:
    return Raw(envelope.dumps(body), envelope.JSON_TYPE, headers=headers or {}, status=status)


def refusal(
    status: int, message: str, error: str | None = None, headers: dict[str, str] | None = None
) -> Raw:
    body: dict[str, Any] = {"success": False, "message": message}
    if error is not None:
        body["error"] = error
    return answer(status, body, headers)


METHOD_NOT_ALLOWED = refusal(405, "Method not allowed. Use POST.")


def login_refusal(error: GatewayError) -> Raw:
    """401 «Login failed» with what `?act=login` would have said; 429 (and when to retry) while
    throttled."""
    wording = envelope.wire_message(error.status, error.message)
    if isinstance(error, TooManyRequests):
        return refusal(429, "Login failed", wording, {"Retry-After": str(error.retry_after)})
    return refusal(401, "Login failed", wording)


def logged_in_user(call: Call, data: dict[str, Any]) -> User:
    """`login`'s own validation, throttle and password check; a refusal raises GatewayError."""
    credentials = LOGIN_SCHEMA.load({"email": data["email"], "password": data["password"]})
    user = password_login(call, credentials["email"], credentials["password"])
    stamp_login(user.id)
    return user


def project_card(user_id: str, project_id: Any) -> dict[str, Any] | None:
    if not isinstance(project_id, str):
        return None  # no project has a non-text id
    params = {"user_id": user_id, "project_id": project_id}
    row = db.session.execute(MEMBER_PROJECT_CARD, params).first()
    return None if row is None else {"id": row.id, "name": row.name, "description": row.description}


@script(PATH, cors=CORS, refused=METHOD_NOT_ALLOWED)
def generate_mcp_token(call: Call) -> Raw:
    """Refusals are answers, not raised: the failed login the throttle counts is committed."""
    try:
        data = call.body()
    except InvalidJson:
        return refusal(400, "Invalid JSON input")
    if not all(php_truthy(data.get(name)) for name in REQUIRED):
        return refusal(400, "Missing required fields: email, password, project_id")
    try:
        user = logged_in_user(call, data)
    except GatewayError as error:
        return login_refusal(error)
    project = project_card(user.id, data["project_id"])
    if project is None:
        denied = envelope.wire_message(403, PROJECT_ACCESS_DENIED)
        return refusal(403, "Project not found or access denied", denied)
    minter = Call(user=Caller(user_id=user.id, email=user.email), client=call.client)
    try:
        token = mcp_tokens.mint(minter, project["id"], None)
    except GatewayError as error:  # the owner reserved minting to themself
        wire = envelope.wire_message(error.status, error.message)
        return refusal(error.status, MINT_REFUSED, wire)
    return answer(201, {"project": project, "mcpClient": {"token": token}})
