"""Field validators with the legacy messages (README §8.1, §9), minus the legacy bugs.

Pure functions: each returns the cleaned value or raises `BadRequest` with the raw handler
message (the envelope adds "Invalid request: " unless the message is kept verbatim).
Text is returned as sent: never HTML-escaped, never turned into None because it holds an
entity. Only active markup (what could run in a browser) is refused; output encoding is the
job of whoever renders the text.
"""

import html
import re
from collections.abc import Mapping
from typing import Any

from backend.core.errors import BadRequest
from backend.legacy.php import (
    NUMERIC,
    PHP_TRIM,
    byte_length,
    php_string,
    php_truthy,
)

HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
PASSWORD_MIN_BYTES = 8
PASSWORD_MAX_BYTES = 128
EMAIL_MAX_BYTES = 254
EMAIL_FILTER_MAX_BYTES = 320

# PHP ext/filter FILTER_VALIDATE_EMAIL (regexp1, no FILTER_FLAG_EMAIL_UNICODE), flags /iD.
_PHP_EMAIL = re.compile(
    r"\A(?!(?:(?:\x22?\x5C[\x00-\x7E]\x22?)|(?:\x22?[^\x5C\x22]\x22?)){255,})"
    r"(?!(?:(?:\x22?\x5C[\x00-\x7E]\x22?)|(?:\x22?[^\x5C\x22]\x22?)){65,}@)"
    r"(?:(?:[\x21\x23-\x27\x2A\x2B\x2D\x2F-\x39\x3D\x3F\x5E-\x7E]+)"
    r"|(?:\x22(?:[\x01-\x08\x0B\x0C\x0E-\x1F\x21\x23-\x5B\x5D-\x7F]|(?:\x5C[\x00-\x7F]))*\x22))"
    r"(?:\.(?:(?:[\x21\x23-\x27\x2A\x2B\x2D\x2F-\x39\x3D\x3F\x5E-\x7E]+)"
    r"|(?:\x22(?:[\x01-\x08\x0B\x0C\x0E-\x1F\x21\x23-\x5B\x5D-\x7F]|(?:\x5C[\x00-\x7F]))*\x22)))*"
    r"@(?:(?:(?!.*[^.]{64,})(?:(?:(?:xn--)?[a-z0-9]+(?:-+[a-z0-9]+)*\.){1,126}){1,}"
    r"(?:(?:[a-z][a-z0-9]*)|(?:(?:xn--)[a-z0-9]+))(?:-+[a-z0-9]+)*)"
    r"|(?:\[(?:(?:IPv6:(?:(?:[a-f0-9]{1,4}(?::[a-f0-9]{1,4}){7})"
    r"|(?:(?!(?:.*[a-f0-9][:\]]){7,})(?:[a-f0-9]{1,4}(?::[a-f0-9]{1,4}){0,5})?::"
    r"(?:[a-f0-9]{1,4}(?::[a-f0-9]{1,4}){0,5})?)))"
    r"|(?:(?:IPv6:(?:(?:[a-f0-9]{1,4}(?::[a-f0-9]{1,4}){5}:)"
    r"|(?:(?!(?:.*[a-f0-9]:){5,})(?:[a-f0-9]{1,4}(?::[a-f0-9]{1,4}){0,3})?::"
    r"(?:[a-f0-9]{1,4}(?::[a-f0-9]{1,4}){0,3}:)?)))?"
    r"(?:(?:25[0-5])|(?:2[0-4][0-9])|(?:1[0-9]{2})|(?:[1-9]?[0-9]))"
    r"(?:\.(?:(?:25[0-5])|(?:2[0-4][0-9])|(?:1[0-9]{2})|(?:[1-9]?[0-9]))){3}))\]))\Z",
    re.IGNORECASE | re.ASCII,
)
_EMAIL_BAD_CHARS = re.compile(r"[<>\"'\x00-\x1f\x7f]")
_FLEXIBLE_ID = re.compile(r"[A-Za-z0-9_-]+")


def _obfuscable(word: str) -> str:
    """`word` allowing the tab/newline/NUL that URL parsers drop inside a scheme."""
    return r"[\t\n\r\x00]*".join(re.escape(char) for char in word)


# Tags that are dangerous even without an event handler or a script URL.
_ACTIVE_TAGS = (
    "script|style|link|meta|base|iframe|frame|frameset|object|embed|applet|form|svg|math|img"
)
_ACTIVE_MARKUP = re.compile(
    "|".join(
        (
            rf"</?(?:{_ACTIVE_TAGS})(?=[\s/>]|\Z)",
            rf"{_obfuscable('javascript:')}|{_obfuscable('vbscript:')}",
            rf"{_obfuscable('data:')}\s*"
            r"(?:text/html|application/xhtml\+xml|image/svg\+xml|(?:text|application)/xml)",
            r"(?<![^\s\"'/])on[a-z]+\s*=",
        )
    ),
    re.IGNORECASE,
)
_CSS_ACTIVE = re.compile(r"expression\(|-moz-binding\s*:", re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)  # unclosed runs to the end, as in CSS


def label(field: str) -> str:
    """`refresh_token` → `Refresh token` (PHP ucfirst of the name with `_` → space)."""
    words = field.replace("_", " ")
    return words[:1].upper() + words[1:]


def required(data: Any, *fields: str) -> None:
    """Legacy "Required field" check; a non-object body has no fields at all."""
    source = data if isinstance(data, Mapping) else {}
    missing = [name for name in fields if source.get(name) is None or source.get(name) == ""]
    if missing:
        raise BadRequest(", ".join(f"Required field: {label(name)}" for name in missing))


def email(value: Any) -> str:
    """Legacy email rules in order (README §9.2); returns the lower-cased address."""
    if not isinstance(value, str) or not _passes_php_email_filter(value):
        raise BadRequest("Invalid email format")
    address = value.lower()  # the filter already refused surrounding whitespace
    if _EMAIL_BAD_CHARS.search(address):
        raise BadRequest("Email contains invalid characters")
    # Unreachable while the filter caps unquoted addresses at 254 chars; kept as the last guard.
    if byte_length(address) > EMAIL_MAX_BYTES:
        raise BadRequest(f"Email too long (max {EMAIL_MAX_BYTES} characters)")
    return address


def _passes_php_email_filter(value: str) -> bool:
    if not value.isascii() or len(value) > EMAIL_FILTER_MAX_BYTES:
        return False
    return _PHP_EMAIL.match(value) is not None


def password(value: Any) -> str:
    """Login/register password; the legacy "common words" rule is unreachable and omitted."""
    if not php_truthy(value):
        raise BadRequest("Password is required")
    secret = _scalar_text(value, "Password")
    _check_password_strength(secret, "Password", "Password should be at least 8 characters")
    return secret


def new_password(value: Any, prefix: str = "New password") -> str:
    """change-password (`New password …`) and reset-password (`prefix="Password"`) rules.

    The legacy had no upper bound here; 128 bytes is enforced so that login (which refuses
    longer passwords) keeps working after the change.
    """
    secret = _scalar_text(value, prefix)
    _check_password_strength(secret, prefix, f"{prefix} must be at least 8 characters")
    return secret


def _check_password_strength(secret: str, prefix: str, too_short: str) -> None:
    size = byte_length(secret)
    if size < PASSWORD_MIN_BYTES:
        raise BadRequest(too_short)
    if size > PASSWORD_MAX_BYTES:
        raise BadRequest(f"{prefix} too long (max {PASSWORD_MAX_BYTES} characters)")
    if not all(re.search(kind, secret) for kind in ("[A-Z]", "[a-z]", "[0-9]")):
        raise BadRequest(f"{prefix} must contain uppercase, lowercase, and numbers")


def person_name(value: Any, max_bytes: int = 100) -> str:
    """User name (register, profile, user_update), stored as sent.

    Accepted, unlike the legacy: entities, `&`, quotes, `a < b`, `<b>`, `http:`/`https:` text.
    """
    if not php_truthy(value):
        raise BadRequest("Name is required")
    name = _scalar_text(value, "Name").strip(PHP_TRIM)
    size = byte_length(name)
    if size < 2:
        raise BadRequest("Name must be at least 2 characters")
    if size > max_bytes:
        raise BadRequest(f"Name must be less than {max_bytes} characters")
    if has_active_markup(name):
        raise BadRequest("Name contains invalid content")
    return name


def text(value: Any, max_bytes: int = 1000, field: str | None = None) -> str | None:
    """Replacement for the legacy `sanitize()`: trimmed text as sent, or None/"" unchanged."""
    if value is None or value == "":
        return value
    trimmed = _scalar_text(value, field or "Input").strip(PHP_TRIM)
    if byte_length(trimmed) > max_bytes:
        raise BadRequest(f"Input too long (max {max_bytes} characters)")
    if has_active_markup(trimmed):
        raise BadRequest("Input contains invalid content")
    return trimmed


def has_active_markup(value: str) -> bool:
    """Script-capable markup in `value` or in its HTML-entity-decoded form.

    Refused: opening/closing tags from `_ACTIVE_TAGS` followed by whitespace, `/`, `>` or the
    end; `javascript:`/`vbscript:` (tab/newline/NUL inside allowed); `data:` with an HTML, XML or
    SVG type; `on<letters>=` after whitespace, a quote, `/` or the start; CSS `expression(`
    (comments removed first) and `-moz-binding:`. Other tags such as `<b>` are plain text.
    """
    return any(_looks_active(variant) for variant in {value, html.unescape(value)})


def _looks_active(value: str) -> bool:
    return bool(_ACTIVE_MARKUP.search(value) or _CSS_ACTIVE.search(_CSS_COMMENT.sub("", value)))


def flexible_id(value: Any) -> str:
    """User ids: any `[A-Za-z0-9_-]+` string (so `-3` and `1e3` pass, as in the legacy)."""
    if value is None or value == "":
        raise BadRequest("ID is required")
    if isinstance(value, list | dict):
        raise BadRequest("Validation failed")
    ident = value if isinstance(value, str) else php_string(value)
    if _FLEXIBLE_ID.fullmatch(ident):
        return ident
    if "." in ident and NUMERIC.fullmatch(ident):
        raise BadRequest("Input must be an integer")
    raise BadRequest("Validation failed")


def http_method(value: Any) -> str:
    method = value.strip(PHP_TRIM).upper() if isinstance(value, str) else ""
    if method not in HTTP_METHODS:
        raise BadRequest("Invalid HTTP method")
    return method


def _scalar_text(value: Any, field: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return php_string(value)
    raise BadRequest(f"{field} must be a string")
