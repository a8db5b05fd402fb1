"""Proxy mode: the request goes to the legacy as it came in, the legacy's answer comes back
unchanged; a broken legacy is a 502/504 envelope. The gateway's own database is unreachable in
these tests: a proxied request never needs it."""

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from prometheus_client import REGISTRY
from werkzeug.wrappers import Request, Response

from backend import create_app
from tests.cutover.conftest import MOUNT, LegacyStub, cutover_config
from tests.test_database_down import UNREACHABLE

BINARY = bytes(range(256)) * 8


def proxied(legacy: LegacyStub, tmp_path: Path, **extra: Any) -> Flask:
    extra.setdefault("LEGACY_ACT_MODES", "*=proxy")
    return create_app(cutover_config(UNREACHABLE, legacy.url, tmp_path, **extra))


def assert_gateway_error(response: Any, status: int, message: str) -> None:
    assert response.status_code == status
    assert response.content_type.startswith("application/json")
    body = response.json
    assert (body["success"], body["status_code"], body["status"]) == (False, status, "error")
    assert body["message"] == message
    assert body["request_id"] == response.headers["X-Request-ID"]


def test_status_headers_and_body_of_the_legacy_come_back_unchanged(
    proxy_app: Flask, legacy: LegacyStub
) -> None:
    def answer(request: Request) -> Response:
        response = Response(b'{"success":true,"status_code":201}', 201)
        response.headers["Content-Type"] = "application/json"
        response.headers["X-Legacy-Only"] = "yes"
        response.headers.add("Set-Cookie", "a=1")
        response.headers.add("Set-Cookie", "b=2")
        return response

    legacy.answer = answer
    response = proxy_app.test_client().post(MOUNT + "?act=projects", json={"name": "P"})
    assert response.status_code == 201
    assert response.get_data() == b'{"success":true,"status_code":201}'
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Legacy-Only"] == "yes"
    assert response.headers.getlist("Set-Cookie") == ["a=1", "b=2"]


@pytest.mark.parametrize(
    ("method", "url", "query"),
    [
        ("GET", MOUNT + "?act=flow&id=F1&limit=5", b"act=flow&id=F1&limit=5"),
        ("GET", MOUNT + "flow?id=F1&limit=5", b"act=flow&id=F1&limit=5"),
        ("GET", MOUNT + "index.php?act=flow&id=F1", b"act=flow&id=F1"),
        ("GET", "/index.php/?act=flow&id=F1", b"act=flow&id=F1"),
        ("GET", "/?act=projects", b"act=projects"),
        ("GET", MOUNT + "flow/F1", b"act=flow&id=F1"),
        ("PUT", MOUNT + "flow/F1/toggle-active", b"act=flow_toggle_active&id=F1"),
        ("GET", MOUNT + "project/P1/flows?limit=2", b"act=flows&id=P1&limit=2"),
        ("PUT", MOUNT + "flow/F1/ui", b"act=flow_detail_ui&id=F1"),
        ("GET", MOUNT + "project/P1/flows/active", b"act=flows_active&id=P1"),
    ],
)
def test_every_url_form_reaches_the_legacy_as_its_act_query(
    proxy_app: Flask, legacy: LegacyStub, method: str, url: str, query: bytes
) -> None:
    response = proxy_app.test_client().open(url, method=method)
    assert response.status_code == 200
    assert (legacy.last.method, legacy.last.path, legacy.last.query) == (method, MOUNT, query)


def test_act_and_id_go_out_as_the_gateway_resolved_them(
    proxy_app: Flask, legacy: LegacyStub
) -> None:
    """PHP reads the last `act`, Werkzeug the first: the legacy must run the act we routed."""
    proxy_app.test_client().get(MOUNT + "?act=flow&id=A&act=flow_activate&id=B&x=%C3%A9&y")
    assert legacy.last.query == b"act=flow&id=A&x=%C3%A9&y"


def test_query_parameters_of_an_act_without_id_keep_their_id(
    proxy_app: Flask, legacy: LegacyStub
) -> None:
    proxy_app.test_client().get(MOUNT + "?id=7&act=projects&q=a+b")
    assert legacy.last.query == b"act=projects&id=7&q=a+b"


def test_method_override_goes_out_as_it_came_in(proxy_app: Flask, legacy: LegacyStub) -> None:
    client = proxy_app.test_client()
    client.post(MOUNT + "?act=flow&id=F1", headers={"X-HTTP-Method-Override": "PUT"}, json={})
    assert legacy.last.method == "POST"
    assert legacy.last.headers["X-Http-Method-Override"] == "PUT"
    client.post(MOUNT + "?act=flow&id=F1", data={"_method": "DELETE"})
    assert (legacy.last.method, legacy.last.body) == ("POST", b"_method=DELETE")


def test_the_mode_is_decided_on_the_overridden_method(legacy: LegacyStub, tmp_path: Path) -> None:
    """`flow` in shadow mode: its reads are the gateway's, its writes still the legacy's."""
    client = proxied(
        legacy, tmp_path, LEGACY_ACT_MODES="*=shadow", SHADOW_SAMPLE_RATE=0
    ).test_client()
    override = {"X-HTTP-Method-Override": "PUT"}
    assert client.post(MOUNT + "?act=flow&id=F1", headers=override).status_code == 200
    assert len(legacy.seen) == 1
    read = client.post(MOUNT + "?act=flow&id=F1", headers={"X-HTTP-Method-Override": "GET"})
    assert read.status_code == 401  # the gateway's own answer: no token
    assert len(legacy.seen) == 1


def test_request_body_bytes_are_forwarded_unchanged(proxy_app: Flask, legacy: LegacyStub) -> None:
    headers = {"Content-Type": "application/octet-stream"}
    proxy_app.test_client().put(MOUNT + "?act=flow&id=F1", data=BINARY, headers=headers)
    assert legacy.last.body == BINARY
    assert legacy.last.headers["Content-Length"] == str(len(BINARY))
    assert legacy.last.headers["Content-Type"] == "application/octet-stream"


def test_a_binary_answer_is_relayed_byte_for_byte(proxy_app: Flask, legacy: LegacyStub) -> None:
    def answer(request: Request) -> Response:
        response = Response(BINARY, 200, content_type="application/octet-stream")
        response.headers["Content-Encoding"] = "gzip"
        return response

    legacy.answer = answer
    response = proxy_app.test_client().get(MOUNT + "?act=flow&id=F1")
    assert response.get_data() == BINARY
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Content-Length"] == str(len(BINARY))


def test_an_answer_without_content_type_gets_none_added(
    proxy_app: Flask, legacy: LegacyStub
) -> None:
    def answer(request: Request) -> Response:
        response = Response(b"", 204)
        del response.headers["Content-Type"]
        return response

    legacy.answer = answer
    response = proxy_app.test_client().get(MOUNT + "?act=flow&id=F1")
    assert response.status_code == 204
    assert "Content-Type" not in response.headers


def test_end_to_end_headers_go_out_hop_by_hop_headers_do_not(
    proxy_app: Flask, legacy: LegacyStub
) -> None:
    response = proxy_app.test_client().get(
        MOUNT + "?act=profile",
        headers={
            "Authorization": "Bearer client-token",
            "User-Agent": "mcp2/1.0",
            "Connection": "keep-alive, X-Drop-Me",
            "X-Drop-Me": "1",
            "Keep-Alive": "timeout=5",
            "TE": "trailers",
            "Proxy-Authorization": "Basic cHJveHk6cHc=",
            "X-Forwarded-For": "203.0.113.7",
            "X-Custom": "kept",
        },
    )
    seen = legacy.last.headers
    assert seen["Authorization"] == "Bearer client-token"
    assert seen["User-Agent"] == "mcp2/1.0"
    assert seen["X-Custom"] == "kept"
    for dropped in ("X-Drop-Me", "Keep-Alive", "Te", "Proxy-Authorization"):
        assert dropped not in seen
    assert seen["X-Forwarded-For"] == "203.0.113.7, 127.0.0.1"
    assert seen["X-Forwarded-Proto"] == "http"
    assert seen["X-Forwarded-Host"] == "localhost"
    assert seen["X-Request-Id"] == response.headers["X-Request-ID"]
    assert seen["Via"] == "1.1 gassapi-gateway"
    assert "X-Gassapi-Shadow" not in seen


def test_only_the_configured_upstream_is_ever_reached(proxy_app: Flask, legacy: LegacyStub) -> None:
    proxy_app.test_client().get(
        MOUNT + "?act=flow&id=http://evil.example/x",
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    assert legacy.last.headers["Host"] == legacy.url.split("/")[2]
    assert legacy.last.path == MOUNT


def test_a_proxied_act_is_answered_while_the_gateway_database_is_down(
    proxy_app: Flask, legacy: LegacyStub
) -> None:
    response = proxy_app.test_client().get(
        MOUNT + "?act=profile", headers={"Authorization": "Bearer not-a-token-the-gateway-knows"}
    )
    assert response.status_code == 200
    assert response.json["data"] == {"side": "legacy"}


@pytest.mark.parametrize(
    ("url", "method", "status"),
    [
        (MOUNT + "?act=flow&id=F1", "OPTIONS", 200),  # CORS preflight
        (MOUNT + "?act=nope", "GET", 400),  # unknown act: the same router answers
        (MOUNT + "?act=flow", "GET", 404),  # no id: route not found, as the legacy would
        (MOUNT + "?act=metrics", "GET", 401),  # gateway-only acts are always served
        (MOUNT + "flow/F1/status-history", "GET", 401),
    ],
)
def test_what_the_gateway_answers_itself_under_a_proxy_default(
    proxy_app: Flask, legacy: LegacyStub, url: str, method: str, status: int
) -> None:
    assert proxy_app.test_client().open(url, method=method).status_code == status
    assert legacy.seen == []


def test_a_body_over_the_limit_is_refused_before_forwarding(
    proxy_app: Flask, legacy: LegacyStub
) -> None:
    big = b"x" * (proxy_app.config["MAX_BODY_BYTES"] + 1)
    response = proxy_app.test_client().put(MOUNT + "?act=flow&id=F1", data=big)
    assert response.status_code == 413
    assert legacy.seen == []


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_legacy_that_is_down_answers_502(tmp_path: Path) -> None:
    config = cutover_config(
        UNREACHABLE,
        f"http://127.0.0.1:{closed_port()}{MOUNT}",
        tmp_path,
        LEGACY_ACT_MODES="*=proxy",
    )
    response = create_app(config).test_client().get(MOUNT + "?act=flow&id=F1")
    assert_gateway_error(response, 502, "Bad gateway: legacy backend unreachable")


def test_a_slow_legacy_answers_504_within_the_timeout(legacy: LegacyStub, tmp_path: Path) -> None:
    release = threading.Event()

    def answer(request: Request) -> Response:
        release.wait(5)
        return Response(b"{}", 200)

    legacy.answer = answer
    client = proxied(legacy, tmp_path, LEGACY_TIMEOUT=0.3).test_client()
    started = time.monotonic()
    response = client.get(MOUNT + "?act=flow&id=F1")
    release.set()
    assert time.monotonic() - started < 2
    assert_gateway_error(response, 504, "Gateway timeout: legacy backend did not answer in time")


def test_a_legacy_answering_html_is_a_502_envelope(proxy_app: Flask, legacy: LegacyStub) -> None:
    legacy.answer = lambda request: Response(
        b"<br />\n<b>Fatal error</b>: Uncaught PDOException", 500, content_type="text/html"
    )
    response = proxy_app.test_client().get(MOUNT + "?act=flow&id=F1")
    assert_gateway_error(response, 502, "Bad gateway: legacy backend answered HTML")
    assert b"Fatal" not in response.get_data()


@pytest.mark.parametrize("declared", [True, False])
def test_a_legacy_answer_over_the_size_limit_is_a_502(
    legacy: LegacyStub, tmp_path: Path, declared: bool
) -> None:
    body = json.dumps({"success": True, "status_code": 200, "data": "x" * 5000}).encode()

    def answer(request: Request) -> Response:
        if declared:
            return Response(body, 200, content_type="application/json")
        return Response(iter([body[:2000], body[2000:]]), 200, content_type="application/json")

    legacy.answer = answer
    client = proxied(legacy, tmp_path, LEGACY_MAX_RESPONSE_BYTES=1000).test_client()
    response = client.get(MOUNT + "?act=flow&id=F1")
    assert_gateway_error(response, 502, "Bad gateway: legacy backend answer too large")


def test_a_forwarding_loop_is_refused(proxy_app: Flask, legacy: LegacyStub) -> None:
    response = proxy_app.test_client().get(
        MOUNT + "?act=flow&id=F1", headers={"Via": "1.1 front, 1.1 gassapi-gateway"}
    )
    assert_gateway_error(response, 502, "Bad gateway: forwarding loop")
    assert legacy.seen == []


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_forwarded_requests_are_counted_by_act_and_outcome(
    legacy: LegacyStub, tmp_path: Path
) -> None:
    client = proxied(legacy, tmp_path, LEGACY_ACT_MODES="*=shadow,users=proxy").test_client()
    relayed = sample("gassapi_proxy_total", act="users", outcome="relayed")
    client.get(MOUNT + "?act=users")
    assert sample("gassapi_proxy_total", act="users", outcome="relayed") == relayed + 1
    assert sample("gassapi_cutover_mode", act="users", mode="proxy") == 1
    assert sample("gassapi_cutover_mode", act="flows", mode="shadow") == 1
