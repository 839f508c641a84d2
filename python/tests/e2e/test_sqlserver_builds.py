"""Whole `dbt build --target sqlserver` invocations, recorded through the fake connection
(sqlserver_fake.py): what dbt would send SQL Server on a first build on an empty server, a
nightly build over what the first one created, and a `--full-refresh` build over the same.
Every batch must parse as T-SQL, every column type in DDL must exist in T-SQL with its
length, every relation and procedure must exist when a batch uses it, incremental models
must take the branch their build calls for, and the grants of the models configured with
grants must be sent, to no one else."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlfluff
import sqlglot
from dbt.cli.main import dbtRunnerResult
from sqlglot import exp
from sqlserver_fake import (
    SOURCE_ROWS,
    SOURCE_TABLES,
    FakeSqlServer,
    columns_from_manifest,
    fake_sqlserver,
    invoke_sqlserver,
    sql_units,
)

BUILDS = ("first", "nightly", "full_refresh")
# What dbt builds beside a model and drops again: work relations, data and unit test views.
WORK_RELATION = re.compile(r"__dbt_|^dbo\.(testview|expectedview)_")


@dataclass
class RecordedBuild:
    """One `dbt build --target sqlserver` through the fake: its result and what it sent."""

    name: str
    result: dbtRunnerResult
    server: FakeSqlServer
    relations_before: dict[str, str]

    def batches(self) -> list[str]:
        return self.server.batches_without_comment()

    def node_of(self, batch: int) -> str:
        """The node a batch was sent for, from dbt's query comment ("" for none)."""
        comment = re.match(r"\s*/\*\s*(\{.*?\})\s*\*/", self.server.batches[batch], re.DOTALL)
        return json.loads(comment.group(1)).get("node_id", "") if comment else ""

    def actions_on(self, relation: str) -> list[str]:
        return [e.action for e in self.server.events if e.name == relation]

    def reads_itself(self, relation: str, node_id: str) -> bool:
        """Whether the node's own batches read its relation before the batch that first
        wrote it: its is_incremental() branch. A post-hook may check the rows just written
        (assert_campaign_list_not_empty does)."""
        own = [e for e in self.server.events if e.name == relation]
        written = [e.batch for e in own if e.action in ("create", "rename_to", "insert")]
        first_write = min(written, default=len(self.server.batches))
        return any(
            e.action == "read" and e.batch <= first_write and self.node_of(e.batch) == node_id
            for e in own
        )


# The latest run that passed its gates: the query of assert_segment_model_promoted.
PASSED_RUN_QUERY = "where coalesce(cast(passed_gates as integer), 1) = 1"
# The start of the last successful build, which scopes nightly data tests (get_where_subquery).
LAST_BUILD_QUERY = "select max(built_at) from"
LAST_BUILD_STARTED_AT = "2026-01-01 02:00:00.000000"
NIGHTLY_SCOPE = f"refreshed_at > cast('{LAST_BUILD_STARTED_AT}' as datetime2(6))"


def record_build(
    name: str, manifest: Any, tmp_path_factory: Any, server: FakeSqlServer, *args: str
) -> RecordedBuild:
    """`dbt build` with args against the fake server, recorded."""
    before = server.relation_names()
    workdir = tmp_path_factory.mktemp(name)
    with pytest.MonkeyPatch.context() as patch, fake_sqlserver(patch, server=server):
        # One thread: the batches come in one order, the same on every run.
        result = invoke_sqlserver(workdir, "build", "--threads", "1", *args, manifest=manifest)
    return RecordedBuild(name, result, server, before)


@pytest.fixture(scope="module")
def manifest(default_sqlserver_env, tmp_path_factory) -> Any:
    """The project parsed once for SQL Server; every build below reuses it."""
    result = invoke_sqlserver(tmp_path_factory.mktemp("sqlserver_parse"), "parse")
    assert result.success, f"dbt parse --target sqlserver failed: {result.exception}"
    return result.result


@pytest.fixture(scope="module")
def first_build(manifest, tmp_path_factory) -> RecordedBuild:
    """`dbt build` on a server holding only the source tables. The fake runs no Python: it
    answers the gate's question as a server would after the training procedure appended run
    1 and that run passed its quality gates."""
    by_relation, by_node = columns_from_manifest(manifest)
    server = FakeSqlServer(
        tables=SOURCE_TABLES,
        declared_columns=by_relation,
        node_columns=by_node,
        answers={PASSED_RUN_QUERY: [(1,)]},
    )
    return record_build("first", manifest, tmp_path_factory, server)


@pytest.fixture(scope="module")
def nightly_build(manifest, first_build, tmp_path_factory) -> RecordedBuild:
    """`dbt build` again, on the server as the first build left it, with the sources as the
    first build logged them: the source guard compares the two."""
    server = first_build.server.with_same_catalog()
    server.source_builds = [
        (f"{schema}.{name}", SOURCE_ROWS, SOURCE_ROWS) for schema, name in SOURCE_TABLES
    ]
    # When that build started: nightly tests check only the rows refreshed after it.
    server.answers[LAST_BUILD_QUERY] = [(LAST_BUILD_STARTED_AT,)]
    return record_build("nightly", manifest, tmp_path_factory, server)


@pytest.fixture(scope="module")
def full_refresh_build(manifest, first_build, tmp_path_factory) -> RecordedBuild:
    """`dbt build --full-refresh` on the server as the first build left it."""
    server = first_build.server.with_same_catalog()
    return record_build("full_refresh", manifest, tmp_path_factory, server, "--full-refresh")


@pytest.fixture(scope="module", params=BUILDS)
def build(request) -> RecordedBuild:
    return request.getfixturevalue(f"{request.param}_build")


def relation_key(node: Any) -> str:
    return f"{node.schema}.{node.alias}".lower()


def incremental_models(manifest: Any) -> dict[str, Any]:
    return {
        relation_key(node): node
        for node in manifest.nodes.values()
        if node.resource_type == "model" and node.config.materialized == "incremental"
    }


def shortened(sql: str, limit: int = 300) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


# Reading T-SQL ----------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<comment>--[^\n]*|/\*.*?\*/)
    | (?P<string>N?'(?:[^']|'')*')
    | (?P<quoted>"(?:[^"]|"")*"|\[(?:[^\]]|\]\])*\])
    | (?P<other>[^-/'"\[N]+|.)
    """,
    re.VERBOSE | re.DOTALL,
)


def masked(sql: str) -> str:
    """The SQL with every comment and string literal blanked out, same length: a keyword
    found in it is a keyword, and its position is the same in the SQL."""
    return "".join(
        " " * len(m.group()) if m.lastgroup in ("comment", "string") else m.group()
        for m in _TOKEN.finditer(sql)
    )


def _parse_key(sql: str) -> str:
    """What sqlfluff's verdict on a batch depends on: the batch without comments, each string
    literal and quoted identifier reduced to one token, spaces collapsed. Batches that differ
    only in relation names (most of dbt's) are parsed once."""
    parts = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        if kind == "string":
            parts.append("'s'")
        elif kind == "quoted":
            parts.append('"q"')
        elif kind != "comment":
            parts.append(match.group())
    return " ".join("".join(parts).split())


# Valid T-SQL that dbt-sqlserver 1.11.3 sends and sqlfluff 4.4's tsql dialect rejects,
# rewritten to an equivalent form it accepts. Each pattern matches only the adapter's form.
SQLFLUFF_TSQL_GAPS = [
    # sqlserver__get_columns_in_relation and get_view_skip_check_sql read the `precision`
    # column of sys.columns; sqlfluff takes the word for a keyword (of `double precision`).
    (re.compile(r"(?<!double )(?<![\w\[])precision\b(?!\s*\()", re.IGNORECASE), "[precision]"),
    # get_view_skip_check_sql: `... as definition`, a column alias sqlfluff takes for a
    # keyword.
    (re.compile(r"\bas\s+definition\b", re.IGNORECASE), "as [definition]"),
    # sqlserver__create_clustered_columnstore_index: DROP INDEX in its `table.index` form.
    (
        re.compile(r"\bDROP\s+index\s+((?:\"[^\"]+\"\.)*\"[^\"]+\")\.(\w+)", re.IGNORECASE),
        r"DROP INDEX \2 ON \1",
    ),
    # The delete+insert strategy: `insert into t (columns) (select ...) OPTION (...)`, a
    # parenthesised SELECT with a query hint.
    (
        re.compile(r"(\binsert\s+into\s+[^(]+\([^()]*\)\s*)\(\s*(select\b[^()]*)\)", re.I),
        r"\1\2",
    ),
]
_PARSE_ERRORS: dict[str, str | None] = {}


def tsql_parse_error(sql: str) -> str | None:
    """Why sqlfluff's tsql dialect cannot parse the SQL as a whole, or None."""
    for pattern, replacement in SQLFLUFF_TSQL_GAPS:
        sql = pattern.sub(replacement, sql)
    key = _parse_key(sql)
    if key not in _PARSE_ERRORS:
        try:
            sqlfluff.parse(sql, dialect="tsql")
            _PARSE_ERRORS[key] = None
        except sqlfluff.api.APIParsingError as error:
            _PARSE_ERRORS[key] = " | ".join(str(error).splitlines()[1:3])
    return _PARSE_ERRORS[key]


# T-SQL's types, as sqlglot reads them (a `sql_variant` is VARIANT, a `datetimeoffset`
# TIMESTAMPTZ, a `uniqueidentifier` UUID); `boolean`, `double`, `text`, `string` are not here.
T = exp.DataType.Type
TSQL_TYPES = {
    T.BIGINT, T.INT, T.SMALLINT, T.UTINYINT, T.BIT, T.DECIMAL, T.MONEY, T.SMALLMONEY,
    T.FLOAT, T.DATE, T.DATETIME, T.DATETIME2, T.SMALLDATETIME, T.TIMESTAMPTZ, T.TIME,
    T.CHAR, T.VARCHAR, T.NCHAR, T.NVARCHAR, T.BINARY, T.VARBINARY, T.UUID, T.XML,
    T.VARIANT, T.ROWVERSION,
}  # fmt: skip
# Without a length T-SQL makes these one character (or byte) long in DDL.
NEEDS_LENGTH = {T.CHAR, T.VARCHAR, T.NCHAR, T.NVARCHAR, T.BINARY, T.VARBINARY}
_DDL = re.compile(
    r"\bcreate\s+table\s+[^(;]+\(|\balter\s+table\s+\S+\s+(?:add|alter\s+column)\b", re.I
)


def ddl_statements(sql: str) -> Iterator[str]:
    """Every `create table ... (...)` and `alter table ... add|alter column ...` in the SQL,
    found outside comments and string literals."""
    blank = masked(sql)
    for match in _DDL.finditer(blank):
        depth, end = 0, len(sql)
        for position in range(match.start(), len(sql)):
            char = blank[position]
            depth += {"(": 1, ")": -1}.get(char, 0)
            if (char == ")" and depth == 0 and match.group().endswith("(")) or (
                char == ";" and depth == 0
            ):
                end = position + 1
                break
        yield sql[match.start() : end]


def column_type_problems(statement: str) -> list[str]:
    """The columns of a DDL statement whose type T-SQL lacks, or needs a length for."""
    try:
        tree = sqlglot.parse_one(statement.rstrip(";"), read="tsql")
    except sqlglot.errors.ParseError as error:
        return [f"sqlglot cannot read its column types: {str(error).splitlines()[0]}"]
    columns = [(d.name, d.args.get("kind")) for d in tree.find_all(exp.ColumnDef)]
    columns += [(a.name, a.args.get("dtype")) for a in tree.find_all(exp.AlterColumn)]
    problems = []
    for name, data_type in columns:
        if data_type is None:
            continue
        if data_type.this not in TSQL_TYPES:
            problems.append(f"{name} {data_type.this.name.lower()}: not a T-SQL type")
        elif data_type.this in NEEDS_LENGTH and not data_type.expressions:
            problems.append(f"{name} {data_type.this.name.lower()} without a length")
    return problems


def types_tsql_lacks(sql: str) -> list[str]:
    """Types named anywhere in the SQL (casts, DDL, declarations) that T-SQL lacks, as far as
    sqlglot can read the SQL: the usual reason sqlfluff gives up on it."""
    try:
        trees = sqlglot.parse(sql, read="tsql")
    except sqlglot.errors.SqlglotError:
        return []
    return sorted(
        {
            data_type.this.name.lower()
            for tree in trees
            if tree is not None
            for data_type in tree.find_all(exp.DataType)
            if data_type.this not in TSQL_TYPES | {T.USERDEFINED}
        }
    )


def grants_sent(build: RecordedBuild) -> set[tuple[str, str, str]]:
    """(schema.relation, privilege, grantee) of every GRANT the build sent."""
    granted = set()
    for batch in build.batches():
        for unit in sql_units(batch):
            for match in re.finditer(r"\bgrant\b[^;]*", masked(unit), re.IGNORECASE):
                grant = sqlglot.parse_one(unit[match.start() : match.end()], read="tsql")
                assert isinstance(grant, exp.Grant), shortened(match.group())
                relation = f"{grant.args['securable'].db}.{grant.args['securable'].name}"
                for privilege in grant.args["privileges"]:
                    for principal in grant.args["principals"]:
                        granted.add((relation.lower(), privilege.this.name.lower(), principal.name))
    return granted


# The tests --------------------------------------------------------------------------------


def test_build_runs_every_node_and_hook_through_the_fake(manifest, build):
    results = build.result.result.results if build.result.result else []
    # dbt build reports each exposure (models/_exposures.yml) as a no-op: nothing to run.
    failed = [
        f"{r.node.unique_id}: {r.status}: {shortened(str(r.message))}"
        for r in results
        if r.status not in ("success", "pass")
        and not (r.node.resource_type == "exposure" and r.status == "no-op")
    ]
    assert build.result.exception is None, f"{build.name}: {build.result.exception}"
    assert build.result.success and not failed, f"{build.name} build:\n" + "\n".join(failed)
    nightly_selection = {
        uid
        for uid, node in {**manifest.nodes, **manifest.unit_tests}.items()
        if node.resource_type in ("model", "seed", "snapshot", "test", "unit_test", "operation")
        and node.config.enabled
        and "on_demand" not in node.tags
        # The code checks (selector code_checks) run in CI, not in the nightly selection.
        and "code_check" not in node.tags
        # Repeats of the sources' line keys on the staging views: full_checks only.
        and "full_checks_only" not in node.tags
        and node.resource_type != "unit_test"
    }
    assert nightly_selection <= {r.node.unique_id for r in results}


def test_only_a_nightly_build_scopes_data_tests_to_the_rows_it_changed(manifest, build):
    """Tests on models with a refreshed_at column check the rows refreshed after the last
    successful build in a nightly build; first and full-refresh builds check every row."""
    scoped_models = {
        uid
        for uid, node in manifest.nodes.items()
        if node.resource_type == "model" and "refreshed_at" in node.columns
    }
    scoped = {
        build.node_of(index)
        for index, batch in enumerate(build.server.batches)
        if any(NIGHTLY_SCOPE in unit for unit in sql_units(batch))
    }
    if build.name != "nightly":
        assert not scoped
        return
    assert scoped_models, "no model declares refreshed_at"
    assert scoped
    for uid in scoped:
        assert manifest.nodes[uid].attached_node in scoped_models, uid


def test_every_batch_parses_as_tsql(build):
    failures = []
    for index, batch in enumerate(build.batches()):
        for part, unit in enumerate(sql_units(batch)):
            error = tsql_parse_error(unit)
            if error:
                where = "the batch" if part == 0 else f"its dynamic SQL #{part}"
                if lacking := types_tsql_lacks(unit):
                    error += f" | types T-SQL lacks: {', '.join(lacking)}"
                failures.append(
                    f"batch {index} ({build.node_of(index) or 'no node'}), {where}: {error}\n"
                    f"    {shortened(unit)}"
                )
    assert not failures, (
        f"{build.name} build: {len(failures)} batches (or their dynamic SQL) do not parse as "
        f"T-SQL (sqlfluff tsql); the first:\n{failures[0]}"
    )


def test_column_type_check_rejects_types_tsql_lacks_and_strings_without_length():
    ddl = (
        "create table t (a boolean, b double, c text, d string, e varchar, f nvarchar,"
        " g char, h varchar(254), i nvarchar(max), j bigint, k float, l decimal(7, 2))"
    )
    assert column_type_problems(ddl) == [
        "a boolean: not a T-SQL type",
        "b double: not a T-SQL type",
        "c text: not a T-SQL type",
        "d text: not a T-SQL type",  # sqlglot reads `string` as TEXT
        "e varchar without a length",
        "f nvarchar without a length",
        "g char without a length",
    ]
    assert column_type_problems('alter table "dbo"."t" add "x" varchar(10), "y" bit;') == []
    assert column_type_problems('alter table "dbo"."t" add "x" double;') == [
        "x double: not a T-SQL type"
    ]


def test_every_column_type_in_ddl_exists_in_tsql_with_its_length(build):
    statements, problems = 0, []
    for index, batch in enumerate(build.batches()):
        for unit in sql_units(batch):
            for statement in ddl_statements(unit):
                statements += 1
                problems += [
                    f"batch {index} ({build.node_of(index)}): {problem}\n    {shortened(statement)}"
                    for problem in column_type_problems(statement)
                ]
    assert statements, f"{build.name} build: no CREATE TABLE found to check"
    assert not problems, f"{build.name} build:\n" + "\n".join(dict.fromkeys(problems))


def users_of_missing(build: RecordedBuild, actions: set[str]) -> dict[str, set[str]]:
    """Each object the build used with one of `actions` when it did not exist, and the nodes
    (or batches) that used it."""
    users: dict[str, set[str]] = {}
    for event in build.server.events:
        if event.missing and event.action in actions:
            node = build.node_of(event.batch) or f"batch {event.batch}"
            users.setdefault(event.name, set()).add(node)
    return users


def test_every_relation_is_read_only_once_it_exists(build):
    uses = {"read", "insert", "delete", "update", "truncate", "merge"}
    missing = users_of_missing(build, uses)
    assert not missing, (
        f"{build.name} build reads relations that do not exist (SQL Server cannot create a "
        f"view or table over them): "
        + "; ".join(f"{r}, read by {', '.join(sorted(nodes))}" for r, nodes in missing.items())
    )


def test_every_procedure_is_executed_only_once_the_build_has_created_it(manifest, build):
    # A build on a fresh server works without a separate deploy step.
    procedure_tables = {
        uid for uid, node in manifest.nodes.items() if node.config.materialized == "procedure_table"
    }
    executing = {build.node_of(e.batch) for e in build.server.events if e.action == "exec"}
    assert procedure_tables, "no model is filled by a procedure any more"
    assert procedure_tables <= executing, f"{build.name}: no exec seen for some procedure tables"
    missing = users_of_missing(build, {"exec"})
    assert not missing, f"{build.name} build executes procedures that do not exist: " + "; ".join(
        f"{p}, by {', '.join(sorted(nodes))}" for p, nodes in missing.items()
    )


def test_first_build_leaves_every_model_and_seed_and_no_work_relation(manifest, first_build):
    relations = first_build.server.relation_names()
    for node in manifest.nodes.values():
        if node.resource_type in ("model", "seed") and node.config.materialized != "ephemeral":
            kind = "view" if node.config.materialized == "view" else "table"
            assert relations.get(relation_key(node)) == kind, node.unique_id
    assert not [r for r in relations if WORK_RELATION.search(r)]


@pytest.mark.parametrize("name", ["nightly", "full_refresh"])
def test_a_build_on_an_existing_catalog_ends_with_the_same_relations(name, request):
    build = request.getfixturevalue(f"{name}_build")
    assert build.server.relation_names() == build.relations_before


def test_first_build_creates_every_incremental_model_without_reading_it(manifest, first_build):
    for relation, node in incremental_models(manifest).items():
        actions = first_build.actions_on(relation)
        assert "create" in actions or "rename_to" in actions, (relation, actions)
        assert not first_build.reads_itself(relation, node.unique_id), relation


def test_nightly_build_adds_to_every_incremental_model_in_place(manifest, nightly_build):
    for relation, node in incremental_models(manifest).items():
        actions = nightly_build.actions_on(relation)
        assert "insert" in actions, f"{relation} gets no new rows: {actions}"
        if node.config.incremental_strategy == "delete+insert":
            assert "delete" in actions, f"{relation}: delete+insert deletes nothing: {actions}"
        replaced = {"create", "drop", "rename_away", "rename_to"} & set(actions)
        assert not replaced, f"{relation} is rebuilt on a nightly build: {actions}"
        if "is_incremental()" in node.raw_code:
            assert nightly_build.reads_itself(relation, node.unique_id), (
                f"{relation}: is_incremental() is false on a nightly build"
            )


def test_every_incremental_model_changes_atomically_on_a_nightly_build(manifest, nightly_build):
    """Each incremental model's nightly change (delete+insert, or an append) is one committed
    transaction: a failure between the delete and the insert leaves the table as it was."""
    server = nightly_build.server
    changes = {"delete", "insert", "update", "merge", "truncate"}
    for relation, node in incremental_models(manifest).items():
        writes = [e for e in server.events if e.name == relation and e.action in changes]
        assert writes, f"{relation}: a nightly build changes nothing"
        transactions = {server.log[e.batch].transaction for e in writes}
        assert None not in transactions, f"{relation}: a change autocommitted on its own"
        assert len(transactions) == 1, f"{relation}: changed in {len(transactions)} transactions"
        fate = server.fate(server.log[writes[0].batch])
        assert fate == "commit", f"{relation} ({node.config.incremental_strategy}): {fate}"


def test_full_refresh_rebuilds_incremental_models_but_those_with_full_refresh_false(
    manifest, full_refresh_build
):
    models = incremental_models(manifest)
    kept = {relation for relation, node in models.items() if node.config.full_refresh is False}
    # None on SQL Server today: the list history, which --full-refresh must not touch, is a
    # snapshot (test_a_later_build_closes_and_opens_list_history_rows_in_place).
    for relation, node in models.items():
        actions = full_refresh_build.actions_on(relation)
        replaced = {"create", "drop", "rename_away", "rename_to"} & set(actions)
        if relation in kept:
            assert not replaced, f"{relation} has full_refresh: false but is rebuilt: {actions}"
            assert "insert" in actions, f"{relation} gets no new rows: {actions}"
        else:
            assert {"rename_away", "drop"} & replaced and {"create", "rename_to"} & replaced, (
                f"{relation} is not rebuilt by --full-refresh: {actions}"
            )
            assert not full_refresh_build.reads_itself(relation, node.unique_id), relation


HISTORY = "dbo_pii.campaign_list_history"
HISTORY_NODE = "snapshot.customer_segmentation.campaign_list_history"


def test_first_build_creates_the_list_history_snapshot_without_reading_it(first_build):
    actions = first_build.actions_on(HISTORY)
    assert "create" in actions or "rename_to" in actions, actions
    assert not first_build.reads_itself(HISTORY, HISTORY_NODE)
    assert first_build.server.relation_names().get(HISTORY) == "table"


@pytest.mark.parametrize("name", ["nightly", "full_refresh"])
def test_a_later_build_closes_and_opens_list_history_rows_in_place(name, request):
    # dbt never rebuilds a snapshot, --full-refresh included: it closes changed and removed
    # rows (update ... valid_to) and inserts the new ones, over what the last build left.
    build = request.getfixturevalue(f"{name}_build")
    actions = build.actions_on(HISTORY)
    assert "insert" in actions, actions
    assert not {"create", "drop", "rename_away", "rename_to"} & set(actions), actions
    assert build.reads_itself(HISTORY, HISTORY_NODE)
    # The update names its target by an alias (`update DBT_INTERNAL_DEST set ... from
    # <history> as DBT_INTERNAL_DEST`), which the fake's catalog does not resolve.
    closing = [
        b
        for b in build.batches()
        if re.search(r"\bupdate\s+DBT_INTERNAL_DEST\s+set\s+valid_to\b", b, re.I)
        and '"dbo_pii"."campaign_list_history" as DBT_INTERNAL_DEST' in b
    ]
    assert len(closing) == 1, f"{name}: {len(closing)} batches close history rows"
    assert "'delete'" in closing[0], "removed customers do not close their rows (hard_deletes)"


def test_grants_go_to_the_configured_grantees_of_the_configured_models_only(manifest, build):
    expected = {
        (relation_key(node), privilege.lower(), grantee)
        for node in manifest.nodes.values()
        if node.resource_type in ("model", "seed", "snapshot")
        for privilege, grantees in (node.config.grants or {}).items()
        for grantee in grantees
    }
    assert expected, "no model has grants any more"
    assert grants_sent(build) == expected


def test_a_successful_build_logs_what_it_saw_of_every_source_and_commits_it(build):
    logged = build.server.find("insert into dbo.source_table_builds")
    assert len(logged) == 1, f"{build.name}: {len(logged)} inserts into the source log"
    for schema, name in SOURCE_TABLES:
        assert f"'{schema}.{name}'" in logged[0].sql
    assert build.server.fate(logged[0]) in ("commit", "autocommit")


def test_a_nightly_build_compares_each_source_with_the_last_build(nightly_build, first_build):
    def scans(build: RecordedBuild) -> list[str]:
        return [b for b in build.batches() if "as source_row_count" in b]

    assert len(scans(first_build)) == len(SOURCE_TABLES)
    assert not any("source_rows_up_to_last_key" in b for b in scans(first_build))
    assert all(
        "count_big(case when " in b and f"<= {SOURCE_ROWS} then 1 end)" in b
        for b in scans(nightly_build)
    ), scans(nightly_build)
