"""Input schemas of the folder acts."""

from schemas.base import NAME_CHARS, Flag, JsonText, LegacySchema, SafeText, Text


class FolderUpdateIn(LegacySchema):
    """Every field optional; `parent_id` null or "" moves the folder to the project root."""

    name = SafeText(max_chars=NAME_CHARS, empty="Folder name cannot be empty", allow_none=True)
    description = SafeText(allow_none=True)
    parent_id = Text(allow_none=True)
    headers = JsonText(allow_none=True)
    variables = JsonText(allow_none=True)
    is_default = Flag(allow_none=True)


class FolderCreateIn(FolderUpdateIn):
    required_fields = ("name",)
