"""The supported install path (docs/deploying.md), from scratch: a copy of the checkout, `make
install` (a new venv, the locked dependencies, the checkout itself), then the tree is made
read-only and the gateway started from it as the systemd unit does (`init-db`, then `serve`, the
state folder elsewhere). As root, permission bits bind nobody, so the gateway then runs as
`nobody`; either way the tree must come out of it unchanged."""

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

import pytest

from stress.common import Gateway, call, start_gateway
from tests.conftest import HEAVY

REPO = Path(__file__).resolve().parent.parent
NOT_SHIPPED = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "dist", "instance", "test-artifacts", "__pycache__", ".*cache"
)

pytestmark = [pytest.mark.slow, HEAVY]


def snapshot(tree: Path) -> dict[str, float]:
    return {str(path): path.lstat().st_mtime for path in tree.rglob("*")}


def as_unprivileged() -> list[str]:
    """Root ignores a+w being off: drop to nobody so a write next to the code really fails."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]


def system_python() -> str:
    """An interpreter `nobody` may run (a developer's may live under /root)."""
    found = shutil.which("python3", path="/usr/bin:/usr/local/bin")
    assert found, "no system python3 for the unprivileged run"
    return found


@pytest.fixture(scope="module")
def installed() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="gw-install-"))
    root.chmod(0o755)
    tree = root / "gassapi-gateway"
    shutil.copytree(REPO, tree, ignore=NOT_SHIPPED, symlinks=True)
    python = system_python() if as_unprivileged() else sys._base_executable
    subprocess.run(
        ["make", "install", f"PYTHON={python}"],
        cwd=tree,
        check=True,
        timeout=540,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(["chmod", "-R", "a-w", str(tree)], check=True)
    yield tree
    subprocess.run(["chmod", "-R", "u+w", str(tree)], check=True)
    shutil.rmtree(root)


@pytest.fixture
def state(installed: Path) -> Path:
    path = installed.parent / "state"
    path.mkdir(mode=0o777, exist_ok=True)
    path.chmod(0o777)  # the unit's StateDirectory=, owned by the service user
    return path


def unit_env(state: Path) -> dict[str, str]:
    """As the systemd unit: state in its own folder, the working directory there too."""
    return {"GATEWAY_INSTANCE_PATH": str(state), "DATABASE_URL": "", "APP_ENV": ""}


def run_from(installed: Path, state: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    entry = str(installed / ".venv" / "bin" / "gassapi-gateway")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*as_unprivileged(), entry, *args],
            cwd=state,
            env={**os.environ, **unit_env(state)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


def test_installed_gateway_serves_from_a_read_only_tree_with_its_state_elsewhere(
    installed: Path, state: Path
) -> None:
    before = snapshot(installed)
    run = run_from(installed, state)
    created = run("init-db")
    assert created.returncode == 0, created.stderr
    entry = str(installed / ".venv" / "bin" / "gassapi-gateway")
    gateway: Gateway = start_gateway(
        "", extra_env=unit_env(state), command=(*as_unprivileged(), entry, "serve"), cwd=state
    )
    try:
        health = call(gateway.port, "health")
    finally:
        gateway.stop()
    assert health.status == 200, health.body
    assert (state / "gateway.sqlite").is_file()
    assert snapshot(installed) == before, "the gateway wrote into its install tree"


def test_installed_entry_point_prints_the_version_without_a_venv_activated(
    installed: Path, state: Path
) -> None:
    version = run_from(installed, state)("--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.split()[-1] == metadata.version("gassapi-gateway")


def test_a_regular_wheel_is_refused_with_the_supported_way(installed: Path) -> None:
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-w",
            tempfile.mkdtemp(),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode != 0
    assert "make install" in built.stdout + built.stderr
