"""Incremental feature models: after new sales and returns, an incremental run gives exactly
the rows a full rebuild gives, on sf=0.01 data."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest
from conftest import DbtProject

from devtools.append_day import append_day

pytestmark = pytest.mark.e2e

INCREMENTAL_TABLES = {
    "int_customer_orders": "customer_sk",
    "int_customer_returns": "customer_sk",
    "customer_return_features": "customer",
}


def table(project: DbtProject, name: str) -> pd.DataFrame:
    key = INCREMENTAL_TABLES[name]
    return project.query(f"select * from main.{name} order by {key}")


def incremental_and_full_refresh(project: DbtProject, tmp_path):
    """Run incrementally on ``project``; full-refresh a copy of the same sources; both."""
    rebuilt = DbtProject(database=tmp_path / "rebuilt.duckdb", workdir=tmp_path / "rebuilt")
    shutil.copyfile(project.database, rebuilt.database)
    result = project.invoke("build")
    assert result.success, result.exception
    result = rebuilt.invoke("run", "--full-refresh")
    assert result.success, result.exception
    return project, rebuilt


def assert_same_rows(incremental: DbtProject, rebuilt: DbtProject) -> None:
    for name in INCREMENTAL_TABLES:
        pd.testing.assert_frame_equal(table(incremental, name), table(rebuilt, name))


def test_appended_day_built_incrementally_equals_a_full_rebuild(make_project, tmp_path):
    project = make_project()
    assert project.invoke("build").success
    before = table(project, "int_customer_orders")
    with duckdb.connect(str(project.database)) as con:
        day = append_day(con)
    assert day.sales_lines > 0
    assert day.return_lines > 0
    incremental, rebuilt = incremental_and_full_refresh(project, tmp_path)
    assert_same_rows(incremental, rebuilt)
    after = table(incremental, "int_customer_orders")
    changed = before.merge(after, on="customer_sk", suffixes=("_before", "_after")).query(
        "orders_items_before != orders_items_after"
    )
    assert len(changed) > 0, "the appended day changed no customer's orders"


def test_sales_and_returns_without_a_date_reach_the_incremental_features(make_project, tmp_path):
    project = make_project()
    assert project.invoke("build").success
    with duckdb.connect(str(project.database)) as con:
        buyer, returner, ticket, item = con.execute(
            """
            select
                (select min(customer_sk) from main.int_customer_orders),
                (select max(customer_sk) from main.int_customer_returns),
                (select max(ss_ticket_number) + 1 from tpcxbb.store_sales),
                (select min(ss_item_sk) from tpcxbb.store_sales)
            """
        ).fetchone()
        # A new ticket sold on no known date, and a late return of an old ticket, undated.
        con.execute(
            "insert into tpcxbb.store_sales (ss_sold_date_sk, ss_item_sk, ss_customer_sk, "
            "ss_ticket_number, ss_net_paid) values (null, ?, ?, ?, 12.50)",
            [item, buyer, ticket],
        )
        con.execute(
            """
            insert into tpcxbb.store_returns
                (sr_returned_date_sk, sr_item_sk, sr_customer_sk, sr_ticket_number, sr_return_amt)
            select null, s.ss_item_sk, ?, s.ss_ticket_number, 3.25
            from tpcxbb.store_sales as s
            anti join tpcxbb.store_returns as r
                on s.ss_ticket_number = r.sr_ticket_number and s.ss_item_sk = r.sr_item_sk
            where s.ss_ticket_number < ?
            order by s.ss_ticket_number, s.ss_item_sk
            limit 1
            """,
            [returner, ticket],
        )
    before_orders = table(project, "int_customer_orders").set_index("customer_sk")
    before_returns = table(project, "int_customer_returns").set_index("customer_sk")
    incremental, rebuilt = incremental_and_full_refresh(project, tmp_path)
    assert_same_rows(incremental, rebuilt)
    orders = table(incremental, "int_customer_orders").set_index("customer_sk")
    returns = table(incremental, "int_customer_returns").set_index("customer_sk")
    assert orders.loc[buyer, "orders_items"] == before_orders.loc[buyer, "orders_items"] + 1
    returned_before = before_returns.loc[returner, "returns_items"]
    assert returns.loc[returner, "returns_items"] == returned_before + 1
