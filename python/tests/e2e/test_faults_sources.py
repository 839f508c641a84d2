"""Destructive or malformed sources stop the build before anything is built, with a message
naming the table (or column) and the problem, and every published table stays as it was:
emptied or shrunk sources, a re-delivered sales line, a text amount, a 1e300 amount. A
deliberate change is accepted by `dbt build --full-refresh`; an appended day passes.

One sf=0.01 build per module; each case runs dbt on a copy of it, with the project parsed
once (dbt's parse is most of a refused build's time)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import DbtProject, dbt_location_args, error_messages
from dbt.cli.main import dbtRunner, dbtRunnerResult
from published import assert_checksums_unchanged, relation_checksums
from sqlserver_fake import (
    SOURCE_ROWS,
    SOURCE_TABLES,
    FakeSqlServer,
    fake_sqlserver,
    invoke_sqlserver,
)

from devtools.append_day import append_day

pytestmark = pytest.mark.e2e

LOG = "main.source_table_builds"


class ParsedProject(DbtProject):
    """A DbtProject whose invocations reuse one parsed manifest."""

    manifest: Any = None

    def _invoke(self, *args: str) -> dbtRunnerResult:
        return dbtRunner(manifest=self.manifest).invoke(
            [
                *args,
                *dbt_location_args(self.workdir),
                "--quiet",
            ]
        )


@pytest.fixture(scope="module")
def built(small_source_db: Path, tmp_path_factory: pytest.TempPathFactory) -> ParsedProject:
    """sf=0.01 sources after one successful `dbt build`, and the parsed project."""
    workdir = tmp_path_factory.mktemp("sources_built")
    project = ParsedProject(database=workdir / "segmentation.duckdb", workdir=workdir)
    shutil.copyfile(small_source_db, project.database)
    result = project.invoke("build")
    assert result.success, error_messages(result)
    parsed = project.invoke("parse")
    assert parsed.success, error_messages(parsed)
    project.manifest = parsed.result
    return project


@pytest.fixture
def project(built: ParsedProject, tmp_path: Path) -> ParsedProject:
    """A copy of the built database (same file name: DuckDB names its catalog after it)."""
    copy = ParsedProject(database=tmp_path / "segmentation.duckdb", workdir=tmp_path)
    copy.manifest = built.manifest
    shutil.copyfile(built.database, copy.database)
    return copy


def change(project: DbtProject, *statements: str) -> None:
    with duckdb.connect(str(project.database)) as con:
        for statement in statements:
            con.execute(statement)


def count(project: DbtProject, sql: str) -> int:
    return int(project.query(sql).iloc[0, 0])


def assert_refused(project: DbtProject, *expected: str, args: tuple[str, ...] = ()) -> str:
    """`dbt build` fails, its message holds every expected fragment, nothing published
    changed (the source log included); the message."""
    before = relation_checksums(project.database)
    result = project.invoke("build", *args)
    messages = error_messages(result)
    assert not result.success
    for fragment in expected:
        assert fragment in messages, messages
    assert "nothing was built or published" in messages
    assert_checksums_unchanged(before, relation_checksums(project.database))
    return messages


def test_an_emptied_store_sales_stops_the_build(project):
    rows = count(project, "select count(*) from tpcxbb.store_sales")
    change(project, "delete from tpcxbb.store_sales")
    assert_refused(
        project, f"tpcxbb.store_sales is empty (the last successful build saw {rows:,} rows)"
    )


def test_an_emptied_store_returns_stops_even_a_full_refresh(project):
    change(project, "delete from tpcxbb.store_returns")
    assert_refused(project, "tpcxbb.store_returns is empty", args=("--full-refresh",))


def test_a_shrunk_customer_table_stops_the_build_saying_how_many_rows_are_gone(project):
    rows = count(project, "select count(*) from tpcxbb.customer")
    change(
        project,
        "delete from tpcxbb.customer where c_customer_sk in "
        "(select c_customer_sk from tpcxbb.customer order by c_customer_sk limit 7)",
    )
    messages = assert_refused(
        project, f"tpcxbb.customer shrank: 7 of the {rows:,} rows the last successful build saw"
    )
    assert "`dbt build --full-refresh`" in messages


def test_deleted_sales_hidden_by_an_appended_day_still_stop_the_build(project):
    change(project, "delete from tpcxbb.store_sales where ss_ticket_number = 1")
    with duckdb.connect(str(project.database)) as con:
        day = append_day(con)
    assert day.sales_lines > 0
    assert_refused(project, "tpcxbb.store_sales shrank:", "(ss_ticket_number <= ")


def test_a_redelivered_old_sales_line_stops_the_build(project):
    last_ticket = count(project, "select max(ss_ticket_number) from tpcxbb.store_sales")
    change(
        project,
        "insert into tpcxbb.store_sales select * from tpcxbb.store_sales "
        "where ss_ticket_number = (select min(ss_ticket_number) from tpcxbb.store_sales) "
        "limit 1",
    )
    messages = assert_refused(
        project,
        "tpcxbb.store_sales: 1 row(s) were added on keys the last successful build had "
        f"already loaded (ss_ticket_number <= {last_ticket})",
        "re-delivered or late lines",
    )
    assert "remove the re-delivered rows" in messages


def test_a_text_net_paid_column_is_named_with_its_type_and_the_kind_expected(project):
    change(project, "alter table tpcxbb.store_sales alter ss_net_paid type varchar")
    before = relation_checksums(project.database)
    result = project.invoke("build")
    messages = error_messages(result)
    assert not result.success
    assert "tpcxbb.store_sales.ss_net_paid is VARCHAR, expected a number" in messages
    assert "unit test" not in messages
    assert_checksums_unchanged(before, relation_checksums(project.database))


def test_a_1e300_return_amount_is_named_before_features_are_built(project):
    change(
        project,
        "alter table tpcxbb.store_returns alter sr_return_amt type double",
        "update tpcxbb.store_returns set sr_return_amt = 1e300 "
        "where sr_ticket_number = (select min(sr_ticket_number) from tpcxbb.store_returns) "
        "and sr_item_sk = (select min(sr_item_sk) from tpcxbb.store_returns "
        "  where sr_ticket_number = (select min(sr_ticket_number) from tpcxbb.store_returns))",
    )
    messages = assert_refused(
        project,
        "tpcxbb.store_returns.sr_return_amt: 1 row(s) hold an amount that is not finite "
        "or not within +-10,000,000",
    )
    assert "infeasible" not in messages


def test_a_full_refresh_accepts_a_deliberate_deletion_and_logs_the_new_state(project):
    # Five customers who never bought nor returned anything are purged on purpose.
    change(
        project,
        "delete from tpcxbb.customer where c_customer_sk in ("
        "  select c_customer_sk from tpcxbb.customer"
        "  where c_customer_sk not in (select ss_customer_sk from tpcxbb.store_sales"
        "    where ss_customer_sk is not null)"
        "  and c_customer_sk not in (select sr_customer_sk from tpcxbb.store_returns"
        "    where sr_customer_sk is not null)"
        "  order by c_customer_sk limit 5)",
    )
    refused = project.invoke("build")
    assert not refused.success
    assert "tpcxbb.customer shrank: 5 of the" in error_messages(refused)
    rows = count(project, "select count(*) from tpcxbb.customer")
    accepted = project.invoke("build", "--full-refresh")
    assert accepted.success, error_messages(accepted)
    logged = count(
        project,
        f"select row_count from {LOG} where source_table = 'tpcxbb.customer' "
        f"order by built_at desc limit 1",
    )
    assert logged == rows
    # The next nightly run compares with the new state: the guard lets it through.
    nightly = project.invoke("run", "--select", "stg_tpcxbb__customers")
    assert nightly.success, error_messages(nightly)


def test_a_full_refresh_of_a_selection_does_not_accept_a_change(project):
    change(
        project,
        "insert into tpcxbb.store_sales select * from tpcxbb.store_sales "
        "where ss_ticket_number = (select min(ss_ticket_number) from tpcxbb.store_sales) "
        "limit 1",
    )
    partial = project.invoke("run", "--full-refresh", "--select", "stg_tpcxbb__store_sales")
    assert partial.success, error_messages(partial)
    # int_customer_orders was not recomputed: the next build still refuses the line.
    assert_refused(project, "re-delivered or late lines")


def test_an_appended_day_passes_the_guard(project):
    with duckdb.connect(str(project.database)) as con:
        day = append_day(con)
    assert day.sales_lines > 0 and day.return_lines > 0
    result = project.invoke("run", "--select", "stg_tpcxbb__store_sales")
    assert result.success, error_messages(result)


def test_a_build_that_fails_after_the_guard_leaves_the_source_log_as_it_was(project):
    before = project.query(f"select * from {LOG} order by all")
    # A customer loaded twice passes the guard (customers may arrive under old keys) and
    # fails the source's unique test: the build fails, so it logs nothing.
    change(
        project,
        "insert into tpcxbb.customer select * from tpcxbb.customer "
        "where c_customer_sk = (select min(c_customer_sk) from tpcxbb.customer)",
    )
    result = project.invoke("build")
    assert not result.success
    assert "source_unique_tpcxbb_customer_c_customer_sk" in {
        r.node.name for r in result.result.results if str(r.status) == "fail"
    }
    assert project.query(f"select * from {LOG} order by all").equals(before)


def test_compile_neither_checks_nor_logs_the_sources(project):
    before = project.query(f"select * from {LOG} order by all")
    change(project, "delete from tpcxbb.customer where c_customer_sk <= 5")
    result = project.invoke("compile", "--select", "stg_tpcxbb__customers")
    assert result.success, error_messages(result)
    assert project.query(f"select * from {LOG} order by all").equals(before)


# SQL Server, through the fake connection ----------------------------------------------


@pytest.fixture(scope="module")
def sqlserver_manifest(default_sqlserver_env, tmp_path_factory) -> Any:
    result = invoke_sqlserver(tmp_path_factory.mktemp("sources_sqlserver"), "parse")
    assert result.success, result.exception
    return result.result


def sqlserver_build(manifest: Any, workdir: Path, server: FakeSqlServer) -> dbtRunnerResult:
    with pytest.MonkeyPatch.context() as patch, fake_sqlserver(patch, server=server):
        return invoke_sqlserver(workdir, "build", "--threads", "1", manifest=manifest)


def test_sqlserver_build_stops_on_a_shrunk_source_before_writing(sqlserver_manifest, tmp_path):
    # The server as a successful build left it: the log holds what that build saw.
    log = [("source_table", "varchar(256)"), ("row_count", "bigint"), ("max_key", "bigint")]
    server = FakeSqlServer(tables={**SOURCE_TABLES, ("dbo", "source_table_builds"): log})
    server.source_builds = [(f"dbo.{name}", SOURCE_ROWS, SOURCE_ROWS) for _, name in SOURCE_TABLES]
    server.row_counts = {("dbo", "store_returns"): SOURCE_ROWS - 40}
    result = sqlserver_build(sqlserver_manifest, tmp_path, server)
    messages = error_messages(result)
    assert not result.success
    assert f"dbo.store_returns shrank: 40 of the {SOURCE_ROWS:,} rows" in messages
    written = [e for e in server.events if e.action not in ("read", "exec")]
    assert not written, written


def test_sqlserver_names_a_text_amount_and_accepts_the_restored_databases_types(
    sqlserver_manifest, tmp_path
):
    # tpcxbb_1gb as restored: int keys, money and numeric amounts, nvarchar names.
    restored = {
        ("dbo", "store_sales"): [
            ("ss_ticket_number", "int"),
            ("ss_item_sk", "int"),
            ("ss_customer_sk", "int"),
            ("ss_sold_date_sk", "numeric(18,0)"),
            ("ss_net_paid", "varchar(20)"),
        ],
        ("dbo", "store_returns"): [
            ("sr_ticket_number", "bigint"),
            ("sr_item_sk", "int"),
            ("sr_customer_sk", "int"),
            ("sr_returned_date_sk", "int"),
            ("sr_return_amt", "money"),
        ],
        ("dbo", "customer"): [
            ("c_customer_sk", "int"),
            ("c_customer_id", "nchar(16)"),
            ("c_first_name", "nvarchar(20)"),
            ("c_last_name", "nvarchar(30)"),
            ("c_email_address", "nvarchar(50)"),
        ],
    }
    server = FakeSqlServer(tables=restored)
    result = sqlserver_build(sqlserver_manifest, tmp_path, server)
    messages = error_messages(result)
    assert not result.success
    assert "dbo.store_sales.ss_net_paid is varchar, expected a number" in messages
    # Only the text amount: every other column is of the expected family.
    assert messages.count(" expected ") == 1, messages
