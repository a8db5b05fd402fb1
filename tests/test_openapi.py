"""The OpenAPI document and the docs page."""

import inspect
import re
from typing import Any

from flask.testing import FlaskClient
from openapi_spec_validator import validate

import schemas.queries
from backend.core.registry import registry


def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/gassapi2/backend/?act=openapi")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json


def test_openapi_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    doc = document(client)
    assert doc["openapi"] == "3.1.0"
    validate(doc)


def test_every_registered_act_appears_in_the_document(client: FlaskClient) -> None:
    doc = document(client)
    documented = {
        act
        for operations in doc["paths"].values()
        for op in operations.values()
        for act in op.get("x-acts", [])
    }
    assert set(registry.acts) <= documented


def test_every_route_and_method_is_an_operation(client: FlaskClient) -> None:
    doc = document(client)
    for method, action in registry.actions():
        path = action.template
        assert method.lower() in doc["paths"][path], f"{method} {path}"


def test_toggle_operation_names_its_act_and_requires_a_bearer(client: FlaskClient) -> None:
    op = document(client)["paths"]["/flow/{id}/toggle-active"]["put"]
    assert op["x-acts"] == ["flow_toggle_active"]
    assert op["security"] == [{"bearerAuth": []}]
    assert {"200", "401", "403", "404", "409"} <= set(op["responses"])


def test_document_is_served_on_its_rest_path(client: FlaskClient) -> None:
    response = client.get("/gassapi2/backend/openapi.json")
    assert response.status_code == 200
    assert response.json["info"]["title"] == "GassAPI Gateway"


def test_docs_page_is_html_with_same_origin_assets(client: FlaskClient) -> None:
    response = client.get("/gassapi2/backend/?act=docs")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert b"swagger-ui" in response.data
    asset = client.get("/gassapi2/backend/?act=docs_asset&id=swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert asset.headers["Content-Type"].startswith("application/javascript")


def test_unknown_docs_asset_is_404(client: FlaskClient) -> None:
    response = client.get("/gassapi2/backend/?act=docs_asset&id=../../etc/passwd")
    assert response.status_code == 404
    assert response.json["message"] == "Not found: Asset not found"


def test_flow_lists_declare_their_query_filters(client: FlaskClient) -> None:
    paths = document(client)["paths"]
    for path in ("/project/{id}/flows", "/project/{id}/flows/active"):
        params = {p["name"]: p for p in paths[path]["get"]["parameters"]}
        assert {"id", "is_active", "status", "folder_id", "limit", "offset"} <= set(params)
        assert params["status"]["in"] == "query"
        assert params["status"]["schema"]["enum"] == ["active", "inactive", "all"]
        assert "every flow" in params["is_active"]["description"]


def test_help_shows_the_inactive_only_filter_of_the_flows_list(client: FlaskClient) -> None:
    endpoints = client.get("/?act=help").json["data"]["endpoints"]
    listing = next(e for e in endpoints if e["method"] == "GET" and "flows" in e["acts"])
    assert listing["path"] == "/project/{id}/flows"
    assert "inactive" in listing["query"]["status"]
    assert set(listing["query"]) == {"is_active", "status", "folder_id", "limit", "offset"}


def test_every_query_string_an_act_reads_is_declared_in_the_document(
    client: FlaskClient,
) -> None:
    """A handler that loads a query schema names it in its `@action`, so the document (and the
    fuzzer, which only sends what it declares) knows `limit`, `offset`, `expires_in_days`."""
    paths = document(client)["paths"]
    for method, action in registry.actions():
        loaded = re.findall(r"load_query\((\w+)", inspect.getsource(action.func))
        operation = paths[action.template][method.lower()]
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        for name in loaded:
            fields = set(getattr(schemas.queries, name)().fields)
            assert fields <= declared, f"{method} {action.template}: {fields - declared}"
