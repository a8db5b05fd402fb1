"""`make bench` alternates the reference and the gateway and compares their medians (issue #14)."""

from bench.run import median_reference, median_run


def wrk_round(rps: float, p99: float, errors: int, cpu: float) -> dict[str, object]:
    return {
        "rps": rps,
        "requests": int(rps * 10),
        "p50_ms": 10.0,
        "p99_ms": p99,
        "errors": errors,
        "errors_detail": {"status": errors, "connect": 0, "read": 0, "write": 0, "timeout": 0},
        "cpu_ms_per_request": {"gateway": cpu, "mariadb": 0.5},
    }


def test_two_gateway_rounds_become_their_medians_with_every_error_counted() -> None:
    found = median_run([wrk_round(900.0, 20.0, 0, 1.2), wrk_round(1000.0, 30.0, 3, 1.0)])
    assert found["rps"] == 950.0
    assert found["p99_ms"] == 25.0
    assert found["requests"] == 19000
    assert found["errors"] == 3 and found["errors_detail"]["status"] == 3
    assert found["cpu_ms_per_request"] == {"gateway": 1.1, "mariadb": 0.5}
    assert [run["rps"] for run in found["rounds"]] == [900.0, 1000.0]


def test_one_round_is_reported_as_it_was_measured() -> None:
    only = wrk_round(900.0, 20.0, 0, 1.2)
    assert median_run([only]) == only


def test_the_reference_rounds_become_their_median_and_a_failed_round_is_reported() -> None:
    assert median_reference([{"ops": 1400.0}, {"ops": 1500.0}])["ops"] == 1450.0
    failed = {"error": "no database", "ops": None}
    assert median_reference([{"ops": 1400.0}, failed]) == failed
