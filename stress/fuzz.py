"""Issue #7 item 4: schemathesis against the live gateway's own OpenAPI document.

A gateway on the shared MariaDB (database `gw_fuzz`, recreated) is fuzzed through
`GET /gassapi2/backend/openapi.json` with a valid Bearer token. Path ids come from dictionaries
of seeded rows part of the time (the rest are generated), so handlers run past their 404s; the
DELETE operations get their own sacrificial rows (MCP tokens included, minted over HTTP). Five
runs, the destructive ones last:

1. "main": every operation except DELETEs and the ones that end the caller's own session or
   account, as user A;
2. "mcp": the same operations with an MCP token of A's project as the Bearer (issue 15 item 1:
   the token acts as its minter, on its own project only);
3. "delete": the DELETE operations, as user A (schemathesis also reuses ids it saw in responses,
   so these may delete the seeded project: nothing runs after them as A);
4. "account": profile update, user update and toggle, and leaving A's project, as user B (a
   member of it), since they change B's account;
5. "session": logout, logout-all, change-password and user delete, as B (after them, B's token
   is dead: run in the same run as the others, they left those only 401s to check).

Before the runs, deterministic sweeps of what issue 15 found, on every operation:
stress/huge_numbers.py sends an integer past the float range in every body field (each answer
must be a 4xx); stress/hostile_requests.py sends malformed and non-Bearer `Authorization` headers,
310-digit ids, huge query values, bodies past `MAX_BODY_BYTES` and checks the response caps on
101 seeded folders, environments and endpoints.

Checks: no 5xx, status codes, content types, required headers and bodies as declared. The run
passes with zero failures, zero 5xx in the gateway's access log and at least FUZZ_MIN_CASES
(2,000) generated requests. Bounded by --max-examples per operation and a timeout per run.
"""

import glob
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from stress import hostile_requests, huge_numbers, report
from stress.common import (
    Seed,
    call,
    database_url,
    engine_for,
    ensure_shared_mariadb,
    gateway_now,
    log,
    new_id,
    print_figures,
    save_result,
    seed,
    start_gateway,
    tooling_app,
)

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "50"))
ACCOUNT_MAX_EXAMPLES = int(os.environ.get("FUZZ_ACCOUNT_MAX_EXAMPLES", "40"))
RUN_TIMEOUT = int(os.environ.get("FUZZ_RUN_TIMEOUT", "420"))
MIN_CASES = int(os.environ.get("FUZZ_MIN_CASES", "2000"))
SEED = int(os.environ.get("FUZZ_SEED", "20261129"))
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)
ACCOUNT_OPERATIONS = (
    "profile_update_post",
    "user_update_post",
    "user_update_put",
    "user_toggle_status_put",
    "logout_post",
    "change_password_post",
    "logout_all_post",
    "user_delete_delete",
    "project_leave_post",
)
# operation ids whose `{id}` is drawn, part of the time, from one dictionary of seeded ids
ID_SOURCES = {
    "flows": (
        "flow_execute_get",
        "flow_execute_delete",
        "flow_execute_start_post",
        "flow_executions_get",
        "flow_toggle_active_put",
        "flow_activate_get",
        "flow_activate_put",
        "flow_deactivate_get",
        "flow_deactivate_put",
        "flow_status_history_get",
        "flow_get_get",
        "flow_update_put",
        "flow_detail_ui_get",
        "flow_update_ui_put",
        "flow_duplicate_post",
    ),
    "victim_flows": ("flow_delete_delete",),
    "executions": ("flow_execution_heartbeat_post", "flow_execution_finish_post"),
    "projects": (
        "flows_active_get",
        "flows_set_active_post",
        "folders_list_get",
        "folder_create_post",
        "project_endpoints_get",
        "project_endpoints_grouped_get",
        "environments_list_get",
        "environment_create_post",
        "project_detail_get",
        "project_update_put",
        "project_add_member_post",
        "project_context_get",
        "mcp_generate_config_post",
        "flow_list_get",
        "flow_create_post",
        "project_members_get",
        "project_remove_member_delete",
        "project_leave_post",
        "mcp_tokens_list_get",
        "mcp_token_policy_put",
    ),
    "victim_mcp_tokens": ("mcp_token_revoke_delete",),
    "folders": (
        "folder_detail_get",
        "folder_update_put",
        "folder_update_post",
        "endpoints_list_get",
        "endpoint_create_post",
        "endpoint_list_get",
    ),
    "victim_folders": ("folder_delete_delete",),
    "endpoints": ("endpoint_detail_get", "endpoint_update_put", "endpoint_get_get"),
    "victim_endpoints": ("endpoint_delete_delete",),
    "environments": (
        "environment_detail_get",
        "environment_update_put",
        "environment_set_default_post",
    ),
    "victim_environments": ("environment_delete_delete",),
    "users": ("user_get_get",),
    "assets": ("docs_asset_get",),
    "account_user": (
        "user_update_post",
        "user_update_put",
        "user_toggle_status_put",
        "user_delete_delete",
    ),
}
ID_PROBABILITY = 0.7
CAP_ROWS = 101  # more folders, environments and endpoints than any answer may hold (item 10)
RUN_TOKENS = {
    "main": "owner",
    "mcp": "mcp",
    "delete": "owner",
    "account": "member",
    "session": "member",
}
# the ones that end the member's session or account run last, or the rest would only get 401s
SESSION_ENDING = ("logout_post", "change_password_post", "logout_all_post", "user_delete_delete")
MEMBER_RUNS = {
    "account": tuple(op for op in ACCOUNT_OPERATIONS if op not in SESSION_ENDING),
    "session": SESSION_ENDING,
}


def seed_extras(seeded: Seed) -> dict[str, Any]:
    """A second user (the account run), sacrificial rows for the DELETEs, running executions."""
    from backend.auth.tokens import issue_token
    from backend.db import db
    from backend.models import (
        Endpoint,
        Environment,
        Flow,
        FlowExecution,
        Folder,
        ProjectMember,
        User,
    )

    app = tooling_app(seeded.url)
    stamp = gateway_now()
    ids: dict[str, list[str]] = {
        "victim_flows": [new_id("flow") for _ in range(3)],
        "victim_folders": [new_id("col") for _ in range(2)],
        "victim_endpoints": [new_id("ep") for _ in range(2)],
        "victim_environments": [new_id("env") for _ in range(2)],
        "executions": [f"exec_{time.time_ns() + i:016x}{os.urandom(8).hex()}" for i in range(4)],
    }
    account_id, account_email = new_id("user"), f"fuzz-b-{os.urandom(3).hex()}@example.com"
    common = {"created_at": stamp, "updated_at": stamp}
    with app.app_context():
        db.session.execute(
            insert(User.__table__),
            [
                {
                    "id": account_id,
                    "email": account_email,
                    "password_hash": "$2y$04$" + "x" * 53,
                    "name": "Fuzz B",
                    "is_active": 1,
                    "email_verified": 1,
                    "token_version": 0,
                    **common,
                }
            ],
        )
        db.session.execute(
            insert(Flow.__table__),
            [
                {
                    "id": flow_id,
                    "name": f"Victim flow {n}",
                    "project_id": seeded.project_id,
                    "flow_data": '{"version":"1.0","steps":[],"config":{}}',
                    "created_by": seeded.user_id,
                    "is_active": 0,
                    "flow_inputs": "[]",
                    **common,
                }
                for n, flow_id in enumerate(ids["victim_flows"])
            ],
        )
        db.session.execute(
            insert(Folder.__table__),
            [
                {
                    "id": folder_id,
                    "name": f"Victim folder {n}",
                    "project_id": seeded.project_id,
                    "headers": "[]",
                    "variables": "[]",
                    "is_default": 0,
                    "created_by": seeded.user_id,
                    **common,
                }
                for n, folder_id in enumerate(ids["victim_folders"])
            ],
        )
        db.session.execute(
            insert(Endpoint.__table__),
            [
                {
                    "id": endpoint_id,
                    "name": f"Victim endpoint {n}",
                    "method": "POST",
                    "url": "https://example.com/victim",
                    "headers": "[]",
                    "folder_id": seeded.folder_id,
                    "created_by": seeded.user_id,
                    **common,
                }
                for n, endpoint_id in enumerate(ids["victim_endpoints"])
            ],
        )
        db.session.execute(
            insert(Environment.__table__),
            [
                {
                    "id": environment_id,
                    "project_id": seeded.project_id,
                    "name": f"victim-{n}",
                    "variables": "{}",
                    "is_default": 0,
                    **common,
                }
                for n, environment_id in enumerate(ids["victim_environments"])
            ],
        )
        db.session.execute(
            insert(ProjectMember.__table__),
            [
                {
                    "id": new_id("pm"),
                    "project_id": seeded.project_id,
                    "user_id": account_id,
                    "invited_by": seeded.user_id,
                    "joined_at": stamp,
                    "created_at": stamp,
                }
            ],
        )
        seed_past_the_caps(seeded, common)
        db.session.execute(
            insert(FlowExecution.__table__),
            [
                {
                    "id": execution_id,
                    "flow_id": seeded.flow_ids[n % len(seeded.flow_ids)],
                    "project_id": seeded.project_id,
                    "status": "running",
                    "started_by": seeded.user_id,
                    "started_at": stamp,
                    "heartbeat_at": stamp,
                    "lease_expires_at": stamp + timedelta(seconds=60 if n % 2 else -60),
                }
                for n, execution_id in enumerate(ids["executions"])
            ],
        )
        db.session.commit()
        account_token = issue_token(account_id, account_email, "access", 0)
        db.session.remove()
        db.engine.dispose()
    ids.update(
        flows=list(seeded.flow_ids),
        projects=[seeded.project_id],
        folders=[seeded.folder_id],
        endpoints=[seeded.endpoint_id],
        environments=[seeded.environment_id],
        users=[seeded.user_id],
        assets=["swagger-ui.css", "swagger-ui-bundle.js", "init.js"],
        account_user=[account_id],
    )
    return {"ids": ids, "account_token": account_token, "account_id": account_id}


def seed_past_the_caps(seeded: Seed, common: dict[str, Any]) -> None:
    """CAP_ROWS folders, environments and endpoints more in the project (item 10's caps)."""
    from backend.db import db
    from backend.models import Endpoint, Environment, Folder

    rows = range(CAP_ROWS)
    folder = {"project_id": seeded.project_id, "headers": "[]", "variables": "[]", "is_default": 0}
    db.session.execute(
        insert(Folder.__table__),
        [
            {"id": new_id("col"), "name": f"Cap folder {n}", "created_by": seeded.user_id}
            | folder
            | common
            for n in rows
        ],
    )
    environment = {"project_id": seeded.project_id, "variables": "{}", "is_default": 0}
    db.session.execute(
        insert(Environment.__table__),
        [{"id": new_id("env"), "name": f"cap-{n}"} | environment | common for n in rows],
    )
    endpoint = {"method": "GET", "url": "https://example.com/cap", "headers": "[]"}
    db.session.execute(
        insert(Endpoint.__table__),
        [
            {"id": new_id("ep"), "name": f"Cap endpoint {n}", "folder_id": seeded.folder_id}
            | {"created_by": seeded.user_id}
            | endpoint
            | common
            for n in rows
        ],
    )


def mint_mcp_tokens(port: int, seeded: Seed, extras: dict[str, Any]) -> None:
    """Over HTTP, as the acts do it: the owner's token for the "mcp" run, then victims for the
    revoke act (two of the owner's, one the member minted)."""
    extras["mcp_token"] = mint_mcp_token(port, seeded.project_id, seeded.token)
    kept = mcp_token_ids(port, seeded)
    for minter in (seeded.token, seeded.token, extras["account_token"]):
        mint_mcp_token(port, seeded.project_id, minter)
    extras["ids"]["victim_mcp_tokens"] = sorted(mcp_token_ids(port, seeded) - kept)


def mint_mcp_token(port: int, project_id: str, token: str) -> str:
    answer = call(port, "mcp_generate_config", "POST", id=project_id, token=token)
    if answer.status != 201:
        raise SystemExit(f"fuzz: mcp_generate_config answered {answer.status}: {answer.body!r}")
    return str(answer.data["token"])


def mcp_token_ids(port: int, seeded: Seed) -> set[str]:
    answer = call(port, "mcp_tokens", id=seeded.project_id, token=seeded.token)
    return {row["id"] for row in answer.data["tokens"]}


def toml_list(values: Any) -> str:
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"


def write_config(path: Path, ids: dict[str, list[str]]) -> None:
    lines = []
    for name, values in ids.items():
        lines += [f"[dictionaries.{name}]", f"values = {toml_list(values)}", ""]
    for name, operations in ID_SOURCES.items():
        binding = f'{{ dictionary = "{name}", probability = {ID_PROBABILITY} }}'
        lines += [
            "[[operations]]",
            f"include-operation-id = {toml_list(operations)}",
            f'parameters = {{ "path.id" = {binding} }}',
            "",
        ]
    path.write_text("\n".join(lines))


def schemathesis(
    config: Path, port: int, token: str, report_dir: Path, kind: str
) -> dict[str, Any]:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "run",
        f"http://127.0.0.1:{port}/gassapi2/backend/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(ACCOUNT_MAX_EXAMPLES if kind in MEMBER_RUNS else MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "2",
        "--request-timeout",
        "20",
        "--suppress-health-check",
        "all",
        "--report",
        "json",
        "--report-dir",
        str(report_dir),
        "--no-color",
    ]
    if kind in MEMBER_RUNS:
        for operation in MEMBER_RUNS[kind]:
            command += ["--include-operation-id", operation]
    else:
        command += ["--include-method" if kind == "delete" else "--exclude-method", "DELETE"]
        for operation in ACCOUNT_OPERATIONS:
            command += ["--exclude-operation-id", operation]
    output = report_dir / "output.txt"
    started = time.monotonic()
    with output.open("wb") as sink:
        try:
            code = subprocess.run(
                command, cwd=report_dir, stdout=sink, stderr=subprocess.STDOUT, timeout=RUN_TIMEOUT
            ).returncode
        except subprocess.TimeoutExpired:
            code = -1
    seconds = time.monotonic() - started
    reports = sorted(glob.glob(str(report_dir / "*.json")))
    report = json.loads(Path(reports[-1]).read_text()) if reports else {}
    failures = report.get("failures", [])
    return {
        "exit_code": code,
        "timed_out": code == -1,
        "seconds": round(seconds, 1),
        "cases": report.get("test_cases", {}).get("generated", 0),
        "operations": report.get("operations", {}).get("tested", 0),
        "failures": [
            f"{f.get('code')} {f.get('title')}: {', '.join(f.get('operations', []))}"
            for f in failures
        ],
        "errors": report.get("errors", []),
        "output": str(output),
    }


def access_statuses(log_path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in log_path.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"status"' in line:
            try:
                status = str(json.loads(line)["status"])
            except (ValueError, KeyError):
                continue
            counts[status] = counts.get(status, 0) + 1
    return dict(sorted(counts.items()))


def callers(
    seeded: Seed, extras: dict[str, Any]
) -> tuple[Callable[[str], str], Callable[[str], str]]:
    """Each operation as the user its run acts as, on a seeded row where it takes an id."""
    sources = {op: name for name, operations in ID_SOURCES.items() for op in operations}

    def token_for(operation_id: str) -> str:
        return extras["account_token"] if operation_id in ACCOUNT_OPERATIONS else seeded.token

    def id_for(operation_id: str) -> str:
        name = sources.get(operation_id)
        return extras["ids"][name][0] if name else "no_such_row"

    return token_for, id_for


def huge_number_sweep(port: int, seeded: Seed, extras: dict[str, Any]) -> dict[str, Any]:
    return huge_numbers.sweep(port, call(port, "openapi").json(), *callers(seeded, extras))


def hostile_sweep(port: int, seeded: Seed, extras: dict[str, Any]) -> dict[str, Any]:
    return hostile_requests.sweep(port, call(port, "openapi").json(), *callers(seeded, extras))


def main() -> dict[str, Any]:
    ensure_shared_mariadb()
    url = database_url(os.environ.get("FUZZ_DATABASE", "gw_fuzz"))
    seeded = seed(url, 4)
    extras = seed_extras(seeded)
    work = Path(tempfile.mkdtemp(prefix="gw-fuzz-"))
    config = work / "schemathesis.toml"
    gateway = start_gateway(url, workers=2, log_dir=work)
    try:
        mint_mcp_tokens(gateway.port, seeded, extras)
        write_config(config, extras["ids"])
        log("fuzz: integers past the float range in every body field")
        huge = huge_number_sweep(gateway.port, seeded, extras)
        log("fuzz: authorization headers, huge ids and queries, oversized bodies, response caps")
        hostile = hostile_sweep(gateway.port, seeded, extras)
        tokens = {
            "owner": seeded.token,
            "mcp": extras["mcp_token"],
            "member": extras["account_token"],
        }
        runs = {}
        for name, token in ((name, tokens[who]) for name, who in RUN_TOKENS.items()):
            report_dir = work / name
            report_dir.mkdir()
            log(f"fuzz: schemathesis run '{name}' against 127.0.0.1:{gateway.port}")
            runs[name] = schemathesis(config, gateway.port, token, report_dir, name)
            log(f"fuzz: '{name}' generated {runs[name]['cases']} cases")
        statuses = access_statuses(gateway.log_path)
        tracebacks = gateway.tracebacks()
    finally:
        gateway.stop()
    engine_for(url).dispose()
    cases = sum(run["cases"] for run in runs.values())
    errors_5xx = sum(count for status, count in statuses.items() if status.startswith("5"))
    failures = [f"{name}: {text}" for name, run in runs.items() for text in run["failures"]]
    problems = list(failures) + [f"huge numbers: {text}" for text in huge["problems"]]
    problems += [f"hostile requests: {text}" for text in hostile["problems"]]
    problems += [f"{name}: errors {run['errors']}" for name, run in runs.items() if run["errors"]]
    problems += [f"{name}: timed out" for name, run in runs.items() if run["timed_out"]]
    if errors_5xx or tracebacks:
        problems.append(f"gateway answered 5xx {errors_5xx} times, {tracebacks} tracebacks")
    if cases < MIN_CASES:
        problems.append(f"only {cases} cases generated (< {MIN_CASES})")
    figures: dict[str, Any] = {
        "cases": cases,
        "requests_received": sum(statuses.values()),
        "operations": sum(run["operations"] for run in runs.values()),
        "max_examples_per_operation": MAX_EXAMPLES,
        "account_max_examples_per_operation": ACCOUNT_MAX_EXAMPLES,
        "seed": SEED,
        "seconds": round(sum(run["seconds"] for run in runs.values()), 1),
        "status_counts": statuses,
        "errors_5xx": errors_5xx,
        "schema_failures": len(failures),
        "huge_numbers": {k: v for k, v in huge.items() if k != "problems"},
        "hostile_requests": {k: v for k, v in hostile.items() if k != "problems"},
        "gateway_tracebacks": tracebacks,
        "runs": {name: {k: v for k, v in r.items() if k != "errors"} for name, r in runs.items()},
        "work_dir": str(work),
        "problems": problems[:20],
        "passed": not problems,
    }
    return figures


if __name__ == "__main__":
    result = main()
    save_result("fuzz", result)
    print_figures("fuzz: schemathesis against the live OpenAPI document", result)
    report.update()
    log(f"figures written to {report.DOC.relative_to(report.ROOT)}")
    raise SystemExit(0 if result["passed"] else 1)
