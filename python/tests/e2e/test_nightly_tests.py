"""Tests that follow the data, on sf=0.01 data: a nightly `dbt build` checks only the rows
refreshed since the last successful build (macros/testing/get_where_subquery.sql); `dbt
test` and the scheduled selector `full_checks` check whole tables; the code checks (unit
and macro tests), which the nightly selection leaves out, pass under `code_checks`."""

from __future__ import annotations

import re

import duckdb
import pytest
from conftest import DbtProject

pytestmark = pytest.mark.e2e

# An incremental model (delete+insert on customer_sk) with a refreshed_at column, and its key
# test: sound on the changed rows, since a batch replaces every old row of its keys.
MODEL = "int_customer_orders"
KEY_TEST = f"unique_{MODEL}_customer_sk"
SCOPE = "refreshed_at > cast("
SALES_KEY_TEST = "source_unique_key_columns_tpcxbb_store_sales"


def key_test(result):
    """The run result of the model's key test in a dbt invocation."""
    found = [r for r in result.result.results if r.node.name == KEY_TEST]
    assert len(found) == 1, sorted(r.node.name for r in result.result.results)
    return found[0]


def duplicate_a_customer(project: DbtProject, refreshed_at: str) -> None:
    """Write the customer with the lowest key twice, both rows stamped ``refreshed_at`` (an
    SQL expression of the old stamp): a batch with a duplicate key, as a faulty build could
    have written it (delete+insert replaces every row of a key it writes)."""
    with duckdb.connect(str(project.database)) as con:
        columns = [
            row[0]
            for row in con.execute(f"describe main.{MODEL}").fetchall()
            if row[0] != "refreshed_at"
        ]
        listed = ", ".join(columns)
        first = f"customer_sk = (select min(customer_sk) from main.{MODEL})"
        con.execute(f"update main.{MODEL} set refreshed_at = {refreshed_at} where {first}")
        con.execute(
            f"insert into main.{MODEL} ({listed}, refreshed_at) "
            f"select {listed}, refreshed_at from main.{MODEL} where {first}"
        )


@pytest.fixture
def built_twice(make_project) -> DbtProject:
    """A project built once, then a bad row stamped as that build stamped its rows: not
    later than the start of the last successful build, so old for the next nightly one."""
    project = make_project()
    assert project.invoke("build").success
    duplicate_a_customer(project, "refreshed_at")
    return project


def test_a_nightly_build_does_not_check_rows_an_earlier_build_wrote(built_twice):
    nightly = built_twice.invoke("build")
    check = key_test(nightly)
    assert str(check.status) == "pass"
    assert SCOPE in check.node.compiled_code


def test_dbt_test_checks_the_whole_table_and_finds_the_old_bad_row(built_twice):
    full = built_twice.invoke("test", "--select", MODEL)
    check = key_test(full)
    assert str(check.status) == "fail"
    assert check.failures == 1
    assert SCOPE not in check.node.compiled_code


def test_the_scheduled_full_checks_find_the_old_bad_row(built_twice):
    scheduled = built_twice.invoke("build", "--selector", "full_checks")
    assert {r.node.resource_type for r in scheduled.result.results} <= {"test", "operation"}
    check = key_test(scheduled)
    assert str(check.status) == "fail"
    assert SCOPE not in check.node.compiled_code
    # Nor do the line-key tests take a watermark: this build consumes no new sales lines.
    (line_keys,) = [r for r in scheduled.result.results if r.node.name.startswith(SALES_KEY_TEST)]
    assert not re.search(r"ss_ticket_number > \d", line_keys.node.compiled_code)


def test_a_nightly_build_checks_rows_written_after_the_last_successful_build(make_project):
    project = make_project()
    assert project.invoke("build").success
    # Later than the build's start: as a failed build (which logs nothing) would leave it.
    duplicate_a_customer(project, "refreshed_at + interval 1 second")
    nightly = project.invoke("build")
    assert not nightly.success
    check = key_test(nightly)
    assert str(check.status) == "fail"
    assert check.failures == 1
    assert SCOPE in check.node.compiled_code


def test_the_code_checks_run_and_pass_under_their_selector(built_project):
    result = built_project.invoke("test", "--selector", "code_checks")
    assert result.success, [f"{r.node.name}: {r.message}" for r in result.result.results]
    ran = [r for r in result.result.results if r.node.resource_type != "operation"]
    unit_tests = [r for r in ran if r.node.resource_type == "unit_test"]
    macro_tests = [r for r in ran if "code_check" in r.node.tags]
    assert unit_tests and macro_tests
    assert len(unit_tests) + len(macro_tests) == len(ran)
    assert all(str(r.status) == "pass" for r in ran)


def source_test(result, name: str):
    found = [r for r in result.result.results if r.node.name == name]
    assert len(found) == 1, name
    return found[0]


def test_a_nightly_build_checks_the_new_sales_lines_and_lines_without_a_ticket(make_project):
    project = make_project()
    assert project.invoke("build").success
    with duckdb.connect(str(project.database)) as con:
        ticket, customer = con.execute(
            "select max(ss_ticket_number) + 1, min(ss_customer_sk) from tpcxbb.store_sales"
        ).fetchone()
        # A new ticket whose line names no item, and a line on no ticket at all.
        con.execute(
            "insert into tpcxbb.store_sales (ss_ticket_number, ss_item_sk, ss_customer_sk, "
            "ss_net_paid) values (?, null, ?, 1.00), (null, 1, ?, 1.00)",
            [ticket, customer, customer],
        )
    nightly = project.invoke("build")
    assert not nightly.success
    for column in ["ss_item_sk", "ss_ticket_number"]:
        check = source_test(nightly, f"source_not_null_tpcxbb_store_sales_{column}")
        assert str(check.status) == "fail"
        assert check.failures == 1
        # Only the lines above the ticket watermark, and those without a ticket.
        assert re.search(
            r"ss_ticket_number > \d+ or ss_ticket_number is null", check.node.compiled_code
        )
