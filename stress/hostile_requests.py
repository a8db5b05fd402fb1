"""Issue 15 in `make fuzz`: deterministic sweeps of the inputs its items added, per operation.

Every operation of the live OpenAPI document gets, once each:

- **authorization** (item 12): `Authorization` headers that are not `Bearer` first followed by
  exactly one token, most of them carrying the caller's valid token elsewhere in the value. An
  operation that requires a token answers 401 in an envelope; the others never answer 5xx.
- **huge ids** (item 4): a 310-digit path id: a 4xx envelope.
- **huge query values** (item 4): each declared query parameter alone at 10^309, -10^400 and
  10^20: never a 5xx, always an envelope.
- **oversized bodies**: a JSON body four times `MAX_BODY_BYTES` on every operation that takes a
  body, on a `Connection: close` request: 413 in an envelope (the gateway refuses it on its
  Content-Length, then reads it away before closing, so the client gets the answer).
- **response caps** (item 10): every GET on the seeded rows (101 folders, environments and
  endpoints in the project), without a query and with `limit` at 1,000: no list in a 200 answer
  holds more than 100 items.

Schemathesis (stress/fuzz.py) sends random values within the declared types; these are the values
the attack used, which random generation would rarely hit.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from stress.common import Answer, call

MAX_BODY_BYTES = 1_048_576  # config's default; the fuzzed gateway runs with it
CAP = 100
HUGE_ID = "9" * 310
HUGE_QUERY = {"float-range": "1" + "0" * 309, "negative": "-" + "9" * 400, "int64": "1" + "0" * 20}


def bad_authorizations(token: str) -> dict[str, str]:
    """Header values a strict `Bearer` parse refuses (RFC 6750 §2.1); the legacy took most."""
    return {
        "basic": "Basic dXNlcjpwYXNz",
        "glued-prefix": f"xBearer {token}",
        "second-word": f"Token Bearer {token}",
        "second-credential": f"Basic dXNlcjpwYXNz, Bearer {token}",
        "two-tokens": f"Bearer {token} {token}",
        "no-space": f"Bearer{token}",
        "scheme-only": "Bearer",
        "empty": "",
        "latin-1": "Bearer \xe9\xff",
        "huge-number": "Bearer " + HUGE_ID,
        "not-a-jwt": "Bearer a.b.c",
        "unknown-mcp-token": "Bearer " + "f" * 64,
        "long": "Bearer " + "A" * 4000,
    }


@dataclass(frozen=True)
class Operation:
    op_id: str
    act: str
    method: str
    protected: bool  # a token is required (security names only bearerAuth)
    takes_id: bool
    query: tuple[str, ...]
    takes_body: bool


def operations(doc: dict[str, Any]) -> Iterator[Operation]:
    for methods in doc["paths"].values():
        for method, operation in methods.items():
            parameters = operation.get("parameters", [])
            yield Operation(
                operation["operationId"],
                operation["x-acts"][0],
                method.upper(),
                operation.get("security") == [{"bearerAuth": []}],
                any(p["in"] == "path" for p in parameters),
                tuple(p["name"] for p in parameters if p["in"] == "query"),
                "requestBody" in operation,
            )


def longest_list(value: Any) -> int:
    """The length of the longest list anywhere in a JSON value."""
    if isinstance(value, list):
        return max([len(value), *(longest_list(item) for item in value)])
    if isinstance(value, dict):
        return max([0, *(longest_list(item) for item in value.values())])
    return 0


class Sweep:
    """Counts statuses per strategy and collects what broke a promise."""

    def __init__(self, port: int, token_for: Callable[[str], str], id_for: Callable[[str], str]):
        self.port, self.token_for, self.id_for = port, token_for, id_for
        self.statuses: dict[str, dict[str, int]] = {}
        self.problems: list[str] = []

    def send(self, strategy: str, op: Operation, **kwargs: Any) -> Answer:
        kwargs.setdefault("id", self.id_for(op.op_id) if op.takes_id else None)
        kwargs.setdefault("token", self.token_for(op.op_id))
        answer = call(self.port, op.act, op.method, tag=f"fuzz-{strategy}", **kwargs)
        counts = self.statuses.setdefault(strategy, {})
        counts[str(answer.status)] = counts.get(str(answer.status), 0) + 1
        return answer

    def refuse(self, strategy: str, op: Operation, case: str, answer: Answer) -> None:
        shown = answer.error or answer.body[:80]
        self.problems.append(f"{strategy} {op.op_id} {case}: {answer.status} {shown!r}")

    def authorization(self, op: Operation) -> None:
        for case, value in bad_authorizations(self.token_for(op.op_id)).items():
            answer = self.send("authorization", op, token=None, headers={"Authorization": value})
            if op.protected:
                held = answer.status == 401 and answer.is_envelope
            else:
                held = 0 < answer.status < 500
            if not held:
                self.refuse("authorization", op, case, answer)

    def huge_id(self, op: Operation) -> None:
        if op.takes_id:
            answer = self.send("huge-id", op, id=HUGE_ID)
            if not (400 <= answer.status < 500 and answer.is_envelope):
                self.refuse("huge-id", op, "id", answer)

    def huge_query(self, op: Operation) -> None:
        for name in op.query:
            for case, value in HUGE_QUERY.items():
                answer = self.send("huge-query", op, query={name: value})
                if not (0 < answer.status < 500 and answer.is_envelope):
                    self.refuse("huge-query", op, f"{name}={case}", answer)
                else:
                    self.capped("huge-query", op, f"{name}={case}", answer)

    def oversized_body(self, op: Operation) -> None:
        if op.takes_body:
            body = b'{"name": "' + b"x" * 4 * MAX_BODY_BYTES + b'"}'
            answer = self.send("oversized-body", op, body=body, timeout=30.0)
            if not (answer.status == 413 and answer.is_envelope):
                self.refuse("oversized-body", op, f"{len(body)} bytes", answer)

    def response_caps(self, op: Operation) -> None:
        if op.method != "GET":
            return
        self.capped("response-caps", op, "no query", self.send("response-caps", op))
        if "limit" in op.query:
            answer = self.send("response-caps", op, query={"limit": "1000"})
            self.capped("response-caps", op, "limit=1000", answer)

    def capped(self, strategy: str, op: Operation, case: str, answer: Answer) -> None:
        if answer.status != 200 or not answer.is_envelope or op.act == "help":
            return
        if (longest := longest_list(answer.data)) > CAP:
            self.problems.append(f"{strategy} {op.op_id} {case}: a list of {longest} items")


def sweep(
    port: int, doc: dict[str, Any], token_for: Callable[[str], str], id_for: Callable[[str], str]
) -> dict[str, Any]:
    """`token_for` / `id_for`: the caller's token and a seeded path id for an operation id."""
    run = Sweep(port, token_for, id_for)
    strategies = (run.response_caps, run.authorization, run.huge_id, run.huge_query)
    for strategy in (*strategies, run.oversized_body):
        for op in operations(doc):
            strategy(op)
    return {
        "requests": sum(sum(counts.values()) for counts in run.statuses.values()),
        "status_counts": {name: dict(sorted(c.items())) for name, c in run.statuses.items()},
        "problems": run.problems,
    }
