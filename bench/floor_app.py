"""The framework floor: a bare Flask view answering a constant envelope, nothing else.

Served with the gateway's own gunicorn config (`gunicorn -c gunicorn.conf.py
bench.floor_app:app`), so the difference to a gateway scenario is what the gateway does per
request: routing, auth, the database, serialisation, headers and the access log.
"""

import json

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

app = Flask(__name__)


@app.route("/gassapi2/backend/")
def floor() -> Response:
    return Response(BODY, content_type="application/json; charset=utf-8")
