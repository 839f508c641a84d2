"""When a build retrains the segment model, through dbt on sf=0.01 data: a nightly run keeps
the current model and re-scores customers with it; a reason trains a run that records it."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import DbtProject, error_messages

from customer_segmentation.core.scoring import score_customers
from devtools.append_day import append_day

pytestmark = pytest.mark.e2e


def runs(project: DbtProject) -> pd.DataFrame:
    return project.query(
        "select run_id, previous_run_id, train_reason from main.segment_model_runs order by 1"
    )


def clusters(project: DbtProject) -> pd.DataFrame:
    """The tutorial's columns of the cluster table (not the incremental model's own state)."""
    return project.query(
        "select * exclude (run_id, refreshed_at) from main.py_customer_clusters order by Customer"
    )


@pytest.fixture(scope="module")
def trained_database(small_source_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sf=0.01 sources after one `dbt run`: the registry holds run 1."""
    workdir = tmp_path_factory.mktemp("trained")
    project = DbtProject(database=workdir / "segmentation.duckdb", workdir=workdir)
    shutil.copyfile(small_source_db, project.database)
    assert project.invoke("seed").success
    result = project.invoke("run")
    assert result.success, error_messages(result)
    return project.database


@pytest.fixture
def project(trained_database: Path, tmp_path: Path) -> DbtProject:
    """A copy of the trained database, to run dbt again on."""
    database = tmp_path / "segmentation.duckdb"
    shutil.copyfile(trained_database, database)
    return DbtProject(database=database, workdir=tmp_path)


def test_the_first_run_records_that_there_was_no_model_yet(project):
    assert runs(project)["train_reason"].tolist() == ["no model yet"]


def test_a_second_run_with_nothing_changed_trains_nothing_and_keeps_the_clusters(project):
    before = clusters(project)
    result = project.invoke("run")
    assert result.success, error_messages(result)
    assert runs(project)["run_id"].tolist() == [1]
    assert project.query("select count(*) as n from main.segment_transitions")["n"][0] == 0
    pd.testing.assert_frame_equal(clusters(project), before)


def test_a_nightly_run_after_a_new_day_rescores_everyone_with_the_current_model(project):
    features_query = "select * exclude (refreshed_at) from main.customer_return_features"
    features_before = project.query(features_query)
    with duckdb.connect(str(project.database)) as con:
        append_day(con)
    result = project.invoke("run")
    assert result.success, error_messages(result)
    assert runs(project)["run_id"].tolist() == [1]
    features = project.query(features_query)
    changed = features.merge(features_before, how="left", indicator=True)
    assert (changed["_merge"] == "left_only").any(), "the new day changed no customer's features"
    run_1 = project.query("select * from main.segment_model_registry where run_id = 1")
    expected = score_customers(features, run_1)
    pd.testing.assert_frame_equal(clusters(project), expected, check_dtype=False)


def test_the_retrain_var_appends_a_run_that_says_so(project):
    result = project.invoke("run", "--vars", "{retrain: true}")
    assert result.success, error_messages(result)
    assert runs(project).to_dict("list") == {
        "run_id": [1, 2],
        "previous_run_id": [None, 1],
        "train_reason": ["no model yet", "retrain requested"],
    }


def test_full_refresh_appends_a_run_that_says_so(project):
    result = project.invoke("run", "--full-refresh")
    assert result.success, error_messages(result)
    assert runs(project)["train_reason"].tolist() == ["no model yet", "full refresh"]


def test_retrain_after_days_zero_trains_on_every_build(project):
    for _ in range(2):
        result = project.invoke("run", "--vars", "{retrain_after_days: 0}")
        assert result.success, error_messages(result)
    reasons = runs(project)["train_reason"].tolist()
    assert len(reasons) == 3
    assert all(r.endswith("days old (retrain_after_days=0)") for r in reasons[1:]), reasons


def test_returns_that_double_overnight_drift_the_fit_and_retrain(project):
    with duckdb.connect(str(project.database)) as con:
        # Every return ever made is returned again tomorrow, on new tickets: each customer's
        # return ratios and frequency double, so customers move away from their centroids.
        con.execute(
            """
            insert into tpcxbb.store_returns by name
            select * replace (
                (select max(sr_returned_date_sk) + 1 from tpcxbb.store_returns)
                    as sr_returned_date_sk,
                sr_ticket_number + (select max(ss_ticket_number) from tpcxbb.store_sales)
                    as sr_ticket_number
            )
            from tpcxbb.store_returns
            where sr_returned_date_sk is not null
            """
        )
    result = project.invoke("run")
    assert result.success, error_messages(result)
    reason = runs(project)["train_reason"].tolist()[-1]
    assert reason.startswith("fit drifted +"), reason
    assert reason.endswith(" % (max_fit_drift=0.1)")
    assert float(reason.split()[2]) > 10


def test_a_registry_from_before_train_reason_gets_the_column(project):
    with duckdb.connect(str(project.database)) as con:
        con.execute("alter table main.segment_model_registry drop column train_reason")
    result = project.invoke("run", "--vars", "{retrain: true}")
    assert result.success, error_messages(result)
    reasons = project.query(
        "select distinct run_id, train_reason from main.segment_model_registry order by 1"
    )
    assert reasons["run_id"].tolist() == [1, 2]
    assert pd.isna(reasons["train_reason"][0])
    assert reasons["train_reason"][1] == "retrain requested"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ("{retrain: maybe}", "var retrain=maybe is not allowed: use true or false"),
        ("{retrain_after_days: -1}", "var retrain_after_days=-1 is not allowed"),
        ("{max_fit_drift: -0.1}", "var max_fit_drift=-0.1 is not allowed"),
    ],
)
def test_a_bad_retrain_var_stops_the_run_before_anything_is_written(project, variables, message):
    registry_before = project.query("select * from main.segment_model_registry")
    with duckdb.connect(str(project.database)) as con:
        # Work a run would do before the registry model: features of a new day.
        append_day(con)
    features_before = project.query("select * from main.customer_return_features order by 1")
    result = project.invoke("run", "--vars", variables)
    assert not result.success
    assert message in error_messages(result)
    pd.testing.assert_frame_equal(
        project.query("select * from main.customer_return_features order by 1"), features_before
    )
    pd.testing.assert_frame_equal(
        project.query("select * from main.segment_model_registry"), registry_before
    )
