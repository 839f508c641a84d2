"""The incremental screening: a nightly build re-screens the customers whose scores changed,
everyone when an input of every row changed (opt-outs, campaign vars), and any sequence of
builds leaves the rows a --full-refresh gives, on sf=0.01 data."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import DbtProject

from devtools.append_day import append_day

pytestmark = pytest.mark.e2e

SCREENING = "main.int_campaign_recipients_screened"
# The screening and the tables filtered from it; `refreshed_at` is left out (each build
# stamps its own).
COMPARED = {
    SCREENING: "customer_sk",
    "main.customer_campaign_emails": "c_customer_sk",
    "main.campaign_holdout": "c_customer_sk",
    "main.campaign_list_exclusions": "cluster, exclusion_reason",
    "main.cluster_email_coverage": "cluster",
}


@pytest.fixture(scope="module")
def built_database(small_source_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sf=0.01 project built once; each test works on its own copy."""
    workdir = tmp_path_factory.mktemp("campaigns_built")
    project = DbtProject(database=workdir / "segmentation.duckdb", workdir=workdir)
    shutil.copyfile(small_source_db, project.database)
    result = project.invoke("build")
    assert result.success, result.exception
    return project.database


def copy_of(database: Path, workdir: Path) -> DbtProject:
    workdir.mkdir(parents=True, exist_ok=True)
    project = DbtProject(database=workdir / "segmentation.duckdb", workdir=workdir)
    shutil.copyfile(database, project.database)
    return project


def latest_stamp(project: DbtProject, relation: str) -> object:
    return project.query(f"select max(refreshed_at) as stamp from {relation}")["stamp"][0]


def rescreened(project: DbtProject) -> set[int]:
    """The customers the latest build screened."""
    rows = project.query(
        f"select customer_sk from {SCREENING} "
        f"where refreshed_at = (select max(refreshed_at) from {SCREENING})"
    )
    return set(rows["customer_sk"])


def published(project: DbtProject) -> dict[str, pd.DataFrame]:
    tables = {}
    for relation, key in COMPARED.items():
        frame = project.query(f"select * from {relation} order by {key}")
        tables[relation] = frame.drop(columns=["refreshed_at"], errors="ignore")
    return tables


def assert_equals_a_full_refresh(project: DbtProject, tmp_path: Path, *args: str) -> None:
    """Rebuild the screening of a copy of ``project`` from scratch (same upstream tables, same
    ``args``) and compare every row of the screening and the lists."""
    rebuilt = copy_of(project.database, tmp_path / "rebuilt")
    result = rebuilt.invoke(
        "run", "--full-refresh", "--select", "int_campaign_recipients_screened+", *args
    )
    assert result.success, result.exception
    incremental, full = published(project), published(rebuilt)
    for relation in COMPARED:
        pd.testing.assert_frame_equal(incremental[relation], full[relation], obj=relation)


def opt_out(project: DbtProject, customers: list[int]) -> None:
    """Append opt-outs to the loaded seed, as a changed CSV would; the builds exclude the seed
    so that `dbt seed` does not reload the CSV over them."""
    with duckdb.connect(str(project.database)) as con:
        con.executemany(
            "insert into main.email_opt_outs "
            "values (?, null, date '2026-01-01', 'unsubscribe_link')",
            [(customer,) for customer in customers],
        )


def test_a_build_in_which_no_scores_row_changed_rescreens_nobody(built_database, tmp_path):
    project = copy_of(built_database, tmp_path / "project")
    before = published(project)
    stamp = latest_stamp(project, SCREENING)
    result = project.invoke("build", "--exclude", "customer_segment_scores")
    assert result.success, result.exception
    assert latest_stamp(project, SCREENING) == stamp
    after = published(project)
    for relation in COMPARED:
        pd.testing.assert_frame_equal(before[relation], after[relation], obj=relation)


def test_a_new_day_rescreens_exactly_the_customers_whose_scores_row_changed(
    built_database, tmp_path
):
    project = copy_of(built_database, tmp_path / "project")
    with duckdb.connect(str(project.database)) as con:
        assert append_day(con).sales_lines > 0
    result = project.invoke("build")
    assert result.success, result.exception
    stamp = latest_stamp(project, SCREENING)
    refreshed_scores = project.query(
        "select customer from main.customer_segment_scores where refreshed_at = "
        f"(select max(refreshed_at) from {SCREENING})"
    )
    assert latest_stamp(project, "main.customer_segment_scores") == stamp
    assert rescreened(project) == set(refreshed_scores["customer"])
    # Some customers, not everyone: equal sets alone would also hold if both re-did everyone.
    screened = project.query(f"select count(*) as n from {SCREENING}")["n"][0]
    assert 0 < len(rescreened(project)) < screened
    assert_equals_a_full_refresh(project, tmp_path)


def test_a_changed_opt_out_seed_rescreens_everyone_as_a_full_refresh_would(
    built_database, tmp_path
):
    project = copy_of(built_database, tmp_path / "project")
    send = project.query("select c_customer_sk from main.customer_campaign_emails limit 2")
    leaving = [int(key) for key in send["c_customer_sk"]]
    opt_out(project, leaving)
    result = project.invoke("build", "--exclude", "email_opt_outs")
    assert result.success, result.exception
    everyone = project.query(f"select customer_sk from {SCREENING}")
    assert rescreened(project) == set(everyone["customer_sk"])
    listed = project.query("select c_customer_sk from main.customer_campaign_emails")
    assert not set(leaving) & set(listed["c_customer_sk"])
    assert_equals_a_full_refresh(project, tmp_path, "--exclude", "email_opt_outs")


def test_a_new_campaign_and_segments_rescreen_everyone_as_a_full_refresh_would(
    built_database, tmp_path
):
    project = copy_of(built_database, tmp_path / "project")
    clusters = project.query("select min(cluster) as c from main.customer_campaign_emails")
    segment = int(clusters["c"][0])
    campaign = f"{{campaign_name: spring-2027, campaign_segments: [{segment}]}}"
    result = project.invoke("build", "--vars", campaign)
    assert result.success, result.exception
    everyone = project.query(f"select customer_sk from {SCREENING}")
    assert rescreened(project) == set(everyone["customer_sk"])
    lists = project.query(
        "select distinct campaign_name, cluster from main.customer_campaign_emails "
        "union select distinct campaign_name, cluster from main.campaign_holdout"
    )
    assert set(lists["campaign_name"]) == {"spring-2027"}
    assert set(lists["cluster"]) == {segment}
    assert_equals_a_full_refresh(project, tmp_path, "--vars", campaign)
