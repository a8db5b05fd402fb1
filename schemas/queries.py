"""Query-string schemas of the list acts: filters and paging, with the legacy wording.

Values arrive as text; unknown parameters are ignored. A bad value is a 400 with the message the
hand-written parsers gave, and the first bad parameter in declaration order is the one reported.
"""

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, fields

from backend.auth.access import require_access
from backend.core.call import Call
from backend.core.errors import BadRequest, GatewayError
from backend.core.registry import schema_instance
from backend.legacy.validators import label
from schemas import base
from schemas.base import LegacySchema

NOT_GIVEN = ("", "undefined")  # mcp2 sends omitted filters as the literal "undefined"
MAX_NUMBER = 2**63 - 1  # anything past a 64-bit LIMIT/OFFSET would be an SQL error, not a page
MAX_PAGING_NUMBER = 10**9  # users: page × limit stays far inside a 64-bit OFFSET
# PHP's FILTER_VALIDATE_BOOLEAN words (any case), plus JavaScript's `null`, which means "no filter".
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off", "null")
FLOW_STATES = {"active": 1, "inactive": 0, "all": None}
EXECUTION_STATUSES = ("running", "completed", "failed", "expired")
DIGITS = re.compile(r"[0-9]+")
DEFAULT_USERS_LIMIT = 10


class Given(fields.Field):
    """A filter, None when empty or "undefined"; surrounding white space dropped (`strip`)."""

    def __init__(self, *, strip: bool = True, **kwargs: Any) -> None:
        super().__init__(**{"load_default": None, **kwargs})
        self.strip = strip

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = value.strip() if self.strip else value
        return None if text in NOT_GIVEN else text


class WholeNumber(Given):
    """ASCII digits only, at least `minimum`, at most a 64-bit integer."""

    def __init__(self, minimum: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.minimum = minimum

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text is None:
            return None
        wrong = f"{self.name} must be a whole number of at least {self.minimum}"
        if not (text.isascii() and text.isdigit()):
            raise BadRequest(wrong)
        digits = text.lstrip("0") or "0"
        # Length first: int() refuses strings of more than 4300 digits with a ValueError.
        if len(digits) > len(str(MAX_NUMBER)) or int(digits) > MAX_NUMBER:
            raise BadRequest(f"{self.name} is too large")
        if int(digits) < self.minimum:
            raise BadRequest(wrong)
        return int(digits)


class OnlyActive(Given):
    """`is_active`: a true word keeps the active flows only; a false word means every flow.

    mcp2's `activeOnly: false` sends `is_active=false` meaning "not only the active ones" (the
    legacy ignored it), so it only ever narrows; inactive flows alone are `status=inactive`.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text is None:
            return False
        if text.lower() not in TRUE_WORDS + FALSE_WORDS:
            raise BadRequest(f"{self.name} must be true, false, 1 or 0")
        return text.lower() in TRUE_WORDS


class FlowState(Given):
    """`status`: active, inactive or all (any case) as the `is_active` value to match, or None."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text is None:
            return None
        if text.lower() not in FLOW_STATES:
            raise BadRequest(f"{self.name} must be one of: {', '.join(FLOW_STATES)}")
        return FLOW_STATES[text.lower()]


class OneOf(Given):
    def __init__(self, choices: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.choices = choices

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text is not None and text not in self.choices:
            raise BadRequest(f"{self.name} must be one of: {', '.join(self.choices)}")
        return text


class PositiveInt(fields.Field):
    """The users list's paging numbers (legacy wording); empty or absent is `default`."""

    def __init__(self, default: int, **kwargs: Any) -> None:
        super().__init__(load_default=default, **kwargs)
        self.default = default

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if value == "":
            return self.default
        if not DIGITS.fullmatch(value) or not value.strip("0"):
            raise BadRequest(f"{label(self.name)} must be a positive integer")
        # Length first: int() refuses more than 4300 digits with a ValueError (a 500).
        if len(value.lstrip("0")) > len(str(MAX_PAGING_NUMBER)) or int(value) > MAX_PAGING_NUMBER:
            raise BadRequest(f"{label(self.name)} is too large")
        return int(value)


class PageQuery(LegacySchema):
    """`limit` (1 and up; the list caps it) and `offset` (0 and up)."""

    limit = WholeNumber(1)
    offset = WholeNumber(0)


class McpConfigQuery(LegacySchema):
    """`mcp_generate_config`'s optional expiry (the legacy took no input; the query string keeps
    a form body with the `token` field working as before)."""

    expires_in_days = WholeNumber(1)


class FlowListQuery(LegacySchema):
    is_active = OnlyActive(load_default=False)
    status = FlowState()
    folder_id = Given()
    limit = WholeNumber(1)
    offset = WholeNumber(0)


class ExecutionListQuery(LegacySchema):
    status = OneOf(EXECUTION_STATUSES)
    limit = WholeNumber(1)
    offset = WholeNumber(0)


class FolderListQuery(LegacySchema):
    parent_id = Given(strip=False)


class UserListQuery(LegacySchema):
    """`search` wins over `active_only=true`; else the list is paged (`UserPageQuery`)."""

    limit = PositiveInt(DEFAULT_USERS_LIMIT)
    search = fields.String(load_default=None)
    active_only = fields.String(load_default=None)


class UserPageQuery(LegacySchema):
    page = PositiveInt(1)


# The document shows query values as what they mean: text, or a whole number.
OPENAPI_TYPES = (
    *base.OPENAPI_TYPES,
    (Given, "string"),
    (WholeNumber, "integer"),
    (PositiveInt, "integer"),
)


def load_query(schema: type[LegacySchema], call: Call) -> Mapping[str, Any]:
    """The call's query string loaded with `schema`: read where the act's order puts it."""
    return schema_instance(schema).load(call.query)


def flow_list_query(call: Call) -> Mapping[str, Any]:
    """The flow list's filters, loaded before the list's own statement checks the caller; a
    caller refused anyway hears that first (401, 403, then a bad filter's 400)."""
    try:
        return load_query(FlowListQuery, call)
    except (ValidationError, GatewayError):
        require_access(call, call.args["id"])
        raise


# FlowListQuery as OpenAPI parameter objects (the document and `help` show them).
FLOW_LIST_PARAMETERS = (
    {
        "name": "is_active",
        "in": "query",
        "description": "1, true, yes or on (any case): only active flows. 0, false, no, off, "
        "null, undefined or empty: no filter, every flow (mcp2's activeOnly: false).",
        "schema": {"type": "string"},
    },
    {
        "name": "status",
        "in": "query",
        "description": "active, inactive or all (default). Combines with is_active: "
        "is_active=1&status=inactive lists nothing.",
        "schema": {"type": "string", "enum": list(FLOW_STATES)},
    },
    {
        "name": "folder_id",
        "in": "query",
        "description": "Only the flows of this folder.",
        "schema": {"type": "string"},
    },
    {
        "name": "limit",
        "in": "query",
        "description": "At most this many flows (1 to 100, default 100).",
        "schema": {"type": "integer", "minimum": 1},
    },
    {
        "name": "offset",
        "in": "query",
        "description": "Skip this many flows first (default 0).",
        "schema": {"type": "integer", "minimum": 0},
    },
)
