"""Flow active status: toggle (the seed), activate, deactivate, the active list, batch, history."""

from backend.auth.callers import ANY_TOKEN, IN_STATEMENT
from backend.core.call import Call, Reply
from backend.core.registry import action
from schemas.flow_status import ReasonIn, SetActiveIn, StatusChangeOut
from schemas.flows import FlowListItemOut, FlowRowOut
from schemas.queries import FLOW_LIST_PARAMETERS, PageQuery, flow_list_query, load_query
from services.flows import history, listing, status
from services.paging import page_of


@action(
    "/flow/<id>/toggle-active",
    methods=("PUT",),
    acts=("flow_toggle_active",),
    auth=IN_STATEMENT,
    schema=ReasonIn,
    summary="Toggle flow active status",
    out=FlowRowOut,
)
def flow_toggle_active(call: Call) -> Reply:
    flow = status.toggle(call, call.args["id"])
    return Reply(flow, "Flow activated" if flow["is_active"] else "Flow deactivated")


@action(
    "/flow/<id>/activate",
    methods=("GET", "PUT"),
    acts=("flow_activate",),
    auth=ANY_TOKEN,
    schema=ReasonIn,
    summary="Activate flow (validates its definition first)",
    out=FlowRowOut,
)
def flow_activate(call: Call) -> Reply:
    flow = status.set_active(call, call.args["id"], 1, via="flow_activate")
    return Reply(flow, "Flow activated successfully")


@action(
    "/flow/<id>/deactivate",
    methods=("GET", "PUT"),
    acts=("flow_deactivate",),
    auth=ANY_TOKEN,
    schema=ReasonIn,
    summary="Deactivate flow",
    out=FlowRowOut,
)
def flow_deactivate(call: Call) -> Reply:
    flow = status.set_active(call, call.args["id"], 0, via="flow_deactivate")
    return Reply(flow, "Flow deactivated successfully")


@action(
    "/project/<id>/flows/active",
    acts=("flows_active", "flows_active_list"),
    auth=IN_STATEMENT,
    summary="List active flows for a project (filters: as the flows list)",
    query=FLOW_LIST_PARAMETERS,
    out=FlowListItemOut(many=True),
)
def flows_active(call: Call) -> Reply:
    query = flow_list_query(call)
    flows = listing.list_flows(call, call.args["id"], query, active_only=True)
    return Reply(flows, "Active flows fetched")


@action(
    "/project/<id>/flows/set-active",
    methods=("POST",),
    acts=("flows_set_active",),
    auth=ANY_TOKEN,
    schema=SetActiveIn,
    summary="Set the active status of several flows of a project at once",
)
def flows_set_active(call: Call) -> Reply:
    flows = status.set_many(call, call.args["id"])
    return Reply(flows, "Flows activated" if call.body()["is_active"] else "Flows deactivated")


@action(
    "/flow/<id>/status-history",
    acts=("flow_status_history",),
    auth=ANY_TOKEN,
    summary="Status changes of a flow, newest first",
    out=StatusChangeOut(many=True),
    query_schemas=(PageQuery,),
)
def flow_status_history(call: Call) -> Reply:
    flow = status.load_flow(call, call.args["id"])
    page = page_of(load_query(PageQuery, call))
    return Reply(history.history(flow, page), "Flow status history")
