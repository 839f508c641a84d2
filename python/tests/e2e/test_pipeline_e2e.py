"""The dbt project end to end on sf=0.01 data, against the tutorial's own code."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest
from conftest import error_messages

from customer_segmentation.core.features import FEATURE_COLUMNS
from devtools.tutorial import tutorial_clusters, tutorial_features

pytestmark = pytest.mark.e2e


def tutorial_reference(database) -> pd.DataFrame:
    with duckdb.connect(str(database), read_only=True) as con:
        return tutorial_clusters(tutorial_features(con))


def test_features_equal_the_tutorials_query_row_for_row(built_project):
    reference = tutorial_reference(built_project.database)
    ours = built_project.query("select * from main.customer_return_features order by customer")
    assert ours["customer"].tolist() == reference["customer"].tolist()
    for column in FEATURE_COLUMNS:
        assert ours[column].astype(float).tolist() == reference[column].astype(float).tolist()


def test_clusters_equal_the_tutorials_code_customer_by_customer(built_project):
    reference = tutorial_reference(built_project.database).set_index("customer")["cluster"]
    ours = built_project.query("select Customer, cluster from main.py_customer_clusters")
    ours = ours.set_index("Customer")["cluster"]
    assert len(ours) == len(reference) > 100
    assert ours.sort_index().tolist() == reference.sort_index().tolist()


def test_cluster_table_has_the_tutorials_columns_and_types(built_project):
    columns = built_project.query("describe main.py_customer_clusters")
    assert dict(zip(columns["column_name"], columns["column_type"], strict=True)) == {
        "Customer": "BIGINT",
        "OrderRatio": "DOUBLE",
        "itemsRatio": "DOUBLE",
        "monetaryRatio": "DOUBLE",
        "frequency": "DOUBLE",
        "cluster": "INTEGER",
        # The incremental model's own state, after the tutorial's columns (not on SQL Server).
        "run_id": "BIGINT",
        "refreshed_at": "TIMESTAMP",
    }


def test_campaign_lists_hold_every_mailable_clustered_customer(built_project):
    expected = built_project.query(
        """
        select c.cluster, cu.c_customer_sk, cu.c_email_address
        from main.py_customer_clusters as c
        inner join tpcxbb.customer as cu on c.Customer = cu.c_customer_sk
        where cu.c_email_address is not null
        order by 2
        """
    )
    lists = built_project.query(
        """
        select cluster, c_customer_sk, c_email_address from main.customer_campaign_emails
        union all
        select cluster, c_customer_sk, c_email_address from main.campaign_holdout
        union all
        select s.cluster, s.customer_sk, s.email_address
        from main.int_campaign_recipients_screened as s
        where s.exclusion_reason <> 'no_email_address'
        order by 2
        """
    )
    pd.testing.assert_frame_equal(lists, expected, check_dtype=False)
    coverage = built_project.query("select * from main.cluster_email_coverage")
    clustered = built_project.query("select count(*) as n from main.py_customer_clusters")
    assert coverage["customers"].sum() == clustered["n"][0]
    assert coverage["customers_with_email"].sum() == len(lists)
    assert coverage["customers_without_email"].sum() > 0


def test_shuffled_source_rows_do_not_change_any_cluster(built_project, make_project):
    before = built_project.query("select Customer, cluster from main.py_customer_clusters")
    project = make_project()
    with duckdb.connect(str(project.database)) as con:
        for table in ["store_sales", "store_returns"]:
            con.execute(
                f"create or replace table tpcxbb.{table} as "
                f"select * from tpcxbb.{table} order by hash(random())"
            )
    result = project.invoke("build")
    assert result.success, error_messages(result)
    after = project.query("select Customer, cluster from main.py_customer_clusters")
    merged = before.merge(after, on="Customer", suffixes=("_before", "_after"))
    assert len(merged) == len(before) == len(after)
    assert (merged["cluster_before"] == merged["cluster_after"]).all()


def test_missing_source_table_stops_the_run_naming_it_and_the_fix(make_project):
    project = make_project()
    with duckdb.connect(str(project.database)) as con:
        con.execute("drop table tpcxbb.store_returns")
    result = project.invoke("build")
    assert not result.success
    message = error_messages(result)
    assert "tpcxbb.store_returns" in message
    assert "make data" in message


@pytest.mark.parametrize(
    ("n_clusters", "expected"),
    [
        ("0", "var n_clusters=0 is not allowed: use an integer >= 1"),
        ("four", "var n_clusters=four is not allowed: use an integer >= 1"),
        ("100000", "need at least as many customers as clusters"),
    ],
)
def test_bad_n_clusters_fails_clearly_and_keeps_the_previous_clusters(
    make_project, n_clusters, expected
):
    project = make_project()
    assert project.invoke("build").success
    before = project.query("select * from main.py_customer_clusters order by Customer")
    # k is a training setting: the registry trains, py_customer_clusters scores with it.
    result = project.invoke(
        "run",
        "--select",
        "segment_model_registry customer_clusters",
        "--vars",
        f"{{n_clusters: '{n_clusters}'}}",
    )
    assert not result.success
    assert expected in error_messages(result)
    after = project.query("select * from main.py_customer_clusters order by Customer")
    pd.testing.assert_frame_equal(after, before)


def test_docs_generate_describes_every_model_and_every_built_column(built_project):
    # As `make docs`: every model, the on-demand ones the default selector leaves out too.
    result = built_project.invoke("docs", "generate", "--select", "fqn:*")
    assert result.success, error_messages(result)
    target = built_project.workdir / "target"
    manifest = json.loads((target / "manifest.json").read_text())["nodes"]
    catalog = json.loads((target / "catalog.json").read_text())["nodes"]
    models = {k: v for k, v in manifest.items() if v["resource_type"] == "model"}
    assert set(models) <= set(catalog), "a model is missing from the catalog"
    undocumented = [k for k, v in models.items() if not v["description"]]
    for key, node in models.items():
        described = {c.lower() for c, v in node["columns"].items() if v["description"]}
        undocumented += [
            f"{node['name']}.{c}" for c in catalog[key]["columns"] if c.lower() not in described
        ]
    assert undocumented == []
