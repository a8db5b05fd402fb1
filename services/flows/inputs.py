"""`flow_inputs`, the declared inputs of a flow (flows.md §3.4): their validation."""

from backend.core.errors import BadRequest
from backend.legacy.php import is_numeric, is_php_empty, is_php_int, number, php_json
from services.flows.definition import IDENTIFIER, Flow, Json, array_entries, as_dict
from services.flows.pcre import is_php_regex

INPUTS_PREFIX = "Invalid flow inputs: "
INPUT_TYPES = (
    "string",
    "number",
    "boolean",
    "email",
    "password",
    "object",
    "array",
    "file",
    "date",
    "json",
)
NO_LENGTH_TYPES = ("number", "boolean", "date")


def check_flow_inputs(value: Json) -> None:
    """flow_create: PHP-empty values (null, [], {}, "", 0, "0", false) skip validation."""
    errors = [] if is_php_empty(value) else validate_flow_inputs(value)
    if errors:
        raise BadRequest(INPUTS_PREFIX + ", ".join(errors))


def stored_inputs(value: Json) -> str:
    """Validated `flow_inputs` as stored JSON text; null (or absent) is `[]`."""
    check_flow_inputs(value)
    return "[]" if value is None else php_json(value)


def validate_flow_inputs(value: Json) -> list[str]:
    """Errors for a flow_inputs value; the "only when PHP-non-empty" gate is `check_flow_inputs`."""
    entries = array_entries(value)
    if entries is None:
        return ["flow_inputs must be an array"]
    return [error for key, item in entries for error in _input_errors(item, key)]


def _input_errors(item: Json, i: int | str) -> list[str]:
    if not isinstance(item, list | dict):
        return [f"Input {i} must be an object"]
    fields = as_dict(item)
    kind = fields.get("type") if isinstance(fields.get("type"), str) else None
    errors = _name_type_errors(fields.get("name"), fields.get("type"), i)
    rules = fields.get("validation")
    if isinstance(rules, dict):
        errors += _length_errors(rules, kind, i) + _number_errors(rules, kind, i)
        errors += _pattern_errors(rules, kind, i) + _option_errors(rules, i)
    return errors


def _name_type_errors(name: Json, kind: Json, i: int | str) -> list[str]:
    required = {"name": name, "type": kind}
    errors = [
        f"Input {i}: {key} is required" for key, value in required.items() if is_php_empty(value)
    ]
    if not is_php_empty(name) and not (isinstance(name, str) and IDENTIFIER.fullmatch(name)):
        errors.append(
            f"Input {i}: name must be a valid variable name "
            "(start with letter/underscore, only alphanumeric and underscore)"
        )
    if not is_php_empty(kind) and not (isinstance(kind, str) and kind in INPUT_TYPES):
        errors.append(f"Input {i}: type must be one of: {', '.join(INPUT_TYPES)}")
    return errors


def _length_errors(rules: Flow, kind: str | None, i: int | str) -> list[str]:
    errors = []
    for key, minimum, wording in (
        ("min_length", 0, "a non-negative integer"),
        ("max_length", 1, "a positive integer"),
    ):
        value = rules.get(key)
        if value is None:
            continue
        if not is_php_int(value) or value < minimum:
            errors.append(f"Input {i}: {key} must be {wording}")
        if kind in NO_LENGTH_TYPES:
            errors.append(f"Input {i}: {key} is not applicable for type {kind}")
    return errors


def _number_errors(rules: Flow, kind: str | None, i: int | str) -> list[str]:
    if kind != "number":
        return []
    low, high = rules.get("min"), rules.get("max")
    errors = [
        f"Input {i}: {key} must be numeric for number type"
        for key, value in (("min", low), ("max", high))
        if value is not None and not is_numeric(value)
    ]
    if is_numeric(low) and is_numeric(high) and number(low) > number(high):
        errors.append(f"Input {i}: min cannot be greater than max")
    return errors


def _pattern_errors(rules: Flow, kind: str | None, i: int | str) -> list[str]:
    pattern = rules.get("pattern")
    if kind != "string" or pattern is None or is_php_regex(pattern):
        return []
    return [f"Input {i}: pattern must be a valid regex"]


def _option_errors(rules: Flow, i: int | str) -> list[str]:
    options = rules.get("options")
    if options is None:
        return []
    entries = array_entries(options)
    if entries is None:
        return [f"Input {i}: options must be an array"]
    return [f"Input {i}: option {j} must be a string" for j, o in entries if not isinstance(o, str)]
