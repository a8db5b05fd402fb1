"""Input schemas of the project acts, and the text and flag fields they share with environments."""

from typing import Any

from marshmallow import post_load

from backend.core.errors import BadRequest
from backend.legacy import php
from schemas.base import (
    Flag,
    LegacySchema,
    OutSchema,
    SafeText,
    Text,
    flag,
    integer,
    json_text,
    stamp,
    string,
)

NAME_BYTES = 255  # the VARCHAR(255) column: longer names are a clear 400, not a database 500


class StrictFlag(Flag):
    """PHP truthiness for numbers and booleans, but the string `"false"` means false (F20)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str):
            return int(php.filter_bool(value))
        return super()._deserialize(value, attr, data, **kwargs)


def refuse_blank(data: dict[str, Any], field: str, message: str) -> None:
    if field in data and not data[field]:
        raise BadRequest(message)


class ProjectCreateIn(LegacySchema):
    required_fields = ("name",)

    name = SafeText(max_bytes=NAME_BYTES)
    description = SafeText(allow_none=True)

    @post_load
    def check_name(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        refuse_blank(data, "name", "Project name cannot be empty")
        return data


class ProjectUpdateIn(LegacySchema):
    """All optional; `description: null` clears it, `name` may not become empty."""

    name = SafeText(max_bytes=NAME_BYTES, allow_none=True)
    description = SafeText(allow_none=True)
    is_public = StrictFlag()

    @post_load
    def check_name(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        refuse_blank(data, "name", "Project name cannot be empty")
        return data


class ProjectMemberIn(LegacySchema):
    """`role` is accepted and ignored, as in legacy (there is no role column)."""

    required_fields = ("user_id",)

    user_id = Text()


class ProjectOut(OutSchema):
    id = string()
    name = string()
    description = string(nullable=True)
    owner_id = string()
    api_key = string(nullable=True)
    is_public = flag()
    settings = json_text(nullable=True)
    last_sync_at = stamp(nullable=True)
    created_at = stamp()
    updated_at = stamp()


class ProjectDetailOut(ProjectOut):
    member_count = integer()
