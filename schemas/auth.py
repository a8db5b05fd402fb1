"""Input schemas of the auth acts, checked in the legacy order with the legacy wording."""

import re
from collections.abc import Callable
from typing import Any

from marshmallow import fields, post_load, pre_load

from backend.core.errors import BadRequest
from backend.legacy import validators
from schemas.base import LegacySchema, OutSchema, Text, flag, integer, stamp, string

NAME_MAX_BYTES = 100
REFRESH_TOKEN_MIN_CHARS = 32
BASE64URL_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")


class Checked(fields.Field):
    """A field cleaned by a legacy validator; its refusals are 400s with the legacy message.
    The OpenAPI document shows it as a string unless `metadata` says otherwise."""

    def __init__(self, check: Callable[[Any], Any], **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {"type": "string"})
        super().__init__(**kwargs)
        self.check = check

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return self.check(value)


def account_name(value: Any) -> str:
    """register / user_update: the legacy ran `sanitize(name, 100)` («Input …») first."""
    validators.text(value, NAME_MAX_BYTES)
    return validators.person_name(value, NAME_MAX_BYTES)


def refresh_token_format(value: Any) -> str:
    """JWT-shaped: at least 32 chars, three strict base64url segments."""
    if not (isinstance(value, str) and len(value) >= REFRESH_TOKEN_MIN_CHARS and jwt_shaped(value)):
        raise BadRequest("Invalid refresh token format")
    return value


def jwt_shaped(value: str) -> bool:
    segments = value.split(".")
    return len(segments) == 3 and all(
        BASE64URL_SEGMENT.fullmatch(segment) and len(segment) % 4 != 1 for segment in segments
    )


class LoginIn(LegacySchema):
    required_fields = ("email", "password")

    email = Checked(validators.email)
    password = Checked(validators.password)


class RegisterIn(LegacySchema):
    required_fields = ("email", "name", "password")

    email = Checked(validators.email)
    name = Checked(account_name)
    password = Checked(validators.password)


class LogoutIn(LegacySchema):
    """Any value is accepted: logout never fails on a bad or unknown refresh token."""

    refresh_token = fields.Raw(allow_none=True)


class RefreshIn(LegacySchema):
    required_fields = ("refresh_token",)

    refresh_token = Checked(refresh_token_format)


class ChangePasswordIn(LegacySchema):
    """The web app sends `old_password`; it stands for `current_password` when that is absent."""

    required_fields = ("current_password", "new_password")

    current_password = Text()
    new_password = Text()

    @pre_load
    def check_required(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if isinstance(data, dict) and data.get("current_password") in (None, ""):
            data = {**data, "current_password": data.get("old_password")}
        return super().check_required(data, **kwargs)


class ForgotPasswordIn(LegacySchema):
    required_fields = ("email",)

    email = Checked(validators.email)


class ResetPasswordIn(LegacySchema):
    required_fields = ("token", "email", "new_password")

    token = Text()
    email = Checked(validators.email)
    new_password = Text()
    confirm_password = Text(allow_none=True)

    @post_load
    def check_new_password(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        confirmation = data.get("confirm_password")
        if confirmation is not None and confirmation != data["new_password"]:
            raise BadRequest("New password and confirmation do not match")
        validators.new_password(data["new_password"], prefix="Password")
        return data


class UserOut(OutSchema):
    """A `users` row without its password hash."""

    id = string()
    email = string()
    name = string(nullable=True)
    avatar_url = string(nullable=True)
    is_active = flag()
    email_verified = flag()
    token_version = integer()
    last_login_at = stamp(nullable=True)
    created_at = stamp()
    updated_at = stamp()


class LoginOut(OutSchema):
    access_token = string()
    refresh_token = string()
    token_type = string()
    expires_in = integer()
    user = fields.Nested(UserOut, required=True)
