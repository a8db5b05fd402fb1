"""Issue 15 item 13: a login costs the same bcrypt work whatever the account's hash, or none.

Legacy `$2y$10$` accounts answered in 71 ms and unknown e-mails in 257 ms (a cost-12 decoy), so
timing told which e-mails have accounts. The work is counted, not timed: a bcrypt check of cost
c does 2**c key expansions, and every login must do 2**BCRYPT_ROUNDS of them.
"""

from typing import Any

import bcrypt
import pytest
from flask import Flask
from sqlalchemy import update

from backend.db import db
from backend.models import User
from tests.factories import PASSWORD, Factory, call_act

ROUNDS = 7  # the configured cost; the accounts below have hashes of cost 4 to 7


def php_hash(cost: int) -> str:
    return "$2y$" + bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=cost)).decode()[4:]


def account(make: Factory, password_hash: str) -> str:
    user = make.user()
    with make.app.app_context():
        db.session.execute(
            update(User).where(User.id == user.id).values(password_hash=password_hash)
        )
        db.session.commit()
    return user.email


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The cost of every bcrypt check made, in order."""
    costs: list[int] = []
    real = bcrypt.checkpw

    def counted(password: bytes, hashed: bytes) -> bool:
        costs.append(int(hashed[4:6]))
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", counted)
    return costs


def login_work(client: Any, email: str, password: str, work: list[int]) -> tuple[int, int]:
    """The answer's status and the key expansions it cost."""
    work.clear()
    response = call_act(client, "login", "POST", json={"email": email, "password": password})
    return response.status_code, sum(2**cost for cost in work)


def test_every_login_costs_the_same_bcrypt_work_known_account_or_not(
    app: Flask, make: Factory, client: Any, work: list[int]
) -> None:
    app.config["BCRYPT_ROUNDS"] = ROUNDS
    accounts = {cost: account(make, php_hash(cost)) for cost in range(4, ROUNDS + 1)}
    accounts[0] = account(make, "not a bcrypt hash")
    seen = {("unknown", login_work(client, "nobody@example.com", PASSWORD, work))}
    for cost, email in accounts.items():
        seen.add((f"cost {cost} wrong", login_work(client, email, "Wrong1234Pass", work)))
        if cost:
            seen.add((f"cost {cost} right", login_work(client, email, PASSWORD, work)))
    expansions = {answer[1] for _, answer in seen}
    assert expansions == {2**ROUNDS}, sorted(seen)
    assert {answer[0] for name, answer in seen if "right" in name} == {200}


def test_a_legacy_cost_10_account_is_checked_against_its_own_hash_then_padded(
    app: Flask, make: Factory, client: Any, work: list[int]
) -> None:
    app.config["BCRYPT_ROUNDS"] = 12
    email = account(make, php_hash(10))
    status, _ = login_work(client, email, "Wrong1234Pass", work)
    assert status == 401
    assert work == [10, 10, 11]  # its own check, then decoys of cost 10 and 11: 2**12 in all
