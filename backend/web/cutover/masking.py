"""Values as they may appear in a log line or a report: secrets and e-mail addresses masked,
truncated (pure)."""

import json
import re
from typing import Any

MAX_CHARS = 120
MASK = "<masked>"
SECRET_KEY = re.compile(r"token|password|secret|authorization|hash|api_?key|cookie", re.IGNORECASE)
PATTERNS = (
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*"), "<jwt>"),
    (re.compile(r"(?i)\bbearer\s+\S+"), "Bearer <masked>"),
    (re.compile(r"\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}"), "<bcrypt>"),
    (re.compile(r"\b[0-9a-fA-F]{40,}\b"), "<hex>"),
    (
        re.compile(
            r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9])[A-Za-z0-9.-]*(\.[A-Za-z]+)\b"
        ),
        r"\1***@\2***\3",
    ),
)


def mask_text(text: str) -> str:
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def masked(value: Any, key: str = "") -> Any:
    """Strings under a secret-sounding key are hidden whole; other strings lose their tokens
    (JWTs, bearer values, bcrypt hashes, long hex) and e-mail addresses (`j***@e***.com`)."""
    if isinstance(value, dict):
        return {name: masked(item, name) for name, item in value.items()}
    if isinstance(value, list):
        return [masked(item, key) for item in value]
    if isinstance(value, str):
        return MASK if value and SECRET_KEY.search(key) else mask_text(value)
    return value


def shown(value: Any, key: str = "") -> str:
    """One masked, truncated JSON rendering (repr for the `<absent>` marker)."""
    try:
        text = json.dumps(masked(value, key), ensure_ascii=False)
    except TypeError:
        text = repr(value)
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"
