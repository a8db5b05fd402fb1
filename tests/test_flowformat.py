"""flowformat: the legacy flow formats, conversion rules and validation texts (flows.md §1-§3)."""

import contextlib
import json
import re
from typing import Any

import pytest

from backend.core.errors import BadRequest
from services.flows import definition as ff
from services.flows.inputs import check_flow_inputs, validate_flow_inputs
from services.flows.pcre import is_php_regex


def step(step_id: Any = "s1", url: str = "/a", **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "method": "GET", "url": url, **extra}


def steps_flow(*steps: Any) -> dict[str, Any]:
    return {"version": "1.0", "steps": list(steps)}


def node(node_id: str, **data: Any) -> dict[str, Any]:
    fields = {"method": "GET", "url": "/x", **data}
    return {"id": node_id, "type": "apiCall", "position": {"x": 1, "y": 2}, "data": fields}


def edge(source: str, target: str) -> dict[str, Any]:
    return {"id": f"{source}->{target}", "source": source, "target": target}


def rf(nodes: list[Any], edges: list[Any]) -> dict[str, Any]:
    return {"nodes": nodes, "edges": edges}


def short_id(value: Any) -> str:
    try:
        return repr(value)[:40]
    except RecursionError:
        return f"deeply nested {type(value).__name__}"


def deeply_nested(depth: int) -> list[Any]:
    root: list[Any] = []
    current = root
    for _ in range(depth):
        inner: list[Any] = []
        current.append(inner)
        current = inner
    current.append("{{bad ref}}")
    return root


def refs_error(*errors: str) -> str:
    return "Invalid variable references: " + ", ".join(errors)


# --- §1.3 format detection -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (rf([], []), "react_flow"),
        ({"nodes": {}, "edges": {}, "steps": []}, "react_flow"),
        ({"nodes": []}, "steps"),
        ({"nodes": [], "edges": None}, "steps"),
        (steps_flow(), "steps"),
        ({}, "steps"),
        ([], "unknown"),
        ("text", "unknown"),
        (None, "unknown"),
    ],
    ids=repr,
)
def test_detect_format_needs_non_null_nodes_and_edges(data: Any, expected: str) -> None:
    assert ff.detect_format(data) == expected


# --- §3.1 / §3.2 format validation -----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, ["Missing steps array", "Missing version"]),
        ({"steps": None, "version": "1.0"}, ["Missing steps array"]),
        ({"steps": []}, ["Missing version"]),
        ({"steps": [], "version": 0}, []),
        ({"steps": {}, "version": "1.0"}, []),
        ({"steps": "abc", "version": "1.0"}, ["Missing steps array"]),
        ({"nodes": [node("a")]}, ["Missing steps array", "Missing version"]),
        (
            {"steps": [{}, {"id": "b", "method": "GET"}]},
            [
                "Step 0 missing id",
                "Step 0 missing method",
                "Step 0 missing URL",
                "Step 1 missing URL",
                "Missing version",
            ],
        ),
        (steps_flow({"id": None, "method": "POST", "url": ""}), ["Step 0 missing id"]),
        (steps_flow("text"), ["Step 0 missing id", "Step 0 missing method", "Step 0 missing URL"]),
        (steps_flow(step(extra=1, condition={"a": 1})), []),
    ],
    ids=repr,
)
def test_validate_steps_reports_legacy_messages_in_order(data: Any, errors: list[str]) -> None:
    assert ff.validate_steps(data) == errors


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, ["Missing nodes array", "Missing edges array"]),
        (steps_flow(step()), ["Missing nodes array", "Missing edges array"]),
        (rf([], []), []),
        (
            rf([{"id": "trigger", "type": "trigger", "data": {"label": "Start"}}], []),
            ["Node 0 missing method", "Node 0 missing URL"],
        ),
        (rf([{}], []), ["Node 0 missing id", "Node 0 missing data"]),
        (
            rf([node("a"), {"data": {"url": "/"}}], []),
            ["Node 1 missing id", "Node 1 missing method"],
        ),
        (rf([{"id": "a", "data": "GET /"}], []), ["Node 0 missing method", "Node 0 missing URL"]),
        (
            rf([node("a")], [{}, {"source": "a"}]),
            ["Edge 0 missing source", "Edge 0 missing target", "Edge 1 missing target"],
        ),
        (
            {"nodes": [{}], "edges": "x"},
            ["Node 0 missing id", "Node 0 missing data", "Missing edges array"],
        ),
        (rf([{"id": "a", "data": {"method": "X", "url": 5}}], [edge("a", "zzz")]), []),
    ],
    ids=repr,
)
def test_validate_react_flow_reports_legacy_messages_in_order(data: Any, errors: list[str]) -> None:
    assert ff.validate_react_flow(data) == errors


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Invalid flow format: Missing steps array, Missing version"),
        ({"nodes": [node("a")]}, "Invalid flow format: Missing steps array, Missing version"),
        (
            rf([{"id": "t", "type": "trigger", "data": {}}], []),
            "Invalid flow format: Node 0 missing method, Node 0 missing URL",
        ),
        ([step()], "Invalid flow format: Missing steps array, Missing version"),
    ],
    ids=repr,
)
def test_check_flow_format_raises_the_legacy_message(data: Any, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        ff.check_flow_format(data)
    assert caught.value.message == message
    assert caught.value.status == 400


# --- §3.3 variable references ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "{{baseUrl}}/users",
        "{{base_url}}",
        "{{API_KEY2}}",
        "{{0}}",
        "{{input.email}}",
        "{{ input.email }}",
        "{{env.API_TOKEN}}",
        "{{headers.Authorization}}",
        "{{login.token}}",
        "{{undefined_step.any}}",
        "no references",
        "{{}}",
        "{single}",
    ],
)
def test_variable_reference_is_accepted(text: str) -> None:
    assert ff.validate_variable_references(steps_flow(step(url=text))) == []


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "/t/{{invalid-reference}}",
            "Step 0: Invalid variable reference format 'invalid-reference'. "
            "Expected format: type.field",
        ),
        (
            "{{ baseUrl }}",
            "Step 0: Invalid variable reference format 'baseUrl'. Expected format: type.field",
        ),
        (
            "{{base-url}}",
            "Step 0: Invalid variable reference format 'base-url'. Expected format: type.field",
        ),
        (
            "{{$randomEmail}}",
            "Step 0: Invalid variable reference format '$randomEmail'. Expected format: type.field",
        ),
        (
            "{{.headers.x}}",
            "Step 0: Invalid variable reference format '.headers.x'. Expected format: type.field",
        ),
        ("{{ }}", "Step 0: Empty variable reference"),
        ("{{ 0 }}", "Step 0: Empty variable reference"),
        (
            "{{my-step.id}}",
            "Step 0: Invalid reference type 'my-step'. "
            "Must be one of: input, env, headers or a valid step ID",
        ),
        ("{{input.}}", "Step 0: Empty field name in reference 'input.'"),
        (
            "{{login.user.id}}",
            "Step 0: Invalid field name 'user.id' in reference 'login.user.id'",
        ),
        (
            "{{step1.output.field}}",
            "Step 0: Invalid field name 'output.field' in reference 'step1.output.field'",
        ),
        (
            "{{headers.X-Request-ID}}",
            "Step 0: Invalid field name 'X-Request-ID' in reference 'headers.X-Request-ID'",
        ),
        (
            "{{{x}}}",
            "Step 0: Invalid variable reference format '{x'. Expected format: type.field",
        ),
    ],
)
def test_variable_reference_is_rejected_with_legacy_message(text: str, error: str) -> None:
    assert ff.validate_variable_references(steps_flow(step(url=text))) == [error]


def test_legacy_doc_example_bare_name_is_now_accepted() -> None:
    # flows.md §3.3 example: the legacy rejected it, mcp2 substitutes it, so the gateway accepts it.
    assert ff.validate_variable_references(steps_flow(step(url="/t/{{invalidreference}}"))) == []


def test_reference_with_bad_type_and_bad_field_reports_both() -> None:
    assert ff.validate_variable_references(steps_flow(step(url="{{1a.b-c}}"))) == [
        "Step 0: Invalid reference type '1a'. "
        "Must be one of: input, env, headers or a valid step ID",
        "Step 0: Invalid field name 'b-c' in reference '1a.b-c'",
    ]


def test_references_are_scanned_url_then_headers_then_body_in_document_order() -> None:
    first = step(
        "s1",
        url="{{baseUrl}} {{ bad1 }}",
        headers={"A": "{{ bad2 }}", "B": 5, "C": ["{{ skipped }}"]},
        body={"x": ["{{ bad3 }}", {"y": "{{ bad4 }}"}], "z": "{{ bad5 }}"},
        outputs={"o": "{{ skipped }}"},
        tests=["{{ skipped }}"],
        name="{{ skipped }}",
    )
    second = step("s2", url="/{{ bad6 }}", body="{{ skipped }}", headers="{{ skipped }}")
    flow = {**steps_flow(first, second), "config": {"c": "{{ skipped }}"}}
    found = [
        re.search(r"'(\w+)'", error).group(1) for error in ff.validate_variable_references(flow)
    ]
    assert found == ["bad1", "bad2", "bad3", "bad4", "bad5", "bad6"]


def test_header_values_in_a_list_are_scanned() -> None:
    errors = ff.validate_variable_references(steps_flow(step(headers=["{{ oops }}"])))
    assert errors == [
        "Step 0: Invalid variable reference format 'oops'. Expected format: type.field"
    ]


def test_check_variable_references_joins_errors_with_prefix() -> None:
    flow = steps_flow(step(url="{{a b}}"), step("s2", url="{{ }}"))
    with pytest.raises(BadRequest) as caught:
        ff.check_variable_references(flow)
    assert caught.value.message == refs_error(
        "Step 0: Invalid variable reference format 'a b'. Expected format: type.field",
        "Step 1: Empty variable reference",
    )


# --- §3.4 flow_inputs ------------------------------------------------------------------------

TYPES = "string, number, boolean, email, password, object, array, file, date, json"
NAME_RULE = (
    "name must be a valid variable name "
    "(start with letter/underscore, only alphanumeric and underscore)"
)


def string_input(**validation: Any) -> list[dict[str, Any]]:
    return [{"name": "field", "type": "string", "validation": validation}]


def number_input(**validation: Any) -> list[dict[str, Any]]:
    return [{"name": "field", "type": "number", "validation": validation}]


@pytest.mark.parametrize(
    ("inputs", "errors"),
    [
        ("abc", ["flow_inputs must be an array"]),
        (5, ["flow_inputs must be an array"]),
        ([], []),
        ([{"name": "email", "type": "email", "required": True, "min_items": "x"}], []),
        (
            ["text", 3, None],
            ["Input 0 must be an object", "Input 1 must be an object", "Input 2 must be an object"],
        ),
        ({"user": "text"}, ["Input user must be an object"]),
        ([{}], ["Input 0: name is required", "Input 0: type is required"]),
        ([[]], ["Input 0: name is required", "Input 0: type is required"]),
        ([{"name": "0", "type": "string"}], ["Input 0: name is required"]),
        ([{"name": "1abc", "type": "string"}], [f"Input 0: {NAME_RULE}"]),
        ([{"name": 7, "type": "string"}], [f"Input 0: {NAME_RULE}"]),
        ([{"name": "a", "type": "text"}], [f"Input 0: type must be one of: {TYPES}"]),
        ([{"name": "a", "type": True}], [f"Input 0: type must be one of: {TYPES}"]),
        (
            [{"name": "a-b", "type": "str"}],
            [f"Input 0: {NAME_RULE}", f"Input 0: type must be one of: {TYPES}"],
        ),
        (string_input(min_length=-1), ["Input 0: min_length must be a non-negative integer"]),
        (string_input(min_length=1.0), ["Input 0: min_length must be a non-negative integer"]),
        (string_input(min_length="3"), ["Input 0: min_length must be a non-negative integer"]),
        (string_input(min_length=True), ["Input 0: min_length must be a non-negative integer"]),
        (string_input(min_length=0, max_length=10), []),
        (string_input(max_length=0), ["Input 0: max_length must be a positive integer"]),
        (string_input(max_length=2**64), ["Input 0: max_length must be a positive integer"]),
        (number_input(min_length=1), ["Input 0: min_length is not applicable for type number"]),
        (
            [{"name": "d", "type": "date", "validation": {"min_length": -1, "max_length": 0}}],
            [
                "Input 0: min_length must be a non-negative integer",
                "Input 0: min_length is not applicable for type date",
                "Input 0: max_length must be a positive integer",
                "Input 0: max_length is not applicable for type date",
            ],
        ),
        (
            [{"name": "b", "type": "boolean", "validation": {"max_length": 5}}],
            ["Input 0: max_length is not applicable for type boolean"],
        ),
        (number_input(min="a"), ["Input 0: min must be numeric for number type"]),
        (number_input(max=[1]), ["Input 0: max must be numeric for number type"]),
        (number_input(min=True), ["Input 0: min must be numeric for number type"]),
        (number_input(min=10, max=9), ["Input 0: min cannot be greater than max"]),
        (number_input(min="10", max=" 9.5"), ["Input 0: min cannot be greater than max"]),
        (number_input(min="1e3", max=999), ["Input 0: min cannot be greater than max"]),
        (number_input(min=1, max=1, pattern="^bad"), []),
        (string_input(min="a", max="b"), []),
        (string_input(pattern="/^[a-z]+$/i"), []),
        (string_input(pattern="^https?://.+"), ["Input 0: pattern must be a valid regex"]),
        (string_input(pattern=5), ["Input 0: pattern must be a valid regex"]),
        ([{"name": "p", "type": "password", "validation": {"pattern": "^x"}}], []),
        (string_input(options="a,b"), ["Input 0: options must be an array"]),
        (
            string_input(options=["a", 1, None]),
            ["Input 0: option 1 must be a string", "Input 0: option 2 must be a string"],
        ),
        (string_input(options={"k": 1}), ["Input 0: option k must be a string"]),
        ([{"name": "a", "type": "string", "validation": [1, 2]}], []),
        ([{"name": "a", "type": "string", "validation": "min_length=3"}], []),
    ],
    ids=repr,
)
def test_validate_flow_inputs_reports_legacy_messages(inputs: Any, errors: list[str]) -> None:
    assert validate_flow_inputs(inputs) == errors


@pytest.mark.parametrize(
    ("pattern", "valid"),
    [
        ("/^[a-z]+$/i", True),
        ("#^\\d{3}$#", True),
        ("~a/b~u", True),
        ("  /a/ \n", True),
        ("{^a{2}$}", True),
        ("(a(b)c)", True),
        ("[a]", True),
        ("<a>x", True),
        ("/a\\/b/", True),
        ("/(?<year>\\d{4})-\\k<year>/", True),
        ("/^\\p{Lu}\\p{L}*$/u", True),
        ("/a\\z/D", True),
        ("/a #(\n/x", True),
        ("^https?://.+", False),
        ("", False),
        ("   ", False),
        ("abc", False),
        ("\\a\\", False),
        ("/abc", False),
        ("/a/e", False),
        ("/a/q", False),
        ("/(/", False),
        ("/[a/", False),
        ("/a{2,1}/", False),
        ("é^a$é", False),
    ],
    ids=repr,
)
def test_pattern_must_be_a_php_delimited_regex(pattern: str, valid: bool) -> None:
    assert is_php_regex(pattern) is valid


@pytest.mark.parametrize("empty", [None, [], {}, "", 0, "0", False, 0.0])
def test_php_empty_flow_inputs_skip_validation(empty: Any) -> None:
    check_flow_inputs(empty)


def test_check_flow_inputs_raises_joined_legacy_message() -> None:
    with pytest.raises(BadRequest) as caught:
        check_flow_inputs([{"name": "ok", "type": "string"}, {"name": "x"}, "y"])
    assert caught.value.message == (
        "Invalid flow inputs: Input 1: type is required, Input 2 must be an object"
    )


def test_check_flow_inputs_rejects_a_non_empty_scalar() -> None:
    with pytest.raises(BadRequest, match="^Invalid flow inputs: flow_inputs must be an array$"):
        check_flow_inputs("username")


def test_docs_example_pattern_is_rejected_as_in_legacy() -> None:
    inputs = [{"name": "site", "type": "string", "validation": {"pattern": "^https?://.+"}}]
    with pytest.raises(BadRequest) as caught:
        check_flow_inputs(inputs)
    assert caught.value.message == "Invalid flow inputs: Input 0: pattern must be a valid regex"


# --- §2.1 Steps -> React Flow ----------------------------------------------------------------


def test_steps_convert_to_positioned_api_call_nodes_and_chained_edges() -> None:
    flow = {
        "version": "1.0",
        "steps": [
            {
                "id": "login",
                "name": "Login",
                "method": "POST",
                "url": "/auth",
                "headers": {"A": "b"},
                "body": {"u": "{{input.user}}"},
                "outputs": {"token": "data.token"},
                "tests": ["status == 200"],
                "condition": "x",
                "delay": 5,
            },
            {"id": "me", "method": "GET", "url": "/me"},
            {"id": "logout", "name": None, "method": None, "url": None, "headers": None},
        ],
        "config": {"delay": 100},
    }
    assert ff.steps_to_react_flow(flow) == {
        "nodes": [
            {
                "id": "login",
                "type": "apiCall",
                "position": {"x": 0, "y": 100},
                "data": {
                    "name": "Login",
                    "method": "POST",
                    "url": "/auth",
                    "headers": {"A": "b"},
                    "body": {"u": "{{input.user}}"},
                    "outputs": {"token": "data.token"},
                    "tests": ["status == 200"],
                },
            },
            {
                "id": "me",
                "type": "apiCall",
                "position": {"x": 250, "y": 100},
                "data": {
                    "name": "me",
                    "method": "GET",
                    "url": "/me",
                    "headers": [],
                    "body": None,
                    "outputs": [],
                    "tests": [],
                },
            },
            {
                "id": "logout",
                "type": "apiCall",
                "position": {"x": 500, "y": 100},
                "data": {
                    "name": "logout",
                    "method": "GET",
                    "url": "",
                    "headers": [],
                    "body": None,
                    "outputs": [],
                    "tests": [],
                },
            },
        ],
        "edges": [
            {"id": "edge-login-me", "source": "login", "target": "me", "type": "smoothstep"},
            {"id": "edge-me-logout", "source": "me", "target": "logout", "type": "smoothstep"},
        ],
    }


def test_node_data_keys_follow_the_legacy_order() -> None:
    data = ff.steps_to_react_flow(steps_flow({"tests": [], "url": "/", "id": "a"}))["nodes"][0]
    assert list(data) == ["id", "type", "position", "data"]
    assert list(data["data"]) == ["name", "method", "url", "headers", "body", "outputs", "tests"]


@pytest.mark.parametrize(
    ("ids", "edge_ids"),
    [
        (["step_1", "step_2"], ["edge-step_1-step_2"]),
        ([1, 2], ["edge-1-2"]),
        ([True, None], ["edge-1-"]),
        ([1.5, 2.0], ["edge-1.5-2"]),
        (["a"], []),
    ],
    ids=repr,
)
def test_edge_ids_join_raw_step_ids_with_hyphens(ids: list[Any], edge_ids: list[str]) -> None:
    flow = steps_flow(*[step(step_id) for step_id in ids])
    assert [e["id"] for e in ff.steps_to_react_flow(flow)["edges"]] == edge_ids


@pytest.mark.parametrize("flow", [{}, {"steps": None}, {"steps": "x"}, [], None, "text"], ids=repr)
def test_steps_without_a_steps_array_convert_to_an_empty_graph(flow: Any) -> None:
    assert ff.steps_to_react_flow(flow) == {"nodes": [], "edges": []}


# --- §2.2 React Flow -> Steps ----------------------------------------------------------------


def test_react_flow_converts_to_eight_key_steps_and_fixed_config() -> None:
    ui = rf(
        [
            {
                "id": "n1",
                "type": "delay",
                "position": {"x": 9, "y": 9},
                "data": {"method": "PUT", "url": "/x", "body": "raw", "label": "dropped"},
            },
            {"id": "n2", "data": {"name": "Second", "method": None, "url": None, "tests": [1]}},
        ],
        [{"id": "whatever", "source": "n1", "target": "n2", "type": "custom"}],
    )
    assert ff.react_flow_to_steps(ui) == {
        "version": "1.0",
        "steps": [
            {
                "id": "n1",
                "name": "n1",
                "method": "PUT",
                "url": "/x",
                "headers": [],
                "body": "raw",
                "outputs": [],
                "tests": [],
            },
            {
                "id": "n2",
                "name": "Second",
                "method": "GET",
                "url": "",
                "headers": [],
                "body": None,
                "outputs": [],
                "tests": [1],
            },
        ],
        "config": {"delay": 0, "retryCount": 1, "parallel": False},
    }


def order(nodes: list[str], edges: list[tuple[str, str]]) -> list[str]:
    ui = rf([node(n) for n in nodes], [edge(s, t) for s, t in edges])
    return [s["id"] for s in ff.react_flow_to_steps(ui)["steps"]]


@pytest.mark.parametrize(
    ("nodes", "edges", "expected"),
    [
        (["b", "a", "c"], [], ["b", "a", "c"]),
        (["b", "a", "c"], [("a", "b")], ["a", "c", "b"]),
        (["c", "b", "a"], [("a", "b"), ("b", "c")], ["a", "b", "c"]),
        (
            ["a", "b", "c", "d"],
            [("a", "b"), ("a", "c"), ("c", "d"), ("b", "d")],
            ["a", "b", "c", "d"],
        ),
        (
            ["a", "b", "c", "d"],
            [("a", "c"), ("c", "d"), ("a", "b"), ("b", "d")],
            ["a", "c", "b", "d"],
        ),
        (["a", "x", "b", "d"], [("a", "b"), ("x", "d"), ("d", "b")], ["a", "x", "b", "d"]),
        (["a", "b", "c"], [("a", "b"), ("b", "a"), ("x", "c")], ["a", "b", "c"]),
        (["r", "a", "b"], [("a", "b"), ("b", "a")], ["r", "a", "b"]),
        (["a", "b"], [("a", "ghost")], ["a", "b"]),
    ],
    ids=[
        "no edges keep array order",
        "flows.md worked example",
        "chain",
        "diamond is breadth first",
        "edge order decides siblings",
        "node with two parents follows its first parent",
        "cycle appended in array order",
        "unreachable cycle appended",
        "edge to unknown node is ignored",
    ],
)
def test_react_flow_nodes_are_ordered_breadth_first(
    nodes: list[str], edges: list[tuple[str, str]], expected: list[str]
) -> None:
    assert order(nodes, edges) == expected


def test_duplicate_node_ids_keep_the_last_node_when_reached() -> None:
    ui = rf([node("a", url="/first"), node("b"), node("a", url="/second")], [edge("a", "b")])
    assert [(s["id"], s["url"]) for s in ff.react_flow_to_steps(ui)["steps"]] == [
        ("a", "/second"),
        ("b", "/x"),
    ]


# --- Round trips -----------------------------------------------------------------------------

ROUND_TRIP_STEPS = [
    {
        "id": "login",
        "name": "Login",
        "method": "POST",
        "url": "{{baseUrl}}/login",
        "headers": {"Content-Type": "application/json"},
        "body": {"email": "{{input.email}}"},
        "outputs": {"token": "data.token"},
        "tests": [{"status": 200}],
    },
    {
        "id": "me",
        "name": "me",
        "method": "GET",
        "url": "/me",
        "headers": {"Authorization": "Bearer {{login.token}}"},
        "body": None,
        "outputs": [],
        "tests": [],
    },
    {
        "id": "bye",
        "name": "Bye",
        "method": "DELETE",
        "url": "",
        "headers": [],
        "body": None,
        "outputs": [],
        "tests": [],
    },
]


def test_steps_round_trip_through_react_flow() -> None:
    flow = {
        "version": "1.0",
        "steps": ROUND_TRIP_STEPS,
        "config": {"delay": 0, "retryCount": 1, "parallel": False},
    }
    assert ff.react_flow_to_steps(ff.steps_to_react_flow(flow)) == flow


def test_react_flow_round_trip_keeps_nodes_and_chains_edges() -> None:
    ui = ff.steps_to_react_flow(steps_flow(*ROUND_TRIP_STEPS))
    again = ff.steps_to_react_flow(ff.react_flow_to_steps(ui))
    assert again == ui


def test_conversion_is_deterministic() -> None:
    ui = rf([node(n) for n in "edcba"], [edge("a", "c"), edge("e", "a"), edge("c", "b")])
    assert ff.react_flow_to_steps(ui) == ff.react_flow_to_steps(json.loads(json.dumps(ui)))


# --- normalize_flow_data (create / flow_update) ---------------------------------------------


def test_absent_flow_data_gives_the_default_empty_flow() -> None:
    assert ff.normalize_flow_data(None) == (
        {"version": "1.0", "steps": [], "config": {"delay": 0, "retryCount": 1, "parallel": False}},
        {"nodes": [], "edges": []},
    )


def test_default_flow_is_a_fresh_object_each_time() -> None:
    ff.normalize_flow_data(None)[0]["steps"].append("mutated")
    assert ff.normalize_flow_data(None)[0]["steps"] == []


def test_submitted_steps_are_stored_verbatim_and_converted_for_the_ui() -> None:
    flow = {"version": 2, "steps": [step(condition="x", endpoint="ep_1")], "config": {"k": True}}
    steps, ui = ff.normalize_flow_data(flow)
    assert steps is flow
    assert ui == ff.steps_to_react_flow(flow)


def test_submitted_react_flow_is_stored_verbatim_for_the_ui_and_converted_to_steps() -> None:
    submitted = rf([node("a"), node("b")], [edge("a", "b")])
    steps, ui = ff.normalize_flow_data(submitted)
    assert ui is submitted
    assert steps == ff.react_flow_to_steps(submitted)


def test_flow_data_may_be_a_json_string() -> None:
    flow = steps_flow(step(url="{{baseUrl}}/x"))
    assert ff.normalize_flow_data(json.dumps(flow)) == (flow, ff.steps_to_react_flow(flow))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "Invalid flow format: Missing steps array, Missing version"),
        ("not json", "Invalid flow format: Missing steps array, Missing version"),
        ("null", "Invalid flow format: Missing steps array, Missing version"),
        ('"{}"', "Invalid flow format: Missing steps array, Missing version"),
        (42, "Invalid flow format: Missing steps array, Missing version"),
        ([step()], "Invalid flow format: Missing steps array, Missing version"),
        ({"nodes": [node("a")]}, "Invalid flow format: Missing steps array, Missing version"),
        (
            rf([{"id": "start", "type": "trigger", "data": {}}], []),
            "Invalid flow format: Node 0 missing method, Node 0 missing URL",
        ),
        (
            steps_flow(step(url="/t/{{invalid-reference}}")),
            refs_error(
                "Step 0: Invalid variable reference format 'invalid-reference'. "
                "Expected format: type.field"
            ),
        ),
        (
            rf([node("a"), node("b", url="{{a.x-y}}")], [edge("b", "a")]),
            refs_error("Step 0: Invalid field name 'x-y' in reference 'a.x-y'"),
        ),
    ],
    ids=repr,
)
def test_normalize_flow_data_rejects_with_the_legacy_message(raw: Any, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        ff.normalize_flow_data(raw)
    assert caught.value.message == message


def test_mcp2_bare_variables_are_accepted_on_create() -> None:
    flow = steps_flow(
        step(url="{{baseUrl}}/users", headers={"Authorization": "Bearer {{token}}"}),
        step("s2", url="{{baseUrl}}/users/{{step_s1_status}}", body={"id": "{{userId}}"}),
    )
    assert ff.normalize_flow_data(flow)[0] is flow


# --- normalize_ui_flow_data (PUT flow_detail_ui) ---------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, "Invalid flow format: Missing nodes array, Missing edges array"),
        (steps_flow(step()), "Invalid flow format: Missing nodes array, Missing edges array"),
        ({"nodes": []}, "Invalid flow format: Missing edges array"),
        (rf([{"id": "a"}], []), "Invalid flow format: Node 0 missing data"),
    ],
    ids=repr,
)
def test_ui_update_accepts_only_react_flow(raw: Any, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        ff.normalize_ui_flow_data(raw)
    assert caught.value.message == message


def test_ui_update_does_not_check_variable_references() -> None:
    submitted = rf([node("a", url="{{not valid}}")], [])
    steps, ui = ff.normalize_ui_flow_data(submitted)
    assert ui is submitted
    assert steps["steps"][0]["url"] == "{{not valid}}"


# --- activation check ------------------------------------------------------------------------

GOOD_STEPS = json.dumps(steps_flow(step(url="{{baseUrl}}/ping")))
GOOD_UI = json.dumps(ff.steps_to_react_flow(json.loads(GOOD_STEPS)))


@pytest.mark.parametrize(
    ("flow_data", "ui_data"),
    [
        (GOOD_STEPS, GOOD_UI),
        (GOOD_STEPS, None),
        (GOOD_STEPS, ""),
        (GOOD_STEPS, GOOD_STEPS),
        (GOOD_STEPS, "null"),
        (json.dumps(ff.default_steps_flow()), '{"nodes":[],"edges":[]}'),
        ('{"version":"1.0","steps":{}}', '{"nodes":{},"edges":{}}'),
    ],
    ids=[
        "steps and ui",
        "ui null",
        "ui empty",
        "ui back-filled with steps",
        "ui json null",
        "empty steps",
        "php empty arrays",
    ],
)
def test_activation_accepts_a_valid_stored_definition(flow_data: str, ui_data: str | None) -> None:
    assert ff.activation_problems(flow_data, ui_data) == {}


@pytest.mark.parametrize(
    ("flow_data", "ui_data", "problems"),
    [
        ("{not json", None, {"flow_data": "Invalid JSON"}),
        (None, None, {"flow_data": "Missing flow definition"}),
        ("", None, {"flow_data": "Missing flow definition"}),
        ("[]", None, {"flow_data": "Invalid flow format: Missing steps array, Missing version"}),
        (
            json.dumps({"steps": [{"id": "a"}]}),
            None,
            {
                "flow_data": "Invalid flow format: Step 0 missing method, "
                "Step 0 missing URL, Missing version"
            },
        ),
        (
            GOOD_UI,
            None,
            {"flow_data": "Invalid flow format: Missing steps array, Missing version"},
        ),
        (
            json.dumps(steps_flow(step(url="{{login.user.id}}"))),
            None,
            {
                "flow_data": refs_error(
                    "Step 0: Invalid field name 'user.id' in reference 'login.user.id'"
                )
            },
        ),
        (GOOD_STEPS, "{{{", {"ui_data": "Invalid JSON"}),
        (
            GOOD_STEPS,
            '{"nodes":[{"id":"a"}],"edges":[]}',
            {"ui_data": "Invalid flow format: Node 0 missing data"},
        ),
        (
            GOOD_STEPS,
            "42",
            {"ui_data": "Invalid flow format: Missing nodes array, Missing edges array"},
        ),
        (
            "1",
            "x",
            {
                "flow_data": "Invalid flow format: Missing steps array, Missing version",
                "ui_data": "Invalid JSON",
            },
        ),
    ],
    ids=repr,
)
def test_activation_reports_problems_per_field(
    flow_data: str | None, ui_data: str | None, problems: dict[str, str]
) -> None:
    assert ff.activation_problems(flow_data, ui_data) == problems


# --- list fields: step_count / format_type ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count", "kind"),
    [
        (json.dumps(steps_flow(step(), step("b"))), 2, "steps"),
        (json.dumps(ff.default_steps_flow()), 0, "steps"),
        ('{"version":"1.0","steps":{"0":{},"1":{}}}', 2, "steps"),
        (json.dumps(rf([node("a"), node("b"), node("c")], [])), 3, "react_flow"),
        ('{"nodes":"x","edges":[]}', 0, "unknown"),
        ('{"steps":"abc"}', 0, "unknown"),
        ('{"steps":{"a":1}}', 0, "unknown"),
        ("{}", 0, "unknown"),
        ("[1,2]", 0, "unknown"),
        ("not json", 0, "unknown"),
        ("", 0, "unknown"),
        (None, 0, "unknown"),
        ("[" * 100_000, 0, "unknown"),
    ],
    ids=short_id,
)
def test_list_fields_describe_the_stored_definition(
    text: str | None, count: int, kind: str
) -> None:
    assert (ff.step_count(text), ff.format_type(text)) == (count, kind)


# --- ui_view (GET flow_detail_ui) ------------------------------------------------------------

STORED_STEPS = json.dumps(steps_flow(step("a"), step("b")))
CONVERTED = ff.steps_to_react_flow(json.loads(STORED_STEPS))


def test_ui_view_returns_stored_react_flow_as_is() -> None:
    stored = {"nodes": [node("z")], "edges": [], "viewport": {"zoom": 1}}
    assert ff.ui_view(STORED_STEPS, json.dumps(stored)) == stored


@pytest.mark.parametrize(
    ("flow_data", "ui_data", "expected"),
    [
        (STORED_STEPS, None, CONVERTED),
        (STORED_STEPS, "", CONVERTED),
        (STORED_STEPS, STORED_STEPS, CONVERTED),
        (STORED_STEPS, json.dumps(steps_flow(step("old"))), CONVERTED),
        (STORED_STEPS, "garbage", CONVERTED),
        (STORED_STEPS, '{"nodes":"x","edges":[]}', CONVERTED),
        ("{}", STORED_STEPS, CONVERTED),
        ('{"version":"1.0"}', None, {"nodes": [], "edges": []}),
        ("garbage", "garbage", {"nodes": [], "edges": []}),
        (None, None, {"nodes": [], "edges": []}),
        ("[]", "[]", {"nodes": [], "edges": []}),
        ('{"version":"1","steps":{}}', '{"nodes":{},"edges":{}}', {"nodes": [], "edges": []}),
    ],
    ids=[
        "ui null",
        "ui empty",
        "ui back-filled",
        "ui stale steps",
        "ui garbage",
        "ui bad nodes",
        "flow_data garbage, ui steps",
        "no steps",
        "both garbage",
        "both null",
        "lists",
        "php empty objects",
    ],
)
def test_ui_view_derives_react_flow_when_ui_data_is_not_react_flow(
    flow_data: str | None, ui_data: str | None, expected: dict[str, Any]
) -> None:
    assert ff.ui_view(flow_data, ui_data) == expected


# --- garbage never crashes -------------------------------------------------------------------


GARBAGE: list[Any] = [
    None,
    True,
    0,
    -1.5,
    "",
    "{{",
    [],
    {},
    [None, 1, "x", [], {}],
    {"steps": [None, 1, "x", [], {"id": []}], "version": "1"},
    {"steps": [{"id": ["list"], "method": {}, "url": [], "headers": "h", "body": 5}], "version": 1},
    {
        "steps": [{"id": "a", "method": "GET", "url": "/", "body": deeply_nested(50_000)}],
        "version": 1,
    },
    {"nodes": [None, 1, "x", [], {"id": {}, "data": []}], "edges": [None, 1, "x", {"source": []}]},
    {
        "nodes": [{"id": [1], "data": {"method": 1, "url": 2}}],
        "edges": [{"source": [1], "target": {}}],
    },
    {"nodes": {"a": 1}, "edges": {"b": 2}},
    {"nodes": "abc", "edges": 5},
    [
        {
            "name": ["x"],
            "type": {},
            "validation": {"min": {}, "max": [], "options": 5, "pattern": []},
        }
    ],
    [{"name": "n", "type": "number", "validation": {"min": "nan", "max": float("nan")}}],
    [{"name": "n", "type": "string", "validation": {"pattern": "/" + "(" * 5_000 + "/"}}],
    [{"name": "n", "type": "string", "validation": {"pattern": "/a{99999999999}/"}}],
    {"steps": [{"id": 10**30, "method": "GET", "url": "{{" * 100_000}], "version": 1},
]


@pytest.mark.parametrize("value", GARBAGE, ids=short_id)
def test_validators_and_converters_never_crash_on_garbage(value: Any) -> None:
    for function in (
        ff.detect_format,
        ff.validate_steps,
        ff.validate_react_flow,
        ff.validate_variable_references,
        validate_flow_inputs,
        ff.steps_to_react_flow,
        ff.react_flow_to_steps,
    ):
        function(value)


@pytest.mark.parametrize("value", GARBAGE, ids=short_id)
def test_raising_helpers_raise_only_bad_request_on_garbage(value: Any) -> None:
    for function in (
        ff.normalize_flow_data,
        ff.normalize_ui_flow_data,
        ff.check_flow_format,
        ff.check_variable_references,
        check_flow_inputs,
    ):
        with contextlib.suppress(BadRequest):
            function(value)


@pytest.mark.parametrize(
    "text",
    ["", "null", "[", "{}", "[]", '"x"', "1e999", "[" * 100_000 + "]" * 100_000, b"\xff", 42],
    ids=short_id,
)
def test_stored_text_readers_never_crash_on_garbage(text: Any) -> None:
    assert isinstance(ff.activation_problems(text, text), dict)
    assert ff.ui_view(text, text) == {"nodes": [], "edges": []}
    assert ff.step_count(text) == 0
    assert ff.format_type(text) == "unknown"


def test_deeply_nested_body_is_scanned_without_recursion() -> None:
    flow = steps_flow(step(body={"a": deeply_nested(50_000)}))
    assert ff.validate_variable_references(flow) == [
        "Step 0: Invalid variable reference format 'bad ref'. Expected format: type.field"
    ]


def test_reference_scan_is_linear_on_unclosed_braces() -> None:
    flow = steps_flow(step(url="{{" * 200_000 + "x" + "{" * 200_000))
    assert ff.validate_variable_references(flow) == []


@pytest.mark.parametrize(
    "text",
    ["", "{{a}}", "{{{a}}}", "{{a}", "{{ }}{{b.c}}", "x{{a}}}}{{", "{{}}}", "{{{{a}}}}", "}}{{a}}"],
)
def test_reference_extraction_matches_the_legacy_regex(text: str) -> None:
    assert ff._extract_references(text) == re.findall(r"\{\{([^}]+)\}\}", text)
