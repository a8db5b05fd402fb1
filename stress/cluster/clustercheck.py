"""The nodes' health for HAProxy: GET on CHECK_PORTS[n] answers 200 while node n is Synced in
the primary component and ready for queries, 503 otherwise (joining, donor, non-primary, down).

A node that still accepts connections but is not synced would answer every query with an error
(1047) or serve stale reads: a TCP or MySQL-handshake check would keep it in rotation. One thread
per node polls it every POLL_SECONDS on a kept connection; HAProxy's checks read the last answer,
so a busy machine cannot turn a slow check into a false DOWN.
"""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pymysql

from stress.cluster.galera import NODE_PORTS, is_synced
from stress.cluster.haproxy import CHECK_PORTS

POLL_SECONDS = 0.25
TIMEOUT = 2


class Node:
    def __init__(self, port: int) -> None:
        self.port = port
        self.state = "down"
        self.healthy = False
        self.connection: pymysql.Connection | None = None

    def poll(self) -> None:
        try:
            if self.connection is None:
                self.connection = pymysql.connect(
                    host="127.0.0.1",
                    port=self.port,
                    user="root",
                    connect_timeout=TIMEOUT,
                    read_timeout=TIMEOUT,
                    autocommit=True,
                )
            with self.connection.cursor() as cursor:
                cursor.execute("SHOW GLOBAL STATUS LIKE 'wsrep%'")
                found = {str(name): str(value) for name, value in cursor.fetchall()}
        except pymysql.MySQLError:
            self.connection = None
            self.state, self.healthy = "down", False
            return
        self.state = found.get("wsrep_local_state_comment", "?")
        self.healthy = is_synced(found)

    def watch(self) -> None:
        while True:
            self.poll()
            time.sleep(POLL_SECONDS)


def handler_for(node: Node) -> type[BaseHTTPRequestHandler]:
    class Check(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
            body = node.state.encode()
            self.send_response(200 if node.healthy else 503)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    return Check


def main() -> None:
    nodes = [Node(port) for port in NODE_PORTS]
    for node in nodes:
        threading.Thread(target=node.watch, daemon=True).start()
    for node, check_port in zip(nodes, CHECK_PORTS, strict=True):
        server = ThreadingHTTPServer(("127.0.0.1", check_port), handler_for(node))
        threading.Thread(target=server.serve_forever, daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
