"""`make bench` splits a scenario's worker CPU by layer, each layer measured in the same run."""

from typing import Any

from bench.report import layer_lines, layers


def wrk_row(worker: float, mariadb: float = 0.0, wrk: float = 0.0) -> dict[str, Any]:
    return {"cpu_ms_per_request": {"gateway": worker, "mariadb": mariadb, "wrk": wrk, "others": 0}}


def measured(*missing: str) -> dict[str, Any]:
    results: dict[str, Any] = {
        "machine": {"cores": 2},
        "floor": wrk_row(0.25),
        "wsgi_floor": wrk_row(0.15),
        "scenarios": {"flow": wrk_row(0.8, mariadb=0.3, wrk=0.1)},
        "ceiling": {"flow": wrk_row(0.65)},
        "reference": {"flow": {"ops": 5000.0}},
    }
    return {key: value for key, value in results.items() if key not in missing}


def test_each_layer_is_what_its_server_costs_above_the_one_below() -> None:
    found = layers(measured(), "flow")
    assert found is not None
    assert round(found["gunicorn"], 3) == 0.15
    assert round(found["flask"], 3) == 0.1
    assert round(found["least_work"], 3) == 0.4
    assert round(found["duties"], 3) == 0.15
    assert round(sum(found[k] for k in ("gunicorn", "flask", "least_work", "duties")), 3) == 0.8


def test_the_budget_is_the_workers_share_of_the_cores_at_the_target_rate() -> None:
    # flow's target is 0.40 × 5,000 = 2,000 req/s: 2 cores give 1 ms a request, 0.4 of it
    # already spent by MariaDB and wrk.
    found = layers(measured(), "flow")
    assert found is not None
    assert round(found["budget"], 3) == 0.6


def test_a_run_without_the_wsgi_floor_prints_no_layers() -> None:
    assert layers(measured("wsgi_floor"), "flow") is None
    assert layer_lines(measured("wsgi_floor")) == []
    assert any(line.lstrip().startswith("flow ") for line in layer_lines(measured()))
