"""Passwords: bcrypt, stored in PHP's `$2y$` spelling so both stacks verify every hash."""

from functools import cache

import bcrypt
from flask import current_app

BCRYPT_MAX_BYTES = 72


def _bcrypt_bytes(password: str) -> bytes:
    return password.encode()[:BCRYPT_MAX_BYTES]


def hash_password(password: str) -> str:
    """`$2y$12$…`, the PHP spelling of the same algorithm, so both stacks verify it."""
    rounds = current_app.config["BCRYPT_ROUNDS"]
    hashed = bcrypt.hashpw(_bcrypt_bytes(password), bcrypt.gensalt(rounds=rounds)).decode()
    return "$2y$" + hashed[4:]


def verify_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith(("$2y$", "$2a$", "$2b$")):
        return False
    try:
        return bcrypt.checkpw(_bcrypt_bytes(password), ("$2b$" + stored[4:]).encode())
    except ValueError:
        return False


def decoy_hash() -> str:
    """Checked for unknown e-mails, so they take as long as a wrong password (no enumeration)."""
    return _decoy_hash(current_app.config["BCRYPT_ROUNDS"])


@cache
def _decoy_hash(rounds: int) -> str:
    return bcrypt.hashpw(b"no such account", bcrypt.gensalt(rounds=rounds)).decode()
