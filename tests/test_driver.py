"""The gateway's PyMySQL connection (`backend.db.driver`) answers exactly what PyMySQL's own
answers, whether a result's column definitions were parsed now or remembered from an earlier
result, and a decoder swapped between two runs of one statement still applies."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import pymysql
import pytest
from pymysql.constants import COMMAND, CR
from sqlalchemy.engine import make_url

from backend.db import direct, driver

# Every column type the gateway's tables use, NULLs, text with emoji, a fraction of a second,
# values whose length takes 1, 3 and 4 bytes on the wire.
STATEMENT = """
SELECT 7 AS i, CAST(NULL AS SIGNED) AS n, 'héllo 🚀' AS t, CAST('0.50' AS DECIMAL(3,2)) AS d,
       CAST('2025-01-31 23:59:59' AS DATETIME) AS at,
       CAST('2025-01-31 23:59:59.250000' AS DATETIME(6)) AS fine,
       JSON_OBJECT('a', JSON_ARRAY(1, 2)) AS j, CAST('raw' AS BINARY) AS b, 2.5e-5 AS f,
       REPEAT('x', 300) AS two_byte_length, REPEAT('é', 40000) AS three_byte_length, '' AS empty
"""


@contextmanager
def connected(url: str, connect: Any) -> Iterator[Any]:
    parts = make_url(url)
    connection = connect(
        host=parts.host,
        port=parts.port or 3306,
        user=parts.username,
        password=parts.password or "",
        database=parts.database,
        charset="utf8mb4",
    )
    try:
        yield connection
    finally:
        connection.close()


def answer(connection: Any) -> tuple[Any, Any]:
    with connection.cursor() as cursor:
        cursor.execute(STATEMENT)
        return cursor.description, cursor.fetchall()


def test_remembered_definitions_answer_what_pymysql_answers(mysql_url: str) -> None:
    with connected(mysql_url, pymysql.connect) as plain:
        expected = answer(plain)
    with connected(mysql_url, driver.connect) as gateway:
        assert answer(gateway) == expected  # parsed now
        assert answer(gateway) == expected  # remembered
    with connected(mysql_url, driver.connect) as another:
        assert answer(another) == expected  # remembered by another connection


# 500 rows from 0 bytes to over the 8 KiB read buffer, NULLs among them: rows cut by the end of
# the buffer, rows larger than it, and the packets after the result still in step.
MANY_ROWS = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
SELECT i, REPEAT('x', i * 37 % 9000) AS text, IF(i % 7 = 0, NULL, i) AS maybe FROM n
"""


def test_many_rows_read_from_the_buffer_answer_what_pymysql_answers(mysql_url: str) -> None:
    answers = []
    for connect in (pymysql.connect, driver.connect):
        with connected(mysql_url, connect) as connection, connection.cursor() as cursor:
            cursor.execute(MANY_ROWS)
            answers.append((cursor.fetchall(), cursor.rowcount))
            cursor.execute("SELECT 1")  # the connection is still in step after the result
            answers.append(cursor.fetchall())
    assert answers[:2] == answers[2:]
    assert len(answers[0][0]) == 500


def test_a_decoder_swapped_between_two_runs_of_one_statement_applies(mysql_url: str) -> None:
    with connected(mysql_url, driver.connect) as gateway:
        parsed = answer(gateway)[1][0]
        decoders = gateway.decoders
        gateway.decoders = {**decoders, **direct.TEXT_DATETIMES}
        kept = answer(gateway)[1][0]
        gateway.decoders = decoders
        again = answer(gateway)[1][0]
    assert kept[4] == "2025-01-31 23:59:59" and parsed[4] != kept[4]
    assert again == parsed


# A row whose value fails after two good rows: the error packet arrives among the rows.
FAILING = "SELECT seq, (SELECT 1 UNION SELECT seq) AS one FROM seq_1_to_5"


def failure(connection: Any) -> tuple[type, tuple[Any, ...], Any]:
    with connection.cursor() as cursor:
        try:
            cursor.execute(FAILING)
        except pymysql.MySQLError as exc:
            refused = (type(exc), exc.args)
        cursor.execute("SELECT 'next'")  # the connection is still in step
        return (*refused, cursor.fetchall())


def test_an_error_among_the_rows_raises_what_pymysql_raises(mysql_url: str) -> None:
    with connected(mysql_url, pymysql.connect) as plain:
        expected = failure(plain)
    with connected(mysql_url, driver.connect) as gateway:
        assert failure(gateway) == expected
    assert expected[0] is pymysql.err.OperationalError and expected[2] == (("next",),)


def test_a_connection_lost_inside_a_result_closes_it_as_pymysql_does(mysql_url: str) -> None:
    with connected(mysql_url, driver.connect) as gateway:
        gateway._rfile = BrokenReader(gateway._rfile)  # noqa: SLF001 - a socket that dies
        with gateway.cursor() as cursor, pytest.raises(pymysql.err.OperationalError) as lost:
            cursor.execute(STATEMENT)
        assert lost.value.args[0] == CR.CR_SERVER_LOST and gateway._sock is None  # noqa: SLF001


class Interrupted(BaseException):
    """What a worker's timeout (gevent's `Timeout`, gunicorn's abort) raises inside a read."""


def test_a_read_interrupted_inside_a_result_closes_the_connection(mysql_url: str) -> None:
    with connected(mysql_url, driver.connect) as gateway:
        gateway._rfile = BrokenReader(gateway._rfile, Interrupted())  # noqa: SLF001
        with gateway.cursor() as cursor, pytest.raises(Interrupted):
            cursor.execute(STATEMENT)
        assert gateway._sock is None  # noqa: SLF001 - never reused half-read


class BrokenReader:
    """The first packet reads, then the socket is gone (a server killed mid-result), or the
    third read raises `error`."""

    def __init__(self, inner: Any, error: BaseException | None = None) -> None:
        self.inner, self.reads = inner, 0
        self.error = error or ConnectionResetError(104, "Connection reset by peer")

    def read(self, count: int) -> bytes:
        self.step()
        return self.inner.read(count)

    def peek(self, count: int) -> bytes:
        self.step()
        return b""  # nothing buffered: the driver reads the packet on its own

    def step(self) -> None:
        self.reads += 1
        if self.reads > 2:
            raise self.error

    def close(self) -> None:
        self.inner.close()


# Text whose escaping matters: quotes, backslashes, control characters, NUL, emoji, `%`.
AWKWARD_TEXT = ("it's", 'say "hi"', "back\\slash", "line\nbreak\r\x1a\x00end", "🚀 100%", "")


def round_trip(connection: Any) -> list[Any]:
    """Each awkward text as a parameter: what the server read back, and its escaped form."""
    with connection.cursor() as cursor:
        found = []
        for text in AWKWARD_TEXT:
            cursor.execute("SELECT %(t)s, CONCAT(%(t)s)", {"t": text})
            found.append((cursor.fetchone(), connection.escape(text)))
        return found


@pytest.mark.parametrize("sql_mode", ["", "NO_BACKSLASH_ESCAPES"])
def test_text_parameters_are_escaped_as_pymysql_escapes_them(mysql_url: str, sql_mode: str) -> None:
    answers = []
    for connect in (pymysql.connect, driver.connect):
        with connected(mysql_url, connect) as connection:
            with connection.cursor() as cursor:
                cursor.execute("SET SESSION sql_mode = %s", (sql_mode,))
            answers.append(round_trip(connection))
    assert answers[0] == answers[1]
    assert [row for row, _ in answers[1]] == [(text, text) for text in AWKWARD_TEXT]


def writes(connection: Any) -> list[Any]:
    """What a cursor and its connection report after writes, commits and rollbacks."""
    seen = []
    with connection.cursor() as cursor:

        def run(sql: str) -> None:
            count = cursor.execute(sql)
            seen.append((sql, count, cursor.rowcount, cursor.lastrowid, connection.insert_id()))
            seen.append(connection.server_status & ~SESSION_STATE_CHANGED)

        run("CREATE TEMPORARY TABLE gw_driver_writes (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
        connection.begin()
        run("INSERT INTO gw_driver_writes (v) VALUES (1), (2), (3)")
        run("UPDATE gw_driver_writes SET v = v + 1 WHERE v > 1")
        run("UPDATE gw_driver_writes SET v = v WHERE id = 1")  # matched, nothing changed
        connection.commit()
        seen.append(connection.server_status & ~SESSION_STATE_CHANGED)
        run("DELETE FROM gw_driver_writes WHERE id = 3")
        connection.rollback()
        run("INSERT IGNORE INTO gw_driver_writes (id, v) VALUES (1, 5)")  # a warning: duplicate
        seen.append(cursor.warning_count)
        run("SELECT COUNT(*) FROM gw_driver_writes")
        seen.append(cursor.fetchall())
        connection.autocommit(True)
        connection.ping(False)
        seen.append(connection.server_status & ~SESSION_STATE_CHANGED)
    return seen


SESSION_STATE_CHANGED = 1 << 14  # MariaDB sets it after some statements; not the driver's doing


def test_writes_commits_and_rollbacks_report_what_pymysql_reports(mysql_url: str) -> None:
    with connected(mysql_url, pymysql.connect) as plain:
        expected = writes(plain)
    with connected(mysql_url, driver.connect) as gateway:
        assert writes(gateway) == expected
    assert expected[2][1:4] == (3, 3, 1)  # three rows inserted, the first id is 1


def test_a_write_out_of_step_with_the_server_is_refused(mysql_url: str) -> None:
    with connected(mysql_url, driver.connect) as gateway:
        with gateway.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchall()
        gateway._execute_command(COMMAND.COM_QUERY, "SELECT 2")  # noqa: SLF001 - a result set
        with pytest.raises(pymysql.err.OperationalError) as refused:
            gateway._read_ok_packet()  # noqa: SLF001 - what COMMIT and ROLLBACK read
        assert refused.value.args[0] == CR.CR_COMMANDS_OUT_OF_SYNC


PARAMETERS = {
    **{f"t{number}": text for number, text in enumerate(AWKWARD_TEXT)},
    **{"none": None, "int": -7, "float": 2.5, "yes": True, "raw": b"\x00\xffraw"},
    "at": datetime(2025, 1, 31, 23, 59, 59, 250000),
    "whole": datetime(2025, 1, 31, 23, 59, 59),
    "early": datetime(999, 1, 2, 3, 4, 5),
    "aware": datetime(2025, 1, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=7))),
}
NAMED = "SELECT " + ", ".join(f"%({name})s" for name in PARAMETERS) + ", '100%%'"


def sent_and_answered(connection: Any, run: Any) -> tuple[list[bytes], Any]:
    sent: list[bytes] = []
    original = connection._execute_command  # noqa: SLF001

    def recorded(command: int, sql: Any) -> Any:
        sent.append(sql)
        return original(command, sql)

    connection._execute_command = recorded  # noqa: SLF001
    try:
        return sent, run()
    finally:
        del connection._execute_command  # noqa: SLF001 - the class's own again


def test_a_statement_run_without_a_cursor_sends_and_answers_what_pymysql_does(
    mysql_url: str,
) -> None:
    with connected(mysql_url, pymysql.connect) as plain, plain.cursor() as cursor:
        expected = sent_and_answered(
            plain, lambda: (cursor.execute(NAMED, PARAMETERS), cursor.fetchall())
        )
    with connected(mysql_url, driver.connect) as gateway:
        sent, result = sent_and_answered(gateway, lambda: gateway.run(NAMED, PARAMETERS))
    assert (sent, (result.affected_rows, result.rows)) == expected
    assert result.rows[0][-1] == "100%"
