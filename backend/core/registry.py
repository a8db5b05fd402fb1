"""The one routing table: handlers declare path, methods, act aliases, auth and schema in `@action`.

Acts are aliases of internal paths (the legacy model); the HTTP method then picks the handler.
Werkzeug's `Map` matches the REST form; the `?act=` and path-style forms look the rule up by
(template, method) directly, so ids are never re-parsed from a URL.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from werkzeug.exceptions import MethodNotAllowed as WerkzeugMethodNotAllowed
from werkzeug.exceptions import NotFound as WerkzeugNotFound
from werkzeug.routing import Map, Rule

from backend.core.call import Call, Raw
from backend.core.errors import InvalidAction, MethodNotAllowed, RouteNotFound

METHODS = ("GET", "POST", "PUT", "DELETE")
FALSY_IDS = (None, "", "0")


@dataclass(frozen=True)
class Action:
    name: str
    func: Callable[[Call], Any]
    path: str
    methods: tuple[str, ...]
    acts: tuple[str, ...]
    auth: Any
    schema: type | None
    summary: str
    reads_body: bool
    query: tuple[dict[str, Any], ...] = ()  # OpenAPI parameter objects of the query filters
    query_schemas: tuple[type, ...] = ()  # the `schemas/queries.py` schemas it loads
    out: Any = None  # the schema of the envelope's `data` (a class, or an instance with many=True)
    errors: tuple[int, ...] = ()  # statuses the OpenAPI rule cannot see (`backend.ops.openapi`)

    @property
    def read_only(self) -> bool:
        """GET-only acts: their requests run without a transaction (`backend.transactions`)."""
        return all(method == "GET" for method in self.methods)

    @property
    def template(self) -> str:
        """The legacy spelling of the path: `/flow/{id}/toggle-active`."""
        return self.path.replace("<", "{").replace(">", "}")


@dataclass(frozen=True)
class Script:
    """A legacy PHP file served beside the act router, at its path under every mount: its
    action answers `Raw`, every answer carries the script's own CORS headers (its OPTIONS
    preflight too), and any method but the action's gets `refused`."""

    action: Action
    cors: Mapping[str, str]
    refused: Raw


class Registry:
    def __init__(self) -> None:
        self._actions: dict[tuple[str, str], Action] = {}
        self._acts: dict[str, str] = {}
        self._map: Map | None = None
        self._scripts: dict[str, Script] = {}

    def add(self, action: Action) -> None:
        for method in action.methods:
            key = (action.path, method)
            if key in self._actions:
                raise ValueError(f"{method} {action.path} is registered twice")
            self._actions[key] = action
        for act in action.acts:
            claimed = self._acts.setdefault(act, action.path)
            if claimed != action.path:
                raise ValueError(f"act {act!r} is claimed by {claimed} and {action.path}")
        self._map = None

    def add_script(self, script: Script) -> None:
        if script.action.path in self._scripts:
            raise ValueError(f"script {script.action.path} is registered twice")
        self._scripts[script.action.path] = script

    @property
    def acts(self) -> Mapping[str, str]:
        return MappingProxyType(self._acts)

    @property
    def scripts(self) -> Mapping[str, Script]:
        return MappingProxyType(self._scripts)

    def actions(self) -> Iterator[tuple[str, Action]]:
        """Every (method, action) pair in registration order."""
        for (_, method), action in self._actions.items():
            yield method, action

    def resolve_act(
        self, act: str, method: str, ident: str | None
    ) -> tuple[Action, dict[str, str]]:
        """The `?act=` and path-style forms: act → path template → the handler of `method`."""
        path = self._acts.get(act)
        if path is None:
            raise InvalidAction()
        if method not in METHODS:
            raise MethodNotAllowed()
        if "<id>" not in path:
            return self.by_path(path, method), {}
        if ident in FALSY_IDS:
            raise RouteNotFound()
        return self.by_path(path, method), {"id": ident}

    def by_path(self, path: str, method: str) -> Action:
        action = self._actions.get((path, method))
        if action is None:
            raise RouteNotFound()
        return action

    def match(self, url_path: str, method: str) -> tuple[Action, dict[str, str]]:
        """Match a REST path such as `/flow/ID/toggle-active`."""
        adapter = self.url_map.bind("localhost")
        try:
            rule, args = adapter.match(url_path, method=method, return_rule=True)
        except (WerkzeugNotFound, WerkzeugMethodNotAllowed) as exc:
            raise RouteNotFound() from exc
        return self.by_path(rule.rule, method), args

    @property
    def url_map(self) -> Map:
        if self._map is None:
            rules = [Rule(path, methods=[m], endpoint=f"{m} {path}") for path, m in self._actions]
            self._map = Map(rules, strict_slashes=False, merge_slashes=False)
        return self._map


registry = Registry()


@cache
def schema_instance(schema_cls: type) -> Any:
    """One instance per input schema (marshmallow schemas are reusable and costly to build)."""
    return schema_cls()


def first_line(text: str | None) -> str:
    return (text or "").strip().split("\n", 1)[0]


def action(
    path: str,
    *,
    methods: tuple[str, ...] = ("GET",),
    acts: tuple[str, ...] = (),
    auth: Any = None,
    schema: type | None = None,
    summary: str = "",
    reads_body: bool | None = None,
    query: tuple[dict[str, Any], ...] = (),
    query_schemas: tuple[type, ...] = (),
    out: Any = None,
    errors: tuple[int, ...] = (),
) -> Callable[[Callable[[Call], Any]], Callable[[Call], Any]]:
    """Register a handler; returns it unchanged."""

    def register(func: Callable[[Call], Any]) -> Callable[[Call], Any]:
        registry.add(
            Action(
                name=func.__name__,
                func=func,
                path=path,
                methods=tuple(methods),
                acts=tuple(acts),
                auth=auth,
                schema=schema,
                summary=summary or first_line(func.__doc__) or func.__name__,
                reads_body=bool(schema) if reads_body is None else reads_body,
                query=query,
                query_schemas=query_schemas,
                out=out,
                errors=errors,
            )
        )
        return func

    return register


def script(
    path: str, *, cors: Mapping[str, str], refused: Raw
) -> Callable[[Callable[[Call], Raw]], Callable[[Call], Raw]]:
    """Register a legacy script's POST handler; returns it unchanged. No auth; `call.body()` is
    the JSON object sent (empty for any other truthy JSON value) and raises `InvalidJson` for a
    body PHP's `json_decode` makes falsy."""

    def register(func: Callable[[Call], Raw]) -> Callable[[Call], Raw]:
        handler = Action(
            name=func.__name__,
            func=func,
            path=path,
            methods=("POST",),
            acts=(),
            auth=None,
            schema=None,
            summary=first_line(func.__doc__) or func.__name__,
            reads_body=True,
        )
        registry.add_script(Script(handler, MappingProxyType(dict(cors)), refused))
        return func

    return register
