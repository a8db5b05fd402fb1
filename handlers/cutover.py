"""`cutover_report`: which legacy acts are ready to be served by the gateway (docs/cutover.md)."""

from flask import current_app

from backend import cutover
from backend.auth import OPTIONAL, require_operator
from backend.errors import NotFound
from backend.registry import Call, Reply, action, registry


@action("/cutover/report", acts=("cutover_report",), auth=OPTIONAL, summary="Cut-over report")
def cutover_report(call: Call) -> Reply:
    """Guarded like `metrics`; 404 while LEGACY_URL is unset (`flask cutover report` still reads
    the counts left on disk)."""
    require_operator(call)
    if not current_app.config.get("LEGACY_URL"):
        raise NotFound("Cut-over is not configured")
    return Reply(cutover.readiness(current_app, registry), "Cut-over readiness report")
