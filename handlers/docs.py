"""The OpenAPI document and a human page rendering it (Swagger UI shipped with swagger-ui-py)."""

import json
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from backend.core.call import Call, Raw
from backend.core.errors import NotFound
from backend.core.registry import action
from backend.ops import openapi
from schemas.queries import OPENAPI_TYPES

ASSETS = {
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}


def package_folder(name: str) -> Path:
    """Found without importing the package: swagger-ui-py's import loads PyYAML (~1.3 MB per
    worker) to read specs from YAML, which the gateway does not do; it serves only the files."""
    spec = find_spec(name)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    return Path(spec.origin).parent


STATIC = package_folder("swagger_ui") / "static"
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>GassAPI Gateway API</title>
<link rel="stylesheet" href="?act=docs_asset&amp;id=swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="?act=docs_asset&amp;id=swagger-ui-bundle.js"></script>
<script src="?act=docs_asset&amp;id=init.js"></script>
</body>
</html>
"""
INIT = "window.ui = SwaggerUIBundle({url: '?act=openapi', dom_id: '#swagger-ui'});\n"
# Swagger UI sets inline styles; everything else stays same-origin only.
PAGE_CSP = {
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
    )
}


@action("/openapi.json", acts=("openapi",), summary="OpenAPI 3.1 document of every act")
def openapi_document(call: Call) -> Raw:
    return Raw(json.dumps(openapi.document(OPENAPI_TYPES)), "application/json; charset=utf-8")


@action("/docs", acts=("docs",), summary="API reference page")
def docs_page(call: Call) -> Raw:
    return Raw(PAGE, "text/html; charset=utf-8", PAGE_CSP)


@cache
def asset(name: str) -> bytes:
    return (STATIC / name).read_bytes()


@action("/docs/<id>", acts=("docs_asset",), summary="Static asset of the API reference page")
def docs_asset(call: Call) -> Raw:
    name = call.args["id"]
    if name == "init.js":
        return Raw(INIT, "application/javascript; charset=utf-8")
    if name not in ASSETS:
        raise NotFound("Asset not found")
    return Raw(asset(name), ASSETS[name], {"Cache-Control": "public, max-age=86400"})
