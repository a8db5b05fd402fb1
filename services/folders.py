"""Folders as other acts need them: one the caller may use, one that belongs to a project."""

from typing import Any

from backend.auth.access import require_access
from backend.core.call import Call
from backend.core.errors import BadRequest, NotFound
from backend.db import db
from backend.models import Folder

SHARE_LOCK = {"read": True}  # keeps the folder from being deleted under a row filed in it


def load_folder(call: Call, folder_id: str, *, lock: bool | dict[str, bool] = False) -> Folder:
    """The folder, or 404 «Folder not found»; then 403 unless the caller may use its project.

    `lock` is passed to `with_for_update` (`SHARE_LOCK` for a share lock).
    """
    folder = db.session.get(Folder, folder_id, with_for_update=lock)
    if folder is None:
        raise NotFound("Folder not found")
    require_access(call, folder.project_id)
    return folder


def folder_in_project(
    folder_id: str, project_id: str, *, lock: Any, missing: str, foreign: str
) -> Folder:
    """A folder a row may be filed under: it exists (else 400 `missing`) and lives in
    `project_id` (else 400 `foreign`); row-locked with `lock` until the commit."""
    folder = db.session.get(Folder, folder_id, with_for_update=lock)
    if folder is None:
        raise BadRequest(missing)
    if folder.project_id != project_id:
        raise BadRequest(foreign)
    return folder
