"""The wire JSON is byte for byte Python's compact `json.dumps(..., ensure_ascii=False,
default=str)`, whichever encoder wrote it: orjson for plain data (`envelope.plain_json`), `json`
for anything orjson would write differently (floats, NaN, dates, enums, integers past 64 bits,
keys that are not strings)."""

import enum
import json
import random
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Column, Date, Float, Integer, LargeBinary, MetaData, String, Table

from backend.core import envelope
from backend.legacy.wire import RowShape, wire_row
from backend.models import FLOWS
from tests.factories import Factory

EDGE_TEXT = [
    "",
    "\x00\x01\x08\x0b\x1f\x7f",
    'quote " backslash \\ slash / tab \t newline \n return \r feed \f back \b',
    "\u2028\u2029\u200b\ufeff",
    "é ü 漢字 🚀 \U0010ffff",
    "</script><!--",
]


def reference(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def random_text(rng: random.Random) -> str:
    """Any code point but a lone surrogate (which neither encoder can put in UTF-8)."""
    ranges = ((0, 0x80), (0x80, 0xD800), (0xE000, 0x110000))
    return "".join(chr(rng.randrange(*rng.choice(ranges))) for _ in range(rng.randrange(12)))


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return random_text(rng)
    if kind == 1:
        return rng.choice([0, 1, -1, 2**63 - 1, -(2**63), rng.randrange(-(2**63), 2**63)])
    if kind == 2:
        return rng.choice([True, False])
    if kind in (3, 4):
        return rng.choice([None, rng.choice(EDGE_TEXT)])
    if kind in (5, 6):
        return {random_text(rng): random_value(rng, depth + 1) for _ in range(rng.randrange(5))}
    return [random_value(rng, depth + 1) for _ in range(rng.randrange(5))]


def test_plain_data_is_written_as_json_writes_it() -> None:
    rng = random.Random(14)
    for _ in range(3000):
        payload = {"success": True, "data": random_value(rng)}
        assert envelope.plain_json(payload)
        assert envelope.dumps(payload) == reference(payload)


class Color(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    "value",
    [
        1e-05,
        1e16,
        0.1,
        float("nan"),
        float("inf"),
        2**64,
        -(2**63) - 1,
        datetime(2025, 1, 31, 23, 59, 59),
        Decimal("0.50"),
        Color.RED,
        (1, "a"),
        {1: "integer key"},
        {"nested": [{"deep": 1e-05}]},
        {"first": 1, "then": [1e-05]},
        {"then": [1e-05], "last": 1},
        [2**63 - 1, [2**64]],
    ],
)
def test_what_orjson_writes_differently_is_written_by_json(value: Any) -> None:
    payload = {"data": value}
    assert envelope.dumps(payload) == reference(payload)


def test_a_lone_surrogate_fails_as_it_did() -> None:
    with pytest.raises(UnicodeEncodeError):
        envelope.dumps({"data": "\ud800"})


def test_a_list_answer_on_the_wire_is_json_compact_text(make: Factory, call_act: Any) -> None:
    owner = make.user()
    project = make.project(owner)
    for position, text in enumerate(EDGE_TEXT[1:]):
        make.flow(project, text, description=text, complexity_score=Decimal(position) / 4)
    response = call_act("flows", "GET", id=project.id, token=make.token(owner))
    assert response.status_code == 200
    assert response.get_data() == reference(json.loads(response.get_data()))
    assert {row["name"] for row in response.json["data"]} == set(EDGE_TEXT[1:])
    scores = {row["complexity_score"] for row in response.json["data"]}
    assert scores == {"0.00", "0.25", "0.50", "0.75", "1.00"}  # DECIMALs as the legacy's text
    make.project(owner, name=EDGE_TEXT[2], description=EDGE_TEXT[1])
    listed = call_act("projects", "GET", token=make.token(owner))
    assert listed.get_data() == reference(json.loads(listed.get_data()))
    assert EDGE_TEXT[2] in {row["name"] for row in listed.json["data"]}


def test_a_row_shape_makes_the_wire_row_that_wire_row_makes() -> None:
    shape = RowShape(FLOWS.c)
    values: list[Any] = [f"text {name}" for name in shape.names]
    values[shape.names.index("is_active")] = 1
    values[shape.names.index("created_at")] = datetime(2025, 1, 31, 23, 59, 59, 250000)
    values[shape.names.index("updated_at")] = "2025-01-31 23:59:59"  # as the server sent it
    values[shape.names.index("complexity_score")] = Decimal("0.5")
    assert shape.wire(values) == wire_row(shape.names, values)
    assert shape.wire([*values, "extra"]) == wire_row(shape.names, [*values, "extra"])
    assert shape.plain  # text, integers, datetimes and a DECIMAL: no FLOAT or DATE column


def test_a_row_shape_with_a_float_or_date_column_is_not_plain() -> None:
    table = Table("shapes", MetaData(), Column("id", String(9)), Column("n", Integer))
    assert RowShape(table.c).plain
    for odd in (Float(), Date(), LargeBinary()):
        assert not RowShape([*table.c, Column("odd", odd)]).plain
