"""Cut-over toolkit (docs/cutover.md): the gateway in front of the legacy backend, each act served
by one side or the other (LEGACY_ACT_MODES), reads compared live, a readiness report.

With LEGACY_URL unset `install` does nothing at all: no wrapper, no hook, no thread, no import of
the HTTP client or of the cut-over metrics.
"""

from pathlib import Path
from typing import Any

from flask import Flask, current_app

from backend.core.registry import registry
from backend.web.cutover.modes import LEGACY_PATHS, SERVE, legacy_act
from backend.web.cutover.report import act_kinds, build
from backend.web.cutover.stats import load, merge, reset
from backend.web.hooks import GATEWAY

EXTENSION = "cutover"


def state_dir(app: Flask) -> Path:
    return Path(app.config.get("CUTOVER_STATE_DIR") or Path(app.instance_path) / "cutover")


def install(app: Flask) -> None:
    """Wrap the act router's view (`app.view_functions[GATEWAY]`) with the per-act routing."""
    if not app.config.get("LEGACY_URL"):
        return
    from backend.web.cutover.runtime import Cutover

    cutover = Cutover(app, frozenset(registry.acts), state_dir(app))
    app.extensions[EXTENSION] = cutover
    app.view_functions[GATEWAY] = cutover.routed(app.view_functions[GATEWAY])
    app.after_request(cutover.after_request)


def route_of(app: Flask, act: str, action: Any) -> str | None:
    """`serve`, `proxy` or `shadow` for a request of `act` reaching `action`; None while
    LEGACY_URL is unset."""
    cutover = app.extensions.get(EXTENSION)
    return cutover.route(legacy_act(act, action.path), action) if cutover else None


def help_section(document: dict[str, Any]) -> dict[str, Any]:
    """`help` with the mode of every legacy act while LEGACY_URL is set (the URL stays private)."""
    cutover = current_app.extensions.get(EXTENSION)
    if cutover is None:
        return document
    return {
        **document,
        "cutover": {"default": cutover.modes.default, "modes": cutover.mode_table()},
    }


def readiness(app: Flask, minimum: int | None = None) -> dict[str, Any]:
    """The report over every process's counts in CUTOVER_STATE_DIR (this host's, unless shared)."""
    cutover = app.extensions.get(EXTENSION)
    if cutover is not None:
        modes, counts = cutover.mode_table(), cutover.counts()
    else:
        modes, counts = dict.fromkeys(LEGACY_PATHS, SERVE), merge(load(state_dir(app)))
    minimum = app.config["SHADOW_MIN_COMPARISONS"] if minimum is None else minimum
    return build(modes, act_kinds(registry.actions(), registry.acts), counts, minimum)


def reset_counts(app: Flask) -> int:
    return reset(state_dir(app))
