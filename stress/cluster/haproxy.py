"""HAProxy (Debian's package) and the clustercheck it asks about each node's health."""

import csv
import io
import subprocess
import sys
import time
from collections.abc import Sequence
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from string import Template

from stress.cluster.galera import NAMES, NODE_PORTS
from stress.common import log

HERE = Path(__file__).resolve().parent
ANY_NODE_PORT = 13300  # `galera`: every synced node
NODE_FRONT_PORTS = (13301, 13302, 13303)  # `nodeN`: node N first, the others as backups
STATS_PORT = 13304
SINGLE_FRONT_PORT = 13305  # `single`: the non-Galera server of the throughput comparison
SINGLE_PORT = 13309
CHECK_PORTS = (13316, 13317, 13318)  # clustercheck of node N


def server_lines(preferred: int | None) -> list[str]:
    lines = []
    for index, (name, port) in enumerate(zip(NAMES, NODE_PORTS, strict=True)):
        backup = " backup" if preferred is not None and index != preferred else ""
        lines.append(f"    server {name} 127.0.0.1:{port} check port {CHECK_PORTS[index]}{backup}")
    return lines


def section(name: str, port: int, binds: Sequence[str], preferred: int | None) -> str:
    lines = [f"listen {name}"]
    lines += [f"    bind {address}:{port}" for address in binds]
    lines += [
        "    balance leastconn",
        "    option httpchk GET /",
        "    http-check expect status 200",
    ]
    return "\n".join(lines + server_lines(preferred))


def single_section(binds: Sequence[str]) -> str:
    lines = ["listen single", *(f"    bind {address}:{SINGLE_FRONT_PORT}" for address in binds)]
    return "\n".join([*lines, f"    server single 127.0.0.1:{SINGLE_PORT} check"])


def render(binds: Sequence[str]) -> str:
    sections = [section("galera", ANY_NODE_PORT, binds, None)]
    sections += [
        section(f"node{index + 1}", port, binds, index)
        for index, port in enumerate(NODE_FRONT_PORTS)
    ]
    sections.append(single_section(binds))
    template = Template((HERE / "haproxy.cfg").read_text())
    return template.substitute(stats_port=STATS_PORT, sections="\n\n".join(sections))


def node_url(node: int | None, database: str, host: str = "127.0.0.1") -> str:
    """Through HAProxy: attached to node `node` (0-2), or to any synced node (None)."""
    port = ANY_NODE_PORT if node is None else NODE_FRONT_PORTS[node]
    return f"mysql+pymysql://root@{host}:{port}/{database}?charset=utf8mb4"


def single_url(database: str, host: str = "127.0.0.1") -> str:
    return f"mysql+pymysql://root@{host}:{SINGLE_FRONT_PORT}/{database}?charset=utf8mb4"


class HAProxy:
    def __init__(self, root: Path, binds: Sequence[str]) -> None:
        self.root = root
        self.config = root / "haproxy.cfg"
        self.config.write_text(render(sorted(set(binds))))
        self.log_path = root / "haproxy.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.check: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.check = subprocess.Popen(
            [sys.executable, "-m", "stress.cluster.clustercheck"],
            cwd=HERE.parent.parent,
            stdout=(self.root / "clustercheck.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        subprocess.run(["haproxy", "-c", "-q", "-f", str(self.config)], check=True, timeout=10)
        self.process = subprocess.Popen(
            ["haproxy", "-db", "-f", str(self.config)],
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"haproxy exited:\n{self.log_path.read_text()}")
            if all(self.up(name) for name in NAMES):
                log("haproxy: every node UP")
                return
            time.sleep(0.2)
        raise SystemExit(f"haproxy did not see the nodes UP: {self.states()}")

    def states(self, backend: str = "galera") -> dict[str, str]:
        """Each server's state in one backend, from the stats page (UP, DOWN, UP 1/3, ...)."""
        connection = HTTPConnection("127.0.0.1", STATS_PORT, timeout=2)
        try:
            connection.request("GET", "/;csv")
            text = connection.getresponse().read().decode()
        except (OSError, HTTPException):
            return {}
        finally:
            connection.close()
        rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
        return {row["svname"]: row["status"] for row in rows if row["pxname"] == backend}

    def up(self, name: str) -> bool:
        return self.states().get(name) == "UP"

    def wait(self, name: str, up: bool, timeout: float = 30) -> float:
        """Until HAProxy marks node `name` UP (or DOWN); returns the monotonic time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.up(name) == up:
                return time.monotonic()
            time.sleep(0.05)
        raise SystemExit(f"haproxy never marked {name} {'UP' if up else 'DOWN'}: {self.states()}")

    def cpu_pids(self) -> list[int]:
        return [p.pid for p in (self.process, self.check) if p is not None and p.poll() is None]

    def stop(self) -> None:
        for process in (self.process, self.check):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)
