"""Input schemas of the flow status acts."""

from collections import Counter
from typing import Any

from marshmallow import ValidationError, fields, validate

from schemas.base import LegacySchema, OutSchema, Text, integer, stamp, string

MAX_BATCH = 100


class ReasonIn(LegacySchema):
    """Optional body of a status change: why (the seed's "document reason for deactivation")."""

    reason = Text(allow_none=True, validate=validate.Length(max=500))


def distinct(values: list[Any]) -> None:
    repeated = sorted(value for value, count in Counter(values).items() if count > 1)
    if repeated:
        raise ValidationError(f"Duplicate flow ids: {', '.join(repeated)}")


class SetActiveIn(ReasonIn):
    """flows_set_active: one status for up to 100 flows of the project, all or none."""

    required_fields = ("flow_ids", "is_active")

    flow_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=255)),
        required=True,
        validate=[validate.Length(min=1, max=MAX_BATCH), distinct],
    )
    is_active = fields.Boolean(required=True, truthy={True}, falsy={False})


class StatusChangeOut(OutSchema):
    """One entry of a flow's status history (newest first)."""

    event_type = string()
    flow_id = string()
    old_status = integer(nullable=True)
    new_status = integer(nullable=True)
    changed_by = string(nullable=True)
    timestamp = string(description="ISO 8601 UTC, e.g. 2025-10-25T12:00:00Z")
    ip_address = string(nullable=True)
    changed_at = stamp()
    user_id = string(nullable=True)
    action = string(nullable=True)
    reason = string(nullable=True)
