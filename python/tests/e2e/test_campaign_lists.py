"""The campaign lists are safe to send: suppression, holdout, history, PII, validated vars."""

from __future__ import annotations

import hashlib
import json
import math

import duckdb
import pandas as pd
import pytest
from conftest import error_messages

from customer_segmentation.adapters.dbt_build import in_use_message, lock_holder

pytestmark = pytest.mark.e2e

LISTS = ["customer_campaign_emails", "campaign_holdout"]
HISTORY_NODE = "snapshot.customer_segmentation.campaign_list_history"


def listed(project) -> pd.DataFrame:
    """Every customer on a list (to mail, holdout, or the history's open rows), with the list."""
    return project.query(
        """
        select 'send' as list, c_customer_sk, c_email_address from main.customer_campaign_emails
        union all
        select 'holdout', c_customer_sk, c_email_address from main.campaign_holdout
        union all
        select 'history', c_customer_sk, c_email_address from main.campaign_list_history
        where valid_to is null
        """
    )


def test_opted_out_customers_in_the_cluster_table_are_on_no_list(built_project):
    opted_out = built_project.query(
        """
        select distinct c.Customer as customer_sk, cu.c_email_address
        from main.py_customer_clusters as c
        inner join tpcxbb.customer as cu on c.Customer = cu.c_customer_sk
        inner join main.email_opt_outs as o
            on o.customer_sk = cu.c_customer_sk
            or lower(trim(o.email_address)) = lower(trim(cu.c_email_address))
        """
    )
    assert len(opted_out) >= 2, "the seed should name clustered customers"
    on_lists = listed(built_project)
    assert not set(opted_out["customer_sk"]) & set(on_lists["c_customer_sk"])
    assert not set(opted_out["c_email_address"].str.lower()) & set(
        on_lists["c_email_address"].str.lower()
    )


def test_every_clustered_customer_is_on_one_list_or_counted_as_excluded(built_project):
    clustered = built_project.query("select count(*) as n from main.py_customer_clusters")["n"][0]
    send = built_project.query("select c_customer_sk from main.customer_campaign_emails")
    holdout = built_project.query("select c_customer_sk from main.campaign_holdout")
    excluded = built_project.query("select sum(customers) as n from main.campaign_list_exclusions")
    assert not set(send["c_customer_sk"]) & set(holdout["c_customer_sk"])
    assert len(send) + len(holdout) + excluded["n"][0] == clustered


def test_holdout_is_md5_of_customer_key_and_campaign_name(built_project):
    screened = built_project.query(
        "select customer_sk, campaign_name, holdout_bucket, is_holdout "
        "from main.int_campaign_recipients_screened"
    )
    expected = [
        int(hashlib.md5(f"{key}|{name}".encode("ascii")).hexdigest()[:8], 16) % 10000
        for key, name in zip(screened["customer_sk"], screened["campaign_name"], strict=True)
    ]
    assert screened["holdout_bucket"].tolist() == expected
    assert (screened["is_holdout"] == (screened["holdout_bucket"] < 1000)).all()


def test_holdout_share_of_each_segment_is_close_to_the_configured_share(built_project):
    share = 0.1  # the holdout_share default in dbt_project.yml
    counts = built_project.query(
        """
        select cluster, sum(case when list = 'holdout' then 1 else 0 end) as held, count(*) as n
        from (
            select 'send' as list, cluster from main.customer_campaign_emails
            union all
            select 'holdout', cluster from main.campaign_holdout
        ) as listed
        group by cluster
        """
    )
    # A hash acts like a fair draw: allow 4 binomial standard deviations per segment.
    for held, n in zip(counts["held"], counts["n"], strict=True):
        assert abs(held - share * n) <= 4 * math.sqrt(n * share * (1 - share)) + 1
    total, held = counts["n"].sum(), counts["held"].sum()
    assert abs(held / total - share) <= 4 * math.sqrt(share * (1 - share) / total)


def test_email_columns_are_tagged_pii_and_grants_apply_only_on_sql_server(built_project):
    result = built_project.invoke("parse")
    assert result.success, error_messages(result)
    manifest = json.loads((built_project.workdir / "target" / "manifest.json").read_text())
    email_columns = {
        f"{node['name']}.{name}": column
        for node in manifest["nodes"].values()
        if node["resource_type"] in {"model", "seed", "snapshot"}
        for name, column in node["columns"].items()
        if name.endswith("email_address")
    }
    assert len(email_columns) >= 5
    untagged = [k for k, c in email_columns.items() if c["config"]["meta"].get("pii") is not True]
    assert untagged == []
    for uid in [*(f"model.customer_segmentation.{name}" for name in LISTS), HISTORY_NODE]:
        assert manifest["nodes"][uid]["config"]["grants"] == {}, "DuckDB has no roles"
    # Nor a PII schema of its own, which would protect nothing: the relations BI and the
    # mailer read keep their names in main (SQL Server: test_sqlserver_target.py).
    schemas = {
        node["name"]: node["schema"]
        for node in manifest["nodes"].values()
        if node["resource_type"] in {"model", "seed", "snapshot"}
    }
    assert set(schemas.values()) == {"main"}
    assert {"stg_tpcxbb__customers", "email_opt_outs", "campaign_list_history", *LISTS} <= (
        schemas.keys()
    )


def test_invalid_shared_and_opted_out_addresses_are_dropped_and_counted(make_project):
    project = make_project()
    with duckdb.connect(str(project.database)) as con:
        keys = [
            row[0]
            for row in con.execute(
                "select Customer from tpcxbb.customer as cu inner join ("
                "  select distinct ss_customer_sk as Customer from tpcxbb.store_sales"
                ") as s on s.Customer = cu.c_customer_sk "
                "where c_email_address is not null and c_customer_sk > 10 order by 1 limit 4"
            ).fetchall()
        ]
        invalid, shared_a, shared_b, by_address = keys
        con.execute(
            "update tpcxbb.customer set c_email_address = 'no-at-sign.example.com' "
            "where c_customer_sk = ?",
            [invalid],
        )
        con.execute(
            "update tpcxbb.customer set c_email_address = 'Shared@Example.com' "
            "where c_customer_sk in (?, ?)",
            [shared_a, shared_b],
        )
        # The seed opts out nobody.here@example.com; case and spaces must not matter.
        con.execute(
            "update tpcxbb.customer set c_email_address = ' NOBODY.here@example.com' "
            "where c_customer_sk = ?",
            [by_address],
        )
    result = project.invoke("build")
    assert result.success, error_messages(result)
    assert not set(keys) & set(listed(project)["c_customer_sk"])
    reasons = project.query(
        "select customer_sk, exclusion_reason from main.int_campaign_recipients_screened "
        f"where customer_sk in ({', '.join(map(str, keys))})"
    ).set_index("customer_sk")["exclusion_reason"]
    assert reasons.to_dict() == {
        invalid: "invalid_email_address",
        shared_a: "duplicate_email_address",
        shared_b: "duplicate_email_address",
        by_address: "opted_out",
    }
    counted = project.query(
        "select exclusion_reason, sum(customers) as n from main.campaign_list_exclusions "
        "group by exclusion_reason"
    ).set_index("exclusion_reason")["n"]
    assert counted["invalid_email_address"] == 1
    assert counted["duplicate_email_address"] == 2


def history(project) -> pd.DataFrame:
    return project.query(
        "select * from main.campaign_list_history "
        "order by campaign_name, list_name, c_customer_sk, valid_from"
    )


def published_lists(project) -> set[tuple[str, str, int]]:
    """(campaign, list, customer) of everyone on the published send list and holdout."""
    lists = project.query(
        "select campaign_name, 'send' as list_name, c_customer_sk "
        "from main.customer_campaign_emails union all "
        "select campaign_name, 'holdout', c_customer_sk from main.campaign_holdout"
    )
    return set(lists.itertuples(index=False, name=None))


def keys(frame: pd.DataFrame) -> set[tuple[str, str, int]]:
    return set(frame[["campaign_name", "list_name", "c_customer_sk"]].itertuples(False, None))


def test_holdout_and_history_survive_a_rerun_and_a_retrain(make_project):
    project = make_project()
    assert project.invoke("build").success
    holdout = project.query("select c_customer_sk from main.campaign_holdout")
    first = history(project)
    assert first["valid_to"].isna().all()
    assert keys(first) == published_lists(project)
    assert set(first["model_run_id"]) == {1}

    rerun = project.invoke("build")
    assert rerun.success, error_messages(rerun)
    pd.testing.assert_frame_equal(history(project), first, obj="history after an identical build")

    retrain = project.invoke("build", "--vars", "{n_clusters: 3}")
    assert retrain.success, error_messages(retrain)
    clusters = project.query("select count(distinct cluster) as k from main.py_customer_clusters")
    assert clusters["k"][0] == 3
    after = project.query("select c_customer_sk from main.campaign_holdout")
    assert set(after["c_customer_sk"]) == set(holdout["c_customer_sk"])
    # Every listed customer now comes from run 2: run 1's rows are closed, not deleted, and
    # run 2's are open, one per listed customer.
    retrained = history(project)
    by_run = {run: rows for run, rows in retrained.groupby("model_run_id")}
    assert set(by_run) == {1, 2}
    closed = by_run[1].reset_index(drop=True)
    assert closed["valid_to"].notna().all()
    pd.testing.assert_frame_equal(
        closed.drop(columns="valid_to"), first.drop(columns="valid_to"), check_dtype=False
    )
    assert by_run[2]["valid_to"].isna().all()
    assert keys(by_run[2]) == published_lists(project)
    assert (by_run[2]["valid_from"] == closed["valid_to"].max()).all()

    # Same k as the retrain: going back to k=4 would give the fourth segment a fresh id.
    other = project.invoke("build", "--vars", "{n_clusters: 3, campaign_name: spring-2027}")
    assert other.success, error_messages(other)
    spring = project.query("select c_customer_sk from main.campaign_holdout")
    assert set(spring["c_customer_sk"]) != set(holdout["c_customer_sk"])
    # The lists hold one campaign at a time: default's rows close when spring-2027's open.
    now = history(project)
    current = now[now["valid_to"].isna()]
    assert keys(current) == published_lists(project)
    assert set(current["campaign_name"]) == {"spring-2027"}
    assert len(now) == len(retrained) + len(current)


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ("{campaign_name: '0; drop table x'}", "campaign_name"),
        ('{campaign_name: "x\'; drop table main.customer_campaign_emails; --"}', "campaign_name"),
        ("{holdout_share: '0; drop table x'}", "holdout_share"),
        ("{holdout_share: 1}", "holdout_share"),
        ("{holdout_share: -0.1}", "holdout_share"),
        ("{campaign_segments: '0; drop table x'}", "campaign_segments"),
        ("{campaign_segments: [1, two]}", "campaign_segments"),
        ("{campaign_role: 'mailer; drop table x'}", "campaign_role"),
    ],
)
def test_a_var_that_would_inject_sql_stops_the_run_before_anything_is_built(
    make_project, variables, named
):
    project = make_project()
    result = project.invoke("build", "--vars", variables)
    assert not result.success
    message = error_messages(result)
    assert f"var {named}=" in message and "is not allowed" in message
    built = project.query(
        "select table_name from information_schema.tables where table_schema = 'main'"
    )
    assert built["table_name"].tolist() == []


def test_lock_holder_is_none_for_a_free_database(tmp_path):
    database = tmp_path / "free.duckdb"
    duckdb.connect(str(database)).close()
    assert lock_holder(database) is None


def test_in_use_message_names_the_file_and_the_process():
    message = in_use_message("/data/segmentation.duckdb", "4242")
    assert message.startswith("segmentation.duckdb is in use by another process (pid 4242)")


def test_a_campaign_for_some_segments_lists_only_those_segments(make_project):
    project = make_project()
    result = project.invoke("build", "--vars", "{campaign_segments: [1, 3]}")
    assert result.success, error_messages(result)
    tables = [*LISTS, "campaign_list_exclusions", "campaign_list_history"]
    for table in [*tables, "cluster_email_coverage"]:
        clusters = project.query(f"select distinct cluster from main.{table}")["cluster"]
        assert set(clusters) <= {1, 3}, table
    mailed = project.query("select distinct cluster from main.customer_campaign_emails")
    assert set(mailed["cluster"]) == {1, 3}


def test_email_coverage_and_exclusions_agree_on_who_has_no_address_for_some_segments(
    make_project,
):
    project = make_project()
    with duckdb.connect(str(project.database)) as con:
        # More customers without an address, so every segment has some.
        con.execute("update tpcxbb.customer set c_email_address = '  ' where c_customer_sk % 7 = 0")
    result = project.invoke("build", "--vars", "{campaign_segments: [0, 2]}")
    assert result.success, error_messages(result)
    status = {r.node.name: str(r.status) for r in result.result.results}
    assert status["assert_email_coverage_agrees_with_exclusions"] == "pass"
    coverage = project.query(
        "select cluster, customers, customers_without_email from main.cluster_email_coverage"
    ).set_index("cluster")
    excluded = project.query(
        "select cluster, customers from main.campaign_list_exclusions "
        "where exclusion_reason = 'no_email_address'"
    ).set_index("cluster")["customers"]
    assert set(coverage.index) == {0, 2}
    assert coverage["customers_without_email"].to_dict() == excluded.to_dict()
    assert (coverage["customers_without_email"] > 0).all()
    # Blank addresses count as none, on both sides (the staging model trims them to NULL).
    clustered = project.query(
        "select c.cluster, count(*) as n from main.py_customer_clusters as c "
        "inner join tpcxbb.customer as cu on c.Customer = cu.c_customer_sk "
        "where c.cluster in (0, 2) and nullif(trim(cu.c_email_address), '') is null "
        "group by c.cluster"
    ).set_index("cluster")["n"]
    assert excluded.to_dict() == clustered.to_dict()
