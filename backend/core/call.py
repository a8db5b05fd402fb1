"""What a handler receives (`Call`, with its `Caller`) and what it may return (`Reply`, `Raw`)."""

from collections.abc import Callable, Mapping
from dataclasses import InitVar, dataclass, field
from functools import partial
from typing import Any


@dataclass(frozen=True)
class Caller:
    """Who is calling: a user by JWT, or a project's MCP token acting as the user who minted it."""

    user_id: str
    email: str | None = None
    token_type: str = "jwt"
    mcp_project_id: str | None = None
    mcp_token_id: str | None = None
    # A JWT caller whose account check (`backend.auth.callers.AccountCheck`) travels in the
    # act's own first statement; None once checked up front (every other caller).
    account: Any = field(default=None, compare=False, repr=False)


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

    `source` is the body: a dict, or a loader that parses and validates it. `body()` runs the
    loader on its first call, so a handler calls it after its own 404/403 checks (the legacy
    order) and the line where the input is validated is visible; the result is kept, and a run
    retried after a deadlock reads the same value.
    """

    source: InitVar[BodySource] = dict
    args: Mapping[str, str] = field(default_factory=dict)
    user: Caller | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    client: Client = field(default_factory=Client)
    token: str | None = None
    token_in_header: bool = False  # False for a token from `?token=` or a form field
    _body: Body = field(init=False, repr=False, compare=False)

    def __post_init__(self, source: BodySource) -> None:
        object.__setattr__(self, "_body", Body(source))

    def body(self) -> dict[str, Any]:
        """The loaded body (loaded and validated on the first call, then kept)."""
        return self._body.read()


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
