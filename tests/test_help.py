"""`?act=help`: every act's body fields with their types, and examples that work as written."""

from flask.testing import FlaskClient


def help_data(client: FlaskClient) -> dict:
    return client.get("/gassapi2/backend/?act=help").json["data"]


def test_help_examples_register_and_log_in_as_written(client: FlaskClient) -> None:
    examples = [e for e in help_data(client)["examples"] if e.get("method") == "POST"]
    statuses = [
        client.post(f"/gassapi2/backend/{e['url']}", json=e["body"]).status_code for e in examples
    ]
    assert [e["url"] for e in examples] == ["?act=register", "?act=login"]
    assert statuses == [201, 200]


def test_help_lists_each_acts_body_fields_with_types_and_required_ones(
    client: FlaskClient,
) -> None:
    entries = {(e["method"], act): e for e in help_data(client)["endpoints"] for act in e["acts"]}
    assert entries[("POST", "projects")]["body"] == {
        "name": "string, required",
        "description": "string or null",
    }
    assert entries[("PUT", "flow_toggle_active")]["body"] == {"reason": "string or null"}
    assert "body" not in entries[("GET", "flow_status_history")]
