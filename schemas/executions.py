"""Input schemas of the execution acts."""

from marshmallow import fields, validate

from schemas.base import LegacySchema

FINAL_STATUSES = ("completed", "failed")


class FinishIn(LegacySchema):
    """flow_execution_finish: how the run ended and any JSON result the engine reports."""

    required_fields = ("status",)

    status = fields.String(required=True, validate=validate.OneOf(FINAL_STATUSES))
    result = fields.Raw(allow_none=True)
