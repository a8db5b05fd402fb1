"""PyMySQL with the column definitions of a result parsed once per worker (MySQL/MariaDB).

Every result set starts with one definition packet per column (catalog, schema, table, name,
original name, character set, length, type, flags), and PyMySQL parses each of them in Python
for every statement: for the flow detail (18 columns) that was ~14 % of the request's CPU.
A worker runs the same few statements again and again, and the server sends the same bytes
for the same columns, so the parsed definitions are kept by those bytes. What depends on the
connection at the time of the statement (its decoders: `backend.db.direct` swaps them for
DATETIME text) is still looked up per result. The definitions already received are taken from
the read buffer in one step, and the same class reads each row's values off the packet's bytes
in one loop. Everything else is PyMySQL's own code; the class that reads a result is the one
place that differs.

PyMySQL was imported without `cryptography` (backend/core/lazy_crypto.py): an account on
sha256_password or caching_sha2_password (MySQL 8's default) reached without TLS then fails its
handshake with PyMySQL's RuntimeError. That connection is tried once more after PyMySQL's auth
module has been run again with `cryptography` importable: from then on the module is as an
import with `cryptography` installed makes it, for every later connection of the process.
"""

import importlib
import struct
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pymysql
from pymysql import connections, converters
from pymysql.constants import COMMAND, CR, FIELD_TYPE, SERVER_STATUS
from sqlalchemy import Engine, event

DEFINITIONS_KEPT = 1024
NULL_COLUMN, NO_LENGTH, TWO_BYTE_LENGTH = 251, 255, 252  # first bytes of a length-coded value
WIDE_LENGTHS = {252: 2, 253: 3, 254: 8}  # a length-coded integer's first byte → bytes after it
RSA_REFUSAL = "'cryptography' package is required"
BINARY_CHARSET = 63
ERROR, EOF, EOF_MAX_LENGTH = 0xFF, 0xFE, 9  # a packet's first byte; an EOF packet is short
OK, OK_MIN_LENGTH = 0x00, 7  # an OK packet: its first byte and its least length
OK_TAIL = struct.Struct("<HH")  # server status, warning count
HEADER_SIZE = 4  # a packet's length (3 bytes) and sequence number
ESCAPES = converters._escape_table  # noqa: SLF001 - `escape_string`'s own table
NO_BACKSLASH_ESCAPES = SERVER_STATUS.SERVER_STATUS_NO_BACKSLASH_ESCAPES
LOST = "Lost connection to MySQL server during query"

# The parsed definitions of a result, by its definition packets' bytes and the connection's
# text settings: (fields, DB-API description, per-column encoding, per-column type code).
Definitions = tuple[list[Any], tuple[Any, ...], tuple[str | None, ...], tuple[int, ...]]
_kept: dict[tuple[Any, ...], Definitions] = {}


def column_encoding(field: Any, use_unicode: bool, encoding: str) -> str | None:
    """How PyMySQL decodes a column's values (`MySQLResult._get_descriptions`)."""
    if not use_unicode:
        return None
    if field.type_code == FIELD_TYPE.JSON:
        return encoding
    if field.type_code in connections.TEXT_TYPES:
        return None if field.charsetnr == BINARY_CHARSET else encoding
    return "ascii"


def parse(packets: list[bytes], use_unicode: bool, encoding: str) -> Definitions:
    fields = [connections.FieldDescriptorPacket(data, encoding) for data in packets]
    return (
        fields,
        tuple(field.description() for field in fields),
        tuple(column_encoding(field, use_unicode, encoding) for field in fields),
        tuple(field.type_code for field in fields),
    )


def converter(decoders: dict[int, Any], kind: int) -> Any:
    found = decoders.get(kind)
    return None if found is converters.through else found


def ok_packet(data: bytes) -> tuple[int, int, int, int, bytes]:
    """An OK packet's affected rows, insert id, server status, warning count and message."""
    affected, position = length_coded(data, 1)
    insert_id, position = length_coded(data, position)
    status, warnings = OK_TAIL.unpack_from(data, position)
    return affected, insert_id, status, warnings, data[position + OK_TAIL.size :]


def length_coded(data: bytes, position: int) -> tuple[int, int]:
    """A length-coded integer of an OK packet (never NULL there) and the position after it."""
    first = data[position]
    if first < NULL_COLUMN:
        return first, position + 1
    size = WIDE_LENGTHS[first]
    return int.from_bytes(data[position + 1 : position + 1 + size], "little"), position + 1 + size


def is_ok(data: bytes) -> bool:
    return data[0] == OK and len(data) >= OK_MIN_LENGTH


class Result(connections.MySQLResult):
    def read(self) -> None:
        """PyMySQL's; the OK packet that answers a write is read off its payload (no packet
        object, no wrapper), a result set or a LOCAL INFILE request as PyMySQL reads them."""
        connection = self.connection
        try:
            data = connection.read_payload()
            if is_ok(data):
                ok = ok_packet(data)
                self.affected_rows, self.insert_id, self.server_status = ok[:3]
                self.warning_count, self.message = ok[3:]
                self.has_next = self.server_status & SERVER_STATUS.SERVER_MORE_RESULTS_EXISTS
                return
            packet = connections.MysqlPacket(data, connection.encoding)
            if packet.is_load_local_packet():
                self._read_load_local_packet(packet)
            else:
                self._read_result_packet(packet)
        finally:
            self.connection = None

    def _get_descriptions(self) -> None:
        connection = self.connection
        read = connection.read_payload
        packets: list[bytes] = []
        while len(packets) < self.field_count:
            packets += connection.read_buffered(self.field_count - len(packets)) or [read()]
        key = (connection.use_unicode, connection.encoding, *packets)
        found = _kept.get(key)
        if found is None:
            found = parse(packets, connection.use_unicode, connection.encoding)
            if len(_kept) >= DEFINITIONS_KEPT:
                _kept.clear()
            _kept[key] = found
        self.fields, self.description, encodings, types = found
        decoders = connection.decoders
        self.converters = [
            (encoding, converter(decoders, kind))
            for encoding, kind in zip(encodings, types, strict=True)
        ]
        eof_packet = connection._read_packet()
        assert eof_packet.is_eof_packet(), "Protocol error, expecting EOF"

    def _read_rowdata_packet(self) -> None:
        """PyMySQL's, reading each row's payload without a packet object."""
        connection = self.connection
        read, row_of = connection.read_payload, self.read_row
        rows = []
        while True:
            data = read()
            if data[0] == EOF and len(data) < EOF_MAX_LENGTH:
                self._check_packet_is_eof(connections.MysqlPacket(data, connection.encoding))
                break
            rows.append(row_of(data, 0))
        self.connection = None  # as PyMySQL: no cycle between the result and its connection
        self.affected_rows = len(rows)
        self.rows = tuple(rows)

    def _read_row_from_packet(self, packet: Any) -> tuple[Any, ...]:
        return self.read_row(packet.get_all_data(), packet._position)  # noqa: SLF001

    def read_row(self, data: bytes, position: int) -> tuple[Any, ...]:
        """PyMySQL's `_read_row_from_packet`, with the length-coded values read off the
        packet's bytes in one loop instead of three method calls per value (the 50-flow list's
        statement: 530 → 460 µs; then 174 → 157 µs for its 50 rows' values)."""
        end = len(data)
        row: list[Any] = []
        append = row.append
        for encoding, convert in self.converters:
            if position >= end:
                break  # no more columns in this row (PyMySQL's IndexError)
            length = data[position]
            position += 1
            if length >= NULL_COLUMN:
                if length in (NULL_COLUMN, NO_LENGTH):
                    append(None)  # PyMySQL reads None for both
                    continue
                if length == TWO_BYTE_LENGTH:  # a text of 251 bytes to 64 KiB (flow_data)
                    length = data[position] | data[position + 1] << 8
                    position += 2
                else:
                    width = WIDE_LENGTHS[length]
                    length = int.from_bytes(data[position : position + width], "little")
                    position += width
            start = position
            position += length
            if position > end:
                raise AssertionError(f"Result length not requested length: {length}")
            if encoding is None:
                value = data[start:position]
                append(value if convert is None else convert(value))
            elif convert is None:
                append(data[start:position].decode(encoding))
            else:
                append(convert(data[start:position].decode(encoding)))
        return tuple(row)


class Connection(connections.Connection):
    """`pymysql.connect`'s connection, reading buffered results with `Result`, and writes whose
    answer nobody reads sent together (`run_later`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._deferred: list[str] = []  # statements `run_later` holds for the next command
        self._holding: list[bytes] | None = None  # what `_write_bytes` keeps instead of sending
        super().__init__(*args, **kwargs)

    def escape(self, obj: Any, mapping: Any = None) -> str:
        """PyMySQL's `escape`, a text parameter (most of them) quoted in one step: the same
        `escape_string` table, or only the quotes doubled under NO_BACKSLASH_ESCAPES; a naive
        `datetime` as its ISO text (the same text as `escape_datetime`'s)."""
        kind = type(obj)
        if kind is datetime and obj.tzinfo is None and self.default_encoder(kind, mapping):
            return f"'{obj.isoformat(' ')}'"  # `escape_datetime`'s text, without `str.format`
        if kind is not str:
            return super().escape(obj, mapping)
        if self.server_status & NO_BACKSLASH_ESCAPES:
            return "'" + obj.replace("'", "''") + "'"
        return "'" + obj.translate(ESCAPES) + "'"

    def default_encoder(self, kind: type, mapping: Any) -> bool:
        """Whether values of `kind` are escaped by PyMySQL's own encoder for that type."""
        encoders = self.encoders if mapping is None else mapping
        return encoders.get(kind) is converters.encoders.get(kind)

    def render(self, sql: str, args: Mapping[str, Any]) -> str:
        """The SQL text `cursor.execute(sql, args)` sends (named parameters, the same escaping)."""
        escape = self.escape
        return sql % {key: escape(value) for key, value in args.items()}

    def run(self, sql: str, args: Mapping[str, Any]) -> Result:
        """`cursor.execute(sql, args)` and its buffered result, without the cursor: the same SQL
        text sent (`render`), the same `Result`."""
        self.query(self.render(sql, args))
        return self._result  # type: ignore[return-value]

    def run_later(self, sql: str, args: Mapping[str, Any]) -> None:
        """`run` for a write whose answer the caller does not read: the statement is escaped now
        and sent before the connection's next command (a read, the COMMIT), in one write with
        the other statements deferred since; their answers are read before that command goes
        out and the first error is raised there. A ROLLBACK drops them unsent."""
        self._deferred.append(self.render(sql, args))

    def _execute_command(self, command: int, sql: Any) -> None:
        if self._deferred:
            self.send_deferred()
        super()._execute_command(command, sql)

    def send_deferred(self) -> None:
        """The deferred statements in one write (one round trip for all of them), then their
        answers in order. Every answer is read before the first error is raised, so the
        connection stays in step; a lost connection is raised at once."""
        statements, self._deferred = self._deferred, []
        if not statements:
            return
        held = self._holding = []
        try:
            for sql in statements:
                super()._execute_command(COMMAND.COM_QUERY, sql)
        finally:
            self._holding = None
        self._write_bytes(b"".join(held))
        failed: pymysql.err.MySQLError | None = None
        for _ in statements:
            self._next_seq_id = 1
            try:
                self._read_query_result()
            except pymysql.err.MySQLError as exc:
                if self._sock is None:
                    raise
                failed = failed or exc
        if failed is not None:
            raise failed

    def _write_bytes(self, data: bytes) -> None:
        if self._holding is None:
            super()._write_bytes(data)
        else:
            self._holding.append(data)

    def commit(self) -> None:
        """PyMySQL's, the deferred writes sent first: when one of them fails, the transaction
        is rolled back and its error raised (never a COMMIT without them, never a transaction
        left open behind a COMMIT that failed)."""
        try:
            self.send_deferred()
        except pymysql.err.MySQLError:
            if self._sock is not None:
                super().rollback()
            raise
        super().commit()

    def rollback(self) -> None:
        self._deferred = []  # never sent: nothing of them to undo
        super().rollback()

    def _force_close(self) -> None:
        self._deferred = []
        super()._force_close()

    def read_payload(self) -> bytes:
        """`_read_packet`'s payload without the packet object around it (the column definitions
        and rows of a result: one packet each), with its checks: the read timeout, a lost or
        short read, the sequence number, an error packet raised as PyMySQL raises it."""
        self.set_read_timeout()
        parts = []
        while True:
            header = self.read_exactly(HEADER_SIZE)
            length = header[0] | header[1] << 8 | header[2] << 16
            if header[3] != self._next_seq_id:
                self._force_close()
                if header[3] == 0:  # MariaDB sends its shutdown error with number 0
                    raise pymysql.err.OperationalError(CR.CR_SERVER_LOST, LOST)
                raise pymysql.err.InternalError(
                    f"Packet sequence number wrong - got {header[3]} expected {self._next_seq_id}"
                )
            self._next_seq_id = (self._next_seq_id + 1) % 256
            data = self.read_exactly(length)
            if length < connections.MAX_PACKET_LEN:
                break
            parts.append(data)
        if parts:
            data = b"".join([*parts, data])
        if data and data[0] == ERROR:
            result = self._result
            if result is not None and result.unbuffered_active is True:
                result.unbuffered_active = False
            connections.MysqlPacket(data, self.encoding).raise_for_error()
        return data

    def read_buffered(self, limit: int) -> list[bytes]:
        """Up to `limit` packets' payloads, of the packets already received whole (one read of
        the socket when nothing is buffered yet), each checked as `read_payload` checks it.
        Stops before a packet `read_payload` must read: one not yet whole, a 16 MiB part, an
        out-of-step sequence number, an error or EOF packet (so never past a result's end)."""
        self.set_read_timeout()
        try:
            buffered = self._rfile.peek(HEADER_SIZE)
        except BaseException as exc:
            raise self.read_failed(exc)  # noqa: B904 - `read_failed` sets the cause
        payloads = []
        position, end, sequence = 0, len(buffered), self._next_seq_id
        while len(payloads) < limit and position + HEADER_SIZE <= end:
            length = buffered[position] | buffered[position + 1] << 8 | buffered[position + 2] << 16
            start = position + HEADER_SIZE
            if (
                buffered[position + 3] != sequence
                or length >= connections.MAX_PACKET_LEN
                or start + length > end
                or length == 0
                or buffered[start] == ERROR
                or (buffered[start] == EOF and length < EOF_MAX_LENGTH)
            ):
                break
            payloads.append(buffered[start : start + length])
            position, sequence = start + length, (sequence + 1) % 256
        if position:
            self._rfile.read(position)  # out of the buffer: no system call
            self._next_seq_id = sequence
        return payloads

    def set_read_timeout(self) -> None:
        if self._current_timeout != self._read_timeout:
            self._sock.settimeout(self._read_timeout)
            self._current_timeout = self._read_timeout

    def read_exactly(self, count: int) -> bytes:
        """PyMySQL's `_read_bytes`: a failed or short read closes the connection and raises."""
        try:
            data = self._rfile.read(count)
        except BaseException as exc:
            raise self.read_failed(exc)  # noqa: B904 - `read_failed` sets the cause
        if len(data) < count:
            self._force_close()
            raise pymysql.err.OperationalError(CR.CR_SERVER_LOST, LOST)
        return data

    def read_failed(self, exc: BaseException) -> BaseException:
        """After a read that raised: the connection closed, and what to raise, PyMySQL's lost
        connection for a socket error (caused by it), else the exception itself."""
        self._force_close()
        if not isinstance(exc, OSError):
            return exc
        lost = pymysql.err.OperationalError(CR.CR_SERVER_LOST, f"{LOST} ({exc})")
        lost.__cause__ = exc
        return lost

    def _read_ok_packet(self) -> None:
        """PyMySQL's (COMMIT, ROLLBACK, autocommit, ping), off the payload."""
        data = self.read_payload()
        if not is_ok(data):
            raise pymysql.err.OperationalError(CR.CR_COMMANDS_OUT_OF_SYNC, "Command Out of Sync")
        self.server_status = ok_packet(data)[2]

    def _read_query_result(self, unbuffered: bool = False) -> int:
        if unbuffered:
            return super()._read_query_result(unbuffered)
        self._result = None
        result = Result(self)
        result.read()
        self._result = result
        if result.server_status is not None:
            self.server_status = result.server_status
        return result.affected_rows


def connect(*cargs: Any, **cparams: Any) -> Connection:
    """`pymysql.connect`, with the RSA password exchange loaded when a server asks for it."""
    try:
        return Connection(*cargs, **cparams)
    except RuntimeError as exc:
        if RSA_REFUSAL not in str(exc):
            raise
    importlib.reload(pymysql._auth)  # noqa: SLF001 - see the module's docstring
    return Connection(*cargs, **cparams)


def install(engine: Engine) -> None:
    if engine.dialect.driver != "pymysql":
        return

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, record: Any, cargs: Any, cparams: Any) -> Connection:
        return connect(*cargs, **cparams)
