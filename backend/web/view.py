"""The one view behind every mount: resolve the act, build the call, run it, answer the envelope."""

from functools import partial

from flask import Request, current_app, request
from flask import Response as FlaskResponse

from backend.core import envelope
from backend.core.call import Call, Client, Raw, Reply
from backend.core.errors import InvalidAction, MethodNotAllowed, RouteNotFound
from backend.core.registry import FALSY_IDS, METHODS, Action, Script, registry
from backend.db.transactions import reads_only
from backend.runner import run
from backend.web.body import body_loader, form_fields, script_body
from backend.web.credentials import caller_for
from backend.web.hooks import RequestInfo, current_request, request_info


def view(rest: str = "", resolved: tuple[Action, dict[str, str]] | None = None) -> FlaskResponse:
    """`resolved`: the resolution a wrapper of this view already made (the cut-over)."""
    info = request_info()
    req = current_request()
    action, args = resolved or resolve(req, info)
    info.action, info.args = action, args
    with reads_only(action.read_only):
        call = build_call(req, action, args, info)
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
        request_id=info.request_id,
        tz=current_app.config["TZINFO"],
    )


def script_view(script: Script) -> FlaskResponse:
    """A legacy script (`registry.Script`) at its own URL: the real method only, one transaction."""
    action = script.action
    info = request_info()
    info.action, info.act, info.path_form = action, action.name, "script"
    if request.method == "OPTIONS":
        result = Raw(b"", envelope.JSON_TYPE)
    elif request.method not in action.methods:
        result = script.refused
    else:
        result = run(action, Call(partial(script_body, request), client=client_of(request)))
    return FlaskResponse(
        result.body,
        result.status,
        headers={**result.headers, **script.cors},
        content_type=result.content_type,
    )


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


def resolve(req: Request, info: RequestInfo) -> tuple[Action, dict[str, str]]:
    info.act = req.args.get("act")
    rest = remainder(req.path, current_app.config["MOUNTS"])
    if info.act is None and rest and ("/" in rest or rest not in registry.acts):
        info.path_form = "rest"
        return resolve_rest("/" + rest, effective_method(req))
    info.path_form = "act" if info.act is not None else ("path" if rest else "act")
    if info.act is None:
        info.act = rest or "help"
    return registry.resolve_act(info.act, effective_method(req), req.args.get("id"))


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


def client_of(req: Request) -> Client:
    return Client(ip=req.remote_addr, user_agent=req.headers.get("User-Agent"))


def build_call(req: Request, action: Action, args: dict[str, str], info: RequestInfo) -> Call:
    user, token, in_header = caller_for(req, action.auth)
    info.user_id = user.user_id if user else None
    return Call(
        body_loader(req, action),
        args=args,
        user=user,
        query=req.args.to_dict(),
        client=client_of(req),
        token=token,
        token_in_header=in_header,
    )
