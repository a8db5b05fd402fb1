"""What MariaDB Galera asks of the gateway that one server does not (docs/scaling.md).

The behaviour on a real three-node cluster is proven by `make stress-cluster`; these checks run
in every suite: tables Galera can replicate, no lock it does not replicate, causal reads asked
for on a Galera server only.
"""

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from backend.db import db, galera
from config import load_config

ROOT = Path(__file__).resolve().parent.parent
LEGACY_SQL = Path(__file__).with_name("legacy_schema.sql")
# Galera replicates row events of InnoDB tables with a primary key; LOCK TABLES and GET_LOCK()
# lock one node only, so no statement of the gateway may rely on them.
NODE_LOCAL_LOCKS = re.compile(r"\bLOCK\s+TABLES?\b|\bGET_LOCK\s*\(|\bRELEASE_LOCK\s*\(", re.I)


def test_every_table_the_gateway_defines_has_a_primary_key_and_is_innodb() -> None:
    for table in db.metadata.sorted_tables:
        assert list(table.primary_key.columns), table.name
        assert table.kwargs.get("mysql_engine") == "InnoDB", table.name


def test_every_legacy_table_has_a_primary_key_and_is_innodb() -> None:
    tables = re.findall(
        r"CREATE TABLE `(\w+)` \((.*?)\n\) (ENGINE=\w+)", LEGACY_SQL.read_text(), re.S
    )
    assert len(tables) == 14
    for name, body, engine in tables:
        assert "PRIMARY KEY" in body, name
        assert engine == "ENGINE=InnoDB", name


def test_no_gateway_statement_takes_a_lock_galera_keeps_on_one_node() -> None:
    sources = [
        *ROOT.glob("backend/**/*.py"),
        *ROOT.glob("services/**/*.py"),
        *ROOT.glob("handlers/**/*.py"),
    ]
    assert sources
    for path in sources:
        assert not NODE_LOCAL_LOCKS.search(path.read_text()), path


def test_causal_reads_are_on_by_default_and_can_be_turned_off() -> None:
    assert load_config({})["DB_WSREP_SYNC_WAIT"] == 1
    assert load_config({"DB_WSREP_SYNC_WAIT": "3"})["DB_WSREP_SYNC_WAIT"] == 3
    assert load_config({"DB_WSREP_SYNC_WAIT": "0"})["DB_WSREP_SYNC_WAIT"] == 0


def test_a_server_without_galera_keeps_its_session_untouched(app: Flask, database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("wsrep variables: MariaDB leg")
    with app.app_context():
        values = db.session.execute(text("SELECT @@wsrep_on, @@wsrep_sync_wait")).one()
    assert tuple(values) == (0, 0)


class FakeCursor:
    """Answers SHOW VARIABLES LIKE 'wsrep_on' as a server would and records what it was sent."""

    def __init__(self, wsrep_on: str | None, sent: list[tuple[str, Any]]) -> None:
        self.wsrep_on, self.sent = wsrep_on, sent

    def __enter__(self) -> "FakeCursor":
        return self

    def __exit__(self, *_: Any) -> None:
        return None

    def execute(self, statement: str, args: Any = None) -> None:
        self.sent.append((statement, args))

    def fetchone(self) -> tuple[str, str] | None:
        return None if self.wsrep_on is None else ("wsrep_on", self.wsrep_on)


def statements_on_connect(wsrep_on: str | None, sync_wait: int) -> list[tuple[str, Any]]:
    sent: list[tuple[str, Any]] = []
    connection = type("Connection", (), {"cursor": lambda self: FakeCursor(wsrep_on, sent)})()
    galera.causal_reads(connection, sync_wait)
    return sent


def test_a_galera_connection_asks_for_causal_reads_once_on_connect() -> None:
    assert statements_on_connect("ON", 1) == [
        (galera.IS_GALERA, None),
        ("SET SESSION wsrep_sync_wait = %s", (1,)),
    ]


def test_mysql_and_mariadb_without_wsrep_only_answer_the_question() -> None:
    assert statements_on_connect(None, 1) == [(galera.IS_GALERA, None)]  # MySQL: no variable
    assert statements_on_connect("OFF", 1) == [(galera.IS_GALERA, None)]
