"""The readiness report: verdicts, the `cutover_report` act (guarded like `metrics`) and the CLI;
and `help` naming each act's mode."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.wrappers import Response

from backend import create_app
from backend.web import view
from backend.web.cutover.compare import Comparison, Difference
from backend.web.cutover.modes import LEGACY_PATHS
from backend.web.cutover.report import build, verdict
from backend.web.cutover.stats import Stats, load, merge, new_act
from tests.conftest import gateway_config
from tests.cutover.conftest import MOUNT, GatewayMaker, LegacyStub, drained, report_row
from tests.factories import Factory
from tests.test_database_down import UNREACHABLE

ROOT = Path(__file__).resolve().parents[2]


def counts(**values: Any) -> dict[str, Any]:
    return {**new_act(), **values}


@pytest.mark.parametrize(
    ("mode", "kind", "row", "expected", "reason"),
    [
        ("shadow", "read", counts(compared=100), "ready", "100 comparisons, 0 differences"),
        ("shadow", "mixed", counts(compared=120), "ready", "its writes are not compared"),
        ("shadow", "read", counts(compared=40), "not ready", "40 of 100 comparisons needed"),
        ("proxy", "read", counts(), "not ready", "mode proxy: set it to shadow to compare"),
        (
            "shadow",
            "read",
            counts(compared=500, different=2, paths={"data.*.name": {}}),
            "not ready",
            "2 of 500 comparisons differ (data.*.name)",
        ),
        ("shadow", "read", counts(compared=3, legacy_errors=9), "not ready", "9 legacy errors"),
        ("serve", "read", counts(), "serving", "answered by the gateway"),
        ("shadow", "write", counts(), "manual", "writes are never compared"),
    ],
)
def test_verdicts(mode: str, kind: str, row: dict[str, Any], expected: str, reason: str) -> None:
    decided, why = verdict(mode, kind, row, 100)
    assert decided == expected
    assert reason in why


def test_counts_of_every_process_add_up_and_keep_one_example_per_path(tmp_path: Path) -> None:
    for name in ("gateway.side", "other.side"):
        stats = Stats(tmp_path)
        difference = Difference("data.0.email", f"{name}@example.com", "x@example.com")
        stats.count("flows", "requests")
        stats.compared("flows", Comparison((difference,), False, 0), f"req_{name}")
        stats.flush(force=True)
    merged = merge(load(tmp_path))
    flows = merged["acts"]["flows"]
    assert merged["processes"] == 2
    assert (flows["requests"], flows["compared"], flows["different"]) == (2, 2, 2)
    assert flows["paths"]["data.*.email"]["count"] == 2
    assert flows["paths"]["data.*.email"]["example"]["gateway"] in (
        '"g***@e***.com"',
        '"o***@e***.com"',
    )


def test_the_report_covers_every_legacy_act_once_in_the_legacy_order() -> None:
    report = build(dict.fromkeys(LEGACY_PATHS, "serve"), {}, {}, 10)
    assert [row["act"] for row in report["acts"]] == list(LEGACY_PATHS)
    assert report["summary"] == {"serving": len(LEGACY_PATHS)}


def legacy_url() -> str:
    return "http://127.0.0.1:18599/gassapi2/backend/"


@pytest.fixture
def report_app(make_gateway: GatewayMaker, database_url: str) -> Flask:
    return make_gateway(database_url, legacy_url(), LEGACY_ACT_MODES="*=shadow,login=proxy")


def test_the_report_act_needs_a_user_token(report_app: Flask) -> None:
    assert report_app.test_client().get(MOUNT + "?act=cutover_report").status_code == 401


def test_the_report_act_takes_the_metrics_token_when_one_is_set(
    make_gateway: GatewayMaker, database_url: str
) -> None:
    app = make_gateway(database_url, legacy_url(), METRICS_TOKEN="scrape-secret-123")
    client = app.test_client()
    ok = client.get(
        MOUNT + "?act=cutover_report", headers={"Authorization": "Bearer scrape-secret-123"}
    )
    assert ok.status_code == 200
    user_token = Factory(app).token(Factory(app).user())
    wrong = client.get(
        MOUNT + "?act=cutover_report", headers={"Authorization": f"Bearer {user_token}"}
    )
    assert wrong.status_code == 401


def test_the_report_act_is_not_found_while_legacy_url_is_unset(client: Any, make: Factory) -> None:
    response = client.get(
        MOUNT + "?act=cutover_report",
        headers={"Authorization": f"Bearer {make.token(make.user())}"},
    )
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Cut-over is not configured"


def test_the_report_lists_every_legacy_act_with_its_mode_and_kind(report_app: Flask) -> None:
    token = Factory(report_app).token(Factory(report_app).user())
    flows = report_row(report_app, token, "flows")
    assert (flows["mode"], flows["kind"], flows["verdict"]) == ("shadow", "mixed", "not ready")
    login = report_row(report_app, token, "login")
    assert (login["mode"], login["kind"], login["verdict"]) == ("proxy", "write", "manual")
    assert report_row(report_app, token, "flows_active")["kind"] == "read"


def test_an_act_compared_enough_without_a_difference_is_ready(
    make_gateway: GatewayMaker, shared_url: str, legacy_gateway: str
) -> None:
    gateway = make_gateway(
        shared_url,
        legacy_gateway,
        LEGACY_ACT_MODES="health=shadow",
        SHADOW_MIN_COMPARISONS=3,
        SHADOW_KNOWN_DIVERGENCES="health:data.*memory*",  # per process, by nature
    )
    client = gateway.test_client()
    for _ in range(3):
        client.get(MOUNT + "?act=health")
    token = Factory(gateway).token(Factory(gateway).user())
    row = report_row(gateway, token, "health")
    assert (row["compared"], row["verdict"]) == (3, "ready")


def cli(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["cutover", *args])


def test_the_cli_report_reads_every_process_counts(
    make_gateway: GatewayMaker, database_url: str, legacy: LegacyStub, tmp_path: Path
) -> None:
    legacy.answer = lambda request: Response(b"<html>", 500, content_type="text/html")
    gateway = make_gateway(database_url, legacy.url, LEGACY_ACT_MODES="health=shadow")
    gateway.test_client().get(MOUNT + "?act=health")
    drained(gateway).extensions["cutover"].stats.flush(force=True)
    # another process on the same host: same state directory, LEGACY_URL not even set
    operator = create_app(gateway_config(UNREACHABLE, CUTOVER_STATE_DIR=str(tmp_path / "state")))
    result = cli(operator, "report", "--json", "--min-comparisons", "5")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    health = next(row for row in report["acts"] if row["act"] == "health")
    assert (health["requests"], health["legacy_errors"], report["min_comparisons"]) == (1, 1, 5)
    text = cli(operator, "report").output
    assert "health" in text and "summary:" in text


def test_cli_reset_starts_every_count_again(
    make_gateway: GatewayMaker, database_url: str, legacy: LegacyStub
) -> None:
    gateway = make_gateway(database_url, legacy.url, LEGACY_ACT_MODES="health=shadow")
    gateway.test_client().get(MOUNT + "?act=health")
    stats = drained(gateway).extensions["cutover"].stats
    stats.flush(force=True)
    assert "removed 1 count file(s)" in cli(gateway, "reset").output
    stats.flush(force=True)  # a live process drops its own counts at its next flush
    report = json.loads(cli(gateway, "report", "--json").output)
    assert next(r for r in report["acts"] if r["act"] == "health")["requests"] == 0


def offline_gateway(state: Path) -> Flask:
    """`*=shadow,login=proxy` in front of a legacy that is never called, without a database."""
    config = gateway_config(
        UNREACHABLE,
        LEGACY_URL=legacy_url(),
        LEGACY_ACT_MODES="*=shadow,login=proxy",
        CUTOVER_STATE_DIR=str(state),
    )
    return create_app(config)


def test_help_names_the_mode_of_every_legacy_act(tmp_path: Path) -> None:
    data = (
        offline_gateway(tmp_path)
        .test_client()
        .get(MOUNT + "?act=help&x=1", headers={"X-GassAPI-Shadow": "1"})
        .json["data"]
    )
    assert data["cutover"]["default"] == "shadow"
    assert data["cutover"]["modes"]["login"] == "proxy"
    assert "18599" not in json.dumps(data)


def test_without_legacy_url_nothing_of_the_cutover_is_installed() -> None:
    app = create_app(gateway_config(UNREACHABLE))
    baseline = create_app(gateway_config(UNREACHABLE, LEGACY_URL=legacy_url()))
    assert app.view_functions["gateway"] is view.view
    assert "cutover" not in app.extensions
    assert len(app.after_request_funcs[None]) == len(baseline.after_request_funcs[None]) - 1
    assert "cutover" not in app.test_client().get(MOUNT + "?act=help").json["data"]


def test_without_legacy_url_neither_the_client_nor_the_cutover_metrics_are_loaded() -> None:
    probe = (
        "import sys; from backend import create_app; from prometheus_client import generate_latest;"
        "create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://'});"
        "print('urllib3' in sys.modules, 'backend.web.cutover.runtime' in sys.modules,"
        " b'gassapi_shadow' in generate_latest())"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.split() == ["False", "False", "False"]


def test_flask_acts_names_who_answers_each_act_and_method(tmp_path: Path) -> None:
    runner = offline_gateway(tmp_path).test_cli_runner()
    routes = {
        tuple(line.split()[:2]): line.split()[-1]
        for line in runner.invoke(args=["acts"]).output.splitlines()[2:]
    }
    assert routes[("flow", "GET")] == "shadow"
    assert routes[("flow", "PUT")] == "proxy"  # writes of a shadowed act stay with the legacy
    assert routes[("login", "POST")] == "proxy"
    assert routes[("flow_status_history", "GET")] == "serve"  # the gateway's own act
    plain = create_app(gateway_config(UNREACHABLE)).test_cli_runner().invoke(args=["acts"])
    assert "cut-over" not in plain.output
