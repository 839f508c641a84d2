"""The line-key tests on the fact tables: what a nightly build checks, what `dbt test` checks,
and the ticket-range form of the check, on sf=0.01 data."""

from __future__ import annotations

import duckdb
import pytest
from conftest import DbtProject, error_messages

from devtools.append_day import append_day

pytestmark = pytest.mark.e2e

SALES_KEY_TEST = "source_unique_key_columns_tpcxbb_store_sales"


def key_test_result(result):
    """The run result of the store_sales line-key test in a dbt invocation."""
    found = [r for r in result.result.results if r.node.name.startswith(SALES_KEY_TEST)]
    assert len(found) == 1, [r.node.name for r in result.result.results]
    return found[0]


def duplicate_sales_lines(project: DbtProject, where: str) -> int:
    """Insert a second copy of the store_sales lines matching ``where``; how many."""
    with duckdb.connect(str(project.database)) as con:
        con.execute(
            f"insert into tpcxbb.store_sales select * from tpcxbb.store_sales where {where}"
        )
        return con.execute(
            "select count(*) from (select ss_ticket_number, ss_item_sk from tpcxbb.store_sales "
            "group by all having count(*) > 1)"
        ).fetchone()[0]


def test_a_nightly_build_stops_on_a_line_of_the_new_day_loaded_twice(make_project):
    project = make_project()
    assert project.invoke("build").success
    orders = project.query("select * from main.int_customer_orders order by customer_sk")
    with duckdb.connect(str(project.database)) as con:
        append_day(con)
    duplicated = duplicate_sales_lines(
        project,
        "ss_ticket_number = (select max(ss_ticket_number) from tpcxbb.store_sales) "
        "and ss_item_sk = (select min(ss_item_sk) from tpcxbb.store_sales "
        "  where ss_ticket_number = (select max(ss_ticket_number) from tpcxbb.store_sales))",
    )
    assert duplicated == 1
    result = project.invoke("build")
    assert not result.success
    check = key_test_result(result)
    assert str(check.status) == "fail"
    assert check.failures == 1
    status = {r.node.name: str(r.status) for r in result.result.results}
    assert status["int_customer_orders"] == "skipped"
    after = project.query("select * from main.int_customer_orders order by customer_sk")
    assert after.equals(orders)


def test_an_old_line_loaded_twice_stops_a_nightly_build_and_dbt_test_lists_it(make_project):
    project = make_project()
    assert project.invoke("build").success
    # An old line loaded twice: already aggregated, so the nightly line-key test (new tickets
    # only) would not see it; the source guard stops the build on its row count instead.
    duplicated = duplicate_sales_lines(
        project, "ss_ticket_number = (select min(ss_ticket_number) from tpcxbb.store_sales)"
    )
    assert duplicated >= 1
    nightly = project.invoke("build")
    assert not nightly.success
    assert "re-delivered or late lines" in error_messages(nightly)
    full = project.invoke("test", "--select", "source:tpcxbb.store_sales")
    assert not full.success
    assert key_test_result(full).failures == duplicated
    rebuild = project.invoke("build", "--full-refresh")
    assert not rebuild.success
    assert key_test_result(rebuild).failures == duplicated


def test_the_line_key_check_in_ticket_ranges_finds_duplicates_at_every_range_edge(make_project):
    project = make_project()
    small_ranges = "{source_test_rows_per_partition: 1000}"
    clean = project.invoke("test", "--select", "source:tpcxbb.store_sales", "--vars", small_ranges)
    assert clean.success
    compiled = key_test_result(clean).node.compiled_code
    assert compiled.count("union all") >= 10, "the check did not run in ticket ranges"
    # The first and last ticket (the ranges' outer bounds) and one in the middle.
    duplicated = duplicate_sales_lines(
        project,
        "ss_ticket_number in ("
        "  (select min(ss_ticket_number) from tpcxbb.store_sales),"
        "  (select max(ss_ticket_number) from tpcxbb.store_sales),"
        "  (select median(ss_ticket_number)::bigint from tpcxbb.store_sales))",
    )
    assert duplicated >= 3
    ranged = project.invoke("test", "--select", "source:tpcxbb.store_sales", "--vars", small_ranges)
    whole = project.invoke("test", "--select", "source:tpcxbb.store_sales")
    assert "union all" not in key_test_result(whole).node.compiled_code
    assert key_test_result(ranged).failures == duplicated
    assert key_test_result(whole).failures == duplicated
