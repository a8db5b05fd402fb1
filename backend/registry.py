"""The one routing table: handlers declare path, methods, act aliases, auth and schema in `@action`.

Acts are aliases of internal paths (the legacy model); the HTTP method then picks the handler.
Werkzeug's `Map` matches the REST form; the `?act=` and path-style forms look the rule up by
(template, method) directly, so ids are never re-parsed from a URL.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import InitVar, dataclass, field
from functools import partial
from types import MappingProxyType
from typing import Any

from werkzeug.exceptions import MethodNotAllowed as WerkzeugMethodNotAllowed
from werkzeug.exceptions import NotFound as WerkzeugNotFound
from werkzeug.routing import Map, Rule

from backend.errors import InvalidAction, RouteNotFound

METHODS = ("GET", "POST", "PUT", "DELETE")


@dataclass(frozen=True)
class Caller:
    """Who is calling: a user by JWT, or a project's MCP token acting as the project owner."""

    user_id: str
    email: str | None = None
    token_type: str = "jwt"
    mcp_project_id: str | None = None
    mcp_token_id: str | None = None


@dataclass(frozen=True)
class Client:
    ip: str | None = None
    user_agent: str | None = None


BodySource = Mapping[str, Any] | Callable[[], dict[str, Any]]


class Body:
    """A request body, given as is or as a loader; the first `read` loads it and keeps it."""

    def __init__(self, source: BodySource) -> None:
        self._load = source if callable(source) else partial(dict, source)
        self._value: dict[str, Any] | None = None

    def read(self) -> dict[str, Any]:
        if self._value is None:
            self._value = self._load()
        return self._value


@dataclass(frozen=True)
class Call:
    """Everything a handler may read. Handlers never touch `flask.request`.

    `data` is the body: a dict, or a loader that parses and validates it. The loader runs on the
    first read of `call.data`, so a handler reads it after its own 404/403 checks (the legacy
    order); the result is kept, and a run retried after a deadlock reads the same value.
    """

    data: InitVar[BodySource] = dict
    args: Mapping[str, str] = field(default_factory=dict)
    user: Caller | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    client: Client = field(default_factory=Client)
    token: str | None = None
    token_in_header: bool = False  # False for a token from `?token=` or a form field
    _body: Body = field(init=False, repr=False, compare=False)

    def __post_init__(self, data: BodySource) -> None:
        object.__setattr__(self, "_body", Body(data))

    def _read_data(self) -> dict[str, Any]:
        return self._body.read()


# Set after `@dataclass`, which would otherwise take the property for the default of `data`.
Call.data = property(Call._read_data)  # type: ignore[assignment,method-assign]


@dataclass(frozen=True)
class Reply:
    data: Any = None
    message: str = "success"
    status: int = 200


@dataclass(frozen=True)
class Raw:
    """A non-envelope reply (the OpenAPI document, the docs page and its assets, a script)."""

    body: str | bytes
    content_type: str
    headers: Mapping[str, str] = field(default_factory=dict)
    status: int = 200


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

    def by_act(self, act: str, method: str) -> Action:
        path = self._acts.get(act)
        if path is None:
            raise InvalidAction()
        return self.by_path(path, method)

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
            )
        )
        return func

    return register


def script(
    path: str, *, cors: Mapping[str, str], refused: Raw
) -> Callable[[Callable[[Call], Raw]], Callable[[Call], Raw]]:
    """Register a legacy script's POST handler; returns it unchanged. No auth; `call.data` is
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
