"""Input schemas of the MCP token acts."""

from marshmallow import fields

from schemas.base import LegacySchema


class McpTokenPolicyIn(LegacySchema):
    """The owner's choice: may members mint MCP tokens for the project (JSON true or false)."""

    required_fields = ("members_may_mint",)

    members_may_mint = fields.Boolean(required=True, truthy={True}, falsy={False})
