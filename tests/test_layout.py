"""The layout rules of docs/developing.md, read from the source with `ast`.

Imports only point down: config ← backend.core ← backend.legacy | backend.db ← backend.models
← backend.auth ← backend.runner ← backend.web ← backend.ops ← schemas | services ← handlers
← backend/__init__.py (the app factory wires everything). Modules of one layer may import each
other; siblings (`legacy`/`db`, `schemas`/`services`) may not. Handlers never import handlers,
and only backend/web reads `flask.request` or `flask.g`.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = (
    ("config",),
    ("backend.core",),
    ("backend.legacy", "backend.db"),
    ("backend.models",),
    ("backend.auth",),
    ("backend.runner",),
    ("backend.web",),
    ("backend.ops",),
    ("schemas", "services"),
    ("handlers",),
    ("backend",),
)
PACKAGES = ("backend", "services", "handlers", "schemas", "config")
REQUEST_STATE = ("request", "g")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def group(module: str) -> str:
    """The layer group a module belongs to: its longest listed prefix."""
    names = [name for layer in LAYERS for name in layer]
    return max((n for n in names if module == n or module.startswith(n + ".")), key=len)


def rank(module: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if group(module) in layer)


def imports(source: str) -> Iterator[tuple[int, str, tuple[str, ...]]]:
    """(line, module, names) of every import, nested ones included."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module, tuple(alias.name for alias in node.names)


def violations(module: str, source: str) -> list[str]:
    found = []
    for line, target, names in imports(source):
        where = f"{module}:{line} imports {target}"
        if target == "flask" and set(names) & set(REQUEST_STATE) and group(module) != "backend.web":
            found.append(f"{where} {sorted(set(names) & set(REQUEST_STATE))}: only backend/web")
        if target.split(".")[0] not in PACKAGES:
            continue
        targets = [target] + [f"{target}.{name}" for name in names]
        if module.startswith("handlers.") and any(t.startswith("handlers.") for t in targets):
            found.append(f"{where}: a handler never imports another handler")
        elif rank(target) > rank(module):
            found.append(f"{where}: points up")
        elif rank(target) == rank(module) and group(target) != group(module):
            found.append(f"{where}: siblings of one layer import neither way")
    return found


def project_modules() -> Iterator[tuple[str, str]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield module_name(path), path.read_text()


def test_every_import_points_down_and_no_handler_imports_a_handler() -> None:
    found = [v for module, source in project_modules() for v in violations(module, source)]
    assert found == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("handlers.auth", "from handlers.users import load_user"),
        ("handlers.mcp", "from handlers import projects"),
        ("backend.ops.openapi", "from schemas import base"),
        ("backend.core.registry", "from backend.auth.callers import ANY_TOKEN"),
        ("backend.db.integrity", "from backend.legacy.php import php_json"),
        ("services.flows.writes", "from schemas.base import NAME_CHARS"),
        ("services.flows.status", "from flask import request"),
        ("backend.runner", "def f():\n    from backend.web import view"),
    ],
)
def test_the_rule_catches_a_forbidden_import(module: str, source: str) -> None:
    assert violations(module, source) != []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("handlers.flows", "from services.flows import status"),
        ("handlers", "from handlers import flows"),
        ("services.flows.writes", "from services.flows import definition"),
        ("backend.web.view", "from flask import request"),
        ("backend", "import handlers"),
    ],
)
def test_the_rule_allows_an_import_that_points_down(module: str, source: str) -> None:
    assert violations(module, source) == []
