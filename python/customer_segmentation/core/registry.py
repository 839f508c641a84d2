"""The model registry's row format: one training run as plain data, and a model rebuilt from it.

A run is stored long, one row per (segment, feature), so SQL can score customers against any
run and BI can plot centroids without parsing JSON; the run's parameters and metrics repeat on
each of its rows. Like the clustering core it keeps to pandas 0.23 / numpy 1.15 calls (it is
embedded in the SQL Server procedures); `typed_registry` gives the rows DuckDB's column types.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from customer_segmentation.core.clustering import CustomerReturnClusterer, KMeansParams

DEFAULT_OUTLIER_QUANTILE = 0.99
REGISTRY_DTYPES: dict[str, str] = {
    "run_id": "int64",
    "trained_at": "datetime64[us]",
    "invocation_id": "string",
    "previous_run_id": "Int64",
    "train_reason": "string",
    "n_clusters": "int32",
    "random_state": "int32",
    "n_init": "int32",
    "scaled": "bool",
    "features": "string",
    "training_rows": "int64",
    "inertia": "float64",
    "silhouette": "Float64",
    "silhouette_sample_size": "int64",
    "davies_bouldin": "Float64",
    "outlier_quantile": "float64",
    "segment_id": "int32",
    "fitted_label": "int32",
    "segment_size": "int64",
    "segment_share": "float64",
    "centroid_shift": "Float64",
    "outlier_distance": "float64",
    "feature": "string",
    "feature_position": "int32",
    "centroid_value": "float64",
    "scaled_value": "float64",
    "scaler_mean": "float64",
    "scaler_scale": "float64",
    "python_version": "string",
    "pandas_version": "string",
    "numpy_version": "string",
    "sklearn_version": "string",
    "passed_gates": "boolean",
    "gate_failures": "string",
}
TRANSITION_DTYPES: dict[str, str] = {
    "run_id": "int64",
    "previous_run_id": "int64",
    "from_segment_id": "int32",
    "to_segment_id": "int32",
    "customers": "int64",
    "share_of_from_segment": "float64",
}


def empty_registry() -> pd.DataFrame:
    """A registry with no rows and the registry's column types."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in REGISTRY_DTYPES.items()})


def typed_registry(rows: pd.DataFrame) -> pd.DataFrame:
    """Registry rows with DuckDB's column types (nullable ints, floats and strings)."""
    if rows.empty:
        return empty_registry()
    return rows.loc[:, list(REGISTRY_DTYPES)].astype(REGISTRY_DTYPES)


def clusterer_from_rows(rows: pd.DataFrame) -> CustomerReturnClusterer:
    """The fitted model of one run, rebuilt from its registry rows."""
    runs = rows["run_id"].unique()
    if len(runs) != 1:
        raise ValueError(f"expected the rows of one run, got runs {sorted(runs.tolist())}")
    ordered = rows.sort_values(["segment_id", "feature_position"])
    features = tuple(ordered.drop_duplicates("feature_position")["feature"].tolist())
    first = ordered.iloc[0]
    params = KMeansParams(
        int(first["n_clusters"]),
        int(first["random_state"]),
        int(first["n_init"]),
        bool(first["scaled"]),
    )
    segments = np.asarray(ordered["segment_id"].drop_duplicates(), dtype=np.int32)
    per_segment = ordered.pivot(
        index="segment_id", columns="feature_position", values="scaled_value"
    )
    scaler = ordered.drop_duplicates("feature_position")
    return CustomerReturnClusterer.from_centroids(
        np.asarray(per_segment.loc[segments], dtype=float),
        segments,
        np.asarray(scaler["scaler_mean"], dtype=float),
        np.asarray(scaler["scaler_scale"], dtype=float),
        params,
        features,
    )
