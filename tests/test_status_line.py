"""Every answer's status line carries the standard reason phrase: `404 Not Found`, as nginx + PHP
sent it, never Werkzeug's `404 NOT FOUND`. Browsers' `statusText`, axios and mcp2 («HTTP 404: …»)
show the phrase to people. Checked through the Flask test client and a real gunicorn."""

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from backend import create_app
from services.flows import listing as flowlist
from stress.common import Gateway, call, start_gateway
from tests.conftest import ACCESS_SECRET, REFRESH_SECRET, gateway_config, shared_database_url
from tests.factories import Factory, call_act

UNREACHABLE = "mysql+pymysql://root@127.0.0.1:1/none?charset=utf8mb4"
# One wrong password is allowed, the second try is throttled (429).
SERVED_ENV = {
    "JWT_ACCESS_SECRET": ACCESS_SECRET,
    "JWT_REFRESH_SECRET": REFRESH_SECRET,
    "LOGIN_MAX_FAILURES": "1",
}


@dataclass(frozen=True)
class Ask:
    act: str
    method: str = "GET"
    id: str | None = None
    token: str | None = None
    body: Any = None
    times: int = 1  # sent this many times; the last answer counts


@pytest.fixture(scope="session")
def database_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    return shared_database_url(database_url, tmp_path_factory.mktemp("status-line"))


@pytest.fixture
def asks(app: Flask, make: Factory) -> dict[str, Ask]:
    """A request for every status a client can get, by the status line it must get."""
    app.config["LOGIN_MAX_FAILURES"] = 1
    owner = make.user()
    project, stranger_project = make.project(owner), make.project(make.user())
    make.flow(project, "Existing")
    token = make.token(owner)
    mine = {"id": project.id, "token": token}
    wrong_password = {"email": owner.email, "password": "Wrong-Password-1"}
    return {
        "200 OK": Ask("flows", **mine),
        "201 Created": Ask("flows", "POST", **mine, body={"name": "New"}),
        "400 Bad Request": Ask("no_such_act"),
        "401 Unauthorized": Ask("flows", id=project.id),
        "403 Forbidden": Ask("flows", id=stranger_project.id, token=token),
        "404 Not Found": Ask("flow", id="flow_missing", token=token),
        "409 Conflict": Ask("flows", "POST", **mine, body={"name": "Existing"}),
        "413 Request Entity Too Large": Ask("flows", "POST", **mine, body={"name": "x" * 2**20}),
        "422 Unprocessable Entity": Ask("flows", "POST", **mine, body={"name": {"a": 1}}),
        "429 Too Many Requests": Ask("login", "POST", body=wrong_password, times=2),
    }


def sent_by_test_client(client: FlaskClient, ask: Ask) -> str:
    for _ in range(ask.times):
        extra = {} if ask.body is None else {"json": ask.body}
        response = call_act(client, ask.act, ask.method, id=ask.id, token=ask.token, **extra)
    return response.status


def sent_to_gunicorn(gateway: Gateway, ask: Ask) -> str:
    for _ in range(ask.times):
        answer = call(gateway.port, ask.act, ask.method, id=ask.id, token=ask.token, body=ask.body)
    return f"{answer.status} {answer.reason}"


@pytest.fixture
def gunicorn(app: Flask, database_url: str) -> Iterator[Gateway]:
    gateway = start_gateway(database_url, workers=1, extra_env=SERVED_ENV)
    yield gateway
    gateway.stop()


@pytest.mark.parametrize(
    "line",
    [
        "200 OK",
        "201 Created",
        "400 Bad Request",
        "401 Unauthorized",
        "403 Forbidden",
        "404 Not Found",
        "409 Conflict",
        "413 Request Entity Too Large",
        "422 Unprocessable Entity",
        "429 Too Many Requests",
    ],
)
def test_status_line_says_the_standard_reason_phrase(
    client: FlaskClient, asks: dict[str, Ask], line: str
) -> None:
    assert sent_by_test_client(client, asks[line]) == line


def test_preflight_status_line_says_200_ok(client: FlaskClient) -> None:
    response = client.options("/gassapi2/backend/?act=flow_toggle_active&id=flow_1")
    assert response.status == "200 OK"


def test_unexpected_error_status_line_says_500_internal_server_error(
    client: FlaskClient, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("bug")

    owner = make.user()
    monkeypatch.setattr(flowlist, "list_flows", broken)
    response = call_act(client, "flows", id=make.project(owner).id, token=make.token(owner))
    assert response.status == "500 Internal Server Error"


def test_database_away_status_line_says_503_service_unavailable() -> None:
    response = create_app(gateway_config(UNREACHABLE)).test_client().get("/?act=health")
    assert response.status == "503 Service Unavailable"


@pytest.mark.slow
def test_gunicorn_sends_the_standard_reason_phrase_for_every_status(
    gunicorn: Gateway, asks: dict[str, Ask]
) -> None:
    seen = {line: sent_to_gunicorn(gunicorn, ask) for line, ask in asks.items()}
    preflight = sent_to_gunicorn(gunicorn, Ask("flows", "OPTIONS"))
    assert (seen, preflight) == ({line: line for line in asks}, "200 OK")


@pytest.mark.slow
def test_gunicorn_sends_503_service_unavailable_when_the_database_is_away() -> None:
    gateway = start_gateway(UNREACHABLE, workers=1, extra_env=SERVED_ENV, require_db=False)
    try:
        line = sent_to_gunicorn(gateway, Ask("health"))
    finally:
        gateway.stop()
    assert line == "503 Service Unavailable"


def raw_answer(gateway: Gateway, request: bytes) -> tuple[str, dict[str, str], Any]:
    """Status line, headers and JSON body of one raw request (gunicorn closes afterwards)."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return status_line, headers, json.loads(body)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("line", "request_bytes"),
    [
        ("414 URI Too Long", b"GET /gassapi2/backend/?act=health&x=" + b"9" * 5000 + b" HTTP/1.1"),
        (
            "431 Request Header Fields Too Large",
            b"GET /gassapi2/backend/?act=health HTTP/1.1\r\nX-Big: " + b"a" * 9000,
        ),
        ("400 Bad Request", b"NOT A REQUEST LINE"),
    ],
)
def test_gunicorns_own_refusals_are_error_envelopes_not_html(
    gunicorn: Gateway, line: str, request_bytes: bytes
) -> None:
    """Found by `make fuzz`: a request gunicorn refuses before the gateway runs answered HTML."""
    status_line, headers, body = raw_answer(gunicorn, request_bytes + b"\r\n\r\n")
    assert status_line == f"HTTP/1.1 {line}"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert body["request_id"] == headers["X-Request-ID"]
    assert (body["success"], body["status_code"], body["status"]) == (False, int(line[:3]), "error")
    assert line[4:] in body["message"]


@pytest.mark.slow
def test_an_oversized_body_on_a_closing_connection_still_gets_its_413(gunicorn: Gateway) -> None:
    """Found by `make fuzz`: refused on its Content-Length before it was read, the body was left
    unread and the socket closed under a client still sending it (a broken pipe, no answer)."""
    body = b'{"email": "' + b"x" * 4 * 2**20 + b'"}'  # four times the limit: still sending
    for _ in range(3):
        answer = call(gunicorn.port, "login", "POST", body=body)  # sends `Connection: close`
        assert (answer.status, answer.is_envelope) == (413, True), answer.error
