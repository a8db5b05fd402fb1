"""What goes over the wire for one request of each scenario, and is the limit baseline in sync?

Every command PyMySQL sends (COM_QUERY text with its literals, COM_PING) is recorded by wrapping
`Connection._execute_command` in this process only, and every write to the socket is counted
(`Connection._write_bytes`): a round trip is a write, which may carry several commands (the
writes the gateway defers go out together: `backend.db.driver.Connection.run_later`). One
request per scenario runs through the real app (Flask test client, production config); the
matching baseline step runs once on a bare PyMySQL connection under the same recorder.
Statements are compared with literals blanked out.
"""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pymysql.connections
from pymysql.constants import COMMAND

from bench import limit

STRING = re.compile(r"'(?:[^'\\]|\\.)*'")
NUMBER = re.compile(r"\b(?:\d+(?:\.\d+)?|NULL)\b")
SPACE = re.compile(r"\s+")
CONTROL = ("COMMIT", "ROLLBACK", "PING", "SET AUTOCOMMIT = 0", "SET AUTOCOMMIT = 1")


class Wire(list[str]):
    """The commands sent, in order, and how many writes carried them."""

    writes = 0


@contextmanager
def recording() -> Iterator[Wire]:
    wire = Wire()
    original = pymysql.connections.Connection._execute_command
    write = pymysql.connections.Connection._write_bytes

    def traced(self: Any, command: int, sql: Any) -> Any:
        if command == COMMAND.COM_QUERY:
            wire.append(sql.decode() if isinstance(sql, bytes) else str(sql))
        elif command == COMMAND.COM_PING:
            wire.append("PING")
        return original(self, command, sql)

    def counted(self: Any, data: bytes) -> Any:
        wire.writes += 1
        return write(self, data)

    pymysql.connections.Connection._execute_command = traced  # type: ignore[method-assign]
    pymysql.connections.Connection._write_bytes = counted  # type: ignore[method-assign]
    try:
        yield wire
    finally:
        pymysql.connections.Connection._execute_command = original  # type: ignore[method-assign]
        pymysql.connections.Connection._write_bytes = write  # type: ignore[method-assign]


def shape(sql: str) -> str:
    sql = STRING.sub("?", sql)
    sql = NUMBER.sub("?", sql)
    return SPACE.sub(" ", sql).strip()


def statements(wire: list[str]) -> list[str]:
    """The SQL proper: no COMMIT, ROLLBACK, PING or autocommit switch."""
    return [shape(sql) for sql in wire if sql.strip().upper() not in CONTROL]


def gateway_wire(send: Callable[[], Any]) -> tuple[Any, Wire]:
    with recording() as wire:
        response = send()
    return response, wire


def baseline_wire(url: str, name: str, ctx: limit.Context) -> Wire:
    plan = limit.PLANS[name]
    conn = limit.connect(url, plan.autocommit)
    try:
        with conn.cursor() as cur, recording() as wire:
            plan.step(cur, ctx, 0)
        return wire
    finally:
        conn.close()


def compare(gateway: Wire, baseline: Wire) -> dict[str, Any]:
    ours, theirs = statements(gateway), statements(baseline)
    return {
        "in_sync": ours == theirs,
        "gateway_round_trips": gateway.writes,
        "baseline_round_trips": baseline.writes,
        "gateway_wire": [shape(sql) for sql in gateway],
        "baseline_wire": [shape(sql) for sql in baseline],
    }
