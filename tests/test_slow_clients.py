"""Issue #15 item 3: clients that send their request slowly do not stop the service.

A real gunicorn with the shipped config (`gunicorn -c gunicorn.conf.py wsgi:app`), 50 connections
on loopback that trickle their headers or their body one byte at a time, and meanwhile an ordinary
client: its requests are answered within its normal latency. Two shapes: the bare default (gevent
workers) served directly, and the systemd unit's (sync workers) behind the shipped nginx
(`deploy/nginx.conf`, `stress/nginx.py`; skipped where nginx is not installed). Served directly,
sync workers fail it: each trickling connection holds a whole worker until gunicorn's timeout.
Bounded: every request has a short timeout and the whole test a deadline.
"""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from flask import Flask

from stress import nginx
from stress.common import call, start_gateway
from tests.conftest import ACCESS_SECRET, HEAVY, IN_CI, REFRESH_SECRET, shared_database_url

pytestmark = [pytest.mark.slow, HEAVY]

SLOW_CONNECTIONS = 50
PROBES = 10
TRICKLE_SECONDS = 0.3  # one byte per connection this often
# "Normal latency" on a shared 2-core machine: a probe may take five times the slowest of the
# unhindered probes, and never less than a second is demanded (sync workers take ~30 s here).
LATENCY_FACTOR = 5
LATENCY_FLOOR = 1.0
PROBE_TIMEOUT = 8.0
HEAD = "POST /gassapi2/backend/?act=login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
STARTS = {
    # The header block never ends: one more header byte at a time.
    "headers": (HEAD + "X-Slow: ").encode(),
    # Complete headers, then a body far longer than what arrives.
    "body": (
        HEAD + "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n" + '{"email": "'
    ).encode(),
}


@pytest.fixture(scope="session")
def database_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    return shared_database_url(database_url, tmp_path_factory.mktemp("slow-clients"))


DIRECT = "gevent served directly"
BEHIND_NGINX = "sync behind nginx"


@pytest.fixture(params=[DIRECT, BEHIND_NGINX])
def port(request: pytest.FixtureRequest, app: Flask, database_url: str) -> Iterator[int]:
    """The port clients use: gunicorn's own, or that of the shipped nginx in front of it."""
    env = {"JWT_ACCESS_SECRET": ACCESS_SECRET, "JWT_REFRESH_SECRET": REFRESH_SECRET}
    if request.param == BEHIND_NGINX:
        if not nginx.available():
            # `make test` installs it; outside CI a machine without nginx skips this shape
            (pytest.fail if IN_CI else pytest.skip)("nginx is not installed (Debian's package)")
        env |= {"GUNICORN_WORKER_CLASS": "sync", "PROXY_COUNT": "1"}  # as the systemd unit
    gateway = start_gateway(database_url, workers=2, extra_env=env)
    try:
        if request.param == DIRECT:
            yield gateway.port
        else:
            with nginx.LocalNginx(gateway.port) as front:
                yield front.port
    finally:
        gateway.stop()


class Trickle:
    """`count` connections that send `start`, then one more byte every TRICKLE_SECONDS."""

    def __init__(self, port: int, start: bytes, count: int) -> None:
        self.sockets = [socket.create_connection(("127.0.0.1", port), 5) for _ in range(count)]
        for sock in self.sockets:
            sock.sendall(start)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stopped.wait(TRICKLE_SECONDS):
            for sock in self.sockets:
                try:
                    sock.sendall(b"a")
                except OSError:
                    continue

    def still_open(self) -> int:
        """Connections the server has neither answered nor closed."""
        open_count = 0
        for sock in self.sockets:
            sock.setblocking(False)
            try:
                sock.recv(1, socket.MSG_PEEK)  # an answer or the end of the stream: not open
            except BlockingIOError:
                open_count += 1
            except OSError:
                pass
        return open_count

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(5)
        for sock in self.sockets:
            sock.close()


def probe_latencies(port: int, deadline: float) -> list[float]:
    found = []
    for _ in range(PROBES):
        if time.monotonic() > deadline:
            break
        answer = call(port, "health", timeout=PROBE_TIMEOUT)
        assert answer.status == 200, answer.error or answer.body[:200]
        found.append(answer.seconds)
    return found


@pytest.mark.parametrize("trickled", sorted(STARTS))
def test_fifty_slow_clients_do_not_delay_other_clients(port: int, trickled: str) -> None:
    deadline = time.monotonic() + 60
    normal = max(probe_latencies(port, deadline))
    with ExitStack() as stack:
        slow = Trickle(port, STARTS[trickled], SLOW_CONNECTIONS)
        stack.callback(slow.close)
        time.sleep(2 * TRICKLE_SECONDS)  # every slow connection has reached a worker by now
        hindered = probe_latencies(port, deadline)
        assert slow.still_open() == SLOW_CONNECTIONS  # they were really in flight meanwhile
    assert len(hindered) == PROBES
    assert max(hindered) <= max(LATENCY_FLOOR, LATENCY_FACTOR * normal), (normal, hindered)
