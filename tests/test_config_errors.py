"""A bad configuration ends in one line naming the variable, never a traceback: under `flask`,
the `gassapi-gateway` CLI and gunicorn alike (issue 16 item 4)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, load_config

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ENTRY_POINTS = {
    "flask": [str(BIN / "flask"), "--app", "wsgi", "init-db"],
    "cli": [str(BIN / "gassapi-gateway"), "init-db"],
    "gunicorn": [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app", "-b", "127.0.0.1:0"],
}
BAD_SETTINGS = {
    "DB_POOL_SIZE": ({"DB_POOL_SIZE": "five"}, "DB_POOL_SIZE=five"),
    "secret": ({"APP_ENV": "production"}, "JWT_SECRET"),
}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DB_POOL_SIZE", "five"),
        ("DB_PORT", "3306x"),
        ("DB_RETRY_DEADLINE_SECONDS", "soon"),
        ("PROXY_COUNT", "-1"),
        ("DB_AUTO_CREATE", "maybe"),
        ("METRICS_ENABLED", "perhaps"),
    ],
)
def test_a_malformed_setting_is_refused_naming_the_variable_and_value(
    name: str, value: str
) -> None:
    environ = {name: value, **({"DB_HOST": "db"} if name == "DB_PORT" else {})}
    with pytest.raises(ConfigError, match=f"^{name}={value}: "):
        load_config(environ)


def test_a_short_scrape_token_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError, match="^METRICS_TOKEN is shorter than 16 characters") as raised:
        load_config({"METRICS_TOKEN": "guessable"})
    assert "guessable" not in str(raised.value)
    assert load_config({"METRICS_TOKEN": "x" * 16})["METRICS_TOKEN"] == "x" * 16


def started(command: list[str], environ: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DB_", "JWT_"))}
    env.update({"DATABASE_URL": "sqlite://", "APP_ENV": "", **environ, "PYTHONPATH": str(REPO)})
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("setting", BAD_SETTINGS)
def test_a_bad_setting_stops_every_entry_point_with_one_line(entry: str, setting: str) -> None:
    environ, named = BAD_SETTINGS[setting]
    run = started(ENTRY_POINTS[entry], environ, REPO)
    output = run.stdout + run.stderr
    assert run.returncode != 0, output
    assert "Traceback" not in output, output
    (line,) = [line for line in output.splitlines() if named in line]
    assert line.count(named) >= 1 and "configuration" in line.lower(), output
