"""`cutover_report`: which legacy acts are ready to be served by the gateway (docs/cutover.md)."""

from flask import current_app

from backend.auth.access import require_operator
from backend.auth.callers import OPTIONAL
from backend.core.call import Call, Reply
from backend.core.errors import NotFound
from backend.core.registry import action
from backend.web import cutover


@action(
    "/cutover/report",
    acts=("cutover_report",),
    auth=OPTIONAL,
    summary="Cut-over report",
    errors=(404,),  # «Cut-over is not configured» while LEGACY_URL is unset
)
def cutover_report(call: Call) -> Reply:
    """Guarded like `metrics`; 404 while LEGACY_URL is unset (`flask cutover report` still reads
    the counts left on disk)."""
    require_operator(call)
    if not current_app.config.get("LEGACY_URL"):
        raise NotFound("Cut-over is not configured")
    return Reply(cutover.readiness(current_app), "Cut-over readiness report")
