"""LEGACY_ACT_MODES and the other cut-over settings: read once, every mistake stops the start-up."""

from pathlib import Path
from typing import Any

import pytest

import handlers  # noqa: F401  (registers every act)
from backend import create_app
from backend.core.registry import registry
from backend.web import view
from backend.web.cutover.modes import (
    LEGACY_PATHS,
    PROXY,
    SERVE,
    SHADOW,
    legacy_act,
    parse_modes,
)
from config import ConfigError
from tests.conftest import gateway_config
from tests.test_database_down import UNREACHABLE

KNOWN = frozenset(registry.acts)


def test_unset_modes_serve_every_act() -> None:
    modes = parse_modes("", KNOWN)
    assert {modes.mode_for(act) for act in LEGACY_PATHS} == {SERVE}


def test_default_and_per_act_modes() -> None:
    modes = parse_modes("*=shadow, flow_toggle_active=serve ,login=proxy", KNOWN)
    assert modes.mode_for("flows") == SHADOW
    assert modes.mode_for("flow_toggle_active") == SERVE
    assert modes.mode_for("login") == PROXY


def test_gateway_only_acts_are_served_whatever_the_default() -> None:
    modes = parse_modes("*=proxy", KNOWN)
    assert modes.mode_for("flow_status_history") == SERVE
    assert modes.mode_for("metrics") == SERVE


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("flow=shdow", "LEGACY_ACT_MODES: unknown mode 'shdow' for flow"),
        ("flwo=proxy", "LEGACY_ACT_MODES: unknown act 'flwo'"),
        ("flow", "LEGACY_ACT_MODES: 'flow' is not act=mode"),
        ("=proxy", "LEGACY_ACT_MODES: '=proxy' is not act=mode"),
        ("flow=proxy,flow=serve", "LEGACY_ACT_MODES: flow is given twice"),
        ("*=proxy,*=serve", "LEGACY_ACT_MODES: * is given twice"),
        ("metrics=proxy", "LEGACY_ACT_MODES: metrics exists only in the gateway"),
        ("flow_status_history=shadow", "LEGACY_ACT_MODES: flow_status_history exists only"),
    ],
)
def test_mode_mistakes_are_one_line_errors_naming_the_variable(raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match="^" + message.replace("*", r"\*")) as caught:
        parse_modes(raw, KNOWN)
    assert "\n" not in str(caught.value)


def test_a_gateway_only_act_may_be_named_serve() -> None:
    assert parse_modes("metrics=serve", KNOWN).mode_for("metrics") == SERVE


@pytest.mark.parametrize(
    ("act", "path", "expected"),
    [
        ("flow", "/flow/<id>", "flow"),
        ("flow_detail", "/flow/<id>", None),  # a client act the legacy rejected
        (None, "/flow/<id>", "flow"),
        (None, "/flow/<id>/toggle-active", "flow_toggle_active"),
        (None, "/project/<id>/flows", "flows"),
        (None, "/flow/<id>/ui", "flow_detail_ui"),
        (None, "/", "help"),
        (None, "/flow/<id>/status-history", None),
    ],
)
def test_the_legacy_act_of_a_request(act: str | None, path: str, expected: str | None) -> None:
    assert legacy_act(act, path) == expected


def test_every_legacy_act_is_registered_in_the_gateway() -> None:
    assert set(LEGACY_PATHS) <= KNOWN


def start(tmp_path: Path, **settings: Any) -> Any:
    config = gateway_config(UNREACHABLE, CUTOVER_STATE_DIR=str(tmp_path), **settings)
    return create_app(config)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"LEGACY_ACT_MODES": "flow=maybe"}, "LEGACY_ACT_MODES: unknown mode"),
        ({"LEGACY_URL": "ftp://legacy/"}, "LEGACY_URL must be an http"),
        ({"LEGACY_URL": "http://user:pw@legacy/"}, "LEGACY_URL must not carry credentials"),
        ({"SHADOW_SAMPLE_RATE": 1.5}, "SHADOW_SAMPLE_RATE must be between 0 and 1"),
        ({"SHADOW_QUEUE_SIZE": 0}, "SHADOW_QUEUE_SIZE must be greater than 0"),
        ({"SHADOW_KNOWN_DIVERGENCES": "flwo:data.x"}, "SHADOW_KNOWN_DIVERGENCES: unknown act"),
    ],
)
def test_the_gateway_refuses_to_start_on_a_cutover_mistake(
    tmp_path: Path, settings: dict[str, Any], message: str
) -> None:
    settings.setdefault("LEGACY_URL", "http://127.0.0.1:18599/gassapi2/backend/")
    with pytest.raises(ConfigError, match=message):
        start(tmp_path, **settings)


def test_credentials_in_legacy_url_never_reach_the_error_message(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        start(tmp_path, LEGACY_URL="http://user:s3cret-pw@legacy/")
    assert "s3cret" not in str(caught.value)


def test_modes_are_ignored_while_legacy_url_is_unset(tmp_path: Path) -> None:
    app = start(tmp_path, LEGACY_URL=None, LEGACY_ACT_MODES="flow=nonsense")
    assert app.view_functions["gateway"] is view.view
    assert "cutover" not in app.extensions


def test_numbers_from_the_environment_are_checked() -> None:
    from config import load_config

    with pytest.raises(ConfigError, match="^LEGACY_TIMEOUT=soon: not a number"):
        load_config({"LEGACY_TIMEOUT": "soon"})
    assert load_config({})["LEGACY_TIMEOUT"] == 15
