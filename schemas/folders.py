"""Input schemas of the folder acts, and the checked-text field shared with the endpoint acts."""

from typing import Any

from backend import validators
from backend.errors import BadRequest
from schemas.base import Flag, JsonText, LegacySchema, Text

NAME_CHARS = 255  # VARCHAR(255)


class SafeText(Text):
    """Text checked like the legacy `sanitize()` (`validators.text`), then capped to its column.

    `max_bytes` is the legacy limit, `max_chars` the column's; `empty` is the message for a value
    that is blank once trimmed (a NOT NULL name must not become "").
    """

    def __init__(
        self,
        *,
        max_bytes: int = 1000,
        max_chars: int | None = None,
        empty: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_bytes, self.max_chars, self.empty = max_bytes, max_chars, empty

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = validators.text(super()._deserialize(value, attr, data, **kwargs), self.max_bytes)
        if self.empty and not text:
            raise BadRequest(self.empty)
        if self.max_chars is not None and len(text) > self.max_chars:
            raise BadRequest(f"Input too long (max {self.max_chars} characters)")
        return text


class FolderUpdateIn(LegacySchema):
    """Every field optional; `parent_id` null or "" moves the folder to the project root."""

    name = SafeText(max_chars=NAME_CHARS, empty="Folder name cannot be empty", allow_none=True)
    description = SafeText(allow_none=True)
    parent_id = Text(allow_none=True)
    headers = JsonText(allow_none=True)
    variables = JsonText(allow_none=True)
    is_default = Flag(allow_none=True)


class FolderCreateIn(FolderUpdateIn):
    required_fields = ("name",)
