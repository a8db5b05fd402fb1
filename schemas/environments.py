"""Input schemas of the environment acts."""

import json
from typing import Any

from marshmallow import post_load

from schemas.base import JsonText, LegacySchema, OutSchema, SafeText, flag, json_text, stamp, string
from schemas.projects import NAME_BYTES, StrictFlag, refuse_blank

EMPTY_VARIABLES = "{}"
BLANK_NAME = "Environment name cannot be empty"


class Variables(JsonText):
    """An object (web app) or its JSON text (MCP server); text must hold an object or array."""

    default_error_messages = {"not_json": "Must be a JSON object or the JSON text of one."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        encoded = super()._deserialize(value, attr, data, **kwargs)
        if isinstance(value, str) and not holds_container(encoded):
            raise self.make_error("not_json")
        return encoded


def holds_container(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict | list)
    except ValueError:
        return False


def default_variables(data: dict[str, Any]) -> None:
    """`variables: null` (or absent on create) stores an empty map; legacy crashed (F6)."""
    if "variables" in data and data["variables"] is None:
        data["variables"] = EMPTY_VARIABLES


class EnvironmentCreateIn(LegacySchema):
    required_fields = ("name",)

    name = SafeText(max_bytes=NAME_BYTES)
    description = SafeText(allow_none=True)
    variables = Variables(allow_none=True, load_default=EMPTY_VARIABLES)
    is_default = StrictFlag(load_default=0)

    @post_load
    def finish(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        refuse_blank(data, "name", BLANK_NAME)
        default_variables(data)
        return data


class EnvironmentUpdateIn(LegacySchema):
    name = SafeText(max_bytes=NAME_BYTES, allow_none=True)
    description = SafeText(allow_none=True)
    variables = Variables(allow_none=True)
    is_default = StrictFlag()

    @post_load
    def finish(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        refuse_blank(data, "name", BLANK_NAME)
        default_variables(data)
        return data


class EnvironmentOut(OutSchema):
    id = string()
    project_id = string()
    name = string()
    description = string(nullable=True)
    variables = json_text(nullable=True)
    is_default = flag()
    created_at = stamp()
    updated_at = stamp()
