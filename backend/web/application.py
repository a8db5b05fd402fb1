"""The Flask application class of the gateway."""

from collections.abc import Callable
from typing import Any

from flask import Flask


class Gateway(Flask):
    """Flask, asking once per function whether it is a coroutine function: `ensure_sync` runs
    for every hook, handler and view of every request, and `inspect` answers it anew each time
    (27 calls per request)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        found = self._sync.get(func)
        if found is None:
            found = self._sync[func] = super().ensure_sync(func)
        return found
