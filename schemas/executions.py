"""Input schemas of the execution acts."""

from marshmallow import fields, validate

from schemas.base import LegacySchema, OutSchema, json_text, stamp, string

FINAL_STATUSES = ("completed", "failed")


class FinishIn(LegacySchema):
    """flow_execution_finish: how the run ended and any JSON result the engine reports."""

    required_fields = ("status",)

    status = fields.String(required=True, validate=validate.OneOf(FINAL_STATUSES))
    result = fields.Raw(allow_none=True)


class ExecutionOut(OutSchema):
    id = string()
    flow_id = string()
    project_id = string()
    status = string(description="running, completed, failed or expired")
    started_by = string(nullable=True)
    started_at = stamp()
    heartbeat_at = stamp()
    lease_expires_at = stamp()
    finished_at = stamp(nullable=True)
    result = json_text(nullable=True)


class ExecutionStartOut(OutSchema):
    flow_id = string()
    status = string()
    message = string()
    execution_time = stamp()
    flow_data = json_text()
    execution_id = string()
    lease_expires_at = stamp()
