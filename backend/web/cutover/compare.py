"""Comparing two envelopes (pure): what differs, at which path, and which differences are known.

Paths are dotted from the envelope's root, list indices as numbers: `data.flows.3.name`. The
shape of a path writes every index as `*` (`data.flows.*.name`), so one difference in every row
of a list is one shape.
"""

import json
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from config import ConfigError

COMPARED = ("success", "status_code", "message", "data")
VOLATILE_KEYS = frozenset({"timestamp", "request_id"})
MAX_DIFFERENCES = 20
KNOWN_VARIABLE = "SHADOW_KNOWN_DIVERGENCES"
INDEX = re.compile(r"(?<=\.)\d+(?=\.|$)")


class Absent:
    """A key one side has and the other has not."""

    def __repr__(self) -> str:
        return "<absent>"


ABSENT = Absent()


@dataclass(frozen=True)
class Difference:
    path: str
    gateway: Any
    legacy: Any

    @property
    def shape(self) -> str:
        return INDEX.sub("*", self.path)

    @property
    def key(self) -> str:
        """The last key name on the path (`tokens` for `data.tokens.0`), for masking."""
        return next((part for part in reversed(self.path.split(".")) if not part.isdigit()), "")


def envelope_of(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or not {"success", "status_code"} <= value.keys():
        return None
    return value


def walk(path: str, gateway: Any, legacy: Any) -> Iterator[Difference]:
    if isinstance(gateway, dict) and isinstance(legacy, dict):
        for key in dict.fromkeys([*gateway, *legacy]):
            if key not in VOLATILE_KEYS:
                yield from walk(f"{path}.{key}", gateway.get(key, ABSENT), legacy.get(key, ABSENT))
    elif isinstance(gateway, list) and isinstance(legacy, list):
        for index in range(max(len(gateway), len(legacy))):
            left = gateway[index] if index < len(gateway) else ABSENT
            right = legacy[index] if index < len(legacy) else ABSENT
            yield from walk(f"{path}.{index}", left, right)
    elif type(gateway) is not type(legacy) or gateway != legacy:
        # strict: `1` and `true`, `3` and `3.0`, `"1"` and `1` differ on the wire
        yield Difference(path, gateway, legacy)


@dataclass(frozen=True)
class KnownDivergence:
    act: str  # "*": every act
    glob: str

    def covers(self, act: str, path: str) -> bool:
        return self.act in ("*", act) and fnmatchcase(path, self.glob)


def parse_known(raw: str, known_acts: Collection[str]) -> tuple[KnownDivergence, ...]:
    """`data*.password_reset_token,health:data.memory_usage`: `[act:]glob`, comma-separated."""
    entries = []
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        act, sep, glob = entry.rpartition(":") if ":" in entry else ("*", "", entry)
        act, glob = act.strip() or "*", glob.strip()
        if sep and act != "*" and act not in known_acts:
            raise ConfigError(f"{KNOWN_VARIABLE}: unknown act {act!r} in {entry!r}")
        if not glob:
            raise ConfigError(f"{KNOWN_VARIABLE}: {entry!r} has no path glob")
        entries.append(KnownDivergence(act, glob))
    return tuple(entries)


@dataclass(frozen=True)
class Comparison:
    differences: tuple[Difference, ...]  # outside the known list, at most MAX_DIFFERENCES
    truncated: bool  # there were more
    known: int  # differences the known list covers

    @property
    def same(self) -> bool:
        return not self.differences


def compare(
    act: str, gateway: dict[str, Any], legacy: dict[str, Any], known: tuple[KnownDivergence, ...]
) -> Comparison:
    found: list[Difference] = []
    covered = 0
    for key in COMPARED:
        for difference in walk(key, gateway.get(key, ABSENT), legacy.get(key, ABSENT)):
            if any(entry.covers(act, difference.path) for entry in known):
                covered += 1
            elif len(found) == MAX_DIFFERENCES:
                return Comparison(tuple(found), True, covered)
            else:
                found.append(difference)
    return Comparison(tuple(found), False, covered)
