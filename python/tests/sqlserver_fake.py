"""Run dbt against the SQL Server target with no server: a fake DB-API connection records
every SQL batch dbt would send, so tests can read and parse the exact T-SQL of a run."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from dbt.adapters.contracts.connection import ConnectionState
from dbt.adapters.sqlserver import sqlserver_connections

_QUERY_COMMENT = re.compile(r"^\s*/\*.*?\*/\s*", re.DOTALL)


@dataclass
class FakeSqlServer:
    """The batches sent, and the tables the catalog pretends exist (schema, name). A batch
    containing a key of ``errors`` fails with its message, as SQL Server would raise it."""

    tables: list[tuple[str, str]] = field(default_factory=list)
    database: str = "tpcxbb_1gb"
    batches: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def batches_without_comment(self) -> list[str]:
        """Every batch with dbt's leading query comment removed."""
        return [_QUERY_COMMENT.sub("", batch, count=1).strip() for batch in self.batches]


class _Cursor:
    def __init__(self, server: FakeSqlServer) -> None:
        self._server = server
        self._rows: list[tuple] = []
        self.description = None
        self.rowcount = -1

    def execute(self, sql: str, *bindings: object) -> _Cursor:
        self._server.batches.append(sql)
        for needle, message in self._server.errors.items():
            if needle in sql:
                raise RuntimeError(message)
        self._rows, self.description = [], None
        schema = re.search(r"schema_id\('([^']+)'\)", sql)
        if "from sys.tables" in sql and schema:
            self._rows = [
                (self._server.database, name, table_schema, "table")
                for table_schema, name in self._server.tables
                if table_schema == schema.group(1)
            ]
            self.description = [
                (name, str, None, None, None, None, True)
                for name in ("database", "name", "schema", "table_type")
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

    def __init__(self, server: FakeSqlServer) -> None:
        self._server = server

    def cursor(self) -> _Cursor:
        return _Cursor(self._server)

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass

    def add_output_converter(self, *args: object) -> None:
        pass


@contextmanager
def fake_sqlserver(
    monkeypatch: pytest.MonkeyPatch,
    tables: list[tuple[str, str]] | None = None,
    errors: dict[str, str] | None = None,
) -> Iterator[FakeSqlServer]:
    """Patch dbt-sqlserver's connection manager to open fake connections to one server."""
    server = FakeSqlServer(tables=list(tables or []), errors=dict(errors or {}))

    def fake_open(cls, connection):
        connection.handle = _Handle(server)
        connection.state = ConnectionState.OPEN
        return connection

    with monkeypatch.context() as patch:
        patch.setattr(
            sqlserver_connections.SQLServerConnectionManager, "open", classmethod(fake_open)
        )
        yield server
