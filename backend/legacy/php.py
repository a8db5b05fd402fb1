"""PHP's scalar rules, written once: truthiness, `empty()`, `(string)`, `is_numeric`, json_encode.

Every gateway rule that must answer as the PHP backend did reads PHP's behaviour from here.
"""

import json
import re
from typing import Any

PHP_TRIM = " \t\n\r\0\x0b"  # trim()'s default characters
PHP_SPACE = " \t\n\r\x0b\x0c"  # the white space is_numeric() and preg delimiters skip
INT64 = range(-(2**63), 2**63)
# is_numeric(): ASCII digits only (PHP never reads «١٢» as a number); leading and, since PHP 8,
# trailing white space allowed.
NUMERIC = re.compile(
    r"[ \t\n\r\x0b\x0c]*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[ \t\n\r\x0b\x0c]*", re.ASCII
)


def php_truthy(value: Any) -> bool:
    """PHP `(bool)`: false, 0, 0.0, "", "0", [], {} and None are false."""
    if isinstance(value, str):
        return value not in ("", "0")
    return bool(value)


def is_php_empty(value: Any) -> bool:
    """PHP `empty()`: null, false, 0, 0.0, "", "0" and empty arrays (`[]` or `{}`)."""
    if value is None or isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value == 0
    if isinstance(value, str):
        return value in ("", "0")
    if isinstance(value, list | dict):
        return not value
    return False


def filter_bool(value: Any) -> bool:
    """PHP FILTER_VALIDATE_BOOLEAN: only 1/"1"/"true"/"on"/"yes" (any case, trimmed) are true."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    if isinstance(value, str):
        return value.strip(" \t\r\n\x0b").lower() in ("1", "true", "on", "yes")
    return False


def is_php_int(value: Any) -> bool:
    """A JSON integer PHP decodes as int: not a bool, not a float, within 64 bits."""
    return isinstance(value, int) and not isinstance(value, bool) and value in INT64


def is_numeric(value: Any) -> bool:
    """PHP `is_numeric()` of a decoded JSON value."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and NUMERIC.fullmatch(value) is not None


def number(value: int | float | str) -> int | float:
    """The number an `is_numeric` value compares as."""
    return float(value.strip(PHP_SPACE)) if isinstance(value, str) else value


def php_string(value: Any) -> str:
    """PHP `(string)` (and string interpolation) of a decoded JSON value: true → "1", null and
    false → "", floats with precision 14, integers past 64 bits as the floats PHP decoded."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, int):
        return str(value) if value in INT64 else php_float(_big_int_as_float(value))
    if isinstance(value, float):
        return php_float(value)
    return "Array"


def _big_int_as_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


def php_float(value: float) -> str:
    if value != value:
        return "NAN"
    if value in (float("inf"), float("-inf")):
        return "INF" if value > 0 else "-INF"
    mantissa, _, exponent = format(value, ".14G").partition("E")
    if not exponent:
        return mantissa
    return f"{mantissa if '.' in mantissa else mantissa + '.0'}E{int(exponent):+d}"


def php_json(value: Any) -> str:
    """JSON text as PHP `json_encode` wrote it (`\\/`, `\\uXXXX`), but `{}` stays `{}`."""
    encoded = json.dumps(value, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return encoded.replace("/", "\\/")


def byte_length(value: str) -> int:
    return len(value.encode("utf-8", "surrogatepass"))
