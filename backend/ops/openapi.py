"""The OpenAPI 3.1 document, generated from the registry and the marshmallow schemas.

The schemas (input, query and output) reach it through the registry's actions; it never imports
the `schemas` package. Each operation lists the error statuses it can answer, by one rule
(`error_statuses`): 400 when it reads a body or a query string, 401 and 403 when it takes a token,
404 when it names a resource (an id in the path, or a body or query string with a token), 409
when it may write with a token (a handler that is not GET-only), 413 when it reads a body, 414
always (a request line past gunicorn's 4094 bytes, refused before the gateway runs, still as an
envelope: `backend/ops/gunicorn_conf.py`), 422 when a schema validates that body, 503 always (the
database); an act declares what the rule cannot see in `@action(errors=...)`.
"""

import re
import sys
from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from backend.core import envelope
from backend.core.registry import Action, first_line, registry
from backend.ops.version import __version__

ERROR_STATUSES = {
    "400": "Bad request (invalid act, invalid JSON, invalid field)",
    "401": "Missing, invalid, expired or revoked token",
    "403": "Not a member of the project, or account disabled",
    "404": "Unknown resource, or no route for this act and method",
    "409": "Conflict (duplicate, flow currently executing)",
    "413": "Body larger than 1 MiB",
    "414": "Request line (method, path and query string) longer than 4094 bytes",
    "422": "Input failed validation",
    "429": "Too many failed login attempts",
    "503": "Database unavailable",
}
PATH_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
STRING = {"type": "string"}
# Every answer carries the request id (the envelope's `request_id`); a 429 or 503 also says when
# to retry.
REQUEST_ID_HEADER = {
    "X-Request-ID": {"description": "Request id", "required": True, "schema": STRING}
}
RETRY_HEADERS = {
    **REQUEST_ID_HEADER,
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
}
# The few acts whose success is not the JSON envelope (errors still are), by their first act.
RAW_RESPONSES: dict[str, dict[str, Any]] = {
    "openapi": {
        "description": "This OpenAPI 3.1 document",
        "content": {
            "application/json": {
                "schema": {"type": "object", "required": ["openapi", "info", "paths"]}
            }
        },
    },
    "docs": {
        "description": "The API reference page",
        "content": {"text/html": {"schema": STRING}},
    },
    "docs_asset": {
        "description": "A static asset of the API reference page",
        "content": {
            "application/javascript": {"schema": STRING},
            "text/css": {"schema": STRING},
        },
    },
    "metrics": {
        "description": "Prometheus text exposition format",
        "content": {"text/plain": {"schema": STRING}},
    },
}


# A custom marshmallow field and the OpenAPI type(s) it is documented as.
FieldTypes = tuple[tuple[type, str | tuple[str, ...]], ...]


def new_spec(field_types: FieldTypes) -> APISpec:
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="GassAPI Gateway",
        version=__version__,
        openapi_version="3.1.0",
        plugins=[plugin],
        info={"description": DESCRIPTION},
        servers=[{"url": "/gassapi2/backend"}],
    )
    for field_type, openapi_type in field_types:
        plugin.map_to_openapi_type(field_type, openapi_type, None)
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Envelope", envelope_schema(success=True))
    spec.components.schema("ErrorEnvelope", envelope_schema(success=False))
    return spec


def envelope_schema(*, success: bool) -> dict[str, Any]:
    """The envelope of a success (no `status`, no `debug`) or of an error (`status: "error"`)."""
    properties = dict(envelope.SCHEMA["properties"], success={"const": success})
    required = list(envelope.SCHEMA["required"])
    if success:
        del properties["status"], properties["debug"]
    else:
        required.append("status")
    return {**envelope.SCHEMA, "properties": properties, "required": required}


def with_data(data: dict[str, Any]) -> dict[str, Any]:
    """The success envelope whose `data` is `data`."""
    return {
        "allOf": [
            {"$ref": "#/components/schemas/Envelope"},
            {"type": "object", "required": ["data"], "properties": {"data": data}},
        ]
    }


DESCRIPTION = (
    "Every operation also answers as `?act=NAME&id=ID` on `/gassapi2/backend/` (and the other "
    "mounts) and as a path-style act `/gassapi2/backend/NAME?id=ID`; the act names of each "
    "operation are listed in `x-acts`. The HTTP method picks the handler, as in the legacy API."
)


def openapi_path(action: Action) -> str:
    return re.sub(r"<(\w+)>", r"{\1}", action.path)


def error_statuses(action: Action, method: str) -> set[str]:
    """The errors an operation can answer: the rule of the module docstring."""
    reads_body = action.reads_body and method != "GET"
    reads_query = bool(action.query or action.query_schemas)
    token = action.auth is not None
    rules = {
        400: reads_body or reads_query,
        401: token,
        403: token,
        404: "<id>" in action.path or (token and (reads_body or reads_query)),
        409: token and not action.read_only,
        413: reads_body,
        414: True,
        422: reads_body and action.schema is not None,
        503: True,
    }
    return {str(status) for status, applies in rules.items() if applies} | {
        str(status) for status in action.errors
    }


def responses(action: Action, method: str, plugin: MarshmallowPlugin) -> dict[str, Any]:
    data = {} if action.out is None else plugin.converter.resolve_nested_schema(action.out)
    schema = {"$ref": "#/components/schemas/Envelope"} if action.out is None else with_data(data)
    ok = {
        "description": "Success envelope",
        "content": {"application/json": {"schema": schema}},
        "headers": REQUEST_ID_HEADER,
    }
    raw = RAW_RESPONSES.get(action.acts[0] if action.acts else "")
    if raw is not None:
        ok = {"description": raw["description"], "content": raw["content"]}
        ok["headers"] = REQUEST_ID_HEADER
    result: dict[str, Any] = {"200": ok, "201": ok} if method == "POST" else {"200": ok}
    enveloped = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
    statuses = error_statuses(action, method)
    for status, text in ERROR_STATUSES.items():
        if status not in statuses:
            continue
        headers = RETRY_HEADERS if status in ("429", "503") else REQUEST_ID_HEADER
        result[status] = {"description": text, "content": enveloped, "headers": headers}
    return result


def tag(action: Action) -> str:
    """The handler's module (its domain): `handlers.flow_status` → `flow_status`."""
    return action.func.__module__.rsplit(".", 1)[-1]


def tags() -> list[dict[str, str]]:
    seen = {tag(action): action.func.__module__ for _, action in registry.actions()}
    return [
        {"name": name, "description": first_line(sys.modules[module].__doc__)}
        for name, module in seen.items()
    ]


def query_parameters(action: Action, plugin: MarshmallowPlugin) -> list[dict[str, Any]]:
    """The hand-written parameter objects, else the query schemas' fields."""
    if action.query:
        return list(action.query)
    return [
        parameter
        for schema in action.query_schemas
        for parameter in plugin.converter.schema2parameters(schema, location="query")
    ]


def operation(action: Action, method: str, plugin: MarshmallowPlugin) -> dict[str, Any]:
    acts = ", ".join(f"`?act={act}`" for act in action.acts) or "no act alias"
    op: dict[str, Any] = {
        "operationId": f"{action.name}_{method.lower()}",
        "summary": action.summary,
        "description": f"Also reachable as {acts} with {method}.",
        "tags": [tag(action)],
        "x-acts": list(action.acts),
        "responses": responses(action, method, plugin),
    }
    parameters = ([PATH_ID] if "<id>" in action.path else []) + query_parameters(action, plugin)
    if parameters:
        op["parameters"] = parameters
    if action.auth is not None:
        op["security"] = [{"bearerAuth": []}, {}] if action.auth.optional else [{"bearerAuth": []}]
    if action.schema is not None and action.reads_body and method != "GET":
        op["requestBody"] = {
            "required": bool(getattr(action.schema, "required_fields", ())),
            "content": {"application/json": {"schema": action.schema}},
        }
    return op


@cache
def document(field_types: FieldTypes = ()) -> dict[str, Any]:
    """The document; `field_types` documents the input schemas' own field classes."""
    spec = new_spec(field_types)
    plugin = spec.plugins[0]
    paths: dict[str, dict[str, Any]] = {}
    for method, action in registry.actions():
        op = operation(action, method, plugin)
        paths.setdefault(openapi_path(action), {})[method.lower()] = op
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    for entry in tags():
        spec.tag(entry)
    return with_required_fields(spec.to_dict())


def with_required_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """A schema's legacy `required_fields` (400 «Required field: X») are required body keys."""
    components = doc.get("components", {}).get("schemas", {})
    for _, action in registry.actions():
        fields = getattr(action.schema, "required_fields", ())
        component = components.get(getattr(action.schema, "__name__", ""))
        if fields and component is not None:
            component["required"] = sorted(set(component.get("required", [])) | set(fields))
    return doc


def body_fields(doc: dict[str, Any], action: Action, method: str) -> dict[str, str]:
    """One operation's JSON body as `help` lists it: field → its type, `required` marked."""
    operation = doc["paths"].get(openapi_path(action), {}).get(method.lower(), {})
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    name = content.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
    component = doc.get("components", {}).get("schemas", {}).get(name, {})
    required = set(component.get("required", ()))
    return {
        field: field_type(prop) + (", required" if field in required else "")
        for field, prop in component.get("properties", {}).items()
    }


def field_type(prop: dict[str, Any]) -> str:
    kind = prop.get("type", "any")
    return " or ".join(kind) if isinstance(kind, list) else str(kind)
