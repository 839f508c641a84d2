"""What the SQL Server procedures' scripts call: one function per procedure, after the core.

SQL Server's Machine Learning Services hands a script the input query's rows as a DataFrame
(bigint columns as float64, in no particular order) and each ``@params`` value as a variable:
the registry rows of a run arrive as JSON text (``FOR JSON PATH``, floats converted to text
with style 3, 17 significant digits, so no centroid loses a bit), k-means settings as numbers
and bits. These functions turn that into the core's calls and return the ``OutputDataSet``.
Plain data in, plain data out, no I/O; embedded with the core, so pandas 0.23 calls only.
"""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd

from customer_segmentation.core.clustering import KMeansParams
from customer_segmentation.core.gates import GateThresholds
from customer_segmentation.core.registry import TRANSITION_DTYPES
from customer_segmentation.core.scoring import score_customers, transitions
from customer_segmentation.core.training import (
    RetrainPolicy,
    TrainingSettings,
    next_registry_rows,
)


def _as_bool(value: object) -> bool:
    """A bit or boolean as FOR JSON or a T-SQL bit parameter gives it."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true")
    return bool(value)


# The registry columns a procedure passes to its script for one run, with their parsers.
MODEL_ROW_COLUMNS: dict[str, object] = {
    "run_id": int,
    "trained_at": str,
    "n_clusters": int,
    "random_state": int,
    "n_init": int,
    "scaled": _as_bool,
    "inertia": float,
    "training_rows": int,
    "segment_id": int,
    "feature": str,
    "feature_position": int,
    "scaled_value": float,
    "scaler_mean": float,
    "scaler_scale": float,
}


def model_rows_from_json(text: str | None) -> pd.DataFrame:
    """The registry rows of one run from the JSON array a procedure built with FOR JSON PATH;
    no rows for NULL or empty text (no such run)."""
    records = json.loads(text) if text and text.strip() else []
    if not isinstance(records, list):
        raise ValueError(f"model rows must be a JSON array, got {type(records).__name__}")
    missing = sorted({c for c in MODEL_ROW_COLUMNS if records and c not in records[0]})
    if missing:
        raise ValueError(f"model rows lack the registry columns {missing}")
    columns = {
        name: [parse(record[name]) for record in records]  # type: ignore[operator]
        for name, parse in MODEL_ROW_COLUMNS.items()
    }
    return pd.DataFrame(columns, columns=list(MODEL_ROW_COLUMNS))


def score_from_procedure(data: pd.DataFrame, model_json: str | None) -> pd.DataFrame:
    """`py_generate_customer_return_clusters`: the tutorial's cluster table, every customer in
    the stable segment of the current run's nearest centroid."""
    rows = model_rows_from_json(model_json)
    if rows.empty:
        raise ValueError(
            "no current segment model: segment_model_registry has no run yet. "
            "Build once with `dbt build --target sqlserver` to train run 1"
        )
    return score_customers(data, rows)


def train_from_procedure(
    data: pd.DataFrame,
    current_model_json: str | None,
    next_run_id: int,
    n_clusters: int,
    random_state: int,
    n_init: int,
    scale_features: object,
    retrain: object,
    retrain_after_days: float,
    max_fit_drift: float,
    full_refresh: object,
    silhouette_sample_size: int,
    outlier_quantile: float,
    min_segment_share: float = 0.02,
    min_silhouette: float = 0.25,
    max_davies_bouldin: float = 1.5,
    named_segments: str | None = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """`py_train_customer_segment_model`: the registry rows a build appends (a new run when
    the retrain policy finds a reason, else none), matched to the current run's ids and
    judged by the quality gates; ``named_segments`` is the comma-separated ids of the
    `segments` seed (STRING_AGG), None when the seed is empty."""
    settings = TrainingSettings(
        kmeans=KMeansParams(
            int(n_clusters), int(random_state), int(n_init), _as_bool(scale_features)
        ),
        silhouette_sample_size=int(silhouette_sample_size),
        outlier_quantile=float(outlier_quantile),
        thresholds=GateThresholds(
            float(min_segment_share), float(min_silhouette), float(max_davies_bouldin)
        ),
        named_segments=frozenset(int(s) for s in (named_segments or "").split(",") if s.strip()),
    )
    policy = RetrainPolicy(_as_bool(retrain), float(retrain_after_days), float(max_fit_drift))
    return next_registry_rows(
        data,
        model_rows_from_json(current_model_json),
        settings,
        policy,
        now=now or datetime.utcnow(),
        next_run_id=int(next_run_id),
        full_refresh=_as_bool(full_refresh),
    )


def transitions_from_procedure(
    data: pd.DataFrame, previous_model_json: str | None, current_model_json: str | None
) -> pd.DataFrame:
    """`py_segment_transitions`: customers per (previous segment, new segment) of the latest
    run; no rows when either run is missing."""
    previous = model_rows_from_json(previous_model_json)
    current = model_rows_from_json(current_model_json)
    if previous.empty or current.empty:
        return pd.DataFrame(columns=list(TRANSITION_DTYPES))
    return transitions(previous, current, data)
