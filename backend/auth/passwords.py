"""Passwords: bcrypt, stored in PHP's `$2y$` spelling so both stacks verify every hash.

Every login costs the same bcrypt work, known account or not (no timing enumeration). A bcrypt
check of cost c does 2**c key expansions. A login does 2**BCRYPT_ROUNDS of them: the account's
own check (cost c) plus decoy checks of costs c, c+1, …, BCRYPT_ROUNDS-1 (2**c + … +
2**(rounds-1) = 2**rounds - 2**c); an unknown e-mail, or an account without a bcrypt hash, one
decoy of cost BCRYPT_ROUNDS. So a legacy `$2y$10$` account answers in the time of the gateway's
cost-12 hashes. A stored hash costlier than BCRYPT_ROUNDS is checked alone (the gateway never
writes one; raise BCRYPT_ROUNDS to the highest cost in use if the legacy did).
"""

import re
from functools import cache

import bcrypt
from flask import current_app

BCRYPT_MAX_BYTES = 72
BCRYPT_HASH = re.compile(r"\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}")


def password_bytes(password: str) -> bytes:
    return password.encode()[:BCRYPT_MAX_BYTES]


def hash_password(password: str) -> str:
    """`$2y$12$…`, the PHP spelling of the same algorithm, so both stacks verify it."""
    rounds = current_app.config["BCRYPT_ROUNDS"]
    hashed = bcrypt.hashpw(password_bytes(password), bcrypt.gensalt(rounds=rounds)).decode()
    return "$2y$" + hashed[4:]


def verify_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith(("$2y$", "$2a$", "$2b$")):
        return False
    try:
        return bcrypt.checkpw(password_bytes(password), ("$2b$" + stored[4:]).encode())
    except ValueError:
        return False


def hash_cost(stored: str | None) -> int | None:
    match = BCRYPT_HASH.fullmatch(stored or "")
    return int(match.group(1)) if match else None


@cache
def decoy_hash(cost: int) -> bytes:
    return bcrypt.hashpw(b"no such account", bcrypt.gensalt(rounds=cost))


def decoy_costs(cost: int | None, rounds: int) -> range:
    return range(rounds, rounds + 1) if cost is None else range(cost, rounds)


def verify_with_equal_work(password: str, stored: str | None) -> bool:
    """`verify_password`, padded with decoy checks to 2**BCRYPT_ROUNDS key expansions in all."""
    cost = hash_cost(stored)
    matched = cost is not None and verify_password(password, stored)
    for decoy in decoy_costs(cost, current_app.config["BCRYPT_ROUNDS"]):
        bcrypt.checkpw(password_bytes(password), decoy_hash(decoy))
    return matched
