"""deploy/: the systemd unit and the nginx config agree with each other and with the gateway.

Issue 15 item 11: behind the shipped nginx every audit row recorded 127.0.0.1 (two locations did
not forward the client address and the unit trusted no proxy). Item 2: a legacy `.env` loaded by
`EnvironmentFile=` (which overrides `Environment=`) turned the unit back into development.
"""

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import takewhile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from backend.db import db
from backend.models import AuditLog
from config import load_config
from tests.factories import call_act

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
UNIT = DEPLOY / "gassapi-gateway.service"
NGINX = DEPLOY / "nginx.conf"
GATEWAY_STARTS = ("ExecStartPre", "ExecStart")
LEGACY_ENV_FILE = {
    "APP_ENV": "development",
    "PROXY_COUNT": "0",
    "DB_HOST": "db.internal",
    "JWT_SECRET": "a-legacy-secret-that-is-long-enough-0123456789",
}
FORWARDED = {"X-Forwarded-For": "$proxy_add_x_forwarded_for", "X-Forwarded-Proto": "$scheme"}


# --- the systemd unit --------------------------------------------------------------------------


def unit_settings() -> list[tuple[str, str]]:
    lines = [line.strip() for line in UNIT.read_text().splitlines()]
    pairs = [line.split("=", 1) for line in lines if "=" in line and not line.startswith("#")]
    return [(key, value) for key, value in pairs]


def assignments(words: list[str]) -> dict[str, str]:
    return dict(word.split("=", 1) for word in words)


def started_environment(command: str, env_file: dict[str, str]) -> dict[str, str]:
    """What systemd hands `command`: `Environment=`, then `EnvironmentFile=` over it; then what
    env(1) on the command line sets, over both."""
    settings = unit_settings()
    env: dict[str, str] = {}
    for key, value in settings:
        if key == "Environment":
            env.update(assignments(shlex.split(value)))
    if any(key == "EnvironmentFile" for key, _ in settings):
        env.update(env_file)
    words = shlex.split(dict(settings)[command])
    if Path(words[0]).name == "env":
        env.update(assignments(list(takewhile(lambda word: "=" in word, words[1:]))))
    return env


@pytest.mark.parametrize("command", GATEWAY_STARTS)
def test_a_legacy_env_file_cannot_turn_the_unit_back_into_development(command: str) -> None:
    config = load_config(started_environment(command, LEGACY_ENV_FILE))
    assert config["APP_ENV"] == "production"
    assert config["DEBUG_ENVELOPE"] is False
    assert config["PROXY_COUNT"] == 1


# --- nginx -------------------------------------------------------------------------------------


@dataclass
class Block:
    name: str
    args: list[str]
    directives: list[list[str]] = field(default_factory=list)
    children: list["Block"] = field(default_factory=list)

    def headers(self) -> dict[str, str]:
        return {d[1]: d[2] for d in self.directives if d[0] == "proxy_set_header"}

    def proxies(self) -> bool:
        return any(d[0] == "proxy_pass" for d in self.directives)


TOKEN = re.compile(r'"[^"]*"|[{};]|[^\s{};"]+')


def parse_nginx(text: str) -> Block:
    """Directives and blocks (comments dropped); enough for the shipped file."""
    words = TOKEN.findall("\n".join(line.split("#", 1)[0] for line in text.splitlines()))
    root, stack, current = Block("main", []), [], []
    stack.append(root)
    for word in words:
        if word == "{":
            block = Block(current[0], current[1:])
            stack[-1].children.append(block)
            stack.append(block)
            current = []
        elif word == "}":
            stack.pop()
        elif word == ";":
            stack[-1].directives.append(current)
            current = []
        else:
            current.append(word.strip('"'))
    return root


def proxied_locations(block: Block, inherited: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """(location, the headers nginx sends for it): a level that sets any proxy_set_header of its
    own inherits none from above (nginx's rule)."""
    own = block.headers()
    effective = own if own else inherited
    found = [(" ".join(block.args), effective)] if block.proxies() else []
    for child in block.children:
        found += proxied_locations(child, effective)
    return found


def test_every_nginx_location_forwards_the_client_address_the_unit_trusts() -> None:
    (server,) = [b for b in parse_nginx(NGINX.read_text()).children if b.name == "server"]
    locations = proxied_locations(server, {})
    assert len(locations) >= 3  # the mount, `/` and `/index.php`
    for location, headers in locations:
        assert {name: headers.get(name) for name in FORWARDED} == FORWARDED, location
    env = started_environment("ExecStart", {})
    assert int(env["PROXY_COUNT"]) == 1  # nginx is the one proxy in front
    (upstream,) = [b for b in parse_nginx(NGINX.read_text()).children if b.name == "upstream"]
    servers = [d[1] for d in upstream.directives if d[0] == "server"]
    assert servers == [f"{env['HOST']}:{env['PORT']}"]


def all_directives(block: Block) -> list[list[str]]:
    return block.directives + [d for child in block.children for d in all_directives(child)]


def test_the_units_sync_workers_sit_behind_an_nginx_that_buffers_whole_requests() -> None:
    """Sync workers are held by a slow client unless a proxy reads its request first
    (tests/test_slow_clients.py); kept-alive upstream connections would pin to one worker."""
    env = started_environment("ExecStart", LEGACY_ENV_FILE)
    assert env["GUNICORN_WORKER_CLASS"] == "sync"
    assert env["HOST"] == "127.0.0.1"  # reachable only through nginx
    nginx = parse_nginx(NGINX.read_text())
    directives = all_directives(nginx)
    assert ["proxy_request_buffering", "off"] not in directives
    assert ["proxy_buffering", "off"] not in directives
    (upstream,) = [b for b in nginx.children if b.name == "upstream"]
    assert not [d for d in upstream.directives if d[0] == "keepalive"]


# --- the gateway behind one proxy --------------------------------------------------------------


def failed_login_address(application: Flask, forwarded: str | None) -> str:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    body = {"email": "someone@example.com", "password": "Wrong1234Pass"}
    response = call_act(application.test_client(), "login", "POST", json=body, headers=headers)
    assert response.status_code == 401
    with application.app_context():
        latest = select(AuditLog.ip_address).order_by(AuditLog.id.desc()).limit(1)
        return db.session.execute(latest).scalar_one()


def test_behind_one_proxy_audit_rows_record_the_address_nginx_appended(
    app_with: Callable[..., Flask],
) -> None:
    proxied, direct = app_with(PROXY_COUNT=1), app_with()  # as the unit runs it; PROXY_COUNT=0
    spoofed_then_real = "198.51.100.7, 203.0.113.9"  # a client's own header, then nginx's entry
    assert failed_login_address(proxied, spoofed_then_real) == "203.0.113.9"
    assert failed_login_address(proxied, None) == "127.0.0.1"
    assert failed_login_address(direct, spoofed_then_real) == "127.0.0.1"
