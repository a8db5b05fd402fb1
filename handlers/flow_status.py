"""Flow active status: toggle (the seed), activate, deactivate, batch, history."""

from backend import flowstatus
from backend.auth import ANY_TOKEN
from backend.registry import Call, Reply, action
from schemas.flow_status import ReasonIn


@action(
    "/flow/<id>/toggle-active",
    methods=("PUT",),
    acts=("flow_toggle_active",),
    auth=ANY_TOKEN,
    schema=ReasonIn,
    summary="Toggle flow active status",
)
def flow_toggle_active(call: Call) -> Reply:
    flow = flowstatus.toggle(call, call.args["id"], call.data.get("reason"))
    return Reply(flow, "Flow activated" if flow["is_active"] else "Flow deactivated")
