"""Input schemas of the flow status acts."""

from marshmallow import validate

from schemas.base import LegacySchema, Text


class ReasonIn(LegacySchema):
    """Optional body of a status change: why (the seed's "document reason for deactivation")."""

    reason = Text(allow_none=True, validate=validate.Length(max=500))
