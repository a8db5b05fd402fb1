"""Write the cluster run's last figures (instance/stress-results/cluster.json) into the
"Scale-out" section of docs/reliability.md, between its `cluster:begin` and `cluster:end`."""

from typing import Any

from stress.report import DOC, ROOT, load, machine, rewrite_block, row

BEGIN, END = "<!-- cluster:begin -->", "<!-- cluster:end -->"
NODES = ("n1", "n2", "n3", "single")


def verdict(figures: dict[str, Any]) -> str:
    return "pass" if figures.get("passed") else "**FAIL**: " + "; ".join(figures["problems"])


def rounds(figures: dict[str, Any], key: str) -> str:
    found = figures.get(key)
    if not found:
        return "not run"
    wrong = found["wrong"]
    return f"{found['rounds']} rounds, " + (f"wrong: {wrong}" if wrong else "0 wrong")


def checks(f: dict[str, Any]) -> list[str]:
    lines = [row("check", "figures"), row("---", "---")]
    lines.append(
        row(
            "init-db on n1 while B and C serve",
            f"init-db run (process start included) {f['init_db_create_seconds']} s, table on "
            f"every node "
            f"{f['init_db_table_on_every_node']}; {f['init_db_requests_served']} requests "
            f"served meanwhile: {f['init_db_statuses']}",
        )
    )
    lines.append(
        row(
            "toggle storm, one flow, A+B+C",
            f"{f['storm_toggles_sent']} toggles from {f['storm_threads']} threads in "
            f"{f['storm_seconds']} s: {f['storm_statuses']}; **{f['storm_acknowledged']} "
            f"acknowledged = {f['storm_flips']} flips = {f['storm_audit_rows']} audit rows** on "
            f"every node, final state as expected {f['storm_final_state_ok']}"
            f"; retries {f['storm_retries']} ({f['storm_retries_per_acknowledged']} per "
            f"acknowledged toggle; by site {f['storm_retries_by_site']}); latency ms "
            f"{f['storm_latency_ms']}",
        )
    )
    lines.append(
        row("lease: start A, toggle C (409), finish B, toggle C (200)", rounds(f, "lease_causal"))
    )
    lines.append(row("logout-all on A, old token on C (401)", rounds(f, "logout_causal")))
    probe = f.get("stale_read_probe")
    if probe:
        text = "; ".join(
            f"wsrep_sync_wait {key[-1]}: {value['stale_reads']}/{value['of']} stale, "
            f"{value['read_ms']} ms per read"
            for key, value in probe.items()
        )
        lines.append(row("write on n1, read at once on n3 (SQL, no gateway)", text))
    for causal in ("causal", "not_causal"):
        if f"lease_under_load_{causal}" in f:
            label = "causal reads on" if causal == "causal" else "**causal reads off**"
            lines.append(
                row(
                    f"lease / logout-all rounds under the mixed load, {label}",
                    f"{rounds(f, f'lease_under_load_{causal}')} / "
                    f"{rounds(f, f'logout_under_load_{causal}')}",
                )
            )
    if "failover_requests" in f:
        lines.append(
            row(
                "n1 killed (SIGKILL) mid-storm",
                f"{f['failover_requests']} requests: {f['failover_statuses']}; HAProxy marked n1 "
                f"down {f['failover_marked_down_after_seconds']} s after the kill; 503 "
                f"«unreachable» {f['failover_503_at_kill']} at the kill and "
                f"{f['failover_503_at_rejoin']} at the rejoin (the donor out of rotation), 503 "
                f"«busy» {f['failover_503_busy']} (conflicts whose retries ran out); **lost "
                f"acknowledged writes {f['failover_lost_writes']}** of "
                f"{f['failover_acknowledged_writes']} (audit replay on every node, nodes "
                f"identical {f['failover_nodes_identical']}); applied but answered 503 "
                f"{f['failover_applied_but_answered_503']}; n1 restarted after 8 s, synced in "
                f"{f['failover_rejoin_synced_seconds']} s by {f['failover_state_transfer']}, back "
                f"in HAProxy after {f['failover_back_in_haproxy_seconds']} s; slowest answer "
                f"{f['failover_max_latency_seconds']} s",
            )
        )
    return lines


def throughput(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        row(
            "topology",
            "req/s",
            "p50 ms",
            "p99 ms",
            "statuses",
            "retries",
            "CPU cores: nodes",
            "HAProxy",
            "gateways",
            "machine busy",
            "not ours",
        ),  # fmt: skip
        row(*["---"] * 11),
    ]
    for r in rows:
        cores = r["cpu_cores"]
        nodes = " + ".join(f"{name} {cores[name]}" for name in NODES if name in cores)
        lines.append(
            row(
                r["topology"],
                r["requests_per_second"],
                r["p50_ms_mean"],
                r["p99_ms_worst_host"],
                r["statuses"],
                r["retries"],
                nodes,
                cores["haproxy"],
                cores["gateways"],
                r["machine_busy_cores"],
                r["other_load_cores"],
            )  # fmt: skip
        )
    return lines


def block(f: dict[str, Any]) -> str:
    lines = [BEGIN, "", f"Last run {f['finished_at']}, {f['seconds']} s, {verdict(f)}.", ""]
    lines += [f"Machine: {machine()}. Gateway hosts: {f['gateway_hosts']}.", ""]
    lines += checks(f)
    if f.get("throughput"):
        lines += ["", *throughput(f["throughput"])]
    lines += ["", END]
    return "\n".join(lines)


def update() -> None:
    figures = load("cluster")
    if figures is not None:
        rewrite_block(BEGIN, END, block(figures))


if __name__ == "__main__":
    update()
    print(f"figures written to {DOC.relative_to(ROOT)}")
