"""The base input schema and the field types of the legacy wire: text, JSON-in-text, PHP flags."""

from typing import Any, ClassVar

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, pre_load, validate

from backend.core.errors import BadRequest
from backend.legacy import php, validators

NAME_CHARS = 255  # the VARCHAR(255) name columns


class LegacySchema(Schema):
    """Unknown keys are ignored (as legacy); `required_fields` gives the legacy 400 wording."""

    class Meta:
        unknown = EXCLUDE

    required_fields: ClassVar[tuple[str, ...]] = ()

    @pre_load
    def check_required(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        validators.required(data, *self.required_fields)
        return data


class Text(fields.Field):
    """A string; numbers are taken as their text like PHP did; arrays and objects are refused."""

    default_error_messages = {"invalid": "Not a valid string."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool):
            return "1" if value else ""
        if isinstance(value, int | float):
            return str(int(value)) if float(value).is_integer() else str(value)
        if isinstance(value, str):
            return value
        raise self.make_error("invalid")


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


class JsonText(fields.Field):
    """A LONGTEXT JSON column: an object or array is encoded, a string is stored as sent."""

    default_error_messages = {"invalid": "Must be a JSON object, array or string."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, dict | list):
            return php.php_json(value)
        raise self.make_error("invalid")


class Flag(fields.Field):
    """PHP truthiness as 0/1 (`"false"` is true, as in legacy)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, dict | list) and value:
            raise ValidationError("Not a valid flag.")
        return int(php.php_truthy(value))


# How the OpenAPI document shows the fields above that are not marshmallow's own.
OPENAPI_TYPES = (
    (Text, "string"),
    (Flag, ("integer", "boolean", "string")),
    (JsonText, ("object", "array", "string")),
)


class OutSchema(Schema):
    """An answer's `data` exactly as the wire carries it (the legacy formats): every key listed is
    sent, no other key is. The OpenAPI document shows these; the gateway does not serialise with
    them (the rows leave through `backend.legacy.wire`)."""

    class Meta:
        unknown = RAISE


WIRE_DATETIME = validate.Regexp(r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$")


def string(*, nullable: bool = False, description: str = "") -> fields.String:
    return fields.String(required=True, allow_none=nullable, metadata={"description": description})


def integer(*, nullable: bool = False) -> fields.Integer:
    return fields.Integer(required=True, allow_none=nullable)


def flag() -> fields.Integer:
    """A TINYINT(1) column: 0 or 1."""
    return fields.Integer(required=True, validate=validate.OneOf([0, 1]))


def stamp(*, nullable: bool = False) -> fields.String:
    """A DATETIME column as `YYYY-MM-DD HH:MM:SS`, APP_TIMEZONE wall-clock time."""
    return fields.String(required=True, allow_none=nullable, validate=WIRE_DATETIME)


def json_text(*, nullable: bool = False) -> fields.String:
    return string(nullable=nullable, description="A JSON document encoded as a string")
