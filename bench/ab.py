"""Two servers loaded in the same seconds: what a change buys, on a machine whose speed drifts.

    python -m bench.ab SCENARIO A B [--rounds 6] [--seconds 5]

A and B are sides: `gateway` (this tree), `gateway@REV` (a git revision, served from a temporary
worktree of this repository, on this checkout's venv), `probe` (issue #14's probe,
`bench/probe_app.py`), each optionally followed by environment settings for its gunicorn:
`gateway+GUNICORN_WORKER_CLASS=gthread`, `gateway@HEAD~3+WEB_CONCURRENCY=3`. Both are served at
once on the bench database (seeded by `make bench`), each loaded by its own wrk (`-t1 -c8`) in
the same seconds, round after round; a round reports each side's req/s, p99 and CPU per request
of its workers, and B's req/s ÷ A's. The geometric mean of the rounds is the answer: measured
one after the other, the same two trees moved ±15 % from one round to the next on this VM;
measured at once, their ratio a few percent.

Two same sides (`gateway gateway`) show the method's own bias; run a comparison in both orders.
"""

import argparse
import contextlib
import dataclasses
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import run

APPS = {"gateway": "wsgi:app", "probe": "bench.probe_app:app"}
CONNECTIONS = 8


@dataclasses.dataclass(frozen=True)
class Side:
    app: str  # gunicorn's APP argument
    revision: str | None = None  # served from a worktree of this revision
    env: tuple[tuple[str, str], ...] = ()


def parse_side(text: str) -> Side:
    """`gateway`, `probe` or `gateway@REV`, then `+NAME=VALUE` settings."""
    head, *settings = text.split("+")
    name, _, revision = head.partition("@")
    if name not in APPS:
        raise ValueError(f"{text!r}: a side is one of {', '.join(APPS)} (gateway@REV for a tree)")
    if revision and name != "gateway":
        raise ValueError(f"{text!r}: only the gateway is served from a revision")
    env = []
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or not key:
            raise ValueError(f"{text!r}: settings are +NAME=VALUE")
        env.append((key, value))
    return Side(APPS[name], revision or None, tuple(env))


def ratios(rounds: list[tuple[float, float]]) -> dict[str, float]:
    """B's req/s ÷ A's per round, summarised: geometric mean, median, lowest and highest."""
    each = [b / a for a, b in rounds if a > 0 and b > 0]
    if not each:
        return {}
    return {
        "geomean": round(statistics.geometric_mean(each), 3),
        "median": round(statistics.median(each), 3),
        "low": round(min(each), 3),
        "high": round(max(each), 3),
    }


@contextlib.contextmanager
def checkout(revision: str | None) -> Iterator[Path]:
    """This tree, or a temporary detached worktree of `revision` (removed afterwards)."""
    if revision is None:
        yield run.ROOT
        return
    place = Path(tempfile.mkdtemp(prefix="bench-ab-"))
    tree = place / "tree"
    git = ["git", "-C", str(run.ROOT)]
    subprocess.run([*git, "worktree", "add", "--detach", str(tree), revision], check=True)
    try:
        yield tree
    finally:
        subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=False)
        shutil.rmtree(place, ignore_errors=True)


def side_env(base: dict[str, str], side: Side, tree: Path, tag: str) -> dict[str, str]:
    # A worktree's own modules come before the editable install of this checkout.
    return {**run.own_metrics(base, f"metrics-ab-{tag}"), "PYTHONPATH": str(tree), **dict(side.env)}


def measure_round(
    wrk: str,
    servers: list[Any],
    scenario: run.Scenario,
    files: dict[str, Path],
    token: str,
    seconds: float,
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [{}, {}]

    def load(index: int) -> None:
        found[index] = run.run_wrk(wrk, servers[index], scenario, files, token, seconds)

    threads = [threading.Thread(target=load, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario")
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    try:
        sides = [parse_side(args.a), parse_side(args.b)]
    except ValueError as exc:
        parser.error(str(exc))
    url, seeded = run.seeded_bench()
    files, ids = run.write_inputs(seeded)
    chosen = [s for s in run.scenarios(ids) if s.name == args.scenario]
    if not chosen:
        parser.error(
            f"no scenario {args.scenario!r}: {', '.join(s.name for s in run.scenarios(ids))}"
        )
    scenario = dataclasses.replace(chosen[0], threads=1, connections=CONNECTIONS)
    env = run.gateway_env(url)
    _, token = run.issue_access_token(env, seeded)
    wrk = run.ensure_wrk()
    rounds: list[tuple[float, float]] = []
    with contextlib.ExitStack() as stack:
        servers = []
        for tag, side in zip("AB", sides, strict=True):
            tree = stack.enter_context(checkout(side.revision))
            server = run.Gunicorn(
                side.app, side_env(env, side, tree, tag), run.OUT / f"ab-{tag}.log", cwd=tree
            )
            servers.append(stack.enter_context(server))
        for server in servers:
            run.run_wrk(wrk, server, scenario, files, token, run.WARMUP_SECONDS)
        for number in range(1, args.rounds + 1):
            a, b = measure_round(wrk, servers, scenario, files, token, args.seconds)
            rounds.append((a["rps"], b["rps"]))
            print(
                f"round {number}: "
                + "  ".join(
                    f"{tag} {r['rps']:8.1f} req/s p99 {r['p99_ms']:6.1f} ms"
                    f" cpu {r['cpu_ms_per_request'].get('gateway', 0):.3f} ms"
                    for tag, r in (("A", a), ("B", b))
                )
                + f"  B/A {ratios([(a['rps'], b['rps'])]).get('geomean', 'n/a')}",
                flush=True,
            )
    print(f"{args.scenario}: B/A {ratios(rounds)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
