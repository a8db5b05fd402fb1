"""The request body as the legacy read it: size limit, JSON only, PHP's refusals; loaded lazily."""

import copy
import json
import math
import re
from functools import partial
from typing import Any

from flask import Request, current_app

from backend.core.call import BodySource
from backend.core.errors import BadRequest, InvalidJson, PayloadTooLarge
from backend.core.registry import Action, schema_instance
from backend.legacy.php import php_truthy

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


ROUTING_FIELDS = ("_method",)
CREDENTIAL_FIELDS = ("token",)
JSON_OPENERS = (b"{", b"[")


SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def form_fields(req: Request) -> Any:
    """Form fields of a form body; the raw bytes stay readable (PHP's php://input)."""
    if req.mimetype not in FORM_TYPES:
        return {}
    req.get_data(cache=True)  # parse the form from a cached copy, not from the consumed stream
    return req.form


def read_body(req: Request, action: Action) -> dict[str, Any]:
    if no_body(req):
        return {}
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


NO_LENGTH = frozenset({None, "", "0"})


def no_body(req: Request) -> bool:
    """A request with neither Content-Length nor Transfer-Encoding, or a zero Content-Length,
    has no body (RFC 9112, section 6.3): nothing to read from the stream."""
    environ = req.environ
    return not environ.get("HTTP_TRANSFER_ENCODING") and environ.get("CONTENT_LENGTH") in NO_LENGTH


def decode_json(raw: bytes) -> Any:
    try:
        value = json.loads(
            raw, parse_constant=reject_constant, parse_float=finite_float, parse_int=float_range_int
        )
        refuse_lone_surrogates(raw, value)
    except (ValueError, OverflowError, RecursionError):
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


def float_range_int(text: str) -> int:
    """An integer past ~1e308 fits no float (PHP's json_decode turns it into INF): refused too."""
    number = int(text)
    float(number)  # OverflowError past the float range
    return number


def refuse_lone_surrogates(raw: bytes, value: Any) -> None:
    """`"\\ud800"` decodes to text that is not Unicode (PHP: JSON_ERROR_UTF16); ValueError."""
    if SURROGATE_ESCAPE.search(raw) or json.detect_encoding(raw) != "utf-8":
        json.dumps(value, ensure_ascii=False).encode("utf-8")


def load_data(req: Request, action: Action) -> dict[str, Any]:
    body = read_body(req, action)
    if not action.schema:
        return body
    return schema_instance(action.schema).load(body) if body else load_empty(action.schema)


EMPTY_LOADS: dict[type, tuple[dict[str, Any], bool]] = {}
SCALARS = (str, int, float, type(None))


def load_empty(schema: type) -> dict[str, Any]:
    """What `schema` makes of an empty body (a toggle without a reason), worked out once.

    Input schemas are functions of the body alone, so the first successful load is the answer
    for every later one; a refusal (a required field) is not kept and is raised each time.
    Each caller gets its own copy: handlers may change what they were given (a copy of the dict
    is enough when every value is a scalar, as `{"reason": None}`).
    """
    kept = EMPTY_LOADS.get(schema)
    if kept is None:
        loaded = schema_instance(schema).load({})
        kept = EMPTY_LOADS[schema] = (loaded, all(isinstance(v, SCALARS) for v in loaded.values()))
    loaded, flat = kept
    return dict(loaded) if flat else copy.deepcopy(loaded)


def body_loader(req: Request, action: Action) -> BodySource:
    """What `call.body()` loads on its first call: the handler's 404/403 checks come first.

    Only a Content-Length already over the limit is refused here, before the handler: that costs
    nothing, and no row is looked up or locked for a body that could never be read.
    """
    if not action.reads_body:
        return {}
    if (req.content_length or 0) > current_app.config["MAX_BODY_BYTES"]:
        raise PayloadTooLarge()
    return partial(load_data, req, action)
