"""`make stress-cluster` (issue #18): the gateway on a three-node MariaDB Galera cluster behind
HAProxy, with gateways on three hosts (network namespaces), under load and faults.

Topology: nodes n1-n3 (stress/cluster/galera.py, node.cnf) on 127.0.0.1; HAProxy
(haproxy.py, haproxy.cfg) with clustercheck health checks; gateway hosts A, B, C, each a
gunicorn (2 workers) attached to node n1, n2, n3 through HAProxy's `nodeN` front end (that node
first, the others as backups). Runs, in order, each printing its figures:

1. init-db through n1 while B and C serve (the additive table created under their feet);
2. a toggle storm on one flow through A, B and C: N acknowledged toggles = N flips = N audit
   rows on every node, with the gateways' retry counts;
3. an execution started on A refuses a toggle on C (409) and allows it after its finish on B;
   `logout-all` on A refuses the old token on the very next request on C (rounds of each);
4. n1 killed (SIGKILL) mid-storm: HAProxy routes around it, clients see at most 503s during the
   switch, no acknowledged write is lost (audit replay on every node), n1 rejoins;
5. the mixed workload (stress/mix.lua) on 3 nodes, on 3 nodes without causal reads (with the
   lease and logout rounds repeated to show what they are for), on 2 nodes, on 1 node and on a
   single non-Galera server, with each process's CPU.

STRESS_CLUSTER_QUICK=1 runs 1-3 only (the CI check). Bounded: every wait has a timeout and
`make` wraps the run in `timeout`; Ctrl-C or SIGTERM stops every process it started, deletes the
namespaces and removes the temporary directory.
"""

import os
import shutil
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from stress.cluster import hosts as hostlib
from stress.cluster import report, scenarios, throughput
from stress.cluster.galera import NAMES, NODE_PORTS, Cluster
from stress.cluster.haproxy import SINGLE_PORT, HAProxy, node_url, single_url
from stress.common import (
    PASSWORD,
    RESULTS,
    Gateway,
    database_url,
    log,
    print_figures,
    remove_tree,
    save_result,
    seed,
    server_answers,
    start_gateway,
)
from stress.mariadb import PrivateMariaDB

DATABASE = "gw_cluster"
GATEWAY_PORTS = (18601, 18602, 18603)
SITE_NAMES = ("A", "B", "C")
WORKERS = 2
QUICK = os.environ.get("STRESS_CLUSTER_QUICK") == "1"
STORM_TOGGLES = int(os.environ.get("STRESS_CLUSTER_TOGGLES", "150" if QUICK else "300"))
STORM_THREADS = 12
ROUNDS = int(os.environ.get("STRESS_CLUSTER_ROUNDS", "20"))


def interrupted(signum: int, _frame: Any) -> None:
    """The first Ctrl-C or SIGTERM stops the run; later ones cannot cut the clean-up short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt(f"signal {signum}")


class Sites:
    """The three gateway hosts; restarted with other settings or another database as needed."""

    def __init__(self, root: Path, hosts: Sequence[hostlib.Host]) -> None:
        self.root, self.hosts = root, hosts
        self.sites: list[scenarios.Site] = []
        self.starts = 0
        self.tracebacks = 0  # of the gateways stopped so far

    def start(self, urls: Sequence[str], extra: Mapping[str, str] | None = None) -> None:
        self.stop()
        self.starts += 1
        log_dir = self.root / f"gateways-{self.starts}"
        log_dir.mkdir()
        started: dict[int, Gateway] = {}
        failures: list[BaseException] = []

        def one(index: int) -> None:
            metrics = self.root / f"metrics-{index}-{time.monotonic_ns()}"
            metrics.mkdir()
            env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics), **(extra or {})}
            try:
                started[index] = start_gateway(
                    urls[index],
                    workers=WORKERS,
                    extra_env=env,
                    log_dir=log_dir,
                    host=self.hosts[index].address,
                    port=GATEWAY_PORTS[index],
                    wrap=self.hosts[index].wrap,
                )
            except BaseException as exc:  # noqa: BLE001 - reported below, after the others
                failures.append(exc)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(self.hosts))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        causal = (extra or {}).get("DB_WSREP_SYNC_WAIT") != "0"
        self.sites = [scenarios.Site(SITE_NAMES[i], i, started[i], causal) for i in sorted(started)]
        if failures:
            self.stop()
            raise failures[0]

    def stop(self) -> None:
        for site in self.sites:
            self.tracebacks += site.gateway.tracebacks()
            site.gateway.stop()
        self.sites = []


def attached_urls(hosts: Sequence[hostlib.Host], database: str) -> list[str]:
    """Host i attached to node i, through HAProxy's address on its own link."""
    return [node_url(i, database, host.uplink) for i, host in enumerate(hosts)]


def direct_urls(database: str, count: int = 3) -> list[str]:
    return [
        database_url(database, f"mysql+pymysql://root@127.0.0.1:{port}")
        for port in NODE_PORTS[:count]
    ]


def keep_logs(root: Path) -> None:
    """The nodes', HAProxy's and the gateways' logs outlive the temporary directory."""
    kept = RESULTS / "cluster-logs"
    remove_tree(kept)
    kept.mkdir(parents=True)
    for path in root.rglob("*.log"):
        shutil.copyfile(path, kept / "-".join(path.relative_to(root).parts))


def check(figures: dict[str, Any], problems: list[str], key: str) -> None:
    problems += [f"{key}: {problem}" for problem in figures.pop(key, [])]


def run(stack: ExitStack, figures: dict[str, Any], problems: list[str]) -> None:
    root = Path(tempfile.mkdtemp(prefix="gw-cluster-"))
    stack.callback(remove_tree, root)
    stack.callback(keep_logs, root)
    root.chmod(0o755)  # the nodes run as the server's account
    hosts, separation = hostlib.create(len(NAMES))
    stack.callback(hostlib.remove, len(NAMES))
    figures["gateway_hosts"] = separation
    cluster = Cluster(root / "galera")
    stack.callback(cluster.stop)
    figures.update(cluster.start())
    haproxy = HAProxy(root, ["127.0.0.1", *(host.uplink for host in hosts)])
    stack.callback(haproxy.stop)
    haproxy.start()

    any_node = node_url(None, DATABASE)
    seeded = seed(any_node, flows=5)
    leaving = seed(any_node, flows=0, fresh=False)
    sites = Sites(root, hosts)
    stack.callback(lambda: figures.update(gateway_tracebacks=sites.tracebacks))
    stack.callback(sites.stop)
    sites.start(attached_urls(hosts, DATABASE))
    a, b, c = sites.sites
    nodes = direct_urls(DATABASE)

    log("init-db through n1 while B and C serve")
    figures.update(
        scenarios.init_db_while_serving(sites.sites, seeded, node_url(0, DATABASE), nodes)
    )
    check(figures, problems, "init_db_problems")

    log(f"toggle storm: {STORM_TOGGLES} toggles of one flow through A, B and C")
    figures.update(scenarios.toggle_storm(sites.sites, seeded, nodes, STORM_TOGGLES, STORM_THREADS))
    check(figures, problems, "storm_problems")

    log(f"lease and logout-all across nodes: {ROUNDS} rounds each")
    figures["lease_causal"] = scenarios.lease_rounds(a, b, c, seeded, seeded.flow_ids[1], ROUNDS)
    figures["logout_causal"] = scenarios.logout_rounds(a, b, c, leaving, PASSWORD, ROUNDS)
    for key in ("lease_causal", "logout_causal"):
        if figures[key]["wrong"]:
            problems.append(f"{key}: {figures[key]['wrong']}")
    figures["stale_read_probe"] = scenarios.stale_reads(
        NODE_PORTS[0], NODE_PORTS[2], DATABASE, seeded.flow_ids[3]
    )
    if figures["stale_read_probe"]["sync_wait_1"]["stale_reads"]:
        problems.append("a causal read was stale")
    if QUICK:
        return

    failing = seed(any_node, flows=3, fresh=False)
    log("failover: n1 killed mid-storm")
    figures.update(scenarios.node_failure(sites.sites, failing, cluster.nodes[0], haproxy, nodes))
    check(figures, problems, "failover_problems")

    measure_throughput(figures, problems, root, hosts, cluster, haproxy, sites, seeded, leaving)


def under_load(
    label: str,
    sites: Sites,
    mix: Any,
    groups: dict[str, list[int]],
    seeded: Any,
    leaving: Any,
    flow_id: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The mix through every site, and meanwhile the lease and logout-all rounds."""
    a, b, c = sites.sites
    rounds: dict[str, Any] = {}

    def run_rounds() -> None:
        rounds["lease"] = scenarios.lease_rounds(a, b, c, seeded, flow_id, ROUNDS)
        rounds["logout"] = scenarios.logout_rounds(a, b, c, leaving, PASSWORD, ROUNDS)

    thread = threading.Thread(target=run_rounds)
    thread.start()
    row = throughput.measure(label, sites.sites, mix, groups)
    thread.join(120)
    return row, rounds


def measure_throughput(
    figures: dict[str, Any],
    problems: list[str],
    root: Path,
    hosts: Sequence[hostlib.Host],
    cluster: Cluster,
    haproxy: HAProxy,
    sites: Sites,
    seeded: Any,
    leaving: Any,
) -> None:
    mix = seed(node_url(None, DATABASE), flows=20, fresh=False)
    urls = attached_urls(hosts, DATABASE)
    rows = []

    def node_groups(count: int) -> dict[str, list[int]]:
        groups = {node.name: [node.process.pid] for node in cluster.nodes[:count] if node.process}
        return {**groups, "haproxy": haproxy.cpu_pids()}

    sites.start(urls)  # fresh pools: after the fail-over, site A's connections sat on a backup
    for causal, extra in (("causal", {}), ("not_causal", {"DB_WSREP_SYNC_WAIT": "0"})):
        if extra:
            sites.start(urls, extra)
        label = "Galera, 3 nodes" + ("" if not extra else ", no causal reads")
        log(f"throughput: {label}, with lease and logout-all rounds under that load")
        flow_id = seeded.flow_ids[1 if not extra else 2]
        row, rounds = under_load(label, sites, mix, node_groups(3), seeded, leaving, flow_id)
        rows.append(row)
        figures[f"lease_under_load_{causal}"] = rounds["lease"]
        figures[f"logout_under_load_{causal}"] = rounds["logout"]
        if not extra and (rounds["lease"]["wrong"] or rounds["logout"]["wrong"]):
            problems.append(f"causal reads under load: {rounds}")
    sites.start(urls)
    for count in (2, 1):
        cluster.nodes[count].stop()
        haproxy.wait(NAMES[count], up=False)
        log(f"throughput: {count} node{'s' if count > 1 else ''}")
        label = f"Galera, {count} node{'s' if count > 1 else ''}"
        rows.append(throughput.measure(label, sites.sites, mix, node_groups(count)))
    sites.stop()
    cluster.nodes[0].stop()
    single = PrivateMariaDB(port=SINGLE_PORT, root=root / "single")
    single.root.mkdir()
    single.install()
    single.start()
    try:
        alone = seed(database_url(DATABASE, single.server_url), flows=20)
        sites.start([single_url(DATABASE, host.uplink) for host in hosts])
        log("throughput: single server")
        groups = {
            "single": [single.process.pid] if single.process else [],
            "haproxy": haproxy.cpu_pids(),
        }
        rows.append(throughput.measure("single MariaDB (no Galera)", sites.sites, alone, groups))
        sites.stop()
    finally:
        single.destroy()
    figures["throughput"] = rows
    for row in rows:
        bad = {k: v for k, v in row["statuses"].items() if k != "200"}
        if row["socket_errors"] or any(int(k) >= 500 and k != "503" for k in bad):
            problems.append(
                f"throughput {row['topology']}: {bad}, socket errors {row['socket_errors']}"
            )


def main() -> dict[str, Any]:
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    busy = [port for port in NODE_PORTS if server_answers(f"mysql+pymysql://root@127.0.0.1:{port}")]
    if busy:
        raise SystemExit(f"something already answers on {busy}: a cluster left by a killed run?")
    figures: dict[str, Any] = {"quick": QUICK}
    problems: list[str] = []
    started = time.monotonic()
    with ExitStack() as stack:
        try:
            run(stack, figures, problems)
        except (Exception, SystemExit) as exc:  # the figures so far are still reported
            traceback.print_exc()
            problems.append(f"{type(exc).__name__}: {exc}")
        log("stopping everything the cluster run started")
    if figures.get("gateway_tracebacks"):
        problems.append(f"gateway tracebacks: {figures['gateway_tracebacks']}")
    figures["seconds"] = round(time.monotonic() - started, 1)
    figures["problems"] = problems[:30]
    figures["passed"] = not problems
    return figures


if __name__ == "__main__":
    result = main()
    save_result("cluster", result)
    print_figures("cluster: Galera behind HAProxy, gateways on three hosts", result)
    if not result["quick"]:
        report.update()
        log(f"figures written to {report.DOC.relative_to(report.ROOT)}")
    raise SystemExit(0 if result["passed"] else 1)
