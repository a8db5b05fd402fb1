"""The cut-over on the request path: which side answers, forwarding, and the shadow capture.

Wraps the one view: the request is resolved first (same router, same errors, OPTIONS never gets
here), then its act's mode decides. A forwarded request never reaches authentication or the
database: the legacy does its own.
"""

import atexit
from collections.abc import Callable, Collection
from functools import wraps
from pathlib import Path
from typing import Any

from flask import Flask, current_app, request
from flask import Response as FlaskResponse
from werkzeug.exceptions import RequestEntityTooLarge

from backend.core import envelope
from backend.web.cutover import proxy
from backend.web.cutover.compare import parse_known
from backend.web.cutover.events import Once, log_event
from backend.web.cutover.metrics import PROXY_TOTAL, publish_modes
from backend.web.cutover.modes import LEGACY_PATHS, PROXY, SHADOW, legacy_act, parse_modes
from backend.web.cutover.shadow import Replay, Shadow
from backend.web.cutover.stats import Stats, load, merge
from backend.web.cutover.upstream import LegacyFailure, Upstream
from backend.web.hooks import RequestInfo, request_info
from backend.web.view import resolve
from config import ConfigError

View = Callable[..., FlaskResponse]
REPLAY = "gassapi.cutover.replay"  # the request's replay, in its WSGI environ until answered


def check_settings(config: dict[str, Any]) -> None:
    if not 0 <= config["SHADOW_SAMPLE_RATE"] <= 1:
        raise ConfigError("SHADOW_SAMPLE_RATE must be between 0 and 1")
    for name in (
        "LEGACY_CONNECT_TIMEOUT",
        "LEGACY_TIMEOUT",
        "SHADOW_QUEUE_SIZE",
        "LEGACY_POOL_SIZE",
    ):
        if config[name] <= 0:
            raise ConfigError(f"{name} must be greater than 0")


class Cutover:
    def __init__(self, app: Flask, known_acts: Collection[str], state: Path) -> None:
        config = app.config
        check_settings(config)
        self.app = app
        self.modes = parse_modes(config["LEGACY_ACT_MODES"], known_acts)
        self.upstream = Upstream(
            config["LEGACY_URL"],
            connect_timeout=config["LEGACY_CONNECT_TIMEOUT"],
            timeout=config["LEGACY_TIMEOUT"],
            max_bytes=config["LEGACY_MAX_RESPONSE_BYTES"],
            pool_size=config["LEGACY_POOL_SIZE"],
        )
        self.stats = Stats(state)
        self.shadow = Shadow(
            self.upstream,
            self.stats,
            parse_known(config["SHADOW_KNOWN_DIVERGENCES"], known_acts),
            self.recheck,
            queue_size=config["SHADOW_QUEUE_SIZE"],
            sample_rate=config["SHADOW_SAMPLE_RATE"],
        )
        self.first_failure = Once()
        publish_modes(self.mode_table().items())
        atexit.register(self.stats.flush, force=True)

    def mode_table(self) -> dict[str, str]:
        return {act: self.modes.mode_for(act) for act in LEGACY_PATHS}

    def routed(self, view: View) -> View:
        @wraps(view)
        def cutover_view(rest: str = "") -> FlaskResponse:
            info = request_info()
            action, args = resolve(request, info)
            info.action, info.args = action, args
            return self.legacy_answer(info) or view(rest, resolved=(action, args))

        return cutover_view

    def route(self, act: str | None, action: Any) -> str:
        """Who answers a request of `act` that reaches `action`: serve, proxy or shadow."""
        mode = self.modes.mode_for(act)
        # In shadow mode, writes stay with the legacy: both sides share one database.
        return PROXY if mode == SHADOW and not action.read_only else mode

    def legacy_answer(self, info: RequestInfo) -> FlaskResponse | None:
        """The legacy's answer when the act's mode says so; None: the gateway answers."""
        self.shadow.start()
        action, ident = info.action, info.args.get("id")
        act = legacy_act(info.act, action.path) if action else None
        if act is None:
            return None
        replayed = proxy.SHADOW_HEADER in request.headers  # never shadowed or counted again
        if not replayed:
            self.stats.count(act, "requests")
        mode = self.route(act, action)
        if mode == PROXY:
            return self.forward(act, ident, info.request_id)
        if mode == SHADOW and not replayed and self.shadow.sampled():
            request.environ[REPLAY] = self.replay(act, ident, info.request_id)
        return None

    def within_limit(self) -> bytes | None:
        raw = request.get_data(cache=True)
        return raw if len(raw) <= current_app.config["MAX_BODY_BYTES"] else None

    def forward(self, act: str, ident: str | None, request_id: str) -> FlaskResponse:
        if proxy.has_passed_here(request):
            loop = LegacyFailure("loop", 502, "Bad gateway: forwarding loop")
            return self.failed(act, loop, request_id)
        try:
            answer = self.upstream.send(
                request.method,
                proxy.legacy_query(request.query_string, act, ident),
                proxy.forwarded_headers(request, request_id),
                self.body(),
            )
        except LegacyFailure as failure:
            return self.failed(act, failure, request_id)
        self.stats.count(act, "proxied")
        PROXY_TOTAL.labels(act, "relayed").inc()
        return proxy.relay(answer)

    def failed(self, act: str, failure: LegacyFailure, request_id: str) -> FlaskResponse:
        self.stats.count(act, "proxy_errors")
        PROXY_TOTAL.labels(act, failure.outcome).inc()
        if self.first_failure(act, failure.outcome):
            log_event("proxy_error", act=act, request_id=request_id, reason=failure.outcome)
        config = current_app.config
        return envelope.fail(
            failure.status,
            failure.message,
            request_id=request_id,
            tz=config["TZINFO"],
            debug=config["DEBUG_ENVELOPE"],
        )

    def body(self) -> bytes:
        """The raw body, refused over MAX_BODY_BYTES as the gateway and the legacy both do."""
        raw = self.within_limit()
        if raw is None:
            raise RequestEntityTooLarge()
        return raw

    def replay(self, act: str, ident: str | None, request_id: str) -> Replay | None:
        """What to send the legacy once the client is answered (nothing for an oversized body)."""
        raw = self.within_limit()
        if raw is None:
            return None
        return Replay(
            act,
            request.method,
            proxy.legacy_query(request.query_string, act, ident),
            proxy.forwarded_headers(request, request_id, shadow=True),
            raw,
            request_id,
        )

    def recheck(self, replay: Replay) -> bytes:
        """The gateway's answer to the same read, now (from the shadow worker thread)."""
        headers = list(replay.headers.items())
        response = self.app.test_client().open(
            f"/?{replay.query}", method=replay.method, headers=headers, data=replay.body
        )
        return response.get_data()

    def after_request(self, response: FlaskResponse) -> FlaskResponse:
        replay = request.environ.pop(REPLAY, None)
        if replay is not None:
            self.shadow.submit(replay.answered(response.status_code, response.get_data()))
        return response

    def counts(self) -> dict[str, Any]:
        """Every process's counts from disk, this process's own live ones instead of its file."""
        return merge([*load(self.stats.directory, self.stats.own_file()), self.stats.snapshot()])
