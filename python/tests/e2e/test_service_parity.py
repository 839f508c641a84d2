"""The endpoint against the dbt build: same model, same segment for every customer."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from service_fakes import AUTH, KEY, jumping_clock

from customer_segmentation.adapters.duckdb_registry import current_run_id, load_scoring_model
from customer_segmentation.adapters.http_app import create_app
from customer_segmentation.core.features import FEATURE_COLUMNS

pytestmark = pytest.mark.e2e


def client_for(database) -> TestClient:
    app = create_app(
        loader=lambda: load_scoring_model(database),
        current_run=lambda: current_run_id(database),
        api_key=KEY,
        max_batch=100_000,
        clock=jumping_clock(),
    )
    return TestClient(app)


def test_every_customer_scores_into_its_cluster_by_features_and_by_key(built_project):
    client = client_for(built_project.database)
    features = built_project.query("select * from main.customer_return_features order by customer")
    clusters = built_project.query(
        "select Customer, cluster from main.py_customer_clusters order by Customer"
    )
    assert features["customer"].tolist() == clusters["Customer"].tolist()
    by_features = client.post(
        "/score", json={"data": features[list(FEATURE_COLUMNS)].to_dict("records")}, headers=AUTH
    )
    by_key = client.post(
        "/score",
        json={"data": [{"customer": int(c)} for c in features["customer"]]},
        headers=AUTH,
    )
    expected = clusters["cluster"].tolist()
    assert [r["segment_id"] for r in by_features.json()["results"]] == expected
    assert [r["segment_id"] for r in by_key.json()["results"]] == expected


def test_the_served_run_is_the_current_run_of_the_build(built_project):
    current = built_project.query(
        "select run_id from main.segment_model_runs where is_current = 1"
    )["run_id"][0]
    health = client_for(built_project.database).get("/health").json()
    assert health == {
        "status": "ok",
        "model_loaded": True,
        "run_id": str(current),
        "stale": False,
        "error": None,
    }


def test_a_retrain_is_served_without_restarting_the_service(make_project):
    project = make_project()
    assert project.invoke("build").success
    client = client_for(project.database)
    first = client.get("/health").json()["run_id"]
    assert project.invoke("build", "--vars", "{scale_features: true}").success
    second = client.get("/health").json()["run_id"]
    assert second != first
    row = {"orderRatio": 0.1, "itemsRatio": 0.1, "monetaryRatio": 0.1, "frequency": 1}
    assert client.post("/score", json={"data": [row]}, headers=AUTH).json()["run_id"] == second
