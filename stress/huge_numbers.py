"""Issue 15 item 4 in `make fuzz`: integers past the float range in every body field.

For every operation of the live OpenAPI document that takes a JSON body, each property of its
schema is sent alone with each number below (the rest of the body left out: the number is refused
when the body is read, before any required-field check). Every answer must be a 4xx envelope
(400 «Invalid JSON format»), never a 5xx: before the fix these answered 500 on 10+ acts,
unauthenticated `reset-password` included. Deterministic: each (operation, field, number) once.
"""

from collections.abc import Callable, Iterator
from typing import Any

from stress.common import Answer, call

NUMBERS: dict[str, Any] = {
    "float-range": 10**309,
    "negative": -(10**400),
    "in-array": [7 * 10**320],
    "in-object": {"a": 8 * 10**330},
}
JSON_BODY = ("requestBody", "content", "application/json", "schema")


def body_schema(doc: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    schema: Any = operation
    for key in JSON_BODY:
        schema = schema.get(key, {}) if isinstance(schema, dict) else {}
    reference = schema.get("$ref", "")
    if reference:
        return doc["components"]["schemas"][reference.rsplit("/", 1)[-1]]
    return schema


def cases(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str, str]]:
    """(method, operation, field, number name) for every body field of every operation."""
    for methods in doc["paths"].values():
        for method, operation in methods.items():
            for field in sorted(body_schema(doc, operation).get("properties", {})):
                for name in NUMBERS:
                    yield method.upper(), operation, field, name


def sweep(
    port: int, doc: dict[str, Any], token_for: Callable[[str], str], id_for: Callable[[str], str]
) -> dict[str, Any]:
    """`token_for` / `id_for`: the caller's token and a seeded path id for an operation id."""
    statuses: dict[str, int] = {}
    problems: list[str] = []
    for method, operation, field, name in cases(doc):
        op_id = operation["operationId"]
        answer: Answer = call(
            port,
            operation["x-acts"][0],
            method,
            id=id_for(op_id) if "parameters" in operation else None,
            token=token_for(op_id),
            body={field: NUMBERS[name]},
            tag="huge-numbers",
        )
        statuses[str(answer.status)] = statuses.get(str(answer.status), 0) + 1
        if not (400 <= answer.status < 500 and answer.is_envelope):
            problems.append(f"{op_id} {field}={name}: {answer.status} {answer.body[:80]!r}")
    return {
        "requests": sum(statuses.values()),
        "status_counts": dict(sorted(statuses.items())),
        "problems": problems,
    }
