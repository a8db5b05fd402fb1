"""Input schemas of the flow CRUD and UI acts.

`flow_data` and `flow_inputs` stay raw JSON here: their legacy validation (flows.md §3) needs the
project and runs in the handler after the member check. Omitted keys stay absent, so an update
touches only what was sent; `null` means "not given", except for `folder_id`, where null and ""
mean "no folder".
"""

from marshmallow import fields

from schemas.base import (
    NAME_CHARS,
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


class FlowRowOut(OutSchema):
    """A `flows` row (create, update, duplicate, status changes)."""

    id = string()
    name = string()
    description = string(nullable=True)
    project_id = string()
    folder_id = string(nullable=True)
    flow_data = json_text()
    created_by = string()
    is_active = flag()
    created_at = stamp()
    updated_at = stamp()
    flow_inputs = json_text(nullable=True)
    ui_data = json_text(nullable=True)
    ai_version = string(nullable=True)
    generation_strategy = string(nullable=True)
    complexity_score = string(nullable=True, description="DECIMAL(3,2) as text, e.g. 0.50")


class FlowOut(FlowRowOut):
    """A flow's detail: its row and its folder's name."""

    folder_name = string(nullable=True)


class FlowListItemOut(FlowOut):
    step_count = integer()
    format_type = string(description="steps, react_flow, …")


class FlowUiOut(OutSchema):
    """A flow in the React Flow form the web app edits."""

    id = string()
    name = string()
    description = string(nullable=True)
    project_id = string()
    folder_id = string(nullable=True)
    flow_inputs = fields.List(fields.Raw(), required=True)
    flow_data = fields.Dict(required=True)
    is_active = flag()
    created_by = string()
    created_at = stamp()
    updated_at = stamp()
