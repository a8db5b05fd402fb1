"""The one view behind every mount: method, resolve, authenticate, load, call, commit, envelope."""

import json
import math
import re
import time
from functools import cache, partial
from typing import Any

from flask import Request, current_app, g, request
from flask import Response as FlaskResponse
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from backend import envelope, metrics
from backend.auth import AuthFailure, AuthPolicy, authenticate, bearer_token
from backend.db import db
from backend.errors import (
    BadRequest,
    InvalidAction,
    InvalidJson,
    MethodNotAllowed,
    PayloadTooLarge,
    RouteNotFound,
)
from backend.registry import (
    METHODS,
    Action,
    BodySource,
    Call,
    Client,
    Raw,
    Reply,
    Script,
    registry,
)
from backend.resilience import (
    DEFAULT_LOCK_WAIT_TIMEOUT,
    DEFAULT_RETRY_DEADLINE,
    error_code,
    is_retryable,
)
from backend.transactions import reads_only
from backend.validators import php_truthy

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
ROUTING_FIELDS = ("_method",)
CREDENTIAL_FIELDS = ("token",)
JSON_OPENERS = (b"{", b"[")
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
FALSY_IDS = (None, "", "0")


def view(rest: str = "") -> FlaskResponse:
    action, args = resolve(request)
    g.action, g.call_args = action, args
    with reads_only(action.read_only):
        call = build_call(request, action, args)
        result = run(action, call)
    if isinstance(result, Raw):
        return FlaskResponse(
            result.body, 200, headers=dict(result.headers), content_type=result.content_type
        )
    reply = result if isinstance(result, Reply) else Reply(result)
    return envelope.ok(
        reply.data,
        reply.message,
        reply.status,
        request_id=g.request_id,
        tz=current_app.config["TZINFO"],
    )


def script_view(script: Script) -> FlaskResponse:
    """A legacy script (`registry.Script`) at its own URL: the real method only, one transaction."""
    action = script.action
    g.action, g.act, g.path_form = action, action.name, "script"
    if request.method == "OPTIONS":
        result = Raw(b"", envelope.JSON_TYPE)
    elif request.method not in action.methods:
        result = script.refused
    else:
        result = run(action, Call(data=partial(script_body, request), client=client_of(request)))
    return FlaskResponse(
        result.body,
        result.status,
        headers={**result.headers, **script.cors},
        content_type=result.content_type,
    )


# --- resolving ------------------------------------------------------------------------------


def remainder(path: str, mounts: tuple[str, ...]) -> str:
    """What follows the mount: '' for the mount itself, else `flow/ID/toggle-active` or `health`."""
    for mount in mounts:
        if path == mount or path.startswith(mount + "/"):
            return path[len(mount) :].strip("/")
    return path.strip("/")


def effective_method(req: Request) -> str:
    """Legacy override, POST only: form field `_method` (upper-cased), else the header verbatim."""
    if req.method != "POST":
        return req.method
    fields = form_fields(req)
    if "_method" in fields:
        return fields["_method"].upper()
    return req.headers.get("X-HTTP-Method-Override", req.method)


def resolve(req: Request) -> tuple[Action, dict[str, str]]:
    g.act = req.args.get("act")
    rest = remainder(req.path, current_app.config["MOUNTS"])
    if g.act is None and rest and ("/" in rest or rest not in registry.acts):
        g.path_form = "rest"
        return resolve_rest("/" + rest, effective_method(req))
    g.path_form = "act" if g.act is not None else ("path" if rest else "act")
    if g.act is None:
        g.act = rest or "help"
    return resolve_act(g.act, effective_method(req), req.args.get("id"))


def resolve_act(act: str, method: str, ident: str | None) -> tuple[Action, dict[str, str]]:
    path = registry.acts.get(act)
    if path is None:
        raise InvalidAction()
    if method not in METHODS:
        raise MethodNotAllowed()
    if "<id>" not in path:
        return registry.by_path(path, method), {}
    if ident in FALSY_IDS:
        raise RouteNotFound()
    return registry.by_path(path, method), {"id": ident}


def resolve_rest(path: str, method: str) -> tuple[Action, dict[str, str]]:
    if method not in METHODS:
        raise MethodNotAllowed()
    try:
        action, args = registry.match(path, method)
    except RouteNotFound:
        if path.count("/") == 1:
            raise InvalidAction() from None  # a path-style act that does not exist
        raise
    if "id" in args and args["id"] in FALSY_IDS:
        raise RouteNotFound()
    return action, args


# --- building the call ----------------------------------------------------------------------


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


def form_fields(req: Request) -> Any:
    """Form fields of a form body; the raw bytes stay readable (PHP's php://input)."""
    if req.mimetype not in FORM_TYPES:
        return {}
    req.get_data(cache=True)  # parse the form from a cached copy, not from the consumed stream
    return req.form


def read_body(req: Request, action: Action) -> dict[str, Any]:
    raw = req.get_data(cache=True)
    if len(raw) > current_app.config["MAX_BODY_BYTES"]:
        raise PayloadTooLarge()
    if not raw.strip():
        return {}
    if is_form(req, raw):
        return form_data(req, action)
    value = decode_json(raw)
    if value is None or value == []:
        return {}  # `[]` is PHP's json_encode([]): the legacy decoded it like `{}`, no fields
    if not isinstance(value, dict):
        raise BadRequest("Request body must be a JSON object")
    return value


def decode_json(raw: bytes) -> Any:
    try:
        value = json.loads(raw, parse_constant=reject_constant, parse_float=finite_float)
        refuse_lone_surrogates(raw, value)
    except (ValueError, RecursionError):
        raise InvalidJson() from None
    return value


def script_body(req: Request) -> dict[str, Any]:
    """PHP's `json_decode(php://input, true)` then `if (!$input)`: a falsy or undecodable body is
    invalid JSON; an object gives its fields, any other truthy value none."""
    try:
        value = decode_json(req.get_data(cache=True))
    except InvalidJson:
        value = None
    if not php_truthy(value):
        raise InvalidJson()
    return value if isinstance(value, dict) else {}


def is_form(req: Request, raw: bytes) -> bool:
    """A form body; JSON sent under a form type (PHP cURL's default for a string body) is JSON."""
    return req.mimetype in FORM_TYPES and raw.lstrip()[:1] not in JSON_OPENERS


def form_data(req: Request, action: Action) -> dict[str, str]:
    """The form's fields (first value of each) as the body, minus what is no data: `_method`
    (routing) and, on an act that authenticates its caller, `token` (a credential)."""
    skipped = ROUTING_FIELDS + (CREDENTIAL_FIELDS if action.auth is not None else ())
    return {name: value for name, value in form_fields(req).items() if name not in skipped}


def reject_constant(name: str) -> None:
    """PHP's json_decode has no NaN or Infinity; neither do we."""
    raise ValueError(name)


def finite_float(text: str) -> float:
    """`1e999` overflows to infinity, which no JSON column or response could hold."""
    number = float(text)
    if math.isinf(number):
        raise ValueError(text)
    return number


def refuse_lone_surrogates(raw: bytes, value: Any) -> None:
    """`"\\ud800"` decodes to text that is not Unicode (PHP: JSON_ERROR_UTF16); ValueError."""
    if SURROGATE_ESCAPE.search(raw) or json.detect_encoding(raw) != "utf-8":
        json.dumps(value, ensure_ascii=False).encode("utf-8")


@cache
def schema_instance(schema_cls: type) -> Any:
    return schema_cls()


def load_data(req: Request, action: Action) -> dict[str, Any]:
    body = read_body(req, action)
    return schema_instance(action.schema).load(body) if action.schema else body


def body_loader(req: Request, action: Action) -> BodySource:
    """What `call.data` loads on first read: the handler's 404/403 checks come first (legacy).

    Only a Content-Length already over the limit is refused here, before the handler: that costs
    nothing, and no row is looked up or locked for a body that could never be read.
    """
    if not action.reads_body:
        return {}
    if (req.content_length or 0) > current_app.config["MAX_BODY_BYTES"]:
        raise PayloadTooLarge()
    return partial(load_data, req, action)


def client_of(req: Request) -> Client:
    return Client(ip=req.remote_addr, user_agent=req.headers.get("User-Agent"))


def build_call(req: Request, action: Action, args: dict[str, str]) -> Call:
    user, token = caller_for(req, action.auth)
    g.user_id = user.user_id if user else None
    return Call(
        data=body_loader(req, action),
        args=args,
        user=user,
        query=req.args.to_dict(),
        client=client_of(req),
        token=token,
        token_in_header=token is not None and token == header_token(req),
    )


# --- one request, one transaction -----------------------------------------------------------


def run(action: Action, call: Call) -> Any:
    """Run the handler and commit once; re-run it whole on a deadlock or lock-wait timeout.

    At most DB_RETRY_ATTEMPTS runs, and another run only while one more full lock wait still
    fits in DB_RETRY_DEADLINE_SECONDS: three 10 s lock waits would outlast gunicorn's 30 s
    worker timeout and the client would get a dropped connection instead of the 503.
    Every run gets the same `call`, so a body already read is not read again.
    """
    config = current_app.config
    attempts = max(1, int(config["DB_RETRY_ATTEMPTS"]))
    started = time.monotonic()
    for attempt in range(1, attempts + 1):
        try:
            return run_once(action, call)
        except OperationalError as exc:
            # The original error decides the answer (503): a rollback that fails on a connection
            # the error already broke must not replace it with its own (a 500).
            if not rolled_back() or not is_retryable(exc) or attempt == attempts:
                raise
            if not retry_fits(time.monotonic() - started, config):
                raise
            metrics.retried(g.get("act"), error_code(exc))
            time.sleep(0.01 * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def rolled_back() -> bool:
    try:
        db.session.rollback()
    except SQLAlchemyError:
        current_app.logger.warning("rollback after a database error failed", exc_info=True)
        return False
    return True


def retry_fits(elapsed: float, config: Any) -> bool:
    lock_wait = float(config.get("DB_LOCK_WAIT_TIMEOUT", DEFAULT_LOCK_WAIT_TIMEOUT))
    deadline = float(config.get("DB_RETRY_DEADLINE_SECONDS", DEFAULT_RETRY_DEADLINE))
    return elapsed + lock_wait <= deadline


def run_once(action: Action, call: Call) -> Any:
    result = action.func(call)
    db.session.commit()
    return result
