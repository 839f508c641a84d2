"""The scoring endpoint through an HTTP client, on a model fitted here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from service_fakes import AUTH, KEY, Registry, small_model

from customer_segmentation.clustering import FEATURE_COLUMNS
from customer_segmentation.service import ScoringModel, create_app


@pytest.fixture
def registry() -> Registry:
    return Registry()


@pytest.fixture
def client(registry: Registry) -> TestClient:
    app = create_app(registry.load, registry.current_run, KEY, max_batch=5, reload_seconds=0)
    return TestClient(app)


def row(**overrides: object) -> dict[str, object]:
    return {"orderRatio": 0.5, "itemsRatio": 0.5, "monetaryRatio": 0.5, "frequency": 2} | overrides


def test_score_returns_segment_name_distances_and_run_id_per_row(client, registry):
    response = client.post(
        "/score", json={"data": [row(), row(frequency=6, orderRatio=1)]}, headers=AUTH
    )
    assert response.status_code == 200
    body = response.json()
    expected = registry.model.clusterer.predict(
        pd.DataFrame([row(), row(frequency=6, orderRatio=1)])
    )
    assert [r["segment_id"] for r in body["results"]] == expected.tolist()
    first = body["results"][0]
    assert first["segment_name"] == registry.model.segment_names[first["segment_id"]]
    assert set(first["distances"]) == {"0", "1", "2"}
    assert min(first["distances"].values()) == first["distances"][str(first["segment_id"])]
    assert first["run_id"] == body["run_id"] == "run-1"


def test_a_known_customer_is_scored_from_the_feature_table(client, registry):
    customer = 130
    response = client.post("/score", json={"data": [{"customer": customer}]}, headers=AUTH)
    assert response.status_code == 200
    features = registry.model.customer_features.loc[[customer], list(FEATURE_COLUMNS)]
    result = response.json()["results"][0]
    assert result["customer"] == customer
    assert result["segment_id"] == int(registry.model.clusterer.predict(features)[0])


def test_unknown_customer_is_named_in_a_404(client):
    response = client.post("/score", json={"data": [row(), {"customer": 99999}]}, headers=AUTH)
    assert response.status_code == 404
    assert response.json()["detail"] == "data.1.customer: unknown customer 99999"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}])
def test_missing_or_wrong_key_is_401(client, headers):
    response = client.post("/score", json={"data": [row()]}, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([{"orderRatio": 0.1, "itemsRatio": 0.1, "monetaryRatio": 0.1}], "frequency"),
        ([row(itemsRatio="0.5")], "itemsRatio"),
        ([row(monetaryRatio=-0.1)], "monetaryRatio"),
        ([row(orderRatio=None)], "orderRatio"),
    ],
)
def test_bad_rows_are_422_naming_the_field(client, data, field):
    response = client.post("/score", json={"data": data}, headers=AUTH)
    assert response.status_code == 422
    assert field in response.json()["detail"] or any(
        field in map(str, e["loc"]) for e in response.json()["errors"]
    )


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinite_values_are_422(client, literal):
    body = '{"data": [{"orderRatio": %s, "itemsRatio": 0, "monetaryRatio": 0, "frequency": 0}]}'
    response = client.post(
        "/score", content=body % literal, headers=AUTH | {"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "orderRatio" in str(response.json())


def test_empty_batch_is_422(client):
    response = client.post("/score", json={"data": []}, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("data")


def test_oversized_batch_is_422_with_the_limit(client):
    response = client.post("/score", json={"data": [row()] * 6}, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("data: List should have at most 5 items")


def test_body_that_is_not_json_is_422(client):
    response = client.post(
        "/score", content="not json", headers=AUTH | {"Content-Type": "application/json"}
    )
    assert response.status_code == 422


def test_health_reports_the_loaded_run(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "model_loaded": True,
        "run_id": "run-1",
        "error": None,
    }


def test_health_is_503_while_no_model_can_be_loaded():
    def failing() -> ScoringModel:
        raise FileNotFoundError("segmentation.duckdb")

    app = create_app(failing, lambda: None, KEY, reload_seconds=0)
    response = TestClient(app).get("/health")
    assert response.status_code == 503
    assert response.json()["model_loaded"] is False
    assert "segmentation.duckdb" in response.json()["error"]


def test_a_newly_trained_model_is_served_without_a_restart(client, registry):
    assert client.post("/score", json={"data": [row()]}, headers=AUTH).json()["run_id"] == "run-1"
    registry.model = small_model(run_id="run-2", seed=1)
    assert client.post("/score", json={"data": [row()]}, headers=AUTH).json()["run_id"] == "run-2"
    assert client.get("/health").json()["run_id"] == "run-2"


def test_an_unchanged_run_is_not_reloaded(client, registry):
    for _ in range(3):
        client.post("/score", json={"data": [row()]}, headers=AUTH)
    assert registry.loads == 1


def test_openapi_and_interactive_docs_are_served(client):
    spec = client.get("/openapi.json").json()
    assert "/score" in spec["paths"] and "/health" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_service_refuses_to_start_without_a_key(registry):
    with pytest.raises(ValueError, match="SEGMENTS_API_KEY"):
        create_app(registry.load, registry.current_run, "")


def test_body_that_is_not_utf8_is_422(client):
    response = client.post(
        "/score", content=b"\xff\xfe{", headers=AUTH | {"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("body")


def test_distances_are_keyed_by_segment_id_after_a_retrain_renumbered_them(registry):
    registry.model.clusterer.relabel(np.array([7, 3, 5]))
    app = create_app(registry.load, registry.current_run, KEY, reload_seconds=0)
    result = TestClient(app).post("/score", json={"data": [row()]}, headers=AUTH).json()
    first = result["results"][0]
    assert set(first["distances"]) == {"3", "5", "7"}
    assert min(first["distances"], key=first["distances"].get) == str(first["segment_id"])
