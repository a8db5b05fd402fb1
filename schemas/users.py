"""Input schemas of the user acts: profile update, user_update, user_toggle_status."""

from typing import Any

from marshmallow import ValidationError, fields, pre_load

from backend.core.errors import BadRequest
from backend.legacy import php, validators
from schemas.auth import Checked, UserOut, account_name
from schemas.base import LegacySchema, OutSchema, integer

AVATAR_URL_MAX_BYTES = 255  # users.avatar_url is VARCHAR(255)
PROFILE_FIELDS = ("name", "email", "avatar_url")


def profile_name(value: Any) -> str:
    trimmed = value.strip(php.PHP_TRIM) if isinstance(value, str) else value
    if not php.php_truthy(trimmed):
        raise BadRequest("Name cannot be empty")
    return validators.person_name(value)


def profile_email(value: Any) -> str:
    if value == "":
        raise BadRequest("Email cannot be empty")
    return validators.email(value)


def avatar_link(value: Any) -> str | None:
    return validators.text(value, AVATAR_URL_MAX_BYTES)


def boolean(value: Any) -> bool:
    """PHP FILTER_VALIDATE_BOOLEAN for scalars; an array or object is no flag at all (422)."""
    if isinstance(value, list | dict) and value:
        raise ValidationError("Not a valid flag.")
    return php.filter_bool(value)


def active_flag(value: Any) -> int:
    return int(boolean(value))


class ProfileUpdateIn(LegacySchema):
    """Null values are ignored; at least one of name, email, avatar_url must be given."""

    name = Checked(profile_name, allow_none=True)
    email = Checked(profile_email, allow_none=True)
    avatar_url = Checked(avatar_link, allow_none=True)

    @pre_load
    def check_something_to_update(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if not data:
            raise BadRequest("No data to update")
        if all(data.get(field) is None for field in PROFILE_FIELDS):
            raise BadRequest("No valid fields to update")
        return data


FLAG_TYPES = {"type": ["integer", "boolean", "string"]}


class UserUpdateIn(LegacySchema):
    """`role` (no such column; the legacy validated then dropped it) is ignored."""

    name = Checked(account_name, allow_none=True)
    email = Checked(validators.email, allow_none=True)
    is_active = Checked(active_flag, allow_none=True, metadata=FLAG_TYPES)


class UserToggleStatusIn(LegacySchema):
    """`is_active` absent or null asks for a flip: of the caller's own, active account, refused."""

    is_active = Checked(boolean, allow_none=True, metadata=FLAG_TYPES)


class UserAnswerOut(OutSchema):
    user = fields.Nested(UserOut, required=True)


class PaginationOut(OutSchema):
    page = integer()
    limit = integer()
    total = integer()
    total_pages = integer()


class UserListOut(OutSchema):
    """A page of users (`pagination`); a search (`total`, `search_query`) or `active_only=true`
    (`total`) lists them all instead."""

    users = fields.List(fields.Nested(UserOut), required=True)
    pagination = fields.Nested(PaginationOut)
    total = fields.Integer()
    search_query = fields.String()


class UserStatsOut(OutSchema):
    total_users = integer()
    active_users = integer()
    inactive_users = integer()
