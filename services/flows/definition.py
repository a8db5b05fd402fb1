"""Flow definitions: the Steps and React Flow formats, conversion and validation (flows.md §1-§3.3).

Pure functions over decoded JSON. Validators return the legacy error strings; the `check_*` and
`normalize_*` helpers raise `BadRequest` with the legacy 400 texts. Nested values of the input are
shared with the output, not copied. Garbage in never raises anything else: non-arrays where arrays
belong count as missing. `flow_inputs` are `services.flows.inputs`.
"""

import json
import re
from collections import deque
from collections.abc import Container, Hashable, Iterator
from itertools import pairwise
from typing import Any, Literal

from backend.core.errors import BadRequest
from backend.legacy.php import PHP_TRIM, is_php_empty, php_json, php_string

FormatName = Literal["steps", "react_flow", "unknown"]
Json = Any
Flow = dict[str, Any]

FORMAT_PREFIX = "Invalid flow format: "
REFERENCES_PREFIX = "Invalid variable references: "

REFERENCE_TYPES = ("input", "env", "headers")

IDENTIFIER = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")  # a variable name, a step id
# What the mcp2 executor substitutes: `{{name}}`, letters, digits and underscore, nothing else.
_BARE_NAME = re.compile(r"[a-zA-Z0-9_]+")


# --- JSON shapes as PHP sees them ------------------------------------------------------------


def default_steps_flow() -> Flow:
    return {"version": "1.0", "steps": [], "config": _default_config()}


def empty_react_flow() -> Flow:
    return {"nodes": [], "edges": []}


def _default_config() -> Flow:
    return {"delay": 0, "retryCount": 1, "parallel": False}


def as_dict(value: Any) -> dict[str, Any]:
    """An object, or an empty one for anything else."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any] | None:
    """A JSON array, or an object PHP would re-encode as one (`{}`, keys "0", "1", ... in order)."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and all(key == str(i) for i, key in enumerate(value)):
        return list(value.values())
    return None


def array_entries(value: Any) -> list[tuple[int | str, Any]] | None:
    """(key, item) pairs of a PHP array: list indexes or object keys; None for scalars."""
    if isinstance(value, list):
        return list(enumerate(value))
    if isinstance(value, dict):
        return list(value.items())
    return None


def _or(value: Json, default: Json) -> Json:
    return default if value is None else value


def _decode(text: Json) -> tuple[bool, Json]:
    if not isinstance(text, str | bytes | bytearray):
        return False, None
    try:
        return True, json.loads(text)
    except (ValueError, RecursionError):
        return False, None


def _id_key(value: Json) -> Hashable:
    """Identity of a node id: strict like `===`, and safe for ids that are lists or objects."""
    if value is None or isinstance(value, str | int | float):
        return (type(value).__name__, value)
    return ("object", id(value))


# --- Format detection (§1.3) -----------------------------------------------------------------


def detect_format(data: Json) -> FormatName:
    """React Flow iff an object with non-null `nodes` and `edges`; any other object is Steps."""
    if not isinstance(data, dict):
        return "unknown"
    if data.get("nodes") is not None and data.get("edges") is not None:
        return "react_flow"
    return "steps"


# --- Conversion (§2) -------------------------------------------------------------------------


def _api_call_fields(fields: Flow, fallback_name: Json) -> Flow:
    return {
        "name": _or(fields.get("name"), fallback_name),
        "method": _or(fields.get("method"), "GET"),
        "url": _or(fields.get("url"), ""),
        "headers": _or(fields.get("headers"), []),
        "body": fields.get("body"),
        "outputs": _or(fields.get("outputs"), []),
        "tests": _or(fields.get("tests"), []),
    }


def steps_to_react_flow(flow_data: Json) -> Flow:
    """One `apiCall` node per step at x = i*250, y = 100, chained by `smoothstep` edges.

    Anything without a steps array converts to an empty graph instead of failing.
    """
    steps = [as_dict(step) for step in as_list(as_dict(flow_data).get("steps")) or []]
    nodes = [_step_node(step, i) for i, step in enumerate(steps)]
    ids = [step.get("id") for step in steps]
    edges = [_chain_edge(source, target) for source, target in pairwise(ids)]
    return {"nodes": nodes, "edges": edges}


def _step_node(step: Flow, index: int) -> Flow:
    return {
        "id": step.get("id"),
        "type": "apiCall",
        "position": {"x": index * 250, "y": 100},
        "data": _api_call_fields(step, step.get("id")),
    }


def _chain_edge(source: Json, target: Json) -> Flow:
    edge_id = f"edge-{php_string(source)}-{php_string(target)}"
    return {"id": edge_id, "source": source, "target": target, "type": "smoothstep"}


def react_flow_to_steps(ui: Json) -> Flow:
    """Steps in BFS order from the root nodes; exactly 8 keys per step, the fixed default config."""
    flow = as_dict(ui)
    nodes = as_list(flow.get("nodes")) or []
    edges = [as_dict(edge) for edge in as_list(flow.get("edges")) or []]
    steps = [_node_step(as_dict(node)) for node in _order_nodes(nodes, edges)]
    return {"version": "1.0", "steps": steps, "config": _default_config()}


def _node_step(node: Flow) -> Flow:
    return {"id": node.get("id"), **_api_call_fields(as_dict(node.get("data")), node.get("id"))}


def _order_nodes(nodes: list[Json], edges: list[Flow]) -> list[Json]:
    """flows.md §2.2: a BFS (not an in-degree sort); unreached nodes follow in array order.

    A later node with a duplicate id replaces the earlier one; edges to unknown ids are ignored
    (the legacy emitted a broken step with a null id for them).
    """
    if not edges:
        return list(nodes)
    by_id = {_id_key(as_dict(node).get("id")): node for node in nodes}
    children: dict[Hashable, list[Hashable]] = {}
    for edge in edges:
        children.setdefault(_id_key(edge.get("source")), []).append(_id_key(edge.get("target")))
    targets = {key for keys in children.values() for key in keys}
    emitted = _bfs([key for key in by_id if key not in targets], children, by_id.keys())
    ordered = [by_id[key] for key in emitted]
    return ordered + [node for node in nodes if _id_key(as_dict(node).get("id")) not in emitted]


def _bfs(
    roots: list[Hashable], children: dict[Hashable, list[Hashable]], known: Container[Hashable]
) -> dict[Hashable, None]:
    queue, seen = deque(roots), set(roots)
    emitted: dict[Hashable, None] = {}
    while queue:
        key = queue.popleft()
        emitted[key] = None
        for child in children.get(key, ()):
            if child in known and child not in seen:
                queue.append(child)
                seen.add(child)
    return emitted


# --- Structure validation (§3.1, §3.2) -------------------------------------------------------


def _missing(item: Json, label: str, fields: tuple[tuple[str, str], ...]) -> list[str]:
    values = as_dict(item)
    return [f"{label} missing {word}" for key, word in fields if values.get(key) is None]


def validate_steps(data: Json) -> list[str]:
    flow = as_dict(data)
    steps = as_list(flow.get("steps"))
    errors = [] if steps is not None else ["Missing steps array"]
    required = (("id", "id"), ("method", "method"), ("url", "URL"))
    for i, step in enumerate(steps or []):
        errors += _missing(step, f"Step {i}", required)
    if flow.get("version") is None:
        errors.append("Missing version")
    return errors


def validate_react_flow(data: Json) -> list[str]:
    flow = as_dict(data)
    return _node_errors(flow.get("nodes")) + _edge_errors(flow.get("edges"))


def _node_errors(value: Json) -> list[str]:
    nodes = as_list(value)
    if nodes is None:
        return ["Missing nodes array"]
    errors: list[str] = []
    for i, node in enumerate(nodes):
        errors += _missing(node, f"Node {i}", (("id", "id"), ("data", "data")))
        data = as_dict(node).get("data")
        if data is not None:
            errors += _missing(data, f"Node {i}", (("method", "method"), ("url", "URL")))
    return errors


def _edge_errors(value: Json) -> list[str]:
    edges = as_list(value)
    if edges is None:
        return ["Missing edges array"]
    required = (("source", "source"), ("target", "target"))
    return [
        error for i, edge in enumerate(edges) for error in _missing(edge, f"Edge {i}", required)
    ]


# --- Variable references (§3.3) --------------------------------------------------------------


def validate_variable_references(flow_data: Json) -> list[str]:
    """Legacy rules, plus the bare `{{name}}` form that the mcp2 executor substitutes."""
    steps = as_list(as_dict(flow_data).get("steps")) or []
    errors: list[str] = []
    for i, step in enumerate(steps):
        if isinstance(step, dict):
            for reference in _step_references(step):
                errors += _reference_errors(reference, i)
    return errors


def _step_references(step: Flow) -> Iterator[str]:
    """`url`, then top-level string header values, then every string leaf of an array `body`."""
    if isinstance(step.get("url"), str):
        yield from _extract_references(step["url"])
    for _, value in array_entries(step.get("headers")) or []:
        if isinstance(value, str):
            yield from _extract_references(value)
    if isinstance(step.get("body"), list | dict):
        for leaf in _string_leaves(step["body"]):
            yield from _extract_references(leaf)


def _string_leaves(root: list[Json] | Flow) -> Iterator[str]:
    """Depth-first, in document order, without recursion (bodies may be nested arbitrarily)."""
    stack = [iter(root.values() if isinstance(root, dict) else root)]
    while stack:
        for value in stack[-1]:
            if isinstance(value, str):
                yield value
            elif isinstance(value, list | dict):
                stack.append(iter(value.values() if isinstance(value, dict) else value))
                break
        else:
            stack.pop()


def _extract_references(text: str) -> list[str]:
    """Untrimmed insides of `{{([^}]+)}}` matches, found in linear time (no regex backtracking)."""
    found: list[str] = []
    position, close = 0, -1
    while (start := text.find("{{", position)) >= 0:
        if close < start + 2:
            close = text.find("}", start + 2)
            if close < 0:
                break
        if close > start + 2 and text.startswith("}}", close):
            found.append(text[start + 2 : close])
            position = close + 2
        else:
            position = start + 1
    return found


def _reference_errors(raw: str, step: int) -> list[str]:
    if _BARE_NAME.fullmatch(raw):
        return []
    reference = raw.strip(PHP_TRIM)
    if is_php_empty(reference):
        return [f"Step {step}: Empty variable reference"]
    if reference.find(".") <= 0:
        return [
            f"Step {step}: Invalid variable reference format '{reference}'. "
            "Expected format: type.field"
        ]
    kind, field = reference.split(".", 1)
    errors = []
    if kind not in REFERENCE_TYPES and not IDENTIFIER.fullmatch(kind):
        errors.append(
            f"Step {step}: Invalid reference type '{kind}'. "
            f"Must be one of: {', '.join(REFERENCE_TYPES)} or a valid step ID"
        )
    if is_php_empty(field):
        errors.append(f"Step {step}: Empty field name in reference '{reference}'")
    elif not IDENTIFIER.fullmatch(field):
        errors.append(f"Step {step}: Invalid field name '{field}' in reference '{reference}'")
    return errors


# --- Raising helpers for the handlers --------------------------------------------------------


def raise_if(errors: list[str], prefix: str) -> None:
    if errors:
        raise BadRequest(prefix + ", ".join(errors))


def check_flow_format(data: Json) -> FormatName:
    """Validate as React Flow or Steps (§1.3); returns which, or raises «Invalid flow format: …»."""
    if detect_format(data) == "react_flow":
        raise_if(validate_react_flow(data), FORMAT_PREFIX)
        return "react_flow"
    raise_if(validate_steps(data), FORMAT_PREFIX)
    return "steps"


def check_react_flow(data: Json) -> None:
    raise_if(validate_react_flow(data), FORMAT_PREFIX)


def check_variable_references(flow_data: Json) -> None:
    raise_if(validate_variable_references(flow_data), REFERENCES_PREFIX)


def _decode_submitted(raw: Json) -> Json:
    """A JSON string of a flow is accepted too; any other string fails validation as it is."""
    if isinstance(raw, str):
        ok, decoded = _decode(raw)
        return decoded if ok else raw
    return raw


def normalize_flow_data(raw: Json) -> tuple[Flow, Flow]:
    """flow_create / flow_update: (Steps for `flow_data`, React Flow for `ui_data`).

    The submitted format is stored verbatim and the other one derived; variable references are
    checked on the Steps. None (absent or null) gives the default empty flow.
    """
    if raw is None:
        return default_steps_flow(), empty_react_flow()
    data = _decode_submitted(raw)
    if check_flow_format(data) == "react_flow":
        steps, ui = react_flow_to_steps(data), data
    else:
        steps, ui = data, steps_to_react_flow(data)
    check_variable_references(steps)
    return steps, ui


def normalize_ui_flow_data(raw: Json) -> tuple[Flow, Flow]:
    """PUT flow_detail_ui: React Flow only, no reference check; (converted Steps, submitted RF)."""
    data = _decode_submitted(raw)
    check_react_flow(data)
    return react_flow_to_steps(data), data


def stored_definition(raw: Json) -> dict[str, str]:
    """`flow_data` (Steps, as sent when Steps were sent) and `ui_data` (React Flow) as stored."""
    steps, ui = normalize_flow_data(raw)
    return {"flow_data": php_json(steps), "ui_data": php_json(ui)}


def stored_ui_definition(raw: Json) -> dict[str, str]:
    """UI update: React Flow only; its Steps must pass the same reference check as any write."""
    steps, ui = normalize_ui_flow_data(raw)
    check_variable_references(steps)
    return {"flow_data": php_json(steps), "ui_data": php_json(ui)}


# --- Stored rows: activation check, list fields, UI read --------------------------------------


def activation_problems(flow_data_text: str | None, ui_data_text: str | None) -> dict[str, str]:
    """{field: reason} for a stored definition that cannot be activated; {} when it is fine."""
    problems = {"flow_data": _flow_data_problem(flow_data_text)}
    problems["ui_data"] = _ui_data_problem(ui_data_text)
    return {field: reason for field, reason in problems.items() if reason}


def _is_blank(text: Json) -> bool:
    return text is None or (isinstance(text, str) and not text.strip())


def _flow_data_problem(text: str | None) -> str | None:
    if _is_blank(text):
        return "Missing flow definition"
    ok, data = _decode(text)
    if not ok:
        return "Invalid JSON"
    errors = validate_steps(data)
    if errors:
        return FORMAT_PREFIX + ", ".join(errors)
    errors = validate_variable_references(data)
    return REFERENCES_PREFIX + ", ".join(errors) if errors else None


def _ui_data_problem(text: str | None) -> str | None:
    """NULL is fine (derived on read), and so is Steps JSON back-filled by migration 007."""
    if _is_blank(text):
        return None
    ok, data = _decode(text)
    if not ok:
        return "Invalid JSON"
    if data is None or (detect_format(data) == "steps" and not validate_steps(data)):
        return None
    errors = validate_react_flow(data)
    return FORMAT_PREFIX + ", ".join(errors) if errors else None


def _stored_items(flow_data_text: str | None) -> tuple[FormatName, list[Json]]:
    ok, data = _decode(flow_data_text)
    fmt = detect_format(data) if ok else "unknown"
    if fmt == "react_flow":
        nodes, edges = as_list(data["nodes"]), as_list(data["edges"])
        return ("react_flow", nodes) if nodes is not None and edges is not None else ("unknown", [])
    steps = as_list(data.get("steps")) if fmt == "steps" else None
    return ("steps", steps) if steps is not None else ("unknown", [])


# Lists answer `format_type` and `step_count` of every row, and a worker lists the same
# definitions again and again: each text is decoded once, then remembered by its hash and
# length (Python's string hash is keyed per process, so no stored text can aim at another's
# entry; the texts themselves are not kept).
_SUMMARIES: dict[tuple[int, int], tuple[FormatName, int]] = {}
SUMMARIES_KEPT = 4096


def summary(flow_data_text: str | None) -> tuple[FormatName, int]:
    """(`format_type`, `step_count`) of a stored definition."""
    if not isinstance(flow_data_text, str):
        fmt, items = _stored_items(flow_data_text)
        return fmt, len(items)
    key = (hash(flow_data_text), len(flow_data_text))
    found = _SUMMARIES.get(key)
    if found is None:
        fmt, items = _stored_items(flow_data_text)
        found = (fmt, len(items))
        if len(_SUMMARIES) >= SUMMARIES_KEPT:
            _SUMMARIES.clear()
        _SUMMARIES[key] = found
    return found


def step_count(flow_data_text: str | None) -> int:
    """Steps (or React Flow nodes) in a stored definition; 0 for anything unreadable."""
    return summary(flow_data_text)[1]


def format_type(flow_data_text: str | None) -> str:
    """`steps` or `react_flow` (the values the legacy docs promised); `unknown` for garbage."""
    return summary(flow_data_text)[0]


def ui_view(flow_data_text: str | None, ui_data_text: str | None) -> Flow:
    """GET flow_detail_ui: stored React Flow, else converted Steps; never raises."""
    ok, ui = _decode(ui_data_text)
    flow = as_dict(ui) if ok else {}
    nodes, edges = as_list(flow.get("nodes")), as_list(flow.get("edges"))
    if nodes is not None and edges is not None:
        return {**flow, "nodes": nodes, "edges": edges}
    # ui_data NULL, garbage, or the Steps JSON migration 007 copied into it: derive from steps.
    for text in (flow_data_text, ui_data_text):
        ok, data = _decode(text)
        if ok and as_list(as_dict(data).get("steps")) is not None:
            return steps_to_react_flow(data)
    return empty_react_flow()
