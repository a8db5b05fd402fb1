"""PHP-delimited regular expressions (`/.../i`): whether `preg_match` would compile one."""

import re
from typing import Any

from backend.legacy.php import PHP_SPACE

_BRACKET_DELIMITERS = {"(": ")", "[": "]", "{": "}", "<": ">"}
_PHP_MODIFIERS = frozenset("imnsxADSXUuJ \n\r")
_PYTHON_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
# PCRE spellings Python lacks, mapped to equivalents that compile the same way. Other escapes
# are consumed whole, so `\\k<a>` (a literal backslash, then "k<a>") is left alone.
_PCRE_ESCAPES = {"z": r"\Z", "h": r"\s", "H": r"\S", "e": r"\x1b"}
_PCRE_PROPERTIES = {"p": r"\w", "P": r"\W"}
_PCRE_SYNTAX = re.compile(
    r"\\k[<{']([A-Za-z_]\w*)[>}']"  # named back-reference
    r"|\(\?(?:<(?![=!])|')([A-Za-z_]\w*)[>']"  # named group (?<name> or (?'name'
    r"|\\([pP])(?:\{\^?\w+\}|[A-Za-z])"  # Unicode property
    r"|\\(.)",
    re.DOTALL,
)


def is_php_regex(pattern: Any) -> bool:
    """Whether `preg_match($pattern, '')` compiles: delimiters, modifiers, then the pattern.

    Compiled with Python's `re` after translating the common PCRE-only spellings (named groups,
    `\\k<name>`, `\\p{..}`, `\\h`, `\\z`); rarer ones such as recursion count as invalid.
    """
    parts = _split_php_regex(pattern) if isinstance(pattern, str) else None
    if parts is None:
        return False
    body, modifiers = parts
    if not set(modifiers) <= _PHP_MODIFIERS:
        return False
    flags = 0
    for letter in modifiers:
        flags |= _PYTHON_FLAGS.get(letter, 0)
    try:
        re.compile(_PCRE_SYNTAX.sub(_pcre_to_python, body), flags)
    except (re.error, OverflowError, RecursionError, ValueError):
        return False
    return True


def _split_php_regex(pattern: str) -> tuple[str, str] | None:
    start = len(pattern) - len(pattern.lstrip(PHP_SPACE))
    if start == len(pattern):
        return None
    opener = pattern[start]
    if not opener.isascii() or opener.isalnum() or opener in "\\\0":
        return None
    closer = _BRACKET_DELIMITERS.get(opener, opener)
    end = _closing_delimiter(pattern, start + 1, opener, closer)
    if end is None:
        return None
    return pattern[start + 1 : end], pattern[end + 1 :]


def _closing_delimiter(pattern: str, index: int, opener: str, closer: str) -> int | None:
    depth = 1
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == closer:
            depth -= 1
            if depth == 0:
                return index
        elif char == opener:
            depth += 1
        index += 1
    return None


def _pcre_to_python(match: re.Match[str]) -> str:
    backreference, group_name, unicode_property, escape = match.groups()
    if backreference:
        return f"(?P={backreference})"
    if group_name:
        return f"(?P<{group_name}>"
    if unicode_property:
        return _PCRE_PROPERTIES[unicode_property]
    return _PCRE_ESCAPES.get(escape, match.group())
