"""Input schemas of the flow CRUD and UI acts.

`flow_data` and `flow_inputs` stay raw JSON here: their legacy validation (flows.md §3) needs the
project and runs in the handler after the member check. Omitted keys stay absent, so an update
touches only what was sent; `null` means "not given", except for `folder_id`, where null and ""
mean "no folder".
"""

from marshmallow import fields

from schemas.base import NAME_CHARS, Flag, LegacySchema, SafeText, Text

EMPTY_NAME = "Flow name cannot be empty"


class FlowUpdateIn(LegacySchema):
    name = SafeText(max_chars=NAME_CHARS, empty=EMPTY_NAME, allow_none=True)
    description = SafeText(allow_none=True)
    folder_id = Text(allow_none=True)
    flow_data = fields.Raw(allow_none=True)
    flow_inputs = fields.Raw(allow_none=True)
    is_active = Flag(allow_none=True)


class FlowCreateIn(FlowUpdateIn):
    required_fields = ("name",)


class FlowDuplicateIn(LegacySchema):
    """Name of the copy (blank: a free «<name> (Copy)» name); description and folder optional."""

    name = SafeText(max_chars=NAME_CHARS, allow_none=True)
    description = SafeText(allow_none=True)
    folder_id = Text(allow_none=True)
