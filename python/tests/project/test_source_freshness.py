"""Source freshness without a load timestamp: a table is as old as the first successful build
that saw its present row count and highest key (the source guard's log, source_table_builds;
macros/sources/source_last_grew_at.sql). `dbt source freshness` warns after two days without
growth and errors after a week."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import duckdb
import pytest
import sqlglot
from conftest import DbtProject
from sqlserver_fake import invoke_sqlserver

NOW = datetime.now(UTC).replace(tzinfo=None)


def days_ago(days: float) -> str:
    """A build time as record_source_baseline logs it (UTC, microseconds)."""
    return (NOW - timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S.%f")


def log_builds(project: DbtProject, builds: list[tuple[float, str, int, int | None]]) -> None:
    """Write the guard's log as successful builds would have: (days ago, table, rows, key)."""
    with duckdb.connect(str(project.database)) as con:
        con.execute(
            "create table if not exists main.source_table_builds (built_at varchar(32) not null,"
            " invocation_id varchar(36) not null, source_table varchar(256) not null,"
            " row_count bigint not null, max_key bigint)"
        )
        for age, table, rows, key in builds:
            con.execute(
                "insert into main.source_table_builds values (?, 'test', ?, ?, ?)",
                [days_ago(age), f"tpcxbb.{table}", rows, key],
            )


def freshness(project: DbtProject) -> dict[str, dict]:
    """`dbt source freshness`: each table's status and max_loaded_at from sources.json."""
    project.invoke("source", "freshness")
    results = json.loads((project.workdir / "target" / "sources.json").read_text())["results"]
    return {r["unique_id"].rsplit(".", 1)[-1]: r for r in results}


@pytest.fixture
def project(make_project) -> DbtProject:
    return make_project()


def test_a_table_is_as_old_as_the_build_that_first_saw_it_grow(project):
    log_builds(
        project,
        [
            (12, "store_sales", 100, 10),
            (9, "store_sales", 120, 12),  # grew: the age starts here
            (5, "store_sales", 120, 12),
            (1, "store_sales", 120, 12),
            (3, "store_returns", 50, 5),
            (1, "store_returns", 60, 5),  # late returns of old tickets: more rows, same key
            (3, "customer", 10, 10),
            (0.5, "customer", 10, 10),
        ],
    )
    result = freshness(project)
    loaded = {
        t: datetime.fromisoformat(r["max_loaded_at"]).replace(tzinfo=None)
        for t, r in result.items()
    }
    assert abs(loaded["store_sales"] - (NOW - timedelta(days=9))) < timedelta(seconds=1)
    assert abs(loaded["store_returns"] - (NOW - timedelta(days=1))) < timedelta(seconds=1)
    assert abs(loaded["customer"] - (NOW - timedelta(days=3))) < timedelta(seconds=1)
    assert {t: r["status"] for t, r in result.items()} == {
        "store_sales": "error",
        "store_returns": "pass",
        "customer": "warn",
    }


def test_a_table_that_shrank_and_grew_back_is_dated_from_its_latest_change(project):
    """A full refresh after a deliberate deletion, then a reload to the old count: the age is
    that of the last change, not of the first build that ever saw the count."""
    log_builds(
        project,
        [
            (20, "store_sales", 120, 12),
            (10, "store_sales", 100, 10),
            (1, "store_sales", 120, 12),
            (1, "store_returns", 1, 1),
            (1, "customer", 1, 1),
        ],
    )
    assert freshness(project)["store_sales"]["status"] == "pass"


def test_the_freshness_query_is_one_tsql_select_on_sql_server(tmp_path, default_sqlserver_env):
    """What dbt runs on SQL Server: the query inside dbt's own wrapper parses as T-SQL, and
    casts the log's text to datetime2 (T-SQL's `timestamp` is a row version)."""
    result = invoke_sqlserver(
        tmp_path,
        "compile",
        "--no-introspect",
        "--no-populate-cache",
        "--inline",
        "{{ source_last_grew_at(source('tpcxbb', 'store_sales')) }}",
    )
    assert result.success, result.exception
    query = result.result.results[0].node.compiled_code
    wrapped = (
        f"with source_query as ({query}) "
        "select (select * from source_query) as max_loaded_at, current_timestamp as snapshotted_at"
    )
    sqlglot.parse_one(wrapped, read="tsql")
    assert "as datetime2" in query.lower()
    assert "'dbo.store_sales'" in query
