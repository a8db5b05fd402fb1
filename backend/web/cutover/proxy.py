"""What a forwarded request and a relayed answer look like on the wire.

A request goes out as it came in: method (the legacy applies the same override rules to the same
`_method` field or `X-HTTP-Method-Override` header), query, end-to-end headers (Authorization
included), body bytes; only the act and id are rewritten into the legacy's `?act=NAME&id=ID`, so
the legacy runs exactly the act the gateway resolved, whatever URL form the client used.
"""

from urllib.parse import quote_from_bytes, unquote_to_bytes, urlencode

from flask import Request
from flask import Response as FlaskResponse
from urllib3 import HTTPHeaderDict

from backend.web.cutover.upstream import Answer

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
# Set again by the client library (Host: LEGACY_URL's host) or by the front server.
NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length", "expect", "x-request-id"}
NOT_RELAYED = HOP_BY_HOP | {"content-length", "date", "server"}
VIA = "1.1 gassapi-gateway"
SHADOW_HEADER = "X-GassAPI-Shadow"
QUERY_SAFE = "!$&'()*+,-./:;=?@_~%"


def end_to_end(headers: list[tuple[str, str]], dropped: frozenset[str]) -> list[tuple[str, str]]:
    """Without hop-by-hop headers, including those the `Connection` header names."""
    listed = {
        name.strip().lower()
        for key, value in headers
        if key.lower() == "connection"
        for name in value.split(",")
    }
    return [(k, v) for k, v in headers if k.lower() not in dropped and k.lower() not in listed]


def peer_address(req: Request) -> str:
    """The address that connected to us, even when ProxyFix already put the client's in place."""
    original = req.environ.get("werkzeug.proxy_fix.orig", {})
    return original.get("REMOTE_ADDR") or req.remote_addr or ""


def forwarded_headers(req: Request, request_id: str, shadow: bool = False) -> HTTPHeaderDict:
    headers = HTTPHeaderDict()
    for name, value in end_to_end(list(req.headers.items()), NOT_FORWARDED):
        if name.lower() not in ("x-forwarded-for", "via"):
            headers.add(name, value)
    chain = req.headers.get("X-Forwarded-For")
    peer = peer_address(req)
    headers["X-Forwarded-For"] = f"{chain}, {peer}" if chain else peer
    headers.setdefault("X-Forwarded-Proto", req.scheme)
    headers.setdefault("X-Forwarded-Host", req.host)
    headers["X-Request-ID"] = request_id
    via = req.headers.get("Via")
    headers["Via"] = f"{via}, {VIA}" if via else VIA
    if shadow:
        headers[SHADOW_HEADER] = "1"
    return headers


def has_passed_here(req: Request) -> bool:
    """Forwarded by a gateway already: LEGACY_URL points back at a gateway that forwards too."""
    return VIA in req.headers.get("Via", "")


def param_name(pair: bytes) -> bytes:
    return unquote_to_bytes(pair.split(b"=", 1)[0].replace(b"+", b" "))


def legacy_query(raw: bytes, act: str, ident: str | None) -> str:
    """`act=NAME[&id=ID]` then the client's other parameters, byte for byte and in order."""
    rewritten = {b"act", b"id"} if ident is not None else {b"act"}
    kept = [pair for pair in raw.split(b"&") if pair and param_name(pair) not in rewritten]
    head = urlencode({"act": act, **({"id": ident} if ident is not None else {})})
    return "&".join([head, *(quote_from_bytes(pair, safe=QUERY_SAFE) for pair in kept)])


def relay(answer: Answer) -> FlaskResponse:
    """The legacy's status, headers and body bytes; the front server sets Date and Server."""
    headers = end_to_end(answer.headers, NOT_RELAYED)
    status = f"{answer.status} {answer.reason}" if answer.reason else answer.status
    response = FlaskResponse(answer.body, status=status, headers=headers)
    if not any(name.lower() == "content-type" for name, _ in headers):
        del response.headers["Content-Type"]
    return response
