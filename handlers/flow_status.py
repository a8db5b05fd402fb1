"""Flow active status: toggle (the seed), activate, deactivate, the active list, batch, history."""

from backend import flowlist, flowstatus
from backend.auth import ANY_TOKEN
from backend.registry import Call, Reply, action
from schemas.flow_status import ReasonIn, SetActiveIn


@action(
    "/flow/<id>/toggle-active",
    methods=("PUT",),
    acts=("flow_toggle_active",),
    auth=ANY_TOKEN,
    schema=ReasonIn,
    summary="Toggle flow active status",
)
def flow_toggle_active(call: Call) -> Reply:
    flow = flowstatus.toggle(call, call.args["id"])
    return Reply(flow, "Flow activated" if flow["is_active"] else "Flow deactivated")


@action(
    "/flow/<id>/activate",
    methods=("GET", "PUT"),
    acts=("flow_activate",),
    auth=ANY_TOKEN,
    schema=ReasonIn,
    summary="Activate flow (validates its definition first)",
)
def flow_activate(call: Call) -> Reply:
    flow = flowstatus.set_active(call, call.args["id"], 1, via="flow_activate")
    return Reply(flow, "Flow activated successfully")


@action(
    "/flow/<id>/deactivate",
    methods=("GET", "PUT"),
    acts=("flow_deactivate",),
    auth=ANY_TOKEN,
    schema=ReasonIn,
    summary="Deactivate flow",
)
def flow_deactivate(call: Call) -> Reply:
    flow = flowstatus.set_active(call, call.args["id"], 0, via="flow_deactivate")
    return Reply(flow, "Flow deactivated successfully")


@action(
    "/project/<id>/flows/active",
    acts=("flows_active", "flows_active_list"),
    auth=ANY_TOKEN,
    summary="List active flows for a project (filters: as the flows list)",
    query=flowlist.LIST_PARAMETERS,
)
def flows_active(call: Call) -> Reply:
    return Reply(
        flowlist.list_flows(call, call.args["id"], active_only=True), "Active flows fetched"
    )


@action(
    "/project/<id>/flows/set-active",
    methods=("POST",),
    acts=("flows_set_active",),
    auth=ANY_TOKEN,
    schema=SetActiveIn,
    summary="Set the active status of several flows of a project at once",
)
def flows_set_active(call: Call) -> Reply:
    flows = flowstatus.set_many(call, call.args["id"])
    return Reply(flows, "Flows activated" if call.data["is_active"] else "Flows deactivated")


@action(
    "/flow/<id>/status-history",
    acts=("flow_status_history",),
    auth=ANY_TOKEN,
    summary="Status changes of a flow, newest first",
)
def flow_status_history(call: Call) -> Reply:
    flow = flowstatus.load_flow(call, call.args["id"])
    return Reply(flowstatus.history(flow, flowlist.page(call.query)), "Flow status history")
