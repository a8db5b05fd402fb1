"""Input schemas of the folder acts."""

from schemas.base import (
    NAME_CHARS,
    Flag,
    JsonText,
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


class FolderOut(OutSchema):
    id = string()
    name = string()
    description = string(nullable=True)
    project_id = string()
    parent_id = string(nullable=True)
    headers = json_text(nullable=True)
    variables = json_text(nullable=True)
    is_default = flag()
    created_by = string()
    created_at = stamp()
    updated_at = stamp()


class FolderListItemOut(FolderOut):
    endpoint_count = integer()
