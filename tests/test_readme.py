"""The README's quickstart and recipes, run as written against a live gateway started as the README
says (`gassapi-gateway init-db`, `add-indexes`, `serve`: gunicorn) on a fresh SQLite database in
the instance folder of a new working directory, so the README cannot drift from the product.

The shell blocks are taken from README.md itself: each one marked `<!-- readme-test: KIND -->`.
Only the address changes (`127.0.0.1:8080` → the test's free port)."""

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from stress.common import Gateway, call, start_gateway
from tests.conftest import HEAVY

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
MARKED_BLOCK = re.compile(r"<!-- readme-test: (\w+) -->\n```sh\n(.*?)```", re.S)
# As `make run` starts it: development mode, the embedded SQLite default, no configured keys.
MAKE_RUN_ENV = {
    "DATABASE_URL": "",
    "APP_ENV": "",
    "JWT_ACCESS_SECRET": "",
    "JWT_REFRESH_SECRET": "",
}

pytestmark = [pytest.mark.slow, HEAVY]


def readme_blocks(kind: str) -> list[str]:
    blocks = [body for marked, body in MARKED_BLOCK.findall(README.read_text()) if marked == kind]
    assert blocks, f"README.md has no block marked readme-test: {kind}"
    return blocks


def shell(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def exported(names: str) -> str:
    """Print the shell variables a later block needs, one `@@NAME=value` line each."""
    return "\necho" + "".join(f'\necho "@@{name}=${name}"' for name in names.split())


def variables(output: str) -> dict[str, str]:
    return dict(re.findall(r"^@@(\w+)=(.*)$", output, re.M))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh working directory where `.venv/bin/gassapi-gateway` is the checkout's."""
    path = tmp_path_factory.mktemp("readme")
    (path / ".venv").symlink_to(REPO / ".venv")
    (path / "deploy.sh").write_text("#!/bin/sh\necho deployed\n")
    (path / "deploy.sh").chmod(0o755)
    return path


@pytest.fixture(scope="module")
def gateway(workdir: Path) -> Iterator[Gateway]:
    gw = str(workdir / ".venv" / "bin" / "gassapi-gateway")
    env = {**os.environ, **MAKE_RUN_ENV}
    for command in ("init-db", "add-indexes"):
        subprocess.run([gw, command], cwd=workdir, env=env, check=True, timeout=60)
    started = start_gateway("", extra_env=MAKE_RUN_ENV, command=(gw, "serve"), cwd=workdir)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def env(gateway: Gateway) -> dict[str, str]:
    return {**os.environ, **MAKE_RUN_ENV, "PORT": str(gateway.port)}


def at_port(script: str, gateway: Gateway) -> str:
    return script.replace("127.0.0.1:8080", f"127.0.0.1:{gateway.port}")


@pytest.fixture(scope="module")
def quickstart(gateway: Gateway, workdir: Path, env: dict[str, str]) -> dict[str, str]:
    script = at_port("\n".join(readme_blocks("curl")), gateway)
    run = shell(script + exported("API AUTH TOKEN PROJECT FLOW GATEWAY_TOKEN"), workdir, env)
    assert run.returncode == 0, run.stdout + run.stderr
    return {**variables(run.stdout), "stdout": run.stdout}


def history(gateway: Gateway, token: str, flow: str) -> list[dict]:
    answer = call(gateway.port, "flow_status_history", id=flow, token=token)
    assert answer.status == 200, answer.body
    return json.loads(answer.body)["data"]


def test_readme_curl_quickstart_toggles_a_new_flow_and_reads_its_history(
    quickstart: dict[str, str], gateway: Gateway
) -> None:
    assert '"message":"Flow deactivated"' in quickstart["stdout"]
    changes = history(gateway, quickstart["TOKEN"], quickstart["FLOW"])
    assert [(c["old_status"], c["new_status"], c["reason"]) for c in changes] == [
        (1, 0, "first toggle")
    ]
    assert len(quickstart["GATEWAY_TOKEN"]) == 64


def deploy(quickstart: dict[str, str], workdir: Path, env: dict[str, str]) -> str:
    names = ("API", "FLOW", "GATEWAY_TOKEN")
    run = shell(readme_blocks("deploy")[0], workdir, {**env, **{n: quickstart[n] for n in names}})
    return f"exit {run.returncode}\n{run.stdout}{run.stderr}"


def test_readme_deploy_recipe_deactivates_deploys_and_activates_with_the_mcp_token(
    quickstart: dict[str, str], gateway: Gateway, workdir: Path, env: dict[str, str]
) -> None:
    output = deploy(quickstart, workdir, env)
    assert output.startswith("exit 0"), output
    assert "deployed" in output
    latest = history(gateway, quickstart["TOKEN"], quickstart["FLOW"])[0]
    assert (latest["new_status"], latest["reason"]) == (1, "deploy done")


def test_readme_deploy_recipe_stops_on_a_failed_deploy_and_leaves_the_flow_off(
    quickstart: dict[str, str], gateway: Gateway, workdir: Path, env: dict[str, str]
) -> None:
    failing = workdir / "failing"
    failing.mkdir()
    (failing / "deploy.sh").write_text("#!/bin/sh\necho 'deploy broke' >&2\nexit 3\n")
    (failing / "deploy.sh").chmod(0o755)
    activated = call(
        gateway.port, "flow_activate", "PUT", id=quickstart["FLOW"], token=quickstart["TOKEN"]
    )
    assert activated.status == 200, activated.body
    output = deploy(quickstart, failing, env)
    assert output.startswith("exit 3"), output
    changes = history(gateway, quickstart["TOKEN"], quickstart["FLOW"])
    assert (changes[0]["new_status"], changes[0]["reason"]) == (0, "deploy")


def test_readme_deploy_recipe_keeps_the_error_body_of_a_refused_call(
    quickstart: dict[str, str], workdir: Path, env: dict[str, str]
) -> None:
    output = deploy({**quickstart, "GATEWAY_TOKEN": "0" * 64}, workdir, env)
    assert not output.startswith("exit 0"), output
    assert '"success":false' in output and "deployed" not in output


def test_readme_cli_quickstart_runs_from_a_fresh_shell(
    gateway: Gateway, workdir: Path, env: dict[str, str]
) -> None:
    clean = {k: v for k, v in env.items() if k not in ("VIRTUAL_ENV",)}
    clean["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    run = shell("\n".join(readme_blocks("cli")) + exported("PROJECT FLOW"), workdir, clean)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "first toggle" in run.stdout
    assert variables(run.stdout)["FLOW"].startswith("flow_")
