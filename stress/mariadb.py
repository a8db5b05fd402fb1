"""A private MariaDB server in a temporary data directory, on a free port of 127.0.0.1.

The outage run stops and starts this server; the machine's shared MariaDB is never touched. The
Galera nodes of the cluster run (stress/cluster/) are the same kind of server with a config file.
"""

import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from stress.common import free_port, log, server_answers

MARIADBD = shutil.which("mariadbd", path="/usr/sbin:/usr/bin:/usr/local/sbin") or "mariadbd"


class PrivateMariaDB:
    user = "root"  # the account mariadbd runs as

    def __init__(self, port: int | None = None, root: Path | None = None) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="gw-private-mariadb-"))
        self.datadir = self.root / "data"
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def server_url(self) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}"

    def install(self) -> None:
        installer = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        if installer is None:
            raise SystemExit("mariadb-install-db not found (apt-get install mariadb-server)")
        subprocess.run(
            [
                installer,
                "--no-defaults",
                f"--datadir={self.datadir}",
                f"--user={self.user}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
        )

    def arguments(self) -> list[str]:
        """mariadbd's command line after the binary (the options file, if any, comes first)."""
        return [
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--socket={self.root / 'mariadb.sock'}",
            f"--pid-file={self.root / 'mariadb.pid'}",
            f"--log-error={self.root / 'error.log'}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            "--user=root",
            "--skip-grant-tables",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=64M",
            "--innodb-log-file-size=16M",
            "--max-connections=200",
        ]

    def start(self, timeout: float = 60) -> float:
        """Start the server; returns the monotonic time at which it first answered."""
        self.process = subprocess.Popen(
            [MARIADBD, *self.arguments()],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"private MariaDB exited:\n{self.error_log()}")
            if server_answers(self.server_url):
                return time.monotonic()
            time.sleep(0.05)
        raise SystemExit(f"private MariaDB did not answer:\n{self.error_log()}")

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 60) -> float:
        """Stop with `sig` and wait for the process to exit; returns the monotonic exit time."""
        if self.process is None or self.process.poll() is not None:
            return time.monotonic()
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            log("private MariaDB ignored the signal; killing it")
            self.process.kill()
            self.process.wait(10)
        return time.monotonic()

    def error_log(self, lines: int = 20) -> str:
        try:
            return "\n".join((self.root / "error.log").read_text().splitlines()[-lines:])
        except OSError:
            return ""

    def destroy(self) -> None:
        self.stop(signal.SIGTERM)
        shutil.rmtree(self.root, ignore_errors=True)
