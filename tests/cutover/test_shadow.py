"""Shadow mode: the gateway answers reads, a sample is replayed to the legacy off the request path
and the two envelopes compared; writes stay with the legacy."""

import json
import logging
import threading
import time
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import update
from werkzeug.wrappers import Request, Response

from backend.db import db
from backend.models import User
from tests.cutover.conftest import (
    MOUNT,
    GatewayMaker,
    LegacyStub,
    drained,
    report_row,
)
from tests.factories import Factory

HEALTH = {"success": True, "status_code": 200, "message": "Health check successful"}


def envelope_answer(body: dict[str, Any]) -> Any:
    encoded = json.dumps(body).encode()
    return lambda request: Response(encoded, 200, content_type="application/json")


def bearer(token: str, *, replayed: bool = False) -> dict[str, str]:
    """Headers of a client request; `replayed`: marked as a shadow request, never replayed."""
    headers = {"Authorization": f"Bearer {token}"}
    return {**headers, "X-GassAPI-Shadow": "1"} if replayed else headers


def shadow_total(act: str, outcome: str) -> float:
    labels = {"act": act, "outcome": outcome}
    return REGISTRY.get_sample_value("gassapi_shadow_total", labels) or 0.0


def cutover_lines(caplog: pytest.LogCaptureFixture, event: str) -> list[dict[str, Any]]:
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "gassapi.cutover"]
    return [line for line in lines if line["event"] == event]


def test_reads_answered_like_the_legacy_are_counted_same(
    make_gateway: GatewayMaker, shared_url: str, legacy_gateway: str
) -> None:
    gateway = make_gateway(shared_url, legacy_gateway, LEGACY_ACT_MODES="*=shadow")
    make = Factory(gateway)
    owner = make.user()
    project = make.project(owner)
    flow = make.flow(project)
    auth = bearer(make.token(owner))
    client = gateway.test_client()
    assert client.get(MOUNT + f"?act=flow&id={flow.id}", headers=auth).status_code == 200
    assert client.get(MOUNT + f"flow/{flow.id}", headers=auth).status_code == 200
    assert client.get(MOUNT + f"flows?id={project.id}", headers=auth).status_code == 200
    flow_row = report_row(gateway, make.token(owner), "flow")
    assert (flow_row["requests"], flow_row["compared"], flow_row["different"]) == (2, 2, 0)
    assert report_row(gateway, make.token(owner), "flows")["compared"] == 1


def test_a_replay_carries_the_marker_the_clients_token_and_the_act_query(
    make_gateway: GatewayMaker, database_url: str, legacy: LegacyStub
) -> None:
    gateway = make_gateway(database_url, legacy.url, LEGACY_ACT_MODES="profile=shadow")
    make = Factory(gateway)
    token = make.token(make.user())
    response = gateway.test_client().get(
        MOUNT + "profile?x=1", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.json["data"]["user"]["name"] == "Test User"  # the gateway's own answer
    drained(gateway)
    seen = legacy.seen[0]  # and once more if the two answers differ (the recheck)
    assert {other.headers["X-Request-Id"] for other in legacy.seen} == {response.json["request_id"]}
    assert (seen.method, seen.path, seen.query) == ("GET", MOUNT, b"act=profile&x=1")
    assert seen.headers["Authorization"] == f"Bearer {token}"
    assert seen.headers["X-Gassapi-Shadow"] == "1"
    assert seen.headers["X-Request-Id"] == response.json["request_id"]


def test_a_difference_is_counted_and_logged_once_per_shape_with_secrets_masked(
    make_gateway: GatewayMaker,
    database_url: str,
    legacy: LegacyStub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = make_gateway(database_url, legacy.url, LEGACY_ACT_MODES="*=shadow")
    make = Factory(gateway)
    token = make.token(make.user(email="gateway.side@example.com"))
    client = gateway.test_client()
    unreplayed = client.get(MOUNT + "?act=profile", headers=bearer(token, replayed=True))
    gateway_user = unreplayed.json["data"]["user"]
    legacy_user = {
        **gateway_user,
        "email": "legacy.side@example.com",
        "password_reset_token": "f" * 64,
        "name": token,
    }
    legacy.answer = envelope_answer(
        {
            "success": True,
            "status_code": 200,
            "message": "Profile retrieved successfully",
            "data": {"user": legacy_user},
        }
    )
    with caplog.at_level(logging.WARNING, "gassapi.cutover"):
        for _ in range(2):
            client.get(MOUNT + "?act=profile", headers=bearer(token))
        drained(gateway)
    row = report_row(gateway, token, "profile")
    (line,) = cutover_lines(caplog, "shadow_difference")
    assert line["act"] == "profile"
    assert line["shape"] == [
        "data.user.email",
        "data.user.name",
        "data.user.password_reset_token",
    ]
    text = json.dumps(line) + json.dumps(row)
    for secret in ("gateway.side", "legacy.side", "f" * 40, token[:30]):
        assert secret not in text
    assert {
        "path": "data.user.email",
        "gateway": '"g***@e***.com"',
        "legacy": '"l***@e***.com"',
    } in line["differences"]
    assert row["different"] == 2
    assert row["verdict"] == "not ready"


@pytest.mark.parametrize(("known", "outcome"), [("", "different"), ("health:data.*", "same")])
def test_the_known_divergence_list_decides_what_is_a_difference(
    make_gateway: GatewayMaker, database_url: str, legacy: LegacyStub, known: str, outcome: str
) -> None:
    legacy.answer = envelope_answer({**HEALTH, "data": {"status": "healthy", "php": "8.2"}})
    gateway = make_gateway(
        database_url, legacy.url, LEGACY_ACT_MODES="health=shadow", SHADOW_KNOWN_DIVERGENCES=known
    )
    before = shadow_total("health", outcome)
    assert gateway.test_client().get(MOUNT + "?act=health").status_code == 200
    drained(gateway)
    assert shadow_total("health", outcome) == before + 1


def test_writes_of_a_shadowed_act_go_to_the_legacy_only(
    make_gateway: GatewayMaker, database_url: str, legacy: LegacyStub
) -> None:
    gateway = make_gateway(database_url, legacy.url, LEGACY_ACT_MODES="*=shadow")
    make = Factory(gateway)
    owner = make.user()
    flow = make.flow(make.project(owner), is_active=0)
    response = gateway.test_client().put(
        MOUNT + f"?act=flow_toggle_active&id={flow.id}",
        headers=bearer(make.token(owner)),
    )
    assert response.json["data"] == {"side": "legacy"}
    drained(gateway)
    assert [seen.method for seen in legacy.seen] == ["PUT"]
    assert "X-Gassapi-Shadow" not in legacy.last.headers
    assert make.flow_row(flow.id)["is_active"] == 0  # the gateway wrote nothing


def test_a_full_queue_drops_and_counts_and_never_delays_the_client(
    make_gateway: GatewayMaker, database_url: str, legacy: LegacyStub
) -> None:
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(10)
        return envelope_answer(HEALTH)(request)

    legacy.answer = slow
    gateway = make_gateway(
        database_url, legacy.url, LEGACY_ACT_MODES="health=shadow", SHADOW_QUEUE_SIZE=2
    )
    client = gateway.test_client()
    dropped = shadow_total("health", "dropped")
    client.get(MOUNT + "?act=health")
    deadline = time.monotonic() + 5
    while not legacy.seen and time.monotonic() < deadline:
        time.sleep(0.01)  # the worker holds the first replay; the queue is empty again
    slowest = 0.0
    for _ in range(9):
        started = time.monotonic()
        assert client.get(MOUNT + "?act=health").status_code == 200
        slowest = max(slowest, time.monotonic() - started)
    release.set()
    drained(gateway)
    assert slowest < 1.0
    assert shadow_total("health", "dropped") == dropped + 7
    assert len({seen.headers["X-Request-Id"] for seen in legacy.seen}) == 3  # replayed requests


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (lambda request: Response(b"<b>Fatal error</b>", 500, content_type="text/html"), "invalid"),
        (lambda request: Response(b'{"oops": 1}', 200, content_type="application/json"), "invalid"),
    ],
)
def test_a_failing_legacy_is_counted_as_a_legacy_error_the_client_never_sees(
    make_gateway: GatewayMaker,
    database_url: str,
    legacy: LegacyStub,
    answer: Any,
    reason: str,
) -> None:
    legacy.answer = answer
    gateway = make_gateway(database_url, legacy.url, LEGACY_ACT_MODES="*=shadow")
    make = Factory(gateway)
    token = make.token(make.user())
    errors = shadow_total("health", "legacy_error")
    response = gateway.test_client().get(MOUNT + "?act=health")
    assert response.json["message"] == "Health check successful"
    row = report_row(gateway, token, "health")
    assert (row["legacy_errors"], row["legacy_error_reasons"]) == (1, {reason: 1})
    assert shadow_total("health", "legacy_error") == errors + 1


@pytest.mark.parametrize(
    ("settings", "headers"),
    [({"SHADOW_SAMPLE_RATE": 0}, {}), ({}, {"X-GassAPI-Shadow": "1"})],
    ids=["sampled-out", "already-a-shadow-request"],
)
def test_requests_that_are_not_replayed(
    make_gateway: GatewayMaker,
    database_url: str,
    legacy: LegacyStub,
    settings: dict[str, Any],
    headers: dict[str, str],
) -> None:
    gateway = make_gateway(database_url, legacy.url, LEGACY_ACT_MODES="health=shadow", **settings)
    assert gateway.test_client().get(MOUNT + "?act=health", headers=headers).status_code == 200
    drained(gateway)
    assert legacy.seen == []


def test_a_write_landing_between_the_two_reads_is_no_difference(
    make_gateway: GatewayMaker, database_url: str, legacy: LegacyStub
) -> None:
    """The legacy reads after a write the gateway's read came before: asked again, the gateway
    agrees with the legacy, so the comparison counts as the same (and as rechecked)."""
    gateway = make_gateway(database_url, legacy.url, LEGACY_ACT_MODES="profile=shadow")
    make = Factory(gateway)
    user = make.user(name="Before")
    token = make.token(user)
    client = gateway.test_client()

    def write_then_read(request: Request) -> Response:
        with gateway.app_context():
            db.session.execute(update(User).where(User.id == user.id).values(name="After"))
            db.session.commit()
        body = client.get(MOUNT + "?act=profile", headers=bearer(token, replayed=True)).get_data()
        return Response(body, 200, content_type="application/json")

    legacy.answer = write_then_read
    answer = client.get(MOUNT + "?act=profile", headers=bearer(token))
    assert answer.json["data"]["user"]["name"] == "Before"
    row = report_row(gateway, token, "profile")
    assert (row["compared"], row["different"], row["rechecked"]) == (1, 0, 1)


def test_a_difference_the_legacy_no_longer_has_when_asked_again_is_no_difference(
    make_gateway: GatewayMaker, database_url: str, legacy: LegacyStub
) -> None:
    """A write between the gateway's first and second read: the gateway moved on, the legacy's
    first answer was older; asked again back to back, both agree."""
    gateway = make_gateway(database_url, legacy.url, LEGACY_ACT_MODES="profile=shadow")
    make = Factory(gateway)
    token = make.token(make.user(name="Now"))
    client = gateway.test_client()
    current = client.get(MOUNT + "?act=profile", headers=bearer(token, replayed=True)).json
    older = {**current, "data": {"user": {**current["data"]["user"], "name": "Earlier"}}}
    answers = iter([envelope_answer(older), envelope_answer(current)])
    legacy.answer = lambda request: next(answers)(request)
    client.get(MOUNT + "?act=profile", headers=bearer(token))
    row = report_row(gateway, token, "profile")
    assert (row["compared"], row["different"], row["rechecked"]) == (1, 0, 1)
    assert len(legacy.seen) == 2


def test_a_divergence_costs_the_legacy_one_recheck_not_more(
    make_gateway: GatewayMaker, database_url: str, legacy: LegacyStub
) -> None:
    """The same difference twice in a row is a divergence: no further rounds."""
    legacy.answer = envelope_answer({**HEALTH, "message": "Health OK", "data": {}})
    gateway = make_gateway(
        database_url,
        legacy.url,
        LEGACY_ACT_MODES="health=shadow",
        SHADOW_KNOWN_DIVERGENCES="health:data.*memory*",  # per process: never twice the same
    )
    different = shadow_total("health", "different")
    gateway.test_client().get(MOUNT + "?act=health")
    drained(gateway)
    assert shadow_total("health", "different") == different + 1
    assert len(legacy.seen) == 2
