"""Incremental models: after any sequence of nightly builds (new sales and returns, a
retrain, a rollback, an opt-out change, a new campaign), every incremental model and every
published table holds exactly the rows a full rebuild gives, on sf=0.01 data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import DbtProject, error_messages

from devtools.append_day import append_day

pytestmark = pytest.mark.e2e

FEATURE_TABLES = {
    "int_customer_orders": "customer_sk",
    "int_customer_returns": "customer_sk",
    "customer_return_features": "customer",
}
# The stages whose tables follow the data (docs/incremental.md); the training stage keeps
# history (the registry is append-only and never fully refreshed) and is not compared.
FOLLOWING_STAGES = {"features", "scoring", "campaigns"}
# When a build wrote a row: the only column a full rebuild gives differently.
STAMP = "refreshed_at"


def table(project: DbtProject, name: str) -> pd.DataFrame:
    key = FEATURE_TABLES[name]
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
    for name in FEATURE_TABLES:
        pd.testing.assert_frame_equal(
            table(incremental, name).drop(columns=[STAMP], errors="ignore"),
            table(rebuilt, name).drop(columns=[STAMP], errors="ignore"),
        )


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


def following_models(manifest: Path) -> dict[str, dict]:
    """Every enabled model of the stages that follow the data, by relation name, with its
    materialization and schema."""
    nodes = json.loads(manifest.read_text())["nodes"].values()
    return {
        node["alias"]: node
        for node in nodes
        if node["resource_type"] == "model"
        and FOLLOWING_STAGES & set(node["fqn"])
        and node["config"]["materialized"] != "ephemeral"
    }


def relation_rows(project: DbtProject, node: dict) -> pd.DataFrame:
    """Every row of a model's relation, stamp dropped, in one canonical order."""
    rows = project.query(f'select * from "{node["schema"]}"."{node["alias"]}"')
    rows = rows.drop(columns=[STAMP], errors="ignore")
    return rows.sort_values(list(rows.columns)).reset_index(drop=True)


def current_run(project: DbtProject) -> int:
    return int(
        project.query("select max(run_id) as run_id from main.int_segment_centroids_current")[
            "run_id"
        ][0]
    )


def assert_equals_a_full_rebuild(project: DbtProject, tmp_path: Path, step: str, vars_: str):
    """Rebuild a copy of ``project`` from scratch with the same current model and vars
    (pinned, so nothing is trained again) and compare every following model, row for row."""
    rebuilt = DbtProject(
        database=tmp_path / f"rebuilt-{step}.duckdb", workdir=tmp_path / f"rebuilt-{step}"
    )
    shutil.copyfile(project.database, rebuilt.database)
    pinned = f"{{model_run_id: '{current_run(project)}', {vars_}}}"
    result = rebuilt.invoke("run", "--full-refresh", "--vars", pinned)
    assert result.success, f"{step}: full rebuild failed: {error_messages(result)}"
    models = following_models(project.workdir / "target" / "manifest.json")
    for name, node in sorted(models.items()):
        pd.testing.assert_frame_equal(
            relation_rows(project, node),
            relation_rows(rebuilt, node),
            obj=f"{name} after {step}",
        )


def nightly(project: DbtProject, *args: str) -> None:
    result = project.invoke("build", *args)
    assert result.success, error_messages(result)


def test_every_following_model_equals_a_full_rebuild_after_each_kind_of_change(
    make_project, tmp_path
):
    project = make_project()
    nightly(project)
    first_run = current_run(project)
    campaign = "campaign_name: default"

    # A new day of sales and returns.
    with duckdb.connect(str(project.database)) as con:
        append_day(con)
    nightly(project)
    assert_equals_a_full_rebuild(project, tmp_path, "a new day", campaign)

    # Another day, and a retrain: a new current model re-scores everyone.
    with duckdb.connect(str(project.database)) as con:
        append_day(con)
    nightly(project, "--vars", "{retrain: true}")
    assert current_run(project) != first_run
    assert_equals_a_full_rebuild(project, tmp_path, "a retrain", campaign)

    # A rollback to the first run.
    pinned = f"{{model_run_id: '{first_run}'}}"
    nightly(project, "--vars", pinned)
    assert current_run(project) == first_run
    assert_equals_a_full_rebuild(project, tmp_path, "a rollback", campaign)

    # Back to the latest run, and an opt-out arriving for a customer on the send list, as the
    # mailer's feed appends it to the loaded seed (the build must not reload the CSV over it).
    listed = project.query(
        "select min(c_customer_sk) as customer from main.customer_campaign_emails"
    )["customer"][0]
    with duckdb.connect(str(project.database)) as con:
        con.execute(
            "insert into main.email_opt_outs values (?, null, date '2026-01-01', 'complaint')",
            [int(listed)],
        )
    nightly(project, "--exclude", "email_opt_outs")
    assert listed not in set(
        project.query("select c_customer_sk from main.customer_campaign_emails")["c_customer_sk"]
    )
    assert_equals_a_full_rebuild(project, tmp_path, "an opt-out", campaign)

    # A new campaign: everyone is screened again for it.
    nightly(project, "--exclude", "email_opt_outs", "--vars", "{campaign_name: spring_sale}")
    assert_equals_a_full_rebuild(project, tmp_path, "a new campaign", "campaign_name: spring_sale")

    models = following_models(project.workdir / "target" / "manifest.json")
    incremental = {
        name for name, node in models.items() if node["config"]["materialized"] == "incremental"
    }
    # The nightly chain, sources to lists, is incremental (docs/incremental.md).
    assert {
        "int_customer_orders",
        "int_customer_returns",
        "customer_return_features",
        "customer_segment_scores",
        "customer_segments",
        "int_campaign_recipients_screened",
    } <= incremental, f"not incremental: {sorted(models.keys() - incremental)}"
