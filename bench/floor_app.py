"""The framework floor: a bare Flask view answering a constant envelope, nothing else.

Served with the gateway's own gunicorn config (`gunicorn -c gunicorn.conf.py
bench.floor_app:app`), so the difference to a gateway scenario is what the gateway does per
request: routing, auth, the database, serialisation, headers and the access log. `bare` is the
same answer from a plain WSGI callable (`bench.floor_app:bare`): what gunicorn's worker and the
kernel cost alone, so the two floors apart are what Flask's own request handling costs.
"""

import json
from collections.abc import Callable
from typing import Any

from flask import Flask, Response

BODY = json.dumps(
    {
        "success": True,
        "status_code": 200,
        "message": "Health check successful",
        "timestamp": "2024-01-01 08:00:00",
        "request_id": "req_659270800000000.00000000",
        "data": {"status": "healthy"},
    },
    separators=(",", ":"),
)

JSON_TYPE = "application/json; charset=utf-8"
ENCODED = BODY.encode()
HEADERS = [("Content-Type", JSON_TYPE), ("Content-Length", str(len(ENCODED)))]
app = Flask(__name__)


def bare(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", HEADERS)
    return [ENCODED]


@app.route("/gassapi2/backend/")
def floor() -> Response:
    return Response(BODY, content_type=JSON_TYPE)
