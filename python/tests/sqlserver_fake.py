"""Run dbt against the SQL Server target with no server: a fake DB-API connection records
every SQL batch dbt would send, so tests can read and parse the exact T-SQL of a run.

The fake answers the catalog questions dbt-sqlserver asks (which relations a schema holds,
a relation's columns, the full-refresh marker, a column's nullability) from what the test
says exists, and every other statement with no rows, so whole runs can be recorded.

Like the real driver, every connection (session) autocommits; it also follows the
transactions dbt opens and ends with its own batches (`BEGIN TRANSACTION`, `IF @@TRANCOUNT
> 0 COMMIT TRANSACTION`, `... ROLLBACK TRANSACTION`, as dbt-sqlserver sends them with
`dbt_sqlserver_use_dbt_transactions`), so a test can ask whether a statement was committed.
A BEGIN/COMMIT inside a larger batch is part of that batch and is not followed."""

from __future__ import annotations

import datetime
import decimal
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from dbt.adapters.contracts.connection import ConnectionState
from dbt.adapters.sqlserver import sqlserver_connections

_QUERY_COMMENT = re.compile(r"^\s*/\*.*?\*/\s*", re.DOTALL)
# The suffixes dbt gives a model's temporary, intermediate and backup relations: they have
# the model's columns.
_DBT_RELATION_SUFFIX = re.compile(r"__dbt_(temp|tmp|backup)(_vw)?$")

Relation = tuple[str, str]  # (schema, name)
Columns = list[tuple[str, str]]  # [(column, SQL Server type)]
# (columns, rows): a column is a name, or (name, the Python class the driver reports for it).
Answer = tuple[list[str | tuple[str, type]], list[tuple]]

_BEGIN = "BEGIN TRANSACTION"
_COMMIT = "IF @@TRANCOUNT > 0 COMMIT TRANSACTION"
_ROLLBACK = "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION"


@dataclass(frozen=True)
class Batch:
    """One batch as the server received it: on which session, and inside which transaction
    dbt had opened there (None: the batch autocommitted)."""

    session: int
    sql: str
    transaction: int | None


@dataclass
class FakeSqlServer:
    """The batches sent, and the catalog the fake reports: relations (schema, name) that
    exist as tables, and the columns of those the test describes. A batch containing a key
    of ``errors`` fails with its message, as SQL Server would raise it."""

    tables: list[Relation] = field(default_factory=list)
    columns: dict[Relation, Columns] = field(default_factory=dict)
    # Further result sets: a batch containing the fragment (case-insensitive) gets the answer.
    answers: list[tuple[str, Answer]] = field(default_factory=list)
    database: str = "tpcxbb_1gb"
    batches: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    log: list[Batch] = field(default_factory=list)
    # How each transaction ended: "commit" or "rollback" (a session closed with a transaction
    # open rolls it back, as SQL Server does).
    outcomes: dict[int, str] = field(default_factory=dict)

    def batches_without_comment(self) -> list[str]:
        """Every batch with dbt's leading query comment removed."""
        return [without_comment(batch) for batch in self.batches]

    def fate(self, batch: Batch) -> str:
        """What became of a batch's changes: "autocommit", "commit", "rollback" or "open"
        (its transaction had not ended when the recording stopped)."""
        if batch.transaction is None:
            return "autocommit"
        return self.outcomes.get(batch.transaction, "open")

    def find(self, fragment: str) -> list[Batch]:
        """The batches containing ``fragment`` (case-insensitive), in the order sent."""
        return [batch for batch in self.log if fragment.lower() in batch.sql.lower()]

    def answer(self, sql: str) -> Answer | None:
        """The result set of the first catalog question ``sql`` asks, None for no rows."""
        for fragment, answer in self.answers:
            if fragment.lower() in sql.lower():
                return answer
        for responder in _RESPONDERS:
            answer = responder(self, sql)
            if answer is not None:
                return answer
        return None

    def columns_of(self, schema: str, name: str) -> Columns:
        """The columns of a relation, or of the model a dbt temp/backup relation is built for."""
        return self.columns.get(
            (schema, name), self.columns.get((schema, _DBT_RELATION_SUFFIX.sub("", name)), [])
        )


def _relations_in_schema(server: FakeSqlServer, sql: str) -> Answer | None:
    """sqlserver__list_relations_without_caching: the tables of one schema."""
    schema = re.search(r"schema_id\('([^']+)'\)", sql)
    if "from sys.tables" not in sql or not schema:
        return None
    rows = [
        (server.database, name, table_schema, "table")
        for table_schema, name in server.tables
        if table_schema == schema.group(1)
    ]
    return ["database", "name", "schema", "table_type"], rows


def _columns_of_relation(server: FakeSqlServer, sql: str) -> Answer | None:
    """sqlserver__get_columns_in_relation: name, type, length, precision, scale."""
    relation = re.search(r"object_id\('\"[^\"]+\"\.\"([^\"]+)\"\.\"([^\"]+)\"'\)", sql)
    if "from sys.columns" not in sql or not relation:
        return None
    rows = [
        (name, data_type, 8000 if "char" in data_type else None, None, None)
        for name, data_type in server.columns_of(*relation.groups())
    ]
    names = ["column_name", "data_type", "character_maximum_length"]
    return [*names, "numeric_precision", "numeric_scale"], rows


def _full_refresh_marker(server: FakeSqlServer, sql: str) -> Answer | None:
    """sqlserver__assert_no_incomplete_full_refresh: no full refresh was left unfinished."""
    if "as marker_count" not in sql:
        return None
    return ["marker_count"], [(0,)]


def _column_allows_null(server: FakeSqlServer, sql: str) -> Answer | None:
    """sqlserver__alter_column_type asks whether a column is nullable: it is."""
    if "columnproperty(" not in sql.lower():
        return None
    return ["allows_null"], [(1,)]


_EMPTY_CAST = re.compile(
    r"cast\(null as ([a-z0-9 ]+(?:\([0-9, a-z]+\))?)\)\s+as\s+(\S+?),?\s", re.IGNORECASE
)
# The Python class pyodbc reports for a column of each SQL Server type family.
_DRIVER_CLASS = {
    "bigint": int,
    "int": int,
    "integer": int,
    "smallint": int,
    "tinyint": int,
    "bit": bool,
    "float": float,
    "real": float,
    "double precision": float,
    "decimal": decimal.Decimal,
    "numeric": decimal.Decimal,
    "date": datetime.date,
    "datetime2": datetime.datetime,
}


def _empty_schema(server: FakeSqlServer, sql: str) -> Answer | None:
    """The shape of dbt's `select cast(null as <type>) as <column>, ... where 1 = 0` (how
    dbt reads a contract's declared types), as the driver reports it: a class per column."""
    if "where 1 = 0" not in sql or "cast(null as" not in sql.lower():
        return None
    shape = []
    for data_type, name in _EMPTY_CAST.findall(sql):
        base = data_type.lower().split("(")[0].strip()
        shape.append((name.strip('"[]'), _DRIVER_CLASS.get(base, str)))
    return shape, []


_RESPONDERS: list[Callable[[FakeSqlServer, str], Answer | None]] = [
    _relations_in_schema,
    _columns_of_relation,
    _full_refresh_marker,
    _column_allows_null,
    _empty_schema,
]


def without_comment(sql: str) -> str:
    """A batch without dbt's leading query comment."""
    return _QUERY_COMMENT.sub("", sql, count=1).strip()


class _Cursor:
    def __init__(self, server: FakeSqlServer, handle: _Handle) -> None:
        self._server = server
        self._handle = handle
        self._rows: list[tuple] = []
        self.description = None
        self.rowcount = -1

    def execute(self, sql: str, *bindings: object) -> _Cursor:
        self._server.batches.append(sql)
        self._handle.record(sql)
        for needle, message in self._server.errors.items():
            if needle in sql:
                raise RuntimeError(message)
        self._rows, self.description = [], None
        answer = self._server.answer(sql)
        if answer is not None:
            names, self._rows = answer
            self.description = [
                (*(name if isinstance(name, tuple) else (name, str)), None, None, None, None, True)
                for name in names
            ]
        return self

    def fetchall(self) -> list[tuple]:
        rows, self._rows = self._rows, []
        return rows

    def fetchmany(self, size: int = 1) -> list[tuple]:
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    def fetchone(self) -> tuple | None:
        rows = self.fetchmany(1)
        return rows[0] if rows else None

    def nextset(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def cancel(self) -> None:
        pass


class _Handle:
    autocommit = True
    _sessions = 0

    def __init__(self, server: FakeSqlServer) -> None:
        self._server = server
        _Handle._sessions += 1
        self.session = _Handle._sessions
        self._transaction: int | None = None

    def record(self, sql: str) -> None:
        """Log a batch, following the transactions dbt begins and ends with its own batches."""
        statement = without_comment(sql).rstrip(";").strip().upper()
        if statement == _BEGIN and self._transaction is None:
            self._transaction = len(self._server.log)  # the BEGIN batch names it
        self._server.log.append(Batch(self.session, sql, self._transaction))
        if statement in (_COMMIT, _ROLLBACK) and self._transaction is not None:
            self._end("commit" if statement == _COMMIT else "rollback")

    def _end(self, outcome: str) -> None:
        self._server.outcomes[self._transaction] = outcome
        self._transaction = None

    def cursor(self) -> _Cursor:
        return _Cursor(self._server, self)

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        if self._transaction is not None:
            self._end("rollback")

    def add_output_converter(self, *args: object) -> None:
        pass


@contextmanager
def fake_sqlserver(
    monkeypatch: pytest.MonkeyPatch,
    tables: list[Relation] | None = None,
    columns: dict[Relation, Columns] | None = None,
    answers: list[tuple[str, Answer]] | None = None,
    errors: dict[str, str] | None = None,
) -> Iterator[FakeSqlServer]:
    """Patch dbt-sqlserver's connection manager to open fake connections to one server.

    ``tables`` exist (as tables); ``columns`` describes some of them (and the temp and
    backup relations dbt builds for them); ``answers`` gives the result set of any other
    batch, by a fragment of its text; a batch containing a key of ``errors`` fails with its
    message."""
    server = FakeSqlServer(
        tables=list(tables or []),
        columns=dict(columns or {}),
        answers=list(answers or []),
        errors=dict(errors or {}),
    )

    def fake_open(cls, connection):
        connection.handle = _Handle(server)
        connection.state = ConnectionState.OPEN
        return connection

    with monkeypatch.context() as patch:
        patch.setattr(
            sqlserver_connections.SQLServerConnectionManager, "open", classmethod(fake_open)
        )
        yield server
