"""Input schemas of the endpoint acts."""

from typing import Any

from marshmallow import fields

from backend.legacy import validators
from schemas.base import (
    NAME_CHARS,
    JsonText,
    LegacySchema,
    OutSchema,
    SafeText,
    Text,
    json_text,
    stamp,
    string,
)

URL_CHARS = 1024  # VARCHAR(1024)
PURPOSE_CHARS = 250  # VARCHAR(250)
TEXT_COLUMN_BYTES = 65535  # TEXT


class HttpMethod(Text):
    """Upper-cased and checked against the legacy list («Invalid HTTP method»)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return validators.http_method(value)


class EndpointUpdateIn(LegacySchema):
    """Every field optional; null clears a nullable column and is ignored for the others.

    `folder_id` moves the endpoint to another folder of the same project.
    """

    name = SafeText(max_chars=NAME_CHARS, empty="Endpoint name cannot be empty", allow_none=True)
    method = HttpMethod(allow_none=True)
    # Byte cap above the column's so that the 1024-character column limit is the one that bites.
    url = SafeText(
        max_bytes=4 * URL_CHARS, max_chars=URL_CHARS, empty="Url cannot be empty", allow_none=True
    )
    description = SafeText(max_bytes=TEXT_COLUMN_BYTES, allow_none=True)
    purpose = SafeText(max_chars=PURPOSE_CHARS, allow_none=True)
    headers = JsonText(allow_none=True)
    body = JsonText(allow_none=True)
    request_params = JsonText(allow_none=True)
    response_schema = JsonText(allow_none=True)
    header_docs = JsonText(allow_none=True)
    folder_id = Text(allow_none=True)


class EndpointCreateIn(EndpointUpdateIn):
    """`folder_id` comes from the URL; one in the body is ignored."""

    class Meta(LegacySchema.Meta):
        exclude = ("folder_id",)

    required_fields = ("name", "method", "url")


class EndpointOut(OutSchema):
    id = string()
    name = string()
    method = string()
    url = string()
    description = string(nullable=True)
    purpose = string(nullable=True)
    headers = json_text(nullable=True)
    body = string(nullable=True)
    folder_id = string()
    created_by = string()
    created_at = stamp()
    updated_at = stamp()
    request_params = json_text(nullable=True)
    response_schema = json_text(nullable=True)
    header_docs = json_text(nullable=True)


class EndpointDetailOut(EndpointOut):
    folder_name = string()
    project_id = string()


class EndpointGroupOut(OutSchema):
    folder_id = string()
    folder_name = string()
    endpoints = fields.List(fields.Nested(EndpointOut), required=True)
