"""Texts that change once a second (a timestamp in every answer and every log line)."""

from collections.abc import Callable, Hashable


class PerSecond:
    """`render(second, key)` for the last whole second and key asked, rendered again only when
    either changes. The pair and its text are replaced together, so a reader never sees one
    without the other."""

    def __init__(self, render: Callable[[int, Hashable], str]) -> None:
        self.render = render
        self.last: tuple[int, Hashable, str] = (-1, None, "")

    def __call__(self, second: int, key: Hashable = None) -> str:
        last = self.last
        if last[0] != second or last[1] is not key:
            last = (second, key, self.render(second, key))
            self.last = last
        return last[2]
