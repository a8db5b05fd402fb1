"""`flask acts`: every act, as `flask routes` lists routes: where it lands and how it is checked.

One row per act and method: the act, the HTTP method, the internal path, the handler with its
`file:line`, the input schema and the authentication. Acts are aliases of a path and the method
picks the handler, so `GET ?act=flow_create` runs `flow_list`: such rows are marked `*`.
"""

import inspect
from collections.abc import Iterator
from pathlib import Path

import click
from flask.cli import with_appcontext

from backend.core.registry import METHODS, Action, registry

COLUMNS = ("act", "method", "path", "handler", "file:line", "schema", "auth")
ROOT = Path(__file__).resolve().parents[2]
OTHER_NAME = "* the act runs a handler of another name: the path's acts share it, the method picks"


def auth_label(policy: object) -> str:
    """`none`, `JWT` or `JWT or MCP token`; `?token=` allowed; `optional`."""
    if policy is None:
        return "none"
    words = "JWT or MCP token" if getattr(policy, "mcp", False) else "JWT"
    if getattr(policy, "query_token", False):
        words += ", ?token="
    return words + (", optional" if getattr(policy, "optional", False) else "")


def location(action: Action) -> str:
    path = Path(inspect.getsourcefile(action.func) or "?").resolve()
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return f"{shown}:{action.func.__code__.co_firstlineno}"


def rows(only: str | None = None) -> Iterator[tuple[str, ...]]:
    """(act, method, path, handler, file:line, schema, auth) by act, then method."""
    handlers = {(action.path, method): action for method, action in registry.actions()}
    for act, path in sorted(registry.acts.items()):
        if only is not None and act != only:
            continue
        for method in METHODS:
            action = handlers.get((path, method))
            if action is None:
                continue
            other = action.name != act.replace("-", "_")
            yield (
                act,
                method,
                action.template,
                action.name + ("*" if other else ""),
                location(action),
                action.schema.__name__ if action.schema else "-",
                auth_label(action.auth),
            )


def render(table: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in [COLUMNS, *table]) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [COLUMNS, tuple("-" * width for width in widths), *table]
    )


@click.command("acts")
@click.argument("act", required=False)
@with_appcontext
def acts_command(act: str | None) -> None:
    """Every act (or ACT): method, path, handler file:line, input schema, authentication."""
    table = list(rows(act))
    if not table:
        raise click.ClickException(f"No act named {act}")
    click.echo(render(table))
    if any(row[3].endswith("*") for row in table):
        click.echo(OTHER_NAME)
