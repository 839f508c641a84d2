"""The scoring endpoint through an HTTP client, on a model fitted here."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time

import duckdb
import httpx
import numpy as np
import pandas as pd
import pytest
import uvicorn
from fastapi.testclient import TestClient
from service_fakes import AUTH, KEY, ManualClock, Registry, jumping_clock, small_model

from customer_segmentation.adapters.duckdb_registry import current_run_id
from customer_segmentation.adapters.http_app import create_app, log_config
from customer_segmentation.core.features import FEATURE_COLUMNS
from customer_segmentation.core.serving import RegistryUnavailable, ScoringModel


@pytest.fixture
def registry() -> Registry:
    return Registry()


@pytest.fixture
def client(registry: Registry) -> TestClient:
    app = create_app(registry.load, registry.current_run, KEY, max_batch=5, clock=jumping_clock())
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
        "stale": False,
        "error": None,
    }


def test_health_is_503_with_the_reason_while_no_model_can_be_loaded():
    def failing() -> ScoringModel:
        raise RegistryUnavailable("the database file does not exist")

    app = create_app(failing, lambda: None, KEY, clock=jumping_clock())
    response = TestClient(app).get("/health")
    assert response.status_code == 503
    assert response.json()["model_loaded"] is False
    assert response.json()["error"] == "the database file does not exist"


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


@pytest.mark.parametrize("key", ["", "x" * 31])
def test_service_refuses_to_start_with_a_key_shorter_than_32_characters(registry, key):
    with pytest.raises(ValueError, match="SEGMENTS_API_KEY must be at least 32 characters"):
        create_app(registry.load, registry.current_run, key)


def test_body_that_is_not_utf8_is_422(client):
    response = client.post(
        "/score", content=b"\xff\xfe{", headers=AUTH | {"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("body")


def test_distances_are_keyed_by_segment_id_after_a_retrain_renumbered_them(registry):
    registry.model.clusterer.relabel(np.array([7, 3, 5]))
    app = create_app(registry.load, registry.current_run, KEY)
    result = TestClient(app).post("/score", json={"data": [row()]}, headers=AUTH).json()
    first = result["results"][0]
    assert set(first["distances"]) == {"3", "5", "7"}
    assert min(first["distances"], key=first["distances"].get) == str(first["segment_id"])


def test_an_unauthenticated_body_that_is_not_json_is_401(client):
    response = client.post(
        "/score", content="not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401


class Body:
    """An ASGI receive that streams a body in 1 MB chunks and counts what was read of it."""

    def __init__(self, megabytes: int) -> None:
        self.left = megabytes
        self.read = 0

    async def __call__(self) -> dict[str, object]:
        self.left -= 1
        self.read += 1 << 20
        return {"type": "http.request", "body": b" " * (1 << 20), "more_body": self.left > 0}


def call(app, body: Body, headers: dict[str, str]) -> int:
    """POST /score straight through the ASGI interface; the response's status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/score",
        "raw_path": b"/score",
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, body, send))
    return sent[0]["status"]


def test_an_unauthenticated_large_body_is_refused_unread(registry):
    app = create_app(registry.load, registry.current_run, KEY)
    body = Body(megabytes=100)
    assert call(app, body, {"Content-Type": "application/json"}) == 401
    assert body.read == 0


def test_a_declared_body_over_the_limit_is_413_unread(registry):
    app = create_app(registry.load, registry.current_run, KEY, max_body_bytes=1 << 20)
    body = Body(megabytes=100)
    assert call(app, body, AUTH | {"Content-Length": str(100 << 20)}) == 413
    assert body.read == 0


def test_a_streamed_body_over_the_limit_is_413_once_the_limit_is_passed(registry):
    app = create_app(registry.load, registry.current_run, KEY, max_body_bytes=3 << 20)
    body = Body(megabytes=100)
    assert call(app, body, AUTH) == 413
    assert body.read == 4 << 20


def test_the_default_body_limit_admits_a_full_batch_of_long_rows(registry):
    long_row = row(orderRatio=0.12345678901234567, itemsRatio=1.2345678901234567e-05)
    app = create_app(registry.load, registry.current_run, KEY, max_batch=1000)
    client = TestClient(app)
    assert client.post("/score", json={"data": [long_row] * 1000}, headers=AUTH).status_code == 200
    padded = json.dumps({"data": [long_row] * 1000}) + " " * (256 * 1000)
    response = client.post(
        "/score", content=padded, headers=AUTH | {"Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_a_query_string_on_score_is_400(client):
    response = client.post(f"/score?api_key={KEY}", json={"data": [row()]}, headers=AUTH)
    assert response.status_code == 400


def test_a_key_in_the_query_string_never_reaches_the_access_log(registry):
    app = create_app(registry.load, registry.current_run, KEY)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_config=log_config(), lifespan="off")
    )
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            refused = http.post(f"/score?api_key={KEY}", json={"data": [row()]})
            health = http.get(f"/health?api_key={KEY}")
    finally:
        server.should_exit = True
        thread.join(10)
        access.removeHandler(handler)
    assert (refused.status_code, health.status_code) == (400, 200)
    assert any("POST /score " in line for line in lines)
    assert any("GET /health " in line for line in lines)
    assert not any(KEY in line or "api_key" in line for line in lines)


def test_health_says_stale_with_the_reason_while_the_file_cannot_be_read(registry):
    clock = ManualClock()
    busy = False

    def current_run() -> str:
        if busy:
            raise RegistryUnavailable("the database file cannot be opened, busy or unreadable")
        return registry.current_run()

    app = create_app(registry.load, current_run, KEY, clock=clock)
    client = TestClient(app)
    assert client.get("/health").json()["stale"] is False
    busy = True
    clock.now += 5
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json() == {
        "status": "stale",
        "model_loaded": True,
        "run_id": "run-1",
        "stale": True,
        "error": "the database file cannot be opened, busy or unreadable",
    }
    assert client.post("/score", json={"data": [row()]}, headers=AUTH).json()["run_id"] == "run-1"


def test_no_response_shows_the_path_of_the_database(tmp_path):
    database = tmp_path / "segmentation.duckdb"

    def load() -> ScoringModel:
        raise OSError(f'IO Error: Could not set lock on file "{database}"')

    app = create_app(load, lambda: current_run_id(database), KEY, clock=jumping_clock())
    client = TestClient(app)
    responses = [client.get("/health"), client.post("/score", json={"data": [row()]}, headers=AUTH)]
    duckdb.connect(str(database)).close()
    responses.append(client.get("/health"))
    assert [r.status_code for r in responses] == [503, 503, 503]
    assert all(str(tmp_path) not in r.text for r in responses)


def test_a_database_file_held_by_a_writer_is_reported_busy_without_its_path(tmp_path):
    database = tmp_path / "segmentation.duckdb"
    with duckdb.connect(str(database)), pytest.raises(RegistryUnavailable) as raised:
        current_run_id(database)
    assert "busy" in str(raised.value)
    assert str(tmp_path) not in str(raised.value)


@pytest.mark.parametrize("seconds", [0, 0.5, float("nan")])
def test_service_refuses_to_start_with_a_reload_interval_under_a_second(registry, seconds):
    with pytest.raises(ValueError, match="SEGMENTS_RELOAD_SECONDS must be at least 1 s"):
        create_app(registry.load, registry.current_run, KEY, reload_seconds=seconds)


def test_the_registry_is_checked_at_most_once_per_reload_interval(registry):
    clock = ManualClock()
    app = create_app(registry.load, registry.current_run, KEY, reload_seconds=1, clock=clock)
    client = TestClient(app)
    for _ in range(5):
        client.post("/score", json={"data": [row()]}, headers=AUTH)
    assert registry.checks == 1
    clock.now += 1
    client.get("/health")
    assert registry.checks == 2
