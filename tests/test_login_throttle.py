"""Issue 15 item 5: the login throttle (services/login_throttle.py).

Counted per account and per client address (the address nginx forwards, PROXY_COUNT=1), in the
database so every worker and host shares it, with a count concurrent guesses cannot overrun; a
stranger who locks an account out does not lock out a client that logged into it before; every
429 says when to retry; a refused attempt costs no bcrypt work.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import bcrypt
import pytest
from flask import Flask
from sqlalchemy import update

from backend.db import db
from backend.legacy.clock import now
from backend.models import LoginThrottle
from services.login_throttle import scope
from tests.factories import PASSWORD, Factory, call_act
from tests.test_security import count_calls, in_parallel, racing  # noqa: F401  (fixture)

WINDOW = 900
ATTACKER, VICTIM_HOME, VICTIM_TRAVELLING = "198.51.100.20", "203.0.113.10", "192.0.2.30"


def attempt(application: Flask, email: str, password: str, address: str) -> Any:
    """A login through nginx from `address` (PROXY_COUNT=1 takes the last forwarded entry)."""
    headers = {"X-Forwarded-For": f"10.9.8.7, {address}"}
    body = {"email": email, "password": password}
    return call_act(application.test_client(), "login", "POST", json=body, headers=headers)


def statuses(application: Flask, email: str, password: str, address: str, times: int) -> list:
    return [attempt(application, email, password, address).status_code for _ in range(times)]


def retry_after(response: Any) -> int:
    assert response.status_code == 429
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= WINDOW
    return seconds


@pytest.fixture
def gateway(app_with: Callable[..., Flask]) -> Flask:
    return app_with(PROXY_COUNT=1, LOGIN_MAX_FAILURES=5, LOGIN_CLIENT_MAX_FAILURES=8)


def test_an_account_locked_out_by_a_stranger_still_lets_in_a_client_it_logged_in_from(
    gateway: Flask,
) -> None:
    victim = Factory(gateway).user()
    assert attempt(gateway, victim.email, PASSWORD, VICTIM_HOME).status_code == 200
    assert statuses(gateway, victim.email, "Wrong1234Pass", ATTACKER, 5) == [401] * 5
    retry_after(attempt(gateway, victim.email, "Wrong1234Pass", ATTACKER))
    retry_after(attempt(gateway, victim.email, PASSWORD, VICTIM_TRAVELLING))
    assert attempt(gateway, victim.email, PASSWORD, VICTIM_HOME).status_code == 200
    assert attempt(gateway, victim.email, "Wrong1234Pass", VICTIM_HOME).status_code == 401


def test_an_account_lockout_ends_with_its_window(gateway: Flask) -> None:
    victim = Factory(gateway).user()
    assert statuses(gateway, victim.email, "Wrong1234Pass", ATTACKER, 5) == [401] * 5
    retry_after(attempt(gateway, victim.email, PASSWORD, VICTIM_TRAVELLING))
    with gateway.app_context():
        db.session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.scope == scope("account", victim.email))
            .values(expires_at=now() - timedelta(seconds=1))
        )
        db.session.commit()
    assert attempt(gateway, victim.email, PASSWORD, VICTIM_TRAVELLING).status_code == 200


def test_a_client_spraying_many_accounts_is_refused_without_bcrypt_work(
    gateway: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    make = Factory(gateway)
    emails = [make.user().email for _ in range(9)]
    answers = [attempt(gateway, email, "Wrong1234Pass", ATTACKER) for email in emails]
    assert [a.status_code for a in answers] == [401] * 8 + [429]
    retry_after(answers[-1])
    checks = count_calls(monkeypatch, bcrypt, "checkpw")
    retry_after(attempt(gateway, emails[0], PASSWORD, ATTACKER))  # the right one, too late
    assert checks == []
    assert attempt(gateway, emails[0], PASSWORD, VICTIM_HOME).status_code == 200


def test_successful_logins_never_use_up_an_accounts_or_a_clients_attempts(
    gateway: Flask,
) -> None:
    """5 per account, 8 per client: the 10 successes take none of them."""
    user = Factory(gateway).user()
    assert statuses(gateway, user.email, "Wrong1234Pass", VICTIM_TRAVELLING, 4) == [401] * 4
    assert statuses(gateway, user.email, PASSWORD, VICTIM_TRAVELLING, 10) == [200] * 10
    # now a known client of the account: past its 5, only the client's own 8 hold it
    assert statuses(gateway, user.email, "Wrong1234Pass", VICTIM_TRAVELLING, 4) == [401] * 4
    retry_after(attempt(gateway, user.email, PASSWORD, VICTIM_TRAVELLING))
    retry_after(attempt(gateway, user.email, PASSWORD, ATTACKER))  # a stranger: the account's 5


def test_instances_on_one_database_share_the_count(app_with: Callable[..., Flask]) -> None:
    first, second = (app_with(PROXY_COUNT=1, LOGIN_MAX_FAILURES=4) for _ in range(2))
    email = Factory(first).user().email
    answers = [
        attempt(gateway, email, "Wrong1234Pass", ATTACKER).status_code
        for gateway in (first, second, first, second, first)
    ]
    assert answers == [401, 401, 401, 401, 429]


def test_concurrent_wrong_guesses_get_exactly_the_limit_through(racing: Flask) -> None:  # noqa: F811
    racing.config["LOGIN_MAX_FAILURES"] = 4
    email = Factory(racing).user().email
    body = {"email": email, "password": "Wrong1234Pass"}
    answers = in_parallel(racing, [{"act": "login", "method": "POST", "json": body}] * 8)
    assert sorted(a.status_code for a in answers) == [401] * 4 + [429] * 4
    assert all(int(a.headers["Retry-After"]) >= 1 for a in answers if a.status_code == 429)


def test_ipv6_addresses_of_one_64_network_count_as_one_client(gateway: Flask) -> None:
    """One host gets a /64: rotating the low bits does not buy more guesses."""
    email = Factory(gateway).user().email
    guesses = [
        attempt(gateway, email, f"Wrong{n}Pass", f"2001:db8:5:6::{n + 1:x}") for n in range(5)
    ]
    assert [answer.status_code for answer in guesses] == [401] * 5
    assert (
        statuses(gateway, "other@example.com", "Wrong1234Pass", "2001:db8:5:6::ff", 3) == [401] * 3
    )
    retry_after(attempt(gateway, "third@example.com", "Wrong1234Pass", "2001:db8:5:6:ffff::9"))
    assert (
        attempt(gateway, "third@example.com", "Wrong1234Pass", "2001:db8:5:7::1").status_code == 401
    )
