"""`python -m bench.ab`: two sides served at once, compared round by round (issue #14)."""

import pytest

from bench.ab import Side, parse_side, ratios


def test_a_side_names_the_app_a_revision_and_its_gunicorn_settings() -> None:
    assert parse_side("gateway") == Side("wsgi:app")
    assert parse_side("probe") == Side("bench.probe_app:app")
    assert parse_side("gateway@HEAD~2+GUNICORN_WORKER_CLASS=gthread+WEB_CONCURRENCY=3") == Side(
        "wsgi:app", "HEAD~2", (("GUNICORN_WORKER_CLASS", "gthread"), ("WEB_CONCURRENCY", "3"))
    )


@pytest.mark.parametrize("text", ["floor", "probe@HEAD", "gateway+WEB_CONCURRENCY", "gateway+=3"])
def test_a_side_that_cannot_be_served_is_refused_with_its_text(text: str) -> None:
    with pytest.raises(ValueError, match=text.replace("+", r"\+")):
        parse_side(text)


def test_the_rounds_become_the_geometric_mean_of_b_over_a() -> None:
    found = ratios([(1000.0, 1100.0), (500.0, 500.0), (800.0, 720.0)])
    assert found == {"geomean": 0.997, "median": 1.0, "low": 0.9, "high": 1.1}


def test_a_round_where_a_side_served_nothing_is_left_out() -> None:
    assert ratios([(0.0, 900.0), (1000.0, 1000.0)])["geomean"] == 1.0
    assert ratios([(0.0, 0.0)]) == {}
