"""The OpenAPI 3.1 document, generated from the registry and the marshmallow input schemas."""

import re
from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from backend.registry import Action, registry
from backend.version import __version__
from schemas import base

ERROR_STATUSES = {
    "400": "Bad request (invalid act, invalid JSON, invalid field)",
    "401": "Missing, invalid, expired or revoked token",
    "403": "Not a member of the project, or account disabled",
    "404": "Unknown resource, or no route for this act and method",
    "409": "Conflict (duplicate, flow currently executing)",
    "413": "Body larger than 1 MiB",
    "422": "Input failed validation",
    "503": "Database unavailable",
}
ENVELOPE = {
    "type": "object",
    "required": ["success", "status_code", "message", "timestamp", "request_id"],
    "properties": {
        "success": {"type": "boolean"},
        "status_code": {"type": "integer"},
        "message": {"type": "string"},
        "timestamp": {"type": "string"},
        "request_id": {"type": "string"},
        "data": {},
        "debug": {"type": "object"},
        "status": {"type": "string", "enum": ["error"]},
    },
}
PATH_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}


def new_spec() -> APISpec:
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="GassAPI Gateway",
        version=__version__,
        openapi_version="3.1.0",
        plugins=[plugin],
        info={"description": DESCRIPTION},
        servers=[{"url": "/gassapi2/backend"}],
    )
    plugin.map_to_openapi_type(base.Text, "string", None)
    plugin.map_to_openapi_type(base.Flag, ("integer", "boolean", "string"), None)
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Envelope", ENVELOPE)
    return spec


DESCRIPTION = (
    "Every operation also answers as `?act=NAME&id=ID` on `/gassapi2/backend/` (and the other "
    "mounts) and as a path-style act `/gassapi2/backend/NAME?id=ID`; the act names of each "
    "operation are listed in `x-acts`. The HTTP method picks the handler, as in the legacy API."
)


def openapi_path(action: Action) -> str:
    return re.sub(r"<(\w+)>", r"{\1}", action.path)


def responses(action: Action, method: str) -> dict[str, Any]:
    envelope = {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}}
    ok = {"description": "Success envelope", "content": envelope}
    result: dict[str, Any] = {"200": ok, "201": ok} if method == "POST" else {"200": ok}
    for status, text in ERROR_STATUSES.items():
        result[status] = {"description": text, "content": envelope}
    return result


def operation(action: Action, method: str) -> dict[str, Any]:
    acts = ", ".join(f"`?act={act}`" for act in action.acts) or "no act alias"
    op: dict[str, Any] = {
        "operationId": f"{action.name}_{method.lower()}",
        "summary": action.summary,
        "description": f"Also reachable as {acts} with {method}.",
        "x-acts": list(action.acts),
        "responses": responses(action, method),
    }
    if "<id>" in action.path:
        op["parameters"] = [PATH_ID]
    if action.auth is not None:
        op["security"] = [{"bearerAuth": []}, {}] if action.auth.optional else [{"bearerAuth": []}]
    if action.schema is not None and action.reads_body and method != "GET":
        op["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": action.schema}},
        }
    return op


@cache
def document() -> dict[str, Any]:
    spec = new_spec()
    paths: dict[str, dict[str, Any]] = {}
    for method, action in registry.actions():
        paths.setdefault(openapi_path(action), {})[method.lower()] = operation(action, method)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
