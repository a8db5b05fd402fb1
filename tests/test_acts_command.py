"""`flask acts`: where an act lands, in one command (as `flask routes` does for routes)."""

from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def acts(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["acts", *args])


def row(output: str, act: str, method: str) -> list[str]:
    for line in output.splitlines():
        cells = line.split()
        if cells[:2] == [act, method]:
            return cells
    raise AssertionError(f"no row for {act} {method} in:\n{output}")


def test_acts_names_method_path_handler_schema_and_auth_of_an_act(app: Flask) -> None:
    result = acts(app, "flow_toggle_active")
    assert result.exit_code == 0, result.output
    cells = row(result.output, "flow_toggle_active", "PUT")
    assert cells[2:4] == ["/flow/{id}/toggle-active", "flow_toggle_active"]
    assert cells[4].startswith("handlers/flow_status.py:")
    assert cells[5] == "ReasonIn"
    assert " ".join(cells[6:]) == "JWT or MCP token"


def test_acts_file_and_line_lead_to_the_handler(app: Flask) -> None:
    cells = row(acts(app, "flow_update").output, "flow_update", "PUT")
    file, line = cells[4].split(":")
    source = (ROOT / file).read_text().splitlines()[int(line) - 1 :]
    definition = next(text for text in source if text.startswith("def "))
    assert definition.startswith("def flow_update(")


def test_acts_marks_an_act_that_runs_a_handler_of_another_name(app: Flask) -> None:
    """`GET ?act=flow_create` lists the project's flows: the act shares its path with flow_list."""
    result = acts(app, "flow_create")
    assert row(result.output, "flow_create", "GET")[3] == "flow_list*"
    assert row(result.output, "flow_create", "POST")[3] == "flow_create"
    assert "runs a handler of another name" in result.output


def test_acts_lists_every_act_with_its_auth(app: Flask) -> None:
    output = acts(app).output
    assert " ".join(row(output, "login", "POST")[6:]) == "none"
    assert " ".join(row(output, "users", "GET")[6:]) == "JWT, ?token="
    assert " ".join(row(output, "project", "GET")[6:]) == "JWT or MCP token, optional"


def test_acts_refuses_an_unknown_act(app: Flask) -> None:
    result = acts(app, "no_such_act")
    assert result.exit_code != 0
    assert "No act named no_such_act" in result.output
