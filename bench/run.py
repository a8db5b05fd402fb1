"""`make bench`: seed a fresh database, run the gateway as production does, load it, compare.

Phases, each bounded: MariaDB up → wrk present → fresh `gateway_bench` seeded → wire capture and
baseline sync check → the bare-Flask and plain-WSGI floors under gunicorn → for each scenario:
the PyMySQL limit, the shared reference workload (`bench/reference.py`, issue #14's yardstick) and
the gateway under wrk in turn (two rounds each, their medians compared, as the issue measured the
legacy backend), then issue #14's probe (`bench/probe_app.py`, the "ceiling" here) under wrk →
scaling runs → worker RSS → table on stdout (with each referenced scenario's CPU by layer),
`bench/results.json`.

Environment knobs: BENCH_SECONDS (10), BENCH_LIMIT_SECONDS (5), BENCH_REFERENCE_SECONDS (8),
BENCH_SCALING_SECONDS (5), BENCH_ROUNDS (2: reference and gateway alternate, medians compared),
BENCH_CONNECTIONS (16), BENCH_THREADS (2), BENCH_SCENARIOS (comma list), BENCH_PROFILE (comma list
of scenarios to profile with py-spy after they were measured), BENCH_DATABASE_URL,
WEB_CONCURRENCY (passed to gunicorn as in production).
"""

import contextlib
import hashlib
import json
import logging
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pymysql
from sqlalchemy.engine import make_url

from bench import capture, explain, limit, profile, seed
from bench.report import render_table
from stress.common import free_port, stop_group

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
RESULTS = BENCH / "results.json"
LUA = BENCH / "wrk" / "scenario.lua"
UNIT = ROOT / "deploy" / "gassapi-gateway.service"
# The project's shared yardstick (shared/perf/reference.py), vendored byte for byte so a fresh
# clone runs it; the digest pins the copy the legacy ratios of issue #14 were measured with.
REFERENCE = BENCH / "reference.py"
REFERENCE_SHA256 = "960191d554387d9b9a9f8e73329444c4dc22a63aa123decbe75291a9f7ac7efc"
# shared/ sits beside the main checkout (../shared) or beside the worktrees' folder (../../shared).
SHARED_REFERENCE = next(
    (
        place / "shared" / "perf" / "reference.py"
        for place in (ROOT.parent, ROOT.parent.parent)
        if (place / "shared" / "perf" / "reference.py").exists()
    ),
    ROOT.parent / "shared" / "perf" / "reference.py",
)
VENV_BIN = Path(sys.executable).parent
DEFAULT_URL = "mysql+pymysql://root@127.0.0.1:3306/gateway_bench?charset=utf8mb4"
BASE = "/gassapi2/backend/"
TOTAL_BUDGET = 9 * 60


# The two floors: a constant envelope from a bare Flask view, and from a plain WSGI callable
# (gunicorn's worker and the kernel alone); apart, they are what Flask's request handling costs.
FLOORS = (
    ("floor", "bench.floor_app:app", "a bare Flask view"),
    ("wsgi_floor", "bench.floor_app:bare", "a plain WSGI callable"),
)


def env_number(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


SECONDS = env_number("BENCH_SECONDS", 10)
LIMIT_SECONDS = env_number("BENCH_LIMIT_SECONDS", 5)
REFERENCE_SECONDS = env_number("BENCH_REFERENCE_SECONDS", 8)
SCALING_SECONDS = env_number("BENCH_SCALING_SECONDS", 5)
CONNECTIONS = int(env_number("BENCH_CONNECTIONS", 16))
THREADS = int(env_number("BENCH_THREADS", 2))
WARMUP_SECONDS = 2
# As issue #14 measured the legacy backend (legacy, gateway, legacy, gateway; the median of the
# pair): the reference and the gateway alternate, and each ratio is of their medians.
ROUNDS = max(1, int(env_number("BENCH_ROUNDS", 2)))
ADDED_UP = ("requests", "errors")
ERROR_KINDS = ("status", "connect", "read", "write", "timeout")


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str  # may contain {id}
    ids: str | None = None  # key into the id files
    token: bool = True
    body: str | None = None  # key into the body files
    limit_plan: str | None = None  # the PyMySQL baseline that issues the same statements
    reference: str | None = None  # the scenario of bench/reference.py it is compared with
    connections: int | None = None
    threads: int | None = None
    timeout: int = 5
    seconds: float | None = None


def scenarios(ids: dict[str, str]) -> list[Scenario]:
    main = ids["project_main"]
    return [
        Scenario(
            "flow",
            "GET",
            f"{BASE}?act=flow&id={{id}}",
            "flows_main",
            limit_plan="flow",
            reference="flow",
        ),
        Scenario(
            "flow_toggle_active",
            "PUT",
            f"{BASE}?act=flow_toggle_active&id={{id}}",
            "flows_main",
            limit_plan="flow_toggle_active",
            reference="toggle",
        ),
        Scenario(
            "flows",
            "GET",
            f"{BASE}?act=flows&id={ids['project_p50']}",
            limit_plan="flows",
            reference="flows",
        ),
        Scenario(
            "flows_active", "GET", f"{BASE}?act=flows_active&id={main}", limit_plan="flows_active"
        ),
        Scenario(
            "projects", "GET", f"{BASE}?act=projects", limit_plan="projects", reference="projects"
        ),
        Scenario(
            "health",
            "GET",
            f"{BASE}?act=health",
            token=False,
            limit_plan="health",
            reference="health",
        ),
        Scenario(
            "login",
            "POST",
            f"{BASE}?act=login",
            token=False,
            body="login",
            limit_plan="login",
            connections=4,
            threads=1,
            timeout=15,
        ),
    ]


def scaling_scenarios(ids: dict[str, str]) -> list[Scenario]:
    list_runs = [
        Scenario(
            f"flows_list_{label}",
            "GET",
            f"{BASE}?act=flows&id={ids[f'project_{name}']}&limit=50",
            connections=1,
            threads=1,
            timeout=30,
            seconds=SCALING_SECONDS if label == "100" else max(SCALING_SECONDS, 10),
        )
        for label, name in (("100", "p100"), ("10k", "p10k"), ("100k", "p100k"))
    ]
    toggle_runs = [
        Scenario(
            f"toggle_hot_{label}",
            "PUT",
            f"{BASE}?act=flow_toggle_active&id={{id}}",
            f"hot_{name}",
            seconds=SCALING_SECONDS,
        )
        for label, name in (("1", "one"), ("1000", "main"))
    ]
    return list_runs + toggle_runs


# --- phases -------------------------------------------------------------------------------------


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def mariadb_up(url: str) -> bool:
    parsed = make_url(url)
    try:
        pymysql.connect(
            host=parsed.host,
            port=parsed.port or 3306,
            user=parsed.username or "root",
            password=parsed.password or "",
            connect_timeout=2,
        ).close()
        return True
    except pymysql.MySQLError:
        return False


def ensure_mariadb(url: str) -> None:
    if mariadb_up(url):
        return
    say("MariaDB is not answering; starting it")
    subprocess.run(
        [
            "start-stop-daemon",
            "--start",
            "--oknodo",
            "--background",
            "--exec",
            "/usr/sbin/mariadbd",
        ],
        check=False,
        timeout=30,
    )
    for _ in range(60):
        if mariadb_up(url):
            return
        time.sleep(1)
    raise SystemExit("MariaDB did not start within 60 s")


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    say("wrk is missing; installing Debian's package")
    apt = {"DEBIAN_FRONTEND": "noninteractive", **os.environ}
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, env=apt, timeout=300, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=apt, timeout=300, check=False)
        subprocess.run(install, env=apt, timeout=300, check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk could not be installed")
    return found


class Gunicorn:
    """`gunicorn -c gunicorn.conf.py APP` with the production config, logs to a file."""

    def __init__(self, app: str, env: dict[str, str], log: Path, cwd: Path = ROOT) -> None:
        self.port = free_port()
        self.cwd = cwd
        self.env = {**env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        self.log = log
        self.app = app
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Gunicorn":
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", self.app],
            cwd=self.cwd,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited early; see {self.log}")
            if len(self.workers()) >= self.expected_workers() and self.answers():
                return self
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"gunicorn did not come up within 30 s; see {self.log}")

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def expected_workers(self) -> int:
        return int(self.env.get("WEB_CONCURRENCY") or (os.cpu_count() or 1) * 2)

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url(BASE + "?act=health"), timeout=2):
                return True
        except (OSError, urllib.error.URLError):
            return False

    def workers(self) -> list[int]:
        if self.proc is None:
            return []
        return children(self.proc.pid)

    def stop(self) -> None:
        stop_group(self.proc, 25)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def probe(server: Gunicorn, scenario: Scenario, files: dict[str, Path], token: str) -> str | None:
    """One request first: an act that is not registered yet, or an answer that is not a success
    envelope with data, makes the scenario "n/a"."""
    ident = ""
    if scenario.ids:
        ident = files[scenario.ids].read_text().split()[0]
    headers = {"Authorization": f"Bearer {token}"} if scenario.token else {}
    data = None
    if scenario.body:
        data = files[scenario.body].read_bytes()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(
        server.url(scenario.path.replace("{id}", ident)),
        data=data,
        headers=headers,
        method=scenario.method,
    )
    try:
        with urllib.request.urlopen(request, timeout=scenario.timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        refused = exc.read().decode(errors="replace")
        try:
            message = json.loads(refused).get("message", refused)
        except ValueError:
            message = refused[:200]
        return f"HTTP {exc.code}: {message}"
    except OSError as exc:
        return f"no answer: {exc}"
    try:
        envelope = json.loads(body)
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict) or envelope.get("success") is not True:
        return f"HTTP {response.status}, not a success envelope: {body[:200]!r}"
    if envelope.get("data") is None:
        return f"HTTP {response.status}, no data: {body[:200]!r}"
    return None


def measure_ceiling(
    wrk: str, ceiling: Gunicorn, scenario: Scenario, files: dict[str, Path], token: str
) -> dict[str, Any]:
    """Issue #14's probe (`bench/probe_app.py`) on one scenario, measured as the gateway is:
    checked with one request, then the same wrk warm-up and measured run, same files, same token."""
    wrong = probe(ceiling, scenario, files, token)
    if wrong:
        say(f"{scenario.name}: the issue's probe answers wrongly ({wrong}); not measured")
        return {"na": wrong}
    run_wrk(wrk, ceiling, scenario, files, token, WARMUP_SECONDS)
    return run_wrk(wrk, ceiling, scenario, files, token, SECONDS)


def run_reference(url: str, seeded: seed.Seeded, scenario: str) -> dict[str, Any]:
    """The shared yardstick (`bench/reference.py`), one scenario, on the bench's own rows."""
    parsed = make_url(url)
    address = (
        f"mysql://{quote(parsed.username or 'root')}:{quote(parsed.password or '')}"
        f"@{parsed.host or '127.0.0.1'}:{parsed.port or 3306}/{parsed.database}"
    )
    command = [
        sys.executable,
        str(REFERENCE),
        "--url",
        address,
        "--user",
        seeded.owner_id,
        "--project",
        seeded.projects["main"],
        "--flow",
        seeded.hot_flow["main"],
        "--list-project",
        seeded.projects["p50"],
        "--seconds",
        str(REFERENCE_SECONDS),
        "--scenarios",
        scenario,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=REFERENCE_SECONDS * 2 + 60, check=False
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-500:], "ops": None}
    return {"ops": json.loads(done.stdout.strip().splitlines()[-1])[scenario]}


def median_reference(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The reference's rounds as one: the median of its ops/s (of two, their mean)."""
    failed = [run for run in runs if run["ops"] is None]
    if failed:
        return failed[0]
    return {"ops": round(statistics.median(run["ops"] for run in runs), 1), "rounds": runs}


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """wrk's rounds of one scenario as one: the median of each rate, latency and CPU figure
    (of two, their mean), requests and errors added up; the rounds themselves kept beside."""
    if len(runs) == 1:
        return runs[0]
    found = combined(runs)
    found["rounds"] = runs
    return found


def combined(runs: list[dict[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in runs[0].items():
        values = [run[key] for run in runs]
        if isinstance(value, dict):
            found[key] = combined(values)
        elif key in ADDED_UP or key in ERROR_KINDS:
            found[key] = sum(values)
        else:
            found[key] = round(statistics.median(values), 3)
    return found


def reference_provenance() -> dict[str, Any]:
    """The vendored copy must stay byte-identical to the shared yardstick, or ratios drift."""
    digest = hashlib.sha256(REFERENCE.read_bytes()).hexdigest()
    found: dict[str, Any] = {"sha256": digest, "matches_pinned": digest == REFERENCE_SHA256}
    if SHARED_REFERENCE.exists():
        shared = hashlib.sha256(SHARED_REFERENCE.read_bytes()).hexdigest()
        found["matches_shared"] = shared == digest
    if not found["matches_pinned"] or found.get("matches_shared") is False:
        say("WARNING: bench/reference.py differs from the shared yardstick; ratios not comparable")
    return found


def run_wrk(
    wrk: str,
    server: Gunicorn,
    scenario: Scenario,
    files: dict[str, Path],
    token: str,
    seconds: float,
) -> dict[str, Any]:
    args = [
        scenario.method,
        scenario.path,
        str(files[scenario.ids]) if scenario.ids else "-",
        token if scenario.token else "-",
        str(files[scenario.body]) if scenario.body else "-",
    ]
    command = [
        wrk,
        f"-t{scenario.threads or THREADS}",
        f"-c{scenario.connections or CONNECTIONS}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={scenario.timeout}s",
        "-s",
        str(LUA),
        server.url("/"),
        "--",
        *args,
    ]
    before = cpu_snapshot(server)
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=seconds + scenario.timeout + 30,
        check=False,
    )
    after = cpu_snapshot(server)
    for line in done.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            raw = json.loads(line[len("BENCHJSON ") :])
            found = summarise(raw)
            found["cpu_ms_per_request"] = cpu_per_request(before, after, raw["requests"])
            return found
    raise SystemExit(f"wrk failed for {scenario.name}: {done.stdout}\n{done.stderr}")


def warm_and_measure(
    wrk: str, server: Any, scenario: Scenario, files: dict[str, Path], token: str, seconds: float
) -> dict[str, Any]:
    """A warm-up run, then the measured one, summarised as the side-by-side sweeps print it."""
    run_wrk(wrk, server, scenario, files, token, WARMUP_SECONDS)
    result = run_wrk(wrk, server, scenario, files, token, seconds)
    return {
        "scenario": scenario.name,
        "rps": result["rps"],
        "p50_ms": result["p50_ms"],
        "p90_ms": result["p90_ms"],
        "p99_ms": result["p99_ms"],
        "errors": result["errors"],
        "cpu_ms": result["cpu_ms_per_request"].get("gateway"),
        "others_cpu_ms": result["cpu_ms_per_request"].get("others"),
    }


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of one process, from /proc (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mariadb_pids() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "mariadbd":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def cpu_snapshot(server: Gunicorn) -> dict[str, float]:
    """CPU seconds so far: the gateway's workers, the database server, this harness' children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "gateway": sum(process_cpu_seconds(pid) for pid in server.workers()),
        "mariadb": sum(process_cpu_seconds(pid) for pid in mariadb_pids()),
        "wrk": children.ru_utime + children.ru_stime,
        "machine": machine_busy_seconds(),
    }


def machine_busy_seconds() -> float:
    """All CPUs, all processes (ours and anyone else's): busy jiffies from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def cpu_per_request(
    before: dict[str, float], after: dict[str, float], requests: int
) -> dict[str, float]:
    if not requests:
        return {}
    found = {key: round((after[key] - before[key]) * 1000 / requests, 3) for key in before}
    found["others"] = round(
        found["machine"] - found["gateway"] - found["mariadb"] - found["wrk"], 3
    )
    return found


def summarise(raw: dict[str, Any]) -> dict[str, Any]:
    seconds = raw["duration_us"] / 1e6
    errors = raw["status"] + raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return {
        "rps": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        "requests": raw["requests"],
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p90_ms": round(raw["p90_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "errors": errors,
        "errors_detail": {k: raw[k] for k in ("status", "connect", "read", "write", "timeout")},
    }


# --- the run ------------------------------------------------------------------------------------


def write_inputs(seeded: seed.Seeded) -> tuple[dict[str, Path], dict[str, str]]:
    OUT.mkdir(exist_ok=True)
    files: dict[str, Path] = {}
    for name, flow_ids in seeded.flows.items():
        files[f"flows_{name}"] = OUT / f"flows_{name}.txt"
        files[f"flows_{name}"].write_text("\n".join(flow_ids) + "\n")
    for name, flow_id in seeded.hot_flow.items():
        files[f"hot_{name}"] = OUT / f"hot_{name}.txt"
        files[f"hot_{name}"].write_text(flow_id + "\n")
    files["login"] = OUT / "login.json"
    files["login"].write_text(json.dumps({"email": seed.OWNER_EMAIL, "password": seed.PASSWORD}))
    ids = {f"project_{name}": pid for name, pid in seeded.projects.items()}
    return files, ids


def bench_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL


def seeded_bench() -> tuple[str, seed.Seeded]:
    """The bench database and its rows, as `make bench` seeded them; exits when it did not."""
    url = bench_url()
    seeded = seed.load(url)
    if seeded is None:
        raise SystemExit("seed the bench database first (make bench)")
    return url, seeded


def unit_worker_class() -> str:
    """The worker class the systemd unit in deploy/ runs (gunicorn.conf.py's default else)."""
    found = re.search(r"^Environment=GUNICORN_WORKER_CLASS=(\w+)$", UNIT.read_text(), re.M)
    return found.group(1) if found else "gevent"


def gateway_env(url: str) -> dict[str, str]:
    keep = (
        *("PATH", "HOME", "LANG", "LC_ALL", "TZ", "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS"),
        *("DB_POOL_SIZE", "DB_MAX_OVERFLOW", "GUNICORN_WORKER_CLASS"),
    )
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.setdefault("GUNICORN_WORKER_CLASS", unit_worker_class())
    env = own_metrics(env, "metrics")  # as the systemd unit in deploy/: multi-process metrics
    env.update(
        DATABASE_URL=url,
        APP_ENV="production",
        JWT_ACCESS_SECRET=secrets.token_hex(32),
        JWT_REFRESH_SECRET=secrets.token_hex(32),
        LOG_LEVEL="warning",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def own_metrics(env: dict[str, str], name: str) -> dict[str, str]:
    """`env` with a fresh multi-process metrics directory of its own, `bench/out/NAME`: a gunicorn
    master empties its directory at start, so servers running at once need one each."""
    metrics = OUT / name
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir(parents=True)
    return {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)}


def issue_access_token(env: dict[str, str], seeded: seed.Seeded) -> tuple[Any, str]:
    """The app in this process, configured exactly like the gunicorn workers."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from backend import create_app
        from backend.auth.tokens import issue_token

        app = create_app()
        logging.getLogger("gassapi.access").setLevel(logging.WARNING)  # this process only
    finally:
        os.environ.clear()
        os.environ.update(saved)
    with app.app_context():
        token = issue_token(seeded.owner_id, seed.OWNER_EMAIL, "access", 0)
    return app, token


def capture_wire(
    app: Any,
    token: str,
    url: str,
    chosen: list[Scenario],
    files: dict[str, Path],
    ctx: limit.Context,
) -> dict[str, Any]:
    client = app.test_client()
    client.get(BASE + "?act=health")  # connect and initialise outside the recording
    found: dict[str, Any] = {}
    for scenario in chosen:
        ident = files[scenario.ids].read_text().split()[-1] if scenario.ids else ""
        headers = {"Authorization": f"Bearer {token}"} if scenario.token else {}
        body = files[scenario.body].read_bytes() if scenario.body else None
        if body:
            headers["Content-Type"] = "application/json"

        def send(
            s: Scenario = scenario, i: str = ident, h: dict[str, str] = headers, b: Any = body
        ) -> Any:
            return client.open(s.path.replace("{id}", i), method=s.method, headers=h, data=b)

        send()  # steady state, as under wrk: no autocommit switch left over from another act
        response, wire = capture.gateway_wire(send)
        if response.status_code >= 400 or not scenario.limit_plan:
            found[scenario.name] = {"status": response.status_code, "wire": wire}
            continue
        baseline = capture.baseline_wire(url, scenario.limit_plan, ctx)
        found[scenario.name] = {"status": response.status_code, **capture.compare(wire, baseline)}
    return found


def limit_context(seeded: seed.Seeded, flow_ids: tuple[str, ...]) -> limit.Context:
    """The caller and the rows the PyMySQL limit works on: the owner, `main`, the 50-flow list."""
    return limit.Context(
        user_id=seeded.owner_id,
        email=seed.OWNER_EMAIL,
        password=seed.PASSWORD,
        password_hash="",
        project_id=seeded.projects["main"],
        list_project_id=seeded.projects["p50"],
        flow_ids=flow_ids,
    )


def stop_on_term(signum: int, frame: Any) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # unwinds: gunicorn is stopped on the way


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_term)
    started = time.monotonic()
    url = bench_url()
    OUT.mkdir(exist_ok=True)
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {
            "seconds": SECONDS,
            "rounds": ROUNDS,
            "limit_seconds": LIMIT_SECONDS,
            "scaling_seconds": SCALING_SECONDS,
            "connections": CONNECTIONS,
            "threads": THREADS,
            "web_concurrency": os.environ.get("WEB_CONCURRENCY") or "default (2 x cores)",
            "access_log": f"INFO, to {OUT / 'gateway.log'}",
        },
    }
    ensure_mariadb(url)
    wrk = ensure_wrk()
    seeded = seed.load(url) if os.environ.get("BENCH_REUSE") == "1" else None
    if seeded is None:
        say("seeding a fresh database")
        seeded = seed.seed(url)
    else:
        say("reusing the seeded database (BENCH_REUSE=1)")
        explain.drop_optional_indexes(url)
    results["seed"] = seeded.as_dict()
    say(f"seeded in {seeded.seconds:.1f} s")
    files, ids = write_inputs(seeded)
    env = gateway_env(url)
    results["worker_class"] = env["GUNICORN_WORKER_CLASS"]
    say(f"gunicorn workers: {env['GUNICORN_WORKER_CLASS']} (as deploy/gassapi-gateway.service)")
    app, token = issue_access_token(env, seeded)
    ctx = limit_context(seeded, tuple(seeded.flows["main"]))
    wanted = [s for s in os.environ.get("BENCH_SCENARIOS", "").split(",") if s]
    chosen = [s for s in scenarios(ids) if not wanted or s.name in wanted]
    say("capturing the wire traffic of one request per scenario")
    results["wire"] = capture_wire(app, token, url, chosen, files, ctx)
    (OUT / "gateway.log").write_text("")

    floor = Scenario("floor", "GET", BASE + "?act=health", token=False)
    for key, app_name, what in FLOORS:
        say(f"{key}: {what} under the same gunicorn config")
        with Gunicorn(app_name, env, OUT / f"{key}.log") as server:
            run_wrk(wrk, server, floor, files, token, WARMUP_SECONDS)
            results[key] = run_wrk(wrk, server, floor, files, token, SECONDS)
        say(f"{key}: {results[key]['rps']} requests/s")

    results["scenarios"] = {}
    results["limit"] = {}
    results["reference"] = {"provenance": reference_provenance()}
    # Issue #14's probe ("ceiling": what this stack reaches at best) is served beside the gateway
    # and measured right after it, scenario by scenario, so both ratios share the reference's
    # minutes. Its own metrics directory: a gunicorn master empties its directory at start.
    results["ceiling"] = {}
    ceiling_env = own_metrics(env, "metrics-probe")
    with (
        Gunicorn("bench.probe_app:app", ceiling_env, OUT / "probe.log") as ceiling,
        Gunicorn("wsgi:app", env, OUT / "gateway.log") as server,
    ):
        for scenario in chosen:
            if time.monotonic() - started > TOTAL_BUDGET:
                say(f"time budget spent; skipping {scenario.name}")
                break
            missing = probe(server, scenario, files, token)
            if missing:
                say(f"{scenario.name}: n/a ({missing})")
                results["scenarios"][scenario.name] = {"na": missing}
                continue
            if scenario.limit_plan:
                say(f"{scenario.name}: PyMySQL limit")
                results["limit"][scenario.name] = limit.run(
                    url, scenario.limit_plan, ctx, LIMIT_SECONDS, limit.default_processes()
                )
            run_wrk(wrk, server, scenario, files, token, WARMUP_SECONDS)
            references, runs = [], []
            for round_number in range(1, (ROUNDS if scenario.reference else 1) + 1):
                if scenario.reference:
                    say(f"{scenario.name}: reference ({scenario.reference}), round {round_number}")
                    references.append(run_reference(url, seeded, scenario.reference))
                say(f"{scenario.name}: gateway, round {round_number}")
                runs.append(run_wrk(wrk, server, scenario, files, token, SECONDS))
            if references:
                results["reference"][scenario.name] = median_reference(references)
            results["scenarios"][scenario.name] = median_run(runs)
            if scenario.reference:
                say(f"{scenario.name}: the issue's probe")
                results["ceiling"][scenario.name] = measure_ceiling(
                    wrk, ceiling, scenario, files, token
                )
        if not wanted:
            results["scaling"] = run_scaling(wrk, server, files, ids, token, url)
        results["rss_mb"] = {str(pid): rss_mb(pid) for pid in server.workers()}
        profiled = [s for s in os.environ.get("BENCH_PROFILE", "").split(",") if s]
        for scenario in chosen:
            if scenario.name in profiled and "na" not in results["scenarios"][scenario.name]:
                say(f"{scenario.name}: profiling with py-spy")
                results.setdefault("profiles", {})[scenario.name] = profile.record(
                    server.proc.pid if server.proc else 0,
                    lambda s=scenario: run_wrk(wrk, server, s, files, token, SECONDS),
                    OUT / f"profile-{scenario.name}",
                )
    results["elapsed_seconds"] = round(time.monotonic() - started, 1)
    results["machine"]["loadavg_at_end"] = os.getloadavg()
    table = render_table(results)  # also adds the ratios to `results`
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(table)
    say(f"done in {results['elapsed_seconds']} s; details in {RESULTS.relative_to(ROOT)}")
    return 0


def run_scaling(
    wrk: str,
    server: Gunicorn,
    files: dict[str, Path],
    ids: dict[str, str],
    token: str,
    url: str,
) -> dict[str, Any]:
    found: dict[str, Any] = {"explain": explain_lists(url, ids)}
    lists, toggles = scaling_scenarios(ids)[:3], scaling_scenarios(ids)[3:]
    for scenario in lists:
        say(f"scaling: {scenario.name}")
        found[scenario.name] = run_wrk(
            wrk, server, scenario, files, token, scenario.seconds or SCALING_SECONDS
        )
    # Alternated twice (1, 1000, 1, 1000) and averaged, so drift on the machine cancels out.
    runs: dict[str, list[dict[str, Any]]] = {s.name: [] for s in toggles}
    for _ in range(2):
        for scenario in toggles:
            say(f"scaling: {scenario.name}")
            runs[scenario.name].append(
                run_wrk(wrk, server, scenario, files, token, scenario.seconds or SCALING_SECONDS)
            )
    for name, measured in runs.items():
        found[name] = {
            "rps": round(sum(m["rps"] for m in measured) / len(measured), 1),
            "p50_ms": round(sum(m["p50_ms"] for m in measured) / len(measured), 2),
            "errors": sum(m["errors"] for m in measured),
            "runs": measured,
        }
    add_list_ratios(found)
    found["toggle_rps_ratio_1000_vs_1"] = round(
        found["toggle_hot_1000"]["rps"] / max(found["toggle_hot_1"]["rps"], 0.1), 2
    )
    if os.environ.get("BENCH_INDEXES", "1") != "0":
        say("scaling: again with the optional indexes of `add-indexes` (dropped afterwards)")
        extra: dict[str, Any] = {"added": explain.add_optional_indexes(url)}
        try:
            extra["explain"] = explain_lists(url, ids)
            for scenario in scaling_scenarios(ids)[:3]:
                extra[scenario.name] = run_wrk(
                    wrk, server, scenario, files, token, scenario.seconds or SCALING_SECONDS
                )
            add_list_ratios(extra)
        finally:
            extra["dropped"] = explain.drop_optional_indexes(url)
        found["with_optional_indexes"] = extra
    return found


def explain_lists(url: str, ids: dict[str, str]) -> dict[str, Any]:
    return {
        label: explain.explain_list(url, ids[f"project_{name}"])
        for label, name in (("100", "p100"), ("10k", "p10k"), ("100k", "p100k"))
    }


def add_list_ratios(found: dict[str, Any]) -> None:
    base = found["flows_list_100"]["p50_ms"]
    for label in ("10k", "100k"):
        row = found[f"flows_list_{label}"]
        found[f"list_p50_ratio_{label}"] = (
            round(row["p50_ms"] / base, 2) if row["requests"] and base else None
        )


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    server = ""
    with contextlib.suppress(OSError):
        server = subprocess.run(
            ["mariadbd", "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    return {
        "loadavg_at_start": os.getloadavg(),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "database": server,
    }


if __name__ == "__main__":
    sys.exit(main())
