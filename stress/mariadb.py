"""A private MariaDB server in a temporary data directory, on a free port of 127.0.0.1.

The outage run stops and starts this server; the machine's shared MariaDB is never touched.
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
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="gw-private-mariadb-"))
        self.datadir = self.root / "data"
        self.port = free_port()
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
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self, timeout: float = 60) -> float:
        """Start the server; returns the monotonic time at which it first answered."""
        self.process = subprocess.Popen(
            [
                MARIADBD,
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
            ],
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

    def error_log(self) -> str:
        try:
            return "\n".join((self.root / "error.log").read_text().splitlines()[-20:])
        except OSError:
            return ""

    def destroy(self) -> None:
        self.stop(signal.SIGTERM)
        shutil.rmtree(self.root, ignore_errors=True)
