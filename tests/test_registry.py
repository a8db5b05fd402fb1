"""The registry: one table of paths, act aliases and methods; no database needed."""

import pytest

import handlers  # noqa: F401  (the real table)
from backend.core.call import Call
from backend.core.errors import InvalidAction, RouteNotFound
from backend.core.registry import Action, Registry, registry


def make_action(path: str, methods: tuple[str, ...], acts: tuple[str, ...]) -> Action:
    def handler(call: Call) -> None:
        return None

    return Action(
        name="handler",
        func=handler,
        path=path,
        methods=methods,
        acts=acts,
        auth=None,
        schema=None,
        summary="",
        reads_body=False,
    )


def test_duplicate_path_and_method_is_refused() -> None:
    table = Registry()
    table.add(make_action("/flow/<id>", ("GET",), ("flow",)))
    with pytest.raises(ValueError, match="registered twice"):
        table.add(make_action("/flow/<id>", ("GET",), ("flow_get",)))


def test_one_act_cannot_alias_two_paths() -> None:
    table = Registry()
    table.add(make_action("/flow/<id>", ("GET",), ("flow",)))
    with pytest.raises(ValueError, match="claimed"):
        table.add(make_action("/flows", ("GET",), ("flow",)))


def test_methods_of_one_path_share_its_aliases() -> None:
    table = Registry()
    table.add(make_action("/flow/<id>", ("GET",), ("flow", "flow_update")))
    table.add(make_action("/flow/<id>", ("PUT",), ("flow", "flow_update")))
    action, args = table.resolve_act("flow_update", "GET", "flow_1")
    assert (action.path, args) == ("/flow/<id>", {"id": "flow_1"})


def test_unknown_act_raises_invalid_action() -> None:
    with pytest.raises(InvalidAction):
        Registry().resolve_act("nope", "GET", None)


def test_known_act_without_handler_for_method_raises_route_not_found() -> None:
    table = Registry()
    table.add(make_action("/health", ("GET",), ("health",)))
    with pytest.raises(RouteNotFound):
        table.resolve_act("health", "POST", None)


def test_rest_path_matches_through_werkzeug_map() -> None:
    table = Registry()
    table.add(make_action("/flow/<id>/toggle-active", ("PUT",), ("flow_toggle_active",)))
    found, args = table.match("/flow/flow_1/toggle-active", "PUT")
    assert found.template == "/flow/{id}/toggle-active"
    assert args == {"id": "flow_1"}


def test_rest_path_with_wrong_method_is_route_not_found() -> None:
    table = Registry()
    table.add(make_action("/flow/<id>/toggle-active", ("PUT",), ("flow_toggle_active",)))
    with pytest.raises(RouteNotFound):
        table.match("/flow/flow_1/toggle-active", "GET")


def test_acts_view_is_read_only() -> None:
    with pytest.raises(TypeError):
        registry.acts["x"] = "/y"  # type: ignore[index]


def test_every_registered_act_resolves_to_a_handler() -> None:
    for act, path in registry.acts.items():
        assert any(action.path == path for _, action in registry.actions()), act


def test_call_body_may_be_a_plain_dict() -> None:
    assert Call({"name": "A"}).body() == {"name": "A"}
    assert Call().body() == {}


def test_call_body_from_a_loader_is_loaded_on_first_read_and_kept() -> None:
    loads: list[int] = []

    def load() -> dict[str, int]:
        loads.append(1)
        return {"n": len(loads)}

    call = Call(load)
    assert loads == []
    assert call.body() == {"n": 1}
    assert call.body() is call.body()
    assert loads == [1]


def test_acts_register_in_the_order_help_and_openapi_have_always_listed_them() -> None:
    """`help` and the OpenAPI document list the acts in registration order (handlers/__init__)."""
    modules = list(dict.fromkeys(action.func.__module__ for _, action in registry.actions()))
    assert modules == [
        "handlers.users",
        "handlers.auth",
        "handlers.docs",
        "handlers.folders",
        "handlers.endpoints",
        "handlers.environments",
        "handlers.executions",
        "handlers.flow_status",
        "handlers.flows",
        "handlers.projects",
        "handlers.mcp",
        "handlers.system",
        "handlers.cutover",  # new acts come last: the earlier ones keep their place
    ]
