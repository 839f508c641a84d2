"""Run dbt against the SQL Server target with no server: a fake DB-API connection records
every SQL batch dbt would send, so tests can read and parse the exact T-SQL of a run.

The fake is a recorder with a small catalog, not an emulator: it executes nothing and
checks nothing. It keeps

* the tables and views that exist: the ones it starts with, plus what the batches create
  (`create table`, `select ... into`, `create [or alter] view`), rename (`sp_rename`) and
  drop (`drop table|view`), found by pattern in each batch and in the dynamic SQL of its
  `EXEC('...')` strings, in the order they appear; a view keeps the statement that created
  it, which `object_definition()` returns, as SQL Server does;
* the stored procedures (`create [or alter] procedure`, `drop procedure`). Their body is
  not run when they are created (T-SQL resolves the names a procedure reads when it runs):
  each `exec <schema>.<procedure>` runs it, so its reads and writes count at the `exec`;
* the columns of each relation: those of its `create table`; of a view, the select list of
  its query, a `*` expanded from the relations and CTEs it reads; of `select * into`, those
  of the relation read; else (a work relation such as `<model>__dbt_tmp`) those its model
  declares in YAML (`columns_from_manifest`). A column whose type the fake cannot tell (it
  types casts and columns read, no other expression) takes the type the model being built
  declares, else the type it has in the model's relation if that exists, else
  `sql_variant`;
* what each batch did to each object, in `events` (created, dropped, renamed, read with
  `from` / `join`, written with `insert`, `delete`, `update`, `truncate`, `merge`, a
  procedure executed), each marked `missing` when it used a schema-qualified object the
  catalog did not hold at that moment. Reads inside string literals count too (the SQL a
  describe compiles, a procedure's `@input_data_1`), but for the Python of an
  `@script = N'...'`;
* the log of batches (`log`): on which session (connection) each came, and in which
  transaction. Like the real driver, every session autocommits; the fake follows the
  transactions dbt opens and ends with batches of their own (`BEGIN TRANSACTION`, `IF
  @@TRANCOUNT > 0 COMMIT TRANSACTION` or `... ROLLBACK TRANSACTION`, as dbt-sqlserver sends
  them with `dbt_sqlserver_use_dbt_transactions`), nested as @@TRANCOUNT nests them, and
  records how each ended in `outcomes`: a session closed with a transaction open rolls it
  back, as SQL Server does. A BEGIN or COMMIT inside a larger batch depends on the batch's
  control flow, which the fake does not run: it is not followed.

A batch containing a fragment of `errors` fails with its message, as SQL Server raising an
error there would: the statements before the fragment are applied to the catalog, and with
XACT_ABORT ON (dbt-sqlserver sets it on every session) the open transaction rolls back. The
catalog ignores transactions: a rollback does not undo what the fake recorded.

It answers dbt's queries by their shape (see `_Answer.answer`): relation listing from
sys.tables / sys.views, sys.schemas, columns from sys.columns, view definitions, result-set
descriptions, grants (none), indexes (none), the full-refresh marker (absent), a data
test's failure count (0: the build goes on), a unit test's rows (none: no difference). Any
other SELECT gets what it returns over empty tables: an aggregate such as a macro's
`run_query('select max(...) from ...')` one row under the names of its select list (0 for a
count, NULL for anything else, so a watermark reads as "none yet"), any other query no rows.
The source guard's queries
(macros/sources/source_guard.sql) are the exception, since a source holding no rows stops
the build: its scan of a source table reports `row_counts` rows (SOURCE_ROWS by default),
keyed 1..n, none out of bounds; its read of the log `source_table_builds` returns
`source_builds`, what the last successful build saw (nothing by default).
"""

from __future__ import annotations

import copy
import datetime
import decimal
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from conftest import dbt_location_args
from dbt.adapters.contracts.connection import ConnectionState
from dbt.adapters.sqlserver import sqlserver_connections
from dbt.adapters.sqlserver.sqlserver_column import SQLServerColumn
from dbt.cli.main import dbtRunner, dbtRunnerResult
from dbt_common.events.contextvars import get_node_info
from sqlglot import exp

_QUERY_COMMENT = re.compile(r"^\s*/\*.*?\*/\s*", re.DOTALL)
# A T-SQL identifier as dbt renders one: "quoted", [bracketed] or bare.
_IDENT = r'(?:"[^"]+"|\[[^\]]+\]|[A-Za-z_#@][\w$#@]*)'
_NAME = rf"{_IDENT}(?:\s*\.\s*{_IDENT}){{0,2}}"
_EXEC_STRING = re.compile(r"\bexec(?:ute)?\s*\(\s*N?'((?:[^']|'')*)'\s*\)", re.IGNORECASE)
_CREATE_PROCEDURE = rf"\bcreate\s+(?:or\s+alter\s+)?proc(?:edure)?\s+(?P<procedure>{_NAME})"
_PROCEDURE_HEADER = re.compile(_CREATE_PROCEDURE, re.IGNORECASE)
# The Python (or R) that sp_execute_external_script runs: not SQL, so not tracked.
_EXTERNAL_SCRIPT = re.compile(r"(@script\s*=\s*N?')((?:[^']|'')*)'", re.IGNORECASE)
# Catalog events, matched in the order they appear in a batch.
_CATALOG_EVENT = re.compile(
    rf"""
    (?P<create_procedure>{_CREATE_PROCEDURE})
    | (?P<create_table>\bcreate\s+table\s+(?P<table>{_NAME}))
    | (?P<create_view>\bcreate\s+(?:or\s+alter\s+)?view\s+(?P<view>{_NAME})\s+as\b)
    | (?P<select_into>\binto\s+(?P<into>{_NAME})(?=\s+from\b))
    | (?P<drop>\bdrop\s+(?P<drop_kind>table|view|proc(?:edure)?)\s+(?:if\s+exists\s+)?
        (?P<dropped>{_NAME}))
    | (?P<rename>\bsp_rename\s+N?'(?P<old>[^']+)'\s*,\s*N?'(?P<new>[^']+)'
        (?P<object_type>\s*,\s*N?'[^']*')?)
    | (?P<create_schema>\bcreate\s+schema\s+(?P<schema>{_IDENT}))
    | (?P<write>\b(?P<verb>insert\s+into|delete\s+from|truncate\s+table|merge\s+into)
        \s+(?P<written>{_NAME}))
    | (?P<update>\bupdate\s+(?P<updated>{_NAME})\s+set\b)
    | (?P<exec>\bexec(?:ute)?\s+(?:@\w+\s*=\s*)?(?!sp_|xp_)(?P<executed>{_NAME}))
    | (?P<read>\b(?:from|join)\s+(?P<source>{_NAME}))
    """,
    re.IGNORECASE | re.VERBOSE,
)
_SYSTEM_SCHEMAS = {"sys", "information_schema"}
# Batches of their own that begin and end the transactions dbt opens.
_BEGIN = re.compile(r"begin\s+tran(?:saction)?\s*;?", re.IGNORECASE)
_END = re.compile(
    r"(?:if\s+@@trancount\s*>\s*0\s+)?(commit|rollback)(?:\s+tran(?:saction)?)?\s*;?",
    re.IGNORECASE,
)
_XACT_ABORT = re.compile(r"\bset\s+xact_abort\s+(on|off)\b", re.IGNORECASE)
# Suffixes of the relations dbt builds beside a model's own: same columns as the model.
_WORK_SUFFIXES = ("__dbt_tmp_vw", "__dbt_tmp", "__dbt_temp", "__dbt_backup", "__dbt_refresh")
UNKNOWN_TYPE = "sql_variant"
# (sys.columns max_length, precision, scale) of fixed-size T-SQL types.
_TYPE_SIZES = {
    "bigint": (8, 19, 0),
    "int": (4, 10, 0),
    "smallint": (2, 5, 0),
    "tinyint": (1, 3, 0),
    "bit": (1, 1, 0),
    "float": (8, 53, 0),
    "real": (4, 24, 0),
    "money": (8, 19, 4),
    "date": (3, 10, 0),
    "datetime": (8, 23, 3),
    "uniqueidentifier": (16, 0, 0),
    "sql_variant": (8016, 0, 0),
}
_SYNONYMS = {"integer": "int", "double precision": "float", "numeric": "decimal"}
# The Python class pyodbc reports in cursor.description for a T-SQL type.
_PYTHON_TYPES = {
    **dict.fromkeys(("bigint", "int", "smallint", "tinyint"), int),
    **dict.fromkeys(("float", "real"), float),
    **dict.fromkeys(("decimal", "money", "smallmoney"), decimal.Decimal),
    **dict.fromkeys(("datetime", "datetime2", "smalldatetime"), datetime.datetime),
    "bit": bool,
    "date": datetime.date,
    "time": datetime.time,
    **dict.fromkeys(("binary", "varbinary"), bytes),
}

Column = tuple[str, str]  # (name, T-SQL type as declared, e.g. "varchar(254)")
# The rows the source guard's scan finds in a table the fake's `row_counts` does not list.
SOURCE_ROWS = 1000

# The source tables of the restored tpcxbb_1gb, the only relations of an empty server, with
# the columns the staging models read, typed as in the TPC-DS schema TPCx-BB takes them from.
SOURCE_TABLES: dict[tuple[str, str], list[Column]] = {
    ("dbo", "store_sales"): [
        ("ss_ticket_number", "bigint"),
        ("ss_item_sk", "bigint"),
        ("ss_customer_sk", "bigint"),
        ("ss_sold_date_sk", "bigint"),
        ("ss_net_paid", "decimal(7,2)"),
    ],
    ("dbo", "store_returns"): [
        ("sr_ticket_number", "bigint"),
        ("sr_item_sk", "bigint"),
        ("sr_customer_sk", "bigint"),
        ("sr_returned_date_sk", "bigint"),
        ("sr_return_amt", "decimal(7,2)"),
    ],
    ("dbo", "customer"): [
        ("c_customer_sk", "bigint"),
        ("c_customer_id", "char(16)"),
        ("c_first_name", "char(20)"),
        ("c_last_name", "char(30)"),
        ("c_email_address", "char(50)"),
    ],
}


def _unquote(identifier: str) -> str:
    identifier = identifier.strip()
    if identifier[:1] in ('"', "[") and len(identifier) > 1:
        return identifier[1:-1]
    return identifier


def name_parts(name: str) -> list[str]:
    """The unquoted parts of a (database.)(schema.)name."""
    return [_unquote(part) for part in re.findall(_IDENT, name)]


def exec_strings(sql: str) -> list[str]:
    """The dynamic SQL of every `EXEC('...')` in a batch, quotes undoubled, nested ones too."""
    found = []
    for match in _EXEC_STRING.finditer(sql):
        inner = match.group(1).replace("''", "'")
        found.append(inner)
        found.extend(exec_strings(inner))
    return found


def _in_execution_order(sql: str) -> Iterator[str]:
    """The text of a batch cut at its `EXEC('...')` strings, each replaced by its dynamic SQL
    (cut the same way), in the order the server runs them. From a `create procedure` on, the
    text is the procedure's body, which runs when the procedure is executed: it is not cut."""
    position = 0
    for match in _EXEC_STRING.finditer(sql):
        if _PROCEDURE_HEADER.search(sql, position, match.start()):
            break
        yield sql[position : match.start()]
        yield from _in_execution_order(match.group(1).replace("''", "'"))
        position = match.end()
    yield sql[position:]


def _without_scripts(sql: str) -> str:
    """The SQL with the text of each `@script = N'...'` blanked out, same length."""
    return _EXTERNAL_SCRIPT.sub(lambda m: m.group(1) + " " * len(m.group(2)) + "'", sql)


def _session_level(sql: str) -> str:
    """The part of a batch whose SET options outlive it: not its dynamic SQL, not the body
    of a procedure it creates (SQL Server restores the options when those return)."""
    sql = _EXEC_STRING.sub("", sql)
    header = _PROCEDURE_HEADER.search(sql)
    return sql[: header.start()] if header else sql


def sql_units(batch: str) -> list[str]:
    """A batch and the dynamic SQL it executes: each is parsed by SQL Server as a batch."""
    return [batch, *exec_strings(batch)]


def without_query_comment(sql: str) -> str:
    return _QUERY_COMMENT.sub("", sql, count=1).strip()


def _base_type(data_type: str) -> tuple[str, list[str]]:
    """("varchar", ["254"]) for "varchar(254)"; synonyms as sys.types names them."""
    match = re.fullmatch(r"\s*([A-Za-z_][\w ]*?)\s*(?:\((.*)\))?\s*", data_type)
    if not match:
        return data_type.strip().lower(), []
    base = match.group(1).lower()
    arguments = [a.strip().lower() for a in (match.group(2) or "").split(",") if a.strip()]
    return _SYNONYMS.get(base, base), arguments


def sys_columns_row(name: str, data_type: str) -> tuple:
    """The row sqlserver__get_columns_in_relation reads from sys.columns for a column."""
    base, arguments = _base_type(data_type)
    if base in ("varchar", "nvarchar", "char", "nchar", "binary", "varbinary"):
        length = arguments[0] if arguments else "1"
        return (name, base, -1 if length == "max" else int(length), 0, 0)
    if base == "decimal":
        precision = int(arguments[0]) if arguments else 18
        scale = int(arguments[1]) if len(arguments) > 1 else 0
        return (name, base, 17, precision, scale)
    if base in ("datetime2", "time", "datetimeoffset"):
        scale = int(arguments[0]) if arguments else 7
        return (name, base, 8, 27, scale)
    return (name, base, *_TYPE_SIZES.get(base, (0, 0, 0)))


def python_type(data_type: str) -> type:
    return _PYTHON_TYPES.get(_base_type(data_type)[0], str)


def columns_from_manifest(manifest: Any) -> tuple[dict[str, list[Column]], dict[str, list[Column]]]:
    """Declared columns of every model and seed of a parsed manifest: by relation name, and by
    unique id of the node (unit tests get their model's), typed as the YAML declares them
    (seeds: data_type, else column_types), translated as dbt-sqlserver translates a declared
    type (`boolean` -> `BIT`, bare `varchar` -> `VARCHAR(8000)`), or UNKNOWN_TYPE."""
    by_relation: dict[str, list[Column]] = {}
    by_node: dict[str, list[Column]] = {}
    for node in manifest.nodes.values():
        if node.resource_type not in ("model", "seed"):
            continue
        overrides = node.config.get("column_types") or {}
        columns = [
            (
                column.name,
                SQLServerColumn.translate_type(
                    column.data_type or overrides.get(column.name) or UNKNOWN_TYPE
                ).lower(),
            )
            for column in node.columns.values()
        ]
        by_relation[node.alias.lower()] = columns
        by_node[node.unique_id] = columns
    for unit_test in manifest.unit_tests.values():
        tested = unit_test.depends_on.nodes[0] if unit_test.depends_on.nodes else None
        if tested in by_node:
            by_node[unit_test.unique_id] = by_node[tested]
    return by_relation, by_node


@dataclass
class FakeRelation:
    schema: str
    name: str
    kind: str  # "table" or "view"
    columns: list[Column] | None = None  # from its CREATE TABLE, when the batches gave them
    definition: str | None = None  # a view's CREATE statement, as object_definition() returns


@dataclass(frozen=True)
class CatalogEvent:
    """What batch `batch` did to the relation or procedure `name` (`schema.name`, lower
    case): create, drop, rename_away, rename_to, read, insert, delete, update, truncate,
    merge or exec; `missing`: the catalog did not hold it then."""

    batch: int
    action: str
    name: str
    missing: bool = False


@dataclass(frozen=True)
class Batch:
    """One batch as the server received it: on which session (connection), with which
    parameters, and in which of the transactions dbt opened there (None: it autocommitted).
    A transaction is named by the index in the log of the batch that began it."""

    session: int
    sql: str
    parameters: Sequence[Any] | None = None
    transaction: int | None = None


@dataclass
class _Session:
    transaction: int | None = None  # the open transaction
    depth: int = 0  # @@TRANCOUNT
    xact_abort: bool = False


class SqlServerError(Exception):
    """What the fake raises for a batch that fails, as the driver raises SQL Server's error."""


@dataclass
class FakeSqlServer:
    """The batches sent, and the catalog: relations and procedures by (schema, name), lower
    case. `tables` exist before the first batch, with their columns (empty: not known); a
    batch containing a key of `errors` (case-insensitive) fails with its message; a query
    containing a key of `answers` returns its rows: what the data the fake does not hold
    (say, the run a training procedure appended) would give."""

    tables: Mapping[tuple[str, str], Sequence[Column]] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    answers: Mapping[str, Sequence[tuple]] = field(default_factory=dict)
    database: str = "tpcxbb_1gb"
    default_schema: str = "dbo"
    declared_columns: dict[str, list[Column]] = field(default_factory=dict)
    node_columns: dict[str, list[Column]] = field(default_factory=dict)
    relations: dict[tuple[str, str], FakeRelation] = field(default_factory=dict)
    # A procedure's body: what runs when it is executed.
    procedures: dict[tuple[str, str], str] = field(default_factory=dict)
    schemas: set[str] = field(default_factory=set)
    log: list[Batch] = field(default_factory=list)
    events: list[CatalogEvent] = field(default_factory=list)
    # How each transaction ended: "commit" or "rollback".
    outcomes: dict[int, str] = field(default_factory=dict)
    # For the source guard: rows per (schema, name), and the log rows (source_table,
    # row_count, max_key) of the last successful build.
    row_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    source_builds: list[tuple[str, int, int | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._sessions: dict[int, _Session] = {}
        self._running: list[tuple[str, str]] = []  # the procedures being executed
        self.schemas.add(self.default_schema.lower())
        for (schema, name), columns in self.tables.items():
            self._add(schema, name, "table", columns=list(columns) or None)

    # The catalog ----------------------------------------------------------------------

    def _add(self, schema: str, name: str, kind: str, **details: Any) -> FakeRelation:
        relation = FakeRelation(schema, name, kind, **details)
        self.relations[(schema.lower(), name.lower())] = relation
        self.schemas.add(schema.lower())
        return relation

    def _key(self, name: str) -> tuple[str, str] | None:
        """(schema, name) of a relation name, None for temp tables and other databases."""
        parts = name_parts(name)
        if not parts or parts[-1].startswith(("#", "@")):
            return None
        if len(parts) == 3 and parts[0].lower() != self.database.lower():
            return None
        schema = parts[-2] if len(parts) > 1 else self.default_schema
        return schema.lower(), parts[-1].lower()

    def relation(self, name: str) -> FakeRelation | None:
        key = self._key(name)
        return self.relations.get(key) if key else None

    def relation_names(self) -> dict[str, str]:
        """`schema.name` -> kind of every relation the catalog holds."""
        return {f"{r.schema}.{r.name}": r.kind for r in self.relations.values()}

    def columns_of(self, name: str) -> list[Column]:
        relation = self.relation(name)
        if relation is not None and relation.columns is not None:
            return relation.columns
        identifier = name_parts(name)[-1].lower() if name_parts(name) else ""
        for suffix in _WORK_SUFFIXES:
            if identifier.endswith(suffix):
                identifier = identifier[: -len(suffix)]
                break
        return self.declared_columns.get(identifier, [])

    def shape(self, query: exp.Expression) -> list[Column]:
        """The result columns of a query: the names of its select list (a `*` expanded from
        CTEs, subqueries and known relations), typed by a cast or by the column read where
        the fake can tell, else as the node dbt is building declares the column, else as the
        column of the relation that node builds, if it exists (a model keeps its types),
        else UNKNOWN_TYPE (the fake types no expression)."""
        node = get_node_info()
        built = self.relation((node.get("node_relation") or {}).get("relation_name") or "")
        known: dict[str, str] = {}
        for name, data_type in [
            *self.node_columns.get(node.get("unique_id", ""), []),
            *((built.columns or []) if built else []),
        ]:
            if data_type != UNKNOWN_TYPE:
                known.setdefault(name.lower(), data_type)
        return [
            (
                name,
                known.get(name.lower(), UNKNOWN_TYPE) if type_ in (None, UNKNOWN_TYPE) else type_,
            )
            for name, type_ in _select_list(query, {}, self)
        ]

    def with_same_catalog(self) -> FakeSqlServer:
        """A server holding this one's relations, columns and procedures, and no batches
        yet: the next build's server."""
        return FakeSqlServer(
            database=self.database,
            default_schema=self.default_schema,
            declared_columns=self.declared_columns,
            node_columns=self.node_columns,
            relations=copy.deepcopy(self.relations),
            procedures=dict(self.procedures),
            schemas=set(self.schemas),
            answers=dict(self.answers),
            row_counts=dict(self.row_counts),
            source_builds=list(self.source_builds),
        )

    def _track(self, sql: str, batch: int) -> None:
        for segment in _in_execution_order(_without_scripts(sql)):
            self._track_segment(segment, batch)

    def _track_segment(self, sql: str, batch: int) -> None:
        for match in _CATALOG_EVENT.finditer(sql):
            if match.group("create_procedure"):
                # CREATE PROCEDURE is alone in its batch: the rest is the procedure's body.
                key = self._key(match.group("procedure"))
                if key:
                    self.procedures[key] = sql[match.end() :]
                    self._event(batch, "create", key)
                return
            if match.group("create_table"):
                self._create(batch, match.group("table"), "table", _table_columns(sql, match))
            elif match.group("create_view"):
                body = _first_query(sql[match.end() :])
                columns = self.shape(body) if body is not None else None
                definition = sql[match.start() :]
                self._create(batch, match.group("view"), "view", columns, definition)
            elif match.group("select_into"):
                columns = self._selected_into(sql, match)
                self._create(batch, match.group("into"), "table", columns)
            elif match.group("drop"):
                key = self._key(match.group("dropped"))
                dropped_procedure = match.group("drop_kind").lower().startswith("proc")
                held = self.procedures if dropped_procedure else self.relations
                if key and held.pop(key, None) is not None:
                    self._event(batch, "drop", key)
            elif match.group("rename") and not match.group("object_type"):
                self._rename(batch, match.group("old"), match.group("new"))
            elif match.group("create_schema"):
                self.schemas.add(_unquote(match.group("schema")).lower())
            elif match.group("write"):
                verb = match.group("verb").split()[0].lower()
                self._use(batch, verb, match.group("written"))
            elif match.group("update"):
                self._use(batch, "update", match.group("updated"))
            elif match.group("exec"):
                self._execute(batch, match.group("executed"))
            elif match.group("read"):
                self._use(batch, "read", match.group("source"))

    def _event(self, batch: int, action: str, key: tuple[str, str], missing: bool = False) -> None:
        self.events.append(CatalogEvent(batch, action, ".".join(key), missing))

    def _create(self, batch: int, name: str, kind: str, columns=None, definition=None) -> None:
        key = self._key(name)
        if key:
            parts = name_parts(name)
            schema = parts[-2] if len(parts) > 1 else self.default_schema
            self._add(schema, parts[-1], kind, columns=columns or None, definition=definition)
            self._event(batch, "create", key)

    def _selected_into(self, sql: str, match: re.Match) -> list[Column] | None:
        """The columns of `select * into <table> from <relation>`: the relation's."""
        star = re.search(
            r"\bselect\s+(?:top\s*\(?\s*\d+\s*\)?\s+)?\*\s*$", sql[: match.start()], re.IGNORECASE
        )
        source = re.match(rf"\s+from\s+({_NAME})", sql[match.end() :], re.IGNORECASE)
        if star and source:
            return list(self.columns_of(source.group(1))) or None
        return None

    def _rename(self, batch: int, old: str, new: str) -> None:
        key = self._key(old)
        relation = self.relations.pop(key, None) if key else None
        if key and relation is not None:
            self._event(batch, "rename_away", key)
            renamed = self._add(relation.schema, name_parts(new)[-1], relation.kind)
            renamed.columns = relation.columns
            self._event(batch, "rename_to", (renamed.schema.lower(), renamed.name.lower()))

    def _use(self, batch: int, action: str, name: str) -> tuple[str, str] | None:
        """A read or write of a relation, or an exec of a procedure, as an event, `missing`
        if the catalog does not hold it. None for a CTE, a table alias, a catalog view, a
        temp table: unqualified or system names, which the fake does not follow."""
        parts = name_parts(name)
        key = self._key(name)
        if len(parts) < 2 or parts[-2].lower() in _SYSTEM_SCHEMAS or key is None:
            return None
        held = self.procedures if action == "exec" else self.relations
        self._event(batch, action, key, missing=key not in held)
        return key

    def _execute(self, batch: int, name: str) -> None:
        """An `exec` of a procedure: its body runs, as part of this batch."""
        key = self._use(batch, "exec", name)
        if key in self.procedures and key not in self._running:
            self._running.append(key)
            self._track(self.procedures[key], batch)
            self._running.pop()

    # What the tests read --------------------------------------------------------------

    @property
    def batches(self) -> list[str]:
        """Every batch, as sent."""
        return [batch.sql for batch in self.log]

    def batches_without_comment(self) -> list[str]:
        """Every batch with dbt's leading query comment removed, and the `?` parameter
        markers of a parameterised batch numbered `@P1, @P2, ...`, as the ODBC driver sends
        them to the server."""
        return [
            _number_parameters(without_query_comment(batch.sql))
            if batch.parameters
            else without_query_comment(batch.sql)
            for batch in self.log
        ]

    def find(self, fragment: str) -> list[Batch]:
        """The batches containing `fragment` (case-insensitive), in the order sent."""
        return [batch for batch in self.log if fragment.lower() in batch.sql.lower()]

    def fate(self, batch: Batch) -> str:
        """What became of a batch's changes: "autocommit", "commit", "rollback", or "open"
        (its transaction had not ended when the recording stopped)."""
        if batch.transaction is None:
            return "autocommit"
        return self.outcomes.get(batch.transaction, "open")

    # The connection -------------------------------------------------------------------

    def open_session(self) -> int:
        with self._lock:
            session = len(self._sessions) + 1
            self._sessions[session] = _Session()
            return session

    def close_session(self, session: int) -> None:
        """A session closed with a transaction open rolls it back."""
        with self._lock:
            self._end(self._sessions[session], "rollback")

    def execute(
        self, sql: str, params: Sequence[Any] | None, session: int
    ) -> tuple[list | None, list]:
        """Record a batch, follow the transactions of its session, apply it to the catalog,
        return (description, rows); raise SqlServerError for a batch `errors` names."""
        with self._lock:
            state = self._sessions[session]
            statement = without_query_comment(sql)
            if _BEGIN.fullmatch(statement):
                if state.depth == 0:
                    state.transaction = len(self.log)
                state.depth += 1
            self.log.append(Batch(session, sql, params, state.transaction))
            failure = self._failure(sql)
            ran = sql if failure is None else sql[: failure[0]]
            for setting in _XACT_ABORT.finditer(_session_level(ran)):
                state.xact_abort = setting.group(1).lower() == "on"
            if failure is not None:
                self._track(ran, len(self.log) - 1)
                if state.xact_abort:
                    self._end(state, "rollback")
                raise SqlServerError(failure[1])
            answer = _Answer(self, statement).answer()
            self._track(sql, len(self.log) - 1)
            end = _END.fullmatch(statement)
            if end and state.depth:
                outcome = end.group(1).lower()  # a ROLLBACK ends every nested level
                state.depth = 0 if outcome == "rollback" else state.depth - 1
                if state.depth == 0:
                    self._end(state, outcome)
            return answer

    def _failure(self, sql: str) -> tuple[int, str] | None:
        """Where the batch fails, and with which message, if `errors` names it."""
        low = sql.lower()
        for fragment, message in self.errors.items():
            position = low.find(fragment.lower())
            if position != -1:
                return position, message
        return None

    def _end(self, state: _Session, outcome: str) -> None:
        if state.transaction is not None:
            self.outcomes[state.transaction] = outcome
        state.transaction, state.depth = None, 0


def _number_parameters(sql: str) -> str:
    """`?` markers numbered `@P1, @P2, ...`. dbt's parameterised batches are seed inserts,
    which bind every value, so no `?` stands in a string literal."""
    counter = iter(range(1, 1_000_000))
    return re.sub(r"\?", lambda _: f"@P{next(counter)}", sql)


def _table_columns(sql: str, match: re.Match) -> list[Column] | None:
    """The columns of the CREATE TABLE starting at match, if sqlglot can read them."""
    statement = sql[match.start() :]
    depth, end = 0, None
    for position, char in enumerate(statement):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                end = position + 1
                break
    if end is None:
        return None
    try:
        tree = sqlglot.parse_one(statement[:end], read="tsql")
    except sqlglot.errors.ParseError:
        return None
    return [
        (definition.name, definition.args["kind"].sql(dialect="tsql").lower())
        for definition in tree.find_all(exp.ColumnDef)
        if definition.args.get("kind") is not None
    ] or None


def _description(columns: Sequence[Column]) -> list[tuple]:
    return [
        (name, python_type(data_type), None, None, None, None, True) for name, data_type in columns
    ]


class _Answer:
    """dbt's query, recognised by its shape, and the fake's reply to it."""

    def __init__(self, server: FakeSqlServer, sql: str) -> None:
        self.server = server
        self.sql = sql
        self.low = sql.lower()

    def answer(self) -> tuple[list | None, list]:
        low = self.low
        if "dbt_internal_unit_test_actual" in low:
            return self._unit_test()
        if re.search(r"\bas failures\b", low) and "should_error" in low:
            # A data test's result: no failing rows.
            names = ("failures", "should_warn", "should_error")
            return _description([(n, "int") for n in names]), [(0, "false", "false")]
        if "from sys.tables" in low:
            return self._relations()
        if "from sys.schemas" in low:
            return self._schemas()
        if "from sys.columns c" in low and "sys.types" in low:
            return self._columns()
        if "object_definition(" in low:
            return self._view_definition()
        if "dm_exec_describe_first_result_set(" in low:
            return self._describe_first_result_set()
        if "sp_describe_first_result_set" in low:
            return self._sp_describe_first_result_set()
        if "information_schema.table_privileges" in low:
            return _description([("grantee", "sysname"), ("privilege_type", "varchar(10)")]), []
        if "sys.extended_properties" in low and "marker_count" in low:
            return _description([("marker_count", "int")]), [(0,)]
        if re.search(r"\bfrom\s+sys\.indexes\s+i\b", low):
            # sqlserver__describe_indexes: the fake keeps no indexes.
            names = (
                "name",
                "type",
                "unique",
                "is_primary_key",
                "is_unique_constraint",
                "columns",
                "included_columns",
                "data_compression",
                "descending_columns",
                "where",
                "fillfactor",
                "ignore_dup_key",
            )
            return _description([(n, "sysname") for n in names]), []
        if "sys.sql_expression_dependencies" in low:
            return _description([("schema_name", "sysname"), ("view_name", "sysname")]), []
        if "columnproperty(" in low:
            return _description([("allows_null", "int")]), [(1,)]
        if re.search(r"\bas\s+source_row_count\b", low):
            return self._source_guard_scan()
        if re.search(r"\bfrom\s+\S+\.source_table_builds\s+as\s+builds\b", low):
            columns = [
                ("source_table", "varchar(256)"),
                ("row_count", "bigint"),
                ("max_key", "bigint"),
            ]
            return _description(columns), list(self.server.source_builds)
        if re.search(r"\bwhere\s+(?:0\s*=\s*1|1\s*=\s*0)\b", low) or "select top 0" in low:
            return _description(self._shape(self.sql)), []
        query = _first_query(self.sql)
        if query is not None:
            columns = self.server.shape(query)
            for fragment, rows in self.server.answers.items():
                if fragment.lower() in low:
                    return _description(columns), list(rows)
            if not _aggregates_to_one_row(query):
                # Rows of empty tables, not an aggregate over them: none.
                return _description(columns), []
            return _description(columns), [_empty_row(query, len(columns))]
        return None, []

    def _source_guard_scan(self) -> tuple[list, list]:
        """The source guard's scan of one table of n rows keyed 1..n: its name, n, the
        highest key n, the rows at or below the last build's key, none out of bounds."""
        query = _first_query(self.sql)
        table = query.args["from_"].this.sql(dialect="tsql")
        rows = self.server.row_counts.get(self.server._key(table), SOURCE_ROWS)
        last_key = re.search(r"<=\s*(\d+)", self.sql)
        values = {
            "source_row_count": rows,
            "source_max_key": rows or None,
            "source_rows_up_to_last_key": min(rows, int(last_key.group(1))) if last_key else 0,
        }
        columns, row = [], []
        for projection in query.expressions:
            name = projection.alias_or_name.lower()
            literal = projection.unalias()
            if isinstance(literal, exp.Literal) and literal.is_string:
                columns.append((name, "varchar(256)"))
                row.append(literal.this)
            else:
                columns.append((name, "bigint"))
                row.append(values.get(name, 0))
        return _description(columns), [tuple(row)]

    def _relations(self) -> tuple[list, list]:
        schema = re.search(r"schema_id\('([^']+)'\)", self.sql)
        name = re.search(r"\bt\.name\s*=\s*'([^']+)'", self.sql)
        rows = [
            (self.server.database, relation.name, relation.schema, relation.kind)
            for relation in self.server.relations.values()
            if schema
            and relation.schema.lower() == schema.group(1).lower()
            and (name is None or relation.name.lower() == name.group(1).lower())
        ]
        names = ("database", "name", "schema", "table_type")
        return _description([(n, "sysname") for n in names]), rows

    def _schemas(self) -> tuple[list, list]:
        named = re.search(r"where\s+name\s*=\s*'([^']+)'", self.sql, re.IGNORECASE)
        if named:
            exists = int(named.group(1).lower() in self.server.schemas)
            return _description([("schema_exist", "int")]), [(exists,)]
        return _description([("schema", "sysname")]), [(s,) for s in sorted(self.server.schemas)]

    def _columns(self) -> tuple[list, list]:
        target = re.search(r"object_id\('([^']+)'\)", self.sql, re.IGNORECASE)
        names = (
            "column_name",
            "data_type",
            "character_maximum_length",
            "numeric_precision",
            "numeric_scale",
        )
        description = _description([(n, "sysname") for n in names])
        if not target or "tempdb.." in target.group(1).lower():
            return description, []
        return description, [sys_columns_row(*c) for c in self.server.columns_of(target.group(1))]

    def _view_definition(self) -> tuple[list, list]:
        target = re.search(
            r"quotename\('([^']+)'\)\s*\+\s*'\.'\s*\+\s*quotename\('([^']+)'\)",
            self.sql,
            re.IGNORECASE,
        )
        relation = self.server.relation(".".join(target.groups())) if target else None
        definition = relation.definition if relation and relation.kind == "view" else None
        rows = [(definition,)] if definition else []
        columns = [("definition", "nvarchar(max)")]
        if "needs_refresh" in self.low:
            # The view's columns still match what its body resolves to: nothing to refresh.
            columns.append(("needs_refresh", "int"))
            rows = [(definition, 0) for (definition,) in rows]
        return _description(columns), rows

    def _describe_first_result_set(self) -> tuple[list, list]:
        described = re.search(r"\(\s*N'((?:[^']|'')*)'", self.sql)
        query = described.group(1).replace("''", "'") if described else ""
        names = ("is_hidden", "name", "system_type_name", "error_number", "error_message")
        rows = [(False, name, data_type, None, None) for name, data_type in self._shape(query)]
        return _description([(n, "sysname") for n in names]), rows

    def _sp_describe_first_result_set(self) -> tuple[list, list]:
        described = re.search(r"@tsql\s*=\s*N'((?:[^']|'')*)'", self.sql, re.IGNORECASE)
        query = described.group(1).replace("''", "'") if described else ""
        names = ("is_hidden", "column_ordinal", "name", "is_nullable", "system_type_name")
        rows = [(False, i, name, True, t) for i, (name, t) in enumerate(self._shape(query), 1)]
        return _description([(n, "sysname") for n in names]), rows

    def _unit_test(self) -> tuple[list, list]:
        # The columns the unit test compares, then actual_or_expected; no rows: no difference.
        select = re.search(
            r"dbt_internal_unit_test_actual\s+as\s*\(\s*select\s+(.*?)\s*,\s*'actual'",
            self.sql,
            re.IGNORECASE | re.DOTALL,
        )
        names = [_unquote(n) for n in select.group(1).split(",")] if select else []
        return _description([(n, UNKNOWN_TYPE) for n in [*names, "actual_or_expected"]]), []

    def _shape(self, sql: str) -> list[Column]:
        query = _first_query(sql)
        return self.server.shape(query) if query is not None else []


def _aggregates_to_one_row(query: exp.Expression) -> bool:
    """Whether a query returns one row over empty tables: a SELECT whose select list
    aggregates (count, max, ...) without GROUP BY, or that reads no table at all."""
    if not isinstance(query, exp.Select):
        return True
    if query.args.get("group"):
        return False
    if query.args.get("from_") is None and query.args.get("from") is None:
        return True
    return any(p.find(exp.AggFunc) is not None for p in query.expressions)


def _empty_row(query: exp.Expression, width: int) -> tuple:
    """What a query over empty tables returns: 0 for a count, NULL for anything else."""
    projections = query.expressions if isinstance(query, exp.Select) else []
    if len(projections) != width:
        return (None,) * width
    return tuple(0 if isinstance(p.unalias(), exp.Count) else None for p in projections)


def _first_query(sql: str) -> exp.Expression | None:
    try:
        statements = sqlglot.parse(sql, read="tsql")
    except sqlglot.errors.SqlglotError:
        return None
    for statement in statements:
        if isinstance(statement, exp.Query):
            return statement
    return None


def _select_list(
    query: exp.Expression, ctes: Mapping[str, exp.Expression], server: FakeSqlServer
) -> list[tuple[str, str | None]]:
    """(name, type or None) of each column a query returns: a `*` expanded from the CTEs,
    subqueries and relations it selects from; the type of a cast, or of a column read from
    a source whose column types are known."""
    ctes = dict(ctes)
    with_ = query.args.get("with_")
    for cte in with_.expressions if with_ else []:
        ctes[cte.alias_or_name.lower()] = cte.this
    if isinstance(query, exp.SetOperation):
        return _select_list(query.left, ctes, server)
    if isinstance(query, exp.Subquery):
        return _select_list(query.this, ctes, server)
    if not isinstance(query, exp.Select):
        return []
    sources = [query.args["from_"].this] if query.args.get("from_") else []
    sources += [join.this for join in query.args.get("joins") or []]
    resolved = {
        source.alias_or_name.lower(): _source_columns(source, ctes, server) for source in sources
    }
    columns: list[tuple[str, str | None]] = []
    for projection in query.expressions:
        if isinstance(projection, exp.Star) or (
            isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
        ):
            table = projection.table.lower() if isinstance(projection, exp.Column) else ""
            for alias, source_columns in resolved.items():
                if table in ("", alias):
                    columns += source_columns
            continue
        expression = projection.unalias()
        data_type = None
        if isinstance(expression, exp.Cast):
            data_type = expression.to.sql(dialect="tsql").lower()
        elif isinstance(expression, exp.Column):
            table = expression.table.lower()
            data_type = next(
                (
                    column_type
                    for alias, source_columns in resolved.items()
                    if table in ("", alias)
                    for column_name, column_type in source_columns
                    if column_name.lower() == expression.name.lower()
                ),
                None,
            )
        columns.append((projection.alias_or_name, data_type))
    return columns


def _source_columns(
    source: exp.Expression, ctes: Mapping[str, exp.Expression], server: FakeSqlServer
) -> list[tuple[str, str | None]]:
    if isinstance(source, exp.Subquery):
        return _select_list(source.this, ctes, server)
    if isinstance(source, exp.Table):
        if not source.args.get("db") and source.name.lower() in ctes:
            return _select_list(ctes[source.name.lower()], ctes, server)
        return list(server.columns_of(source.sql(dialect="tsql")))
    return []


class _Cursor:
    def __init__(self, server: FakeSqlServer, session: int) -> None:
        self._server = server
        self._session = session
        self._rows: list[tuple] = []
        self.description = None
        self.rowcount = -1

    def execute(self, sql: str, *bindings: object) -> _Cursor:
        params = bindings[0] if len(bindings) == 1 else (bindings or None)
        self.description, self._rows = self._server.execute(sql, params, self._session)
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
        self.session = server.open_session()

    def cursor(self) -> _Cursor:
        return _Cursor(self._server, self.session)

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        self._server.close_session(self.session)

    def add_output_converter(self, *args: object) -> None:
        pass


@contextmanager
def fake_sqlserver(
    monkeypatch: pytest.MonkeyPatch,
    tables: Mapping[tuple[str, str], Sequence[Column]] | None = None,
    *,
    errors: Mapping[str, str] | None = None,
    server: FakeSqlServer | None = None,
) -> Iterator[FakeSqlServer]:
    """Patch dbt-sqlserver's connection manager to open fake connections (sessions) to one
    server: `server`, or a new one holding `tables` and failing the batches `errors` names
    (see FakeSqlServer). Each connection first gets the session settings dbt-sqlserver sends
    on opening (SET XACT_ABORT ON)."""
    if server is None:
        server = FakeSqlServer(tables=dict(tables or {}), errors=dict(errors or {}))
    elif tables or errors:
        raise TypeError("give a server its tables and errors when creating it")
    manager = sqlserver_connections.SQLServerConnectionManager

    def fake_open(cls, connection):
        if connection.state == ConnectionState.OPEN:
            return connection
        connection.handle = _Handle(server)
        connection.state = ConnectionState.OPEN
        if cls.get_credentials(connection.credentials).xact_abort:
            cls._apply_session_settings(connection)
        return connection

    with monkeypatch.context() as patch:
        patch.setattr(manager, "open", classmethod(fake_open))
        yield server


def invoke_sqlserver(workdir: Path, *args: str, manifest: Any = None) -> dbtRunnerResult:
    """dbt with `--target sqlserver` on this project, its target and logs under workdir; given
    a parsed manifest, dbt does not parse the project again."""
    return dbtRunner(manifest=manifest).invoke(
        [
            *args,
            "--target",
            "sqlserver",
            *dbt_location_args(workdir),
            "--no-partial-parse",
            "--quiet",
        ]
    )
