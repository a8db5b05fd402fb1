"""Three MariaDB Galera nodes on 127.0.0.1, each a private server (stress/mariadb.py) with its
own data directory and ports, configured from node.cnf.

Node n (0, 1, 2) listens for clients on NODE_PORTS[n], for the group on GCOMM_PORTS[n], and
receives state transfers on IST_PORTS[n] (incremental) and SST_PORTS[n] (full, rsync).
"""

import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from string import Template
from typing import Any

import pymysql

from stress.common import log
from stress.mariadb import MARIADBD, PrivateMariaDB

HERE = Path(__file__).resolve().parent
PROVIDER = "/usr/lib/galera/libgalera_smm.so"
NODE_PORTS = (13306, 13307, 13308)
GCOMM_PORTS = (14567, 14568, 14569)
IST_PORTS = (14577, 14578, 14579)
SST_PORTS = (14587, 14588, 14589)
NAMES = ("n1", "n2", "n3")
SYNCED = 4  # wsrep_local_state: 4 = Synced (1 joining, 2 donor, 3 joined)
RECOVERED = re.compile(r"WSREP: Recovered position: (\S+:-?\d+)")


def status(port: int, timeout: float = 2) -> dict[str, str]:
    """The node's wsrep status variables; {} when it does not answer."""
    try:
        conn = pymysql.connect(
            host="127.0.0.1",
            port=port,
            user="root",
            connect_timeout=timeout,
            read_timeout=timeout,
        )
    except pymysql.MySQLError:
        return {}
    try:
        with conn.cursor() as cursor:
            cursor.execute("SHOW GLOBAL STATUS LIKE 'wsrep%'")
            return {str(name): str(value) for name, value in cursor.fetchall()}
    except pymysql.MySQLError:
        return {}
    finally:
        conn.close()


def is_synced(found: dict[str, str]) -> bool:
    return (
        found.get("wsrep_local_state") == str(SYNCED)
        and found.get("wsrep_ready") == "ON"
        and found.get("wsrep_cluster_status") == "Primary"
    )


class GaleraNode(PrivateMariaDB):
    # The rsync state transfer runs as the server's account; as root, its rsync daemon would
    # switch to `nobody` and could not write the joiner's data directory.
    user = "mysql"

    def __init__(self, index: int, root: Path) -> None:
        super().__init__(NODE_PORTS[index], root / NAMES[index])
        self.index, self.name = index, NAMES[index]
        self.root.mkdir(parents=True, exist_ok=True)
        self.config = self.root / "node.cnf"
        self.bootstrap = False
        self.start_position: str | None = None

    def write_config(self, peers: int) -> None:
        template = Template((HERE / "node.cnf").read_text())
        self.config.write_text(
            template.substitute(
                datadir=self.datadir,
                root=self.root,
                port=self.port,
                provider=PROVIDER,
                peers=",".join(f"127.0.0.1:{port}" for port in GCOMM_PORTS[:peers]),
                name=self.name,
                user=self.user,
                gcomm_port=GCOMM_PORTS[self.index],
                ist_port=IST_PORTS[self.index],
                sst_port=SST_PORTS[self.index],
            )
        )

    def arguments(self) -> list[str]:
        extra = ["--wsrep-new-cluster"] if self.bootstrap else []
        if self.start_position:
            extra.append(f"--wsrep-start-position={self.start_position}")
        return [f"--defaults-file={self.config}", *extra]

    def recover_position(self) -> str | None:
        """After a crash the state file says nothing (seqno -1): ask InnoDB for the last
        committed write set, as the packaged start scripts do, so the node can rejoin by IST."""
        log_path = self.root / "recover.log"
        subprocess.run(
            [
                MARIADBD,
                f"--defaults-file={self.config}",
                "--wsrep-recover",
                f"--log-error={log_path}",
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
        try:
            found = RECOVERED.findall(log_path.read_text(errors="replace"))
        except OSError:
            return None
        return found[-1] if found else None

    def rejoin(self, timeout: float = 120) -> float:
        """Start after a crash from the recovered position; returns when the server answers."""
        self.start_position = self.recover_position()
        try:
            return self.start(timeout=timeout)
        finally:
            self.start_position = None

    def status(self) -> dict[str, str]:
        return status(self.port)

    def wait_synced(self, timeout: float = 120) -> float:
        """Until the node is Synced in the primary component; returns the monotonic time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited:\n{self.error_log(40)}")
            if is_synced(self.status()):
                return time.monotonic()
            time.sleep(0.1)
        raise SystemExit(f"{self.name} did not sync within {timeout:.0f}s:\n{self.error_log(40)}")

    def log_size(self) -> int:
        try:
            return (self.root / "error.log").stat().st_size
        except OSError:
            return 0

    def transfer(self, since: int = 0) -> str:
        """How the node got its state after byte `since` of its log: IST, SST or none."""
        try:
            with (self.root / "error.log").open("rb") as handle:
                handle.seek(since)
                text = handle.read().decode(errors="replace")
        except OSError:
            return "unknown"
        ist = text.rfind("IST received")
        sst = max(text.rfind("SST received"), text.rfind("SST succeeded"))
        if ist < 0 and sst < 0:
            return "none"
        return "IST" if ist > sst else "SST"

    def kill(self) -> float:
        return self.stop(signal.SIGKILL)


class Cluster:
    """Bootstraps n1, joins n2 and n3 (full state transfer from a donor), stops them all."""

    def __init__(self, root: Path, size: int = 3) -> None:
        self.root = root
        self.nodes = [GaleraNode(index, root) for index in range(size)]

    def start(self) -> dict[str, Any]:
        first = self.nodes[0]
        started = time.monotonic()
        self.root.chmod(0o755)  # mkdtemp's 0700 would keep the server's account out
        self.give_to_server()
        first.install()
        for node in self.nodes[1:]:
            shutil.copytree(first.datadir, node.datadir)  # an empty server; the join replaces it
        for node in self.nodes:
            node.write_config(len(self.nodes))
        self.give_to_server()
        first.bootstrap = True
        first.start()
        first.wait_synced()
        first.bootstrap = False  # a restart joins the running cluster instead of founding one
        for node in self.nodes[1:]:
            node.start(timeout=120)
            node.wait_synced()
        size = first.status().get("wsrep_cluster_size")
        log(f"cluster: {len(self.nodes)} nodes synced (cluster size {size})")
        return {"cluster_start_seconds": round(time.monotonic() - started, 1)}

    def give_to_server(self) -> None:
        for path in [self.root, *self.root.rglob("*")]:
            shutil.chown(path, GaleraNode.user, GaleraNode.user)

    def stop(self) -> None:
        for node in reversed(self.nodes):
            node.stop(signal.SIGTERM, timeout=30)
