"""gunicorn (as configured by backend/ops/gunicorn_conf.py) sends an answer's status line and
headers together with its body, in one `send`: one TCP segment and one wake-up of the client
(or nginx) per answer instead of two. Answers without a body and chunked bodies keep gunicorn's
own framing. Checked on gunicorn's own parser and response objects over a socket pair, with
every `sendall` recorded, and on the bytes the peer receives."""

import socket
from typing import Any

import pytest
from gunicorn.config import Config
from gunicorn.http import wsgi
from gunicorn.http.parser import RequestParser

from backend.ops import gunicorn_conf

BODY = b'{"success":true,"status_code":200}'
ENVELOPE_HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


class Recording:
    """The server's socket, with every `sendall` kept."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sends: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.sends.append(bytes(data))
        self.sock.sendall(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


def served(
    request: bytes, status: str, headers: list[tuple[str, str]], chunks: list[bytes]
) -> tuple[list[bytes], bytes]:
    """What gunicorn's worker does with one request and the app's answer: (sends, received)."""
    client, server = socket.socketpair()
    with client, server:
        client.sendall(request)
        config = Config()
        parsed = next(iter(RequestParser(config, server, ("127.0.0.1", 40000))))
        recording = Recording(server)
        response, _ = wsgi.create(
            parsed, recording, ("127.0.0.1", 40000), ("127.0.0.1", 8080), config
        )
        response.start_response(status, headers)
        for chunk in chunks:
            response.write(chunk)
        response.close()
        server.shutdown(socket.SHUT_WR)
        received = b"".join(iter(lambda: client.recv(65536), b""))
    return recording.sends, received


def test_the_configured_server_answers_with_the_one_send_response() -> None:
    assert wsgi.Response is gunicorn_conf.OneSendResponse


def test_an_envelope_leaves_with_its_status_line_and_headers_in_one_send() -> None:
    sends, received = served(
        b"GET /gassapi2/backend/?act=health HTTP/1.1\r\nHost: x\r\n\r\n",
        "200 OK",
        ENVELOPE_HEADERS,
        [BODY],
    )
    assert len(sends) == 1
    assert sends[0].startswith(b"HTTP/1.1 200 OK\r\n") and sends[0].endswith(b"\r\n\r\n" + BODY)
    assert received == sends[0]
    assert b"Content-Length: %d\r\n" % len(BODY) in received


def test_a_body_in_several_pieces_sends_the_head_with_the_first() -> None:
    sends, received = served(
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "200 OK", ENVELOPE_HEADERS, [BODY[:10], BODY[10:]]
    )
    assert len(sends) == 2 and sends[1] == BODY[10:]
    assert received.endswith(b"\r\n\r\n" + BODY)


@pytest.mark.parametrize(
    ("method", "status"), [("HEAD", "200 OK"), ("GET", "204 No Content"), ("GET", "200 OK")]
)
def test_an_answer_without_a_body_still_sends_its_head(method: str, status: str) -> None:
    headers = [("Content-Length", "0")] if status == "200 OK" and method == "GET" else []
    sends, received = served(
        f"{method} / HTTP/1.1\r\nHost: x\r\n\r\n".encode(), status, headers, [b""]
    )
    assert len(sends) == 1
    assert received.startswith(f"HTTP/1.1 {status}\r\n".encode())
    assert received.endswith(b"\r\n\r\n")


def test_a_chunked_body_keeps_its_framing_after_the_head() -> None:
    sends, received = served(
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "200 OK", [("Content-Type", "text/plain")], [b"abc"]
    )
    head, _, framed = received.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    assert framed == b"3\r\nabc\r\n0\r\n\r\n"
    assert sends[0] == head + b"\r\n\r\n"
