"""Incremental scoring, through dbt on sf=0.01 data: a nightly build after an appended day
re-scores only the customers the day touched; a retrain re-scores everyone; and after both the
chain holds exactly the rows a full refresh of it gives."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest
from conftest import DbtProject, error_messages

from devtools.append_day import AppendedDay, append_day

pytestmark = pytest.mark.e2e

# Every model of the chain from the aggregates to the BI table, with its customer column.
SCORING_TABLES = {
    "customer_return_features": "customer",
    "py_customer_clusters": "Customer",
    "customer_segment_distances": "customer",
    "customer_segment_scores": "customer",
    "customer_segments": "customer",
}


def latest_stamp(project: DbtProject) -> pd.Timestamp:
    """The latest refreshed_at over the chain: the stamp of the last build that changed it."""
    union = " union all ".join(
        f"select max(refreshed_at) as s from main.{t}" for t in SCORING_TABLES
    )
    return project.query(f"select max(s) as stamp from ({union})")["stamp"][0]


def refreshed_customers(project: DbtProject, table: str, stamp: pd.Timestamp) -> set[int]:
    key = SCORING_TABLES[table]
    rows = project.query(
        f"select distinct {key} as customer from main.{table} "
        f"where refreshed_at = cast('{stamp}' as timestamp)"
    )
    return set(rows["customer"].astype(int))


def all_customers(project: DbtProject, table: str) -> set[int]:
    key = SCORING_TABLES[table]
    rows = project.query(f"select distinct {key} as customer from main.{table}")
    return set(rows["customer"].astype(int))


def customers_the_day_touched(project: DbtProject, day: AppendedDay) -> set[int]:
    """Customers with a sale on the day's new tickets or a return dated the new day, among
    those with features (returns without sales have none)."""
    rows = project.query(
        f"""
        select ss_customer_sk as customer from tpcxbb.store_sales
        where ss_ticket_number > {day.ticket_offset} and ss_customer_sk is not null
        union
        select sr_customer_sk from tpcxbb.store_returns
        where sr_returned_date_sk = {day.new_date_sk} and sr_customer_sk is not null
        """
    )
    return set(rows["customer"].astype(int)) & all_customers(project, "customer_return_features")


def build(project: DbtProject, *args: str) -> pd.Timestamp:
    """`dbt build` with ``args``; the stamp it wrote, checked to be a new one."""
    before = latest_stamp(project)
    result = project.invoke("build", *args)
    assert result.success, error_messages(result)
    stamp = latest_stamp(project)
    assert stamp > before, "the build refreshed no row of the scoring chain"
    return stamp


@pytest.fixture
def built(make_project) -> DbtProject:
    project = make_project()
    result = project.invoke("build")
    assert result.success, error_messages(result)
    return project


def test_a_nightly_build_rescores_only_the_customers_the_new_day_touched(built):
    runs_before = built.query("select distinct run_id from main.customer_segment_scores")
    with duckdb.connect(str(built.database)) as con:
        day = append_day(con)
    touched = customers_the_day_touched(built, day)
    assert 0 < len(touched) < len(all_customers(built, "customer_return_features"))
    stamp = build(built)
    # The current model did not change, so nothing else is re-scored.
    runs_after = built.query("select distinct run_id from main.customer_segment_scores")
    pd.testing.assert_frame_equal(runs_after, runs_before)
    for table in SCORING_TABLES:
        assert refreshed_customers(built, table, stamp) == touched, table


def test_a_retrain_rescores_every_customer(built):
    runs_before = built.query("select distinct run_id from main.customer_segment_scores")
    stamp = build(built, "--vars", "{retrain: true}")
    runs_after = built.query("select distinct run_id from main.customer_segment_scores")
    assert len(runs_after) == 1
    assert runs_after["run_id"][0] > runs_before["run_id"].max()
    # No source changed, so the features stay; everything scored with the model is redone.
    assert refreshed_customers(built, "customer_return_features", stamp) == set()
    for table in list(SCORING_TABLES)[1:]:
        assert refreshed_customers(built, table, stamp) == all_customers(built, table), table


# The chain rebuilt from its sources by a full refresh that keeps the current model: the
# registry is not selected, so no run is trained.
CHAIN = (
    "int_customer_orders",
    "int_customer_returns",
    "customer_return_features",
    "customer_clusters",
    "customer_segment_distances",
    "customer_segment_scores",
    "customer_segments",
)
CHAIN_TABLES = {
    "int_customer_orders": "customer_sk",
    "int_customer_returns": "customer_sk",
    **SCORING_TABLES,
    "customer_segment_distances": "customer, segment_id",
}


def chain_rows(project: DbtProject, table: str) -> pd.DataFrame:
    return project.query(
        f"select * exclude (refreshed_at) from main.{table} order by {CHAIN_TABLES[table]}"
    )


def test_nightly_builds_and_a_retrain_leave_the_rows_a_full_refresh_gives(built, tmp_path):
    with duckdb.connect(str(built.database)) as con:
        append_day(con)
    build(built)
    build(built, "--vars", "{retrain: true}")
    with duckdb.connect(str(built.database)) as con:
        append_day(con)
    build(built)
    rebuilt = DbtProject(database=tmp_path / "rebuilt.duckdb", workdir=tmp_path / "rebuilt")
    shutil.copyfile(built.database, rebuilt.database)
    result = rebuilt.invoke("run", "--full-refresh", "--select", *CHAIN)
    assert result.success, error_messages(result)
    for table in CHAIN_TABLES:
        pd.testing.assert_frame_equal(chain_rows(built, table), chain_rows(rebuilt, table))
