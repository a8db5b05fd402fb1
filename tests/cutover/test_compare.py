"""Envelope comparison, the known-divergence list and masking (pure)."""

from typing import Any

import pytest

from backend.web.cutover.compare import (
    MAX_DIFFERENCES,
    compare,
    envelope_of,
    parse_known,
)
from backend.web.cutover.masking import MAX_CHARS, shown

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.c2lnbmF0dXJlLWJ5dGVz"


def envelope(data: Any = None, **overrides: Any) -> dict[str, Any]:
    body = {
        "success": True,
        "status_code": 200,
        "message": "ok",
        "timestamp": "2026-01-01 00:00:00",
        "request_id": "req_1",
        **overrides,
    }
    if data is not None:
        body["data"] = data
    return body


def paths(gateway: dict[str, Any], legacy: dict[str, Any], known: str = "") -> list[str]:
    result = compare("flow", gateway, legacy, parse_known(known, {"flow", "health"}))
    return [difference.path for difference in result.differences]


def test_equal_envelopes_are_the_same_whatever_their_volatile_keys() -> None:
    gateway = envelope({"id": "f1", "timestamp": "now"}, request_id="req_a", timestamp="t1")
    legacy = envelope({"id": "f1", "timestamp": "later"}, request_id="req_b", timestamp="t2")
    assert compare("flow", gateway, legacy, ()).same


@pytest.mark.parametrize(
    ("gateway", "legacy"),
    [(1, True), (3, 3.0), ("1", 1), (None, ""), ([], {})],
)
def test_values_differ_when_their_wire_form_differs(gateway: Any, legacy: Any) -> None:
    assert paths(envelope({"v": gateway}), envelope({"v": legacy})) == ["data.v"]


def test_top_level_keys_missing_on_one_side_differ() -> None:
    assert paths(envelope({"a": 1}), envelope()) == ["data"]
    assert paths(envelope(message="Flow updated"), envelope(message="Flow saved")) == ["message"]


def test_nested_paths_use_dots_and_list_indices() -> None:
    gateway = envelope({"flows": [{"name": "a"}, {"name": "b"}]})
    legacy = envelope({"flows": [{"name": "a"}, {"name": "B"}, {"name": "c"}]})
    assert paths(gateway, legacy) == ["data.flows.1.name", "data.flows.2"]


def test_a_difference_shape_writes_indices_as_stars() -> None:
    result = compare("flow", envelope([{"n": 1}] * 3), envelope([{"n": 2}] * 3), ())
    assert {difference.shape for difference in result.differences} == {"data.*.n"}


def test_differences_stop_at_the_cap_and_say_so() -> None:
    result = compare("flow", envelope(list(range(50))), envelope(list(range(1, 51))), ())
    assert len(result.differences) == MAX_DIFFERENCES
    assert result.truncated


def test_known_divergences_are_not_differences() -> None:
    gateway = envelope({"user": {"name": "a", "password_reset_token": None}})
    legacy = envelope({"user": {"name": "a", "password_reset_token": "abc"}})
    result = compare("flow", gateway, legacy, parse_known("data*.password_reset_token", {"flow"}))
    assert result.same
    assert result.known == 1


def test_a_known_divergence_can_be_limited_to_one_act() -> None:
    gateway, legacy = envelope({"memory": 1}), envelope({"memory": 2})
    known = "health:data.memory"
    assert paths(gateway, legacy, known) == ["data.memory"]  # compared as `flow`
    result = compare("health", gateway, legacy, parse_known(known, {"health"}))
    assert result.same


def test_known_divergences_do_not_hide_a_real_difference_behind_the_cap() -> None:
    rows = [{"token": str(n), "name": "x"} for n in range(40)]
    changed = [{"token": "other", "name": "x"} for _ in range(39)] + [{"token": "o", "name": "y"}]
    result = compare("flow", envelope(rows), envelope(changed), parse_known("data.*.token", {}))
    assert [difference.path for difference in result.differences] == ["data.39.name"]


def test_envelope_of_refuses_what_is_no_envelope() -> None:
    assert envelope_of(b"<html>Fatal error</html>") is None
    assert envelope_of(b"[1, 2]") is None
    assert envelope_of(b'{"message": "no status"}') is None
    assert envelope_of(b'{"success": true, "status_code": 200}') == {
        "success": True,
        "status_code": 200,
    }


@pytest.mark.parametrize(
    ("value", "key", "hidden", "expected"),
    [
        (JWT, "", "eyJhbGciOiJIUzI1NiJ9", '"<jwt>"'),
        ("Bearer abc.def-ghi", "note", "abc.def", '"Bearer <masked>"'),
        ("jane.doe@example.com", "email", "jane.doe", '"j***@e***.com"'),
        ("mail A.B@corp.example.org now", "", "A.B@", '"mail A***@c***.org now"'),
        ("f" * 64, "", "f" * 40, '"<hex>"'),
        ("plain-value", "refresh_token", "plain-value", '"<masked>"'),
        ({"password_hash": "$2y$04$" + "a" * 53}, "user", "aaaa", '{"password_hash": "<masked>"}'),
        ("$2y$12$" + "b" * 53, "", "bbbb", '"<bcrypt>"'),
    ],
)
def test_tokens_and_emails_are_masked(value: Any, key: str, hidden: str, expected: str) -> None:
    text = shown(value, key)
    assert hidden not in text
    assert text == expected


def test_numbers_under_a_token_key_stay_visible() -> None:
    assert shown(3, "token_version") == "3"


def test_long_values_are_truncated() -> None:
    text = shown("x" * 500)
    assert len(text) == MAX_CHARS
    assert text.endswith("…")
