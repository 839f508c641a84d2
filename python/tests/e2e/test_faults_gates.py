"""Fault suite, quality gates: a training run that fails its gates is a failing build that
publishes nothing; the rejected run stays in the registry as evidence, is never served, and is
never what later runs' segment ids are matched to."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from conftest import DbtProject, error_messages
from published import assert_checksums_unchanged, relation_checksums

from customer_segmentation.adapters.duckdb_registry import current_run_id

pytestmark = pytest.mark.e2e

# Evidence, not publication: every training run (rejected ones too) and their centroids.
EVIDENCE = {"segment_model_registry", "segment_model_runs", "segment_centroids"}


@pytest.fixture
def project(built_project: DbtProject, tmp_path) -> DbtProject:
    """A private copy of the built sf=0.01 project (run 1 current, lists published)."""
    database = tmp_path / "segmentation.duckdb"
    shutil.copyfile(built_project.database, database)
    return DbtProject(database=database, workdir=tmp_path)


def published(project: DbtProject) -> dict:
    return relation_checksums(project.database, exclude=EVIDENCE)


def runs(project: DbtProject) -> list[tuple]:
    return [
        tuple(row)
        for row in project.query(
            "select run_id, passed_gates, is_current from main.segment_model_runs order by run_id"
        ).itertuples(index=False)
    ]


def test_a_run_with_an_unnamed_segment_fails_the_build_and_publishes_nothing(project):
    before, served = published(project), current_run_id(project.database)
    result = project.invoke("build", "--vars", "{n_clusters: 5}")
    assert not result.success
    message = error_messages(result)
    assert "failed its quality gates" in message
    assert "segment ids without a name in the segments seed: 4" in message
    assert "the current model stays run 1" in message
    assert_checksums_unchanged(before, published(project))
    # The endpoint keeps serving the run it served.
    assert current_run_id(project.database) == served == "1"
    assert runs(project) == [(1, 1, 1), (2, 0, 0)]


def test_dbt_run_cannot_publish_from_a_rejected_one_segment_model(project):
    before = published(project)
    result = project.invoke("run", "--vars", "{n_clusters: 1}")
    assert not result.success
    assert "one segment: silhouette and Davies-Bouldin need k >= 2" in error_messages(result)
    assert_checksums_unchanged(before, published(project))
    assert (
        project.query("select count(distinct cluster) as n from main.py_customer_clusters")[
            "n"
        ].item()
        == 4
    )


def test_a_rejected_run_is_never_what_the_next_run_is_matched_to(project):
    clusters = project.query("select * from main.py_customer_clusters order by Customer")
    assert not project.invoke("build", "--vars", "{n_clusters: 1}").success
    # The next normal build retrains (retrain requested) and matches its ids to run 1.
    result = project.invoke("build", "--vars", "{retrain: true}")
    assert result.success, error_messages(result)
    previous = project.query(
        "select distinct previous_run_id from main.segment_model_registry where run_id = 3"
    )
    assert previous["previous_run_id"].tolist() == [1]
    assert project.query("select run_id from main.segment_model_runs where is_current = 1")[
        "run_id"
    ].tolist() == [3]
    # Same data, same settings: the retrain keeps every customer's segment id.
    after = project.query("select * from main.py_customer_clusters order by Customer")
    assert after["cluster"].tolist() == clusters["cluster"].tolist()


def test_pinning_a_rejected_run_fails_naming_it_and_publishes_nothing(project):
    assert not project.invoke("build", "--vars", "{n_clusters: 1}").success
    before = published(project)
    result = project.invoke("build", "--vars", "{model_run_id: 2}")
    assert not result.success
    assert "model_run_id=2 was rejected by its quality gates" in error_messages(result)
    assert_checksums_unchanged(before, published(project))


def test_a_gate_threshold_the_current_model_misses_fails_a_retrain_and_keeps_the_lists(project):
    before = published(project)
    result = project.invoke("build", "--vars", "{retrain: true, min_silhouette: 0.99}")
    assert not result.success
    assert "< min_silhouette=0.99" in error_messages(result)
    assert_checksums_unchanged(before, published(project))


def test_segments_and_lists_are_not_published_when_sql_scoring_disagrees_with_the_clusters(
    project,
):
    with duckdb.connect(str(project.database)) as con:
        con.execute(
            "update main.py_customer_clusters set cluster = (cluster + 1) % 4 "
            "where Customer = (select min(Customer) from main.py_customer_clusters)"
        )
    before = published(project)
    result = project.invoke(
        "run", "--select", "customer_segments", "int_campaign_recipients_screened+"
    )
    assert not result.success
    status = {r.node.name: str(r.status) for r in result.result.results}
    assert status["customer_segments"] == status["int_campaign_recipients_screened"] == "error"
    assert status["customer_campaign_emails"] == "skipped"
    assert "1 customers get another segment from SQL scoring" in error_messages(result)
    assert_checksums_unchanged(before, published(project))
