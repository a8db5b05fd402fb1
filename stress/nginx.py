"""The shipped nginx front (`deploy/nginx.conf`) as a local process in front of a local gunicorn.

The `server` and `upstream` blocks are the shipped file's with only two lines changed: it listens
on a free loopback port without TLS, and its upstream is the given gunicorn port. The rest
(`worker_processes auto`, an access log) are Debian's defaults; config, logs and temporary files
live in a temporary folder. Needs `nginx` on PATH (Debian's package).
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from stress.common import free_port, stop_group

SHIPPED = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf"
MAIN = """daemon off;
{user}
worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {dir}/access.log;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
{server}
}}
"""


def available() -> bool:
    return shutil.which("nginx") is not None


def local_config(folder: Path, port: int, upstream_port: int) -> str:
    server = SHIPPED.read_text()
    for shipped, local in (
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{port};"),
        ("server 127.0.0.1:8080;", f"server 127.0.0.1:{upstream_port};"),
    ):
        if shipped not in server:
            raise RuntimeError(f"{SHIPPED} no longer has the line «{shipped}» this adapts")
        server = server.replace(shipped, local)
    user = "user root;" if os.geteuid() == 0 else ""  # as root, workers would run as nobody
    return MAIN.format(dir=folder, server=server, user=user)


class LocalNginx:
    """`with LocalNginx(gunicorn_port) as front:` serves the shipped config on `front.port`."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="gassapi-nginx-"))
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "LocalNginx":
        conf = self.folder / "nginx.conf"
        conf.write_text(local_config(self.folder, self.port, self.upstream_port))
        with (self.folder / "stderr.log").open("wb") as errors:
            self.proc = subprocess.Popen(
                ["nginx", "-p", str(self.folder), "-c", str(conf)],
                stdout=subprocess.DEVNULL,
                stderr=errors,
                start_new_session=True,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {(self.folder / 'stderr.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("nginx did not listen within 10 s")

    def __exit__(self, *exc: Any) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def stop(self) -> None:
        stop_group(self.proc, 10)
