"""Row ids in the legacy formats, plus the gateway's own time-ordered ones."""

import secrets
import time

TIMED_PREFIXES = ("user", "proj", "env", "pm", "rt", "mcp")


def new_id(prefix: str) -> str:
    """Legacy id shapes: `proj_<unix>_<8 hex>` (users: 6 hex) or `flow_<32 hex>`."""
    if prefix in TIMED_PREFIXES:
        width = 3 if prefix == "user" else 4
        return f"{prefix}_{int(time.time())}_{secrets.token_hex(width)}"
    return f"{prefix}_{secrets.token_hex(16)}"


def audit_id() -> str:
    """Time-ordered, so rows written in the same second still sort in commit order."""
    return f"audit_{time.time_ns():016x}{secrets.token_hex(4)}"


def execution_id() -> str:
    """`exec_` + 32 hex, time-ordered so runs started in the same second still sort."""
    return f"exec_{time.time_ns():016x}{secrets.token_hex(8)}"
