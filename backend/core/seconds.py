"""Values that change once a second (a timestamp in every answer and every log line)."""

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerSecond(Generic[T]):
    """`render(second, key)` for the last whole second and key asked, rendered again only when
    either changes. The pair and its value are replaced together, so a reader never sees one
    without the other."""

    def __init__(self, render: Callable[[int, Hashable], T]) -> None:
        self.render = render
        self.last: tuple[int, Hashable, T] | None = None

    def __call__(self, second: int, key: Hashable = None) -> T:
        last = self.last
        if last is None or last[0] != second or last[1] is not key:
            last = (second, key, self.render(second, key))
            self.last = last
        return last[2]
