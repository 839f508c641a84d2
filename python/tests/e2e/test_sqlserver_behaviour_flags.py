"""dbt-sqlserver's behaviour flags as dbt_project.yml pins them, and what they change.

With dbt_sqlserver_use_dbt_transactions on, an incremental model's delete+insert is one
transaction, and every statement a run writes, hooks included, ends committed (or
autocommitted), never rolled back: recorded with the fake connection, so the batches are
exactly what dbt-sqlserver sends. With
dbt_sqlserver_use_native_string_types on, dbt's string type is varchar(max). DuckDB ignores
both flags."""

from __future__ import annotations

import re

import pytest
from conftest import dbt_location_args
from dbt.cli.main import dbtRunner
from sqlserver_fake import (
    SOURCE_TABLES,
    Batch,
    FakeSqlServer,
    fake_sqlserver,
    invoke_sqlserver,
    without_query_comment,
)

ORDERS = '"tpcxbb_1gb"."dbo"."int_customer_orders"'
ORDERS_COLUMNS = [
    ("customer_sk", "bigint"),
    ("orders_count", "int"),
    ("orders_items", "int"),
    ("orders_money", "decimal"),
    ("last_ticket_number", "bigint"),
    ("refreshed_at", "datetime2"),
]
# Statements that change the database (dbt's catalog reads and transaction control do not).
WRITES = re.compile(
    r"\b(create|insert|update|delete|drop|alter|grant|revoke|sp_rename|into)\b", re.IGNORECASE
)


@pytest.fixture(scope="module")
def incremental_run(default_sqlserver_env, tmp_path_factory) -> FakeSqlServer:
    """`dbt run` of the incremental int_customer_orders, whose table exists, and of the cluster
    table, as dbt sends it to SQL Server."""
    workdir = tmp_path_factory.mktemp("sqlserver_incremental")
    tables = {**SOURCE_TABLES, ("dbo", "int_customer_orders"): ORDERS_COLUMNS}
    with pytest.MonkeyPatch.context() as patch, fake_sqlserver(patch, tables) as server:
        result = invoke_sqlserver(
            workdir, "run", "--select", "int_customer_orders", "customer_clusters_sqlserver"
        )
    assert result.success, f"dbt run --target sqlserver failed: {result.exception}"
    return server


def the_one(server: FakeSqlServer, fragment: str) -> Batch:
    batches = server.find(fragment)
    assert len(batches) == 1, f"expected one batch with {fragment!r}, got {len(batches)}"
    return batches[0]


def test_incremental_delete_and_insert_commit_together_in_one_transaction(incremental_run):
    delete = the_one(incremental_run, f"delete from {ORDERS}")
    insert = the_one(incremental_run, f"insert into {ORDERS}")
    assert delete.transaction is not None, "the delete autocommitted on its own"
    assert insert.transaction == delete.transaction
    assert incremental_run.fate(delete) == "commit"
    session = [batch for batch in incremental_run.log if batch.session == delete.session]
    opened = [b for b in session if b.transaction == delete.transaction]
    assert without_query_comment(opened[0].sql) == "BEGIN TRANSACTION"
    assert without_query_comment(opened[-1].sql) == "IF @@TRANCOUNT > 0 COMMIT TRANSACTION"
    assert session.index(opened[0]) < session.index(delete) <= session.index(insert)


def test_nothing_a_run_writes_is_rolled_back(incremental_run):
    writes = [
        batch for batch in incremental_run.log if WRITES.search(without_query_comment(batch.sql))
    ]
    assert len(writes) >= 5
    lost = {
        without_query_comment(batch.sql)[:80]: incremental_run.fate(batch)
        for batch in writes
        if incremental_run.fate(batch) not in ("commit", "autocommit")
    }
    assert lost == {}


def test_dbts_string_type_is_varchar_max_on_sql_server(default_sqlserver_env, tmp_path):
    result = invoke_sqlserver(
        tmp_path,
        "compile",
        "--no-introspect",
        "--no-populate-cache",
        "--inline",
        "select cast(null as {{ dbt.type_string() }}) as text_column",
    )
    assert result.success, result.exception
    assert "cast(null as VARCHAR(MAX))" in result.result.results[0].node.compiled_code


def test_duckdb_ignores_the_sql_server_flags_even_when_warnings_are_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("TPCXBB_DUCKDB_PATH", str(tmp_path / "unused.duckdb"))
    result = dbtRunner().invoke(
        [
            "--warn-error",
            "parse",
            *dbt_location_args(tmp_path),
            "--no-partial-parse",
        ]
    )
    assert result.success, result.exception
