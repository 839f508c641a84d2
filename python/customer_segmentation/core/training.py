"""Training a run: when a build trains, and the registry rows of a trained run.

`next_registry_rows` is what a build appends: a trained run when `training_decision` finds a
reason, nothing otherwise. The dbt Python model on DuckDB and the SQL Server training
procedure (which embeds this module) both call it. Plain data in and out; scikit-learn and
SciPy are imported by the functions that fit and match (`clustering`, `metrics`, `segments`).
"""

from __future__ import annotations

import math
import platform
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from customer_segmentation.core.clustering import CustomerReturnClusterer, KMeansParams
from customer_segmentation.core.features import FEATURE_COLUMNS
from customer_segmentation.core.gates import GateThresholds, gate_failures
from customer_segmentation.core.metrics import (
    DEFAULT_SILHOUETTE_SAMPLE,
    DEFAULT_SILHOUETTE_SEED,
    davies_bouldin,
    outlier_distances,
    silhouette,
)
from customer_segmentation.core.registry import REGISTRY_DTYPES, clusterer_from_rows
from customer_segmentation.core.segments import match_to_previous

DEFAULT_OUTLIER_QUANTILE = 0.99


@dataclass(frozen=True)
class TrainingSettings:
    """How a run is trained, measured and judged: everything but the data and the run's
    identity. The defaults are the project's vars' defaults."""

    kmeans: KMeansParams = field(default_factory=KMeansParams)
    silhouette_sample_size: int = DEFAULT_SILHOUETTE_SAMPLE
    silhouette_seed: int = DEFAULT_SILHOUETTE_SEED
    outlier_quantile: float = DEFAULT_OUTLIER_QUANTILE
    features: tuple = FEATURE_COLUMNS
    thresholds: GateThresholds = field(default_factory=GateThresholds)
    # Segment ids with a name in the `segments` seed; None: not checked.
    named_segments: frozenset | None = None


@dataclass(frozen=True)
class RetrainPolicy:
    """When an unpinned build trains a new run instead of keeping the current one: the vars
    `retrain`, `retrain_after_days` and `max_fit_drift` (validated by the Jinja layer)."""

    # Train on this build whatever the current run (var `retrain`).
    retrain: bool = False
    # Train when the current run is at least this many days old; 0 trains on every build.
    retrain_after_days: float = 7.0
    # Train when today's mean squared distance to the nearest centroid exceeds the run's own
    # by more than this share (0.1 = +10 %).
    max_fit_drift: float = 0.1


def runtime_versions() -> dict[str, str]:
    """The Python, pandas, numpy and scikit-learn versions training runs on: k-means results
    differ between scikit-learn versions, and the two targets train on different ones."""
    import sklearn

    return {
        "python_version": platform.python_version(),
        "pandas_version": pd.__version__,
        "numpy_version": np.__version__,
        "sklearn_version": sklearn.__version__,
    }


def _stable_ids(
    clusterer: CustomerReturnClusterer, previous_rows: pd.DataFrame | None
) -> tuple[np.ndarray, int | None, np.ndarray]:
    """The id of every fitted centroid row (the previous run's nearest centroid's, or the
    fitted labels on the first run), the previous run's id, and each row's centroid shift."""
    shift = np.full(len(clusterer.scaled_centroids_), np.nan)
    if previous_rows is None or previous_rows.empty:
        return match_to_previous(None, clusterer.scaled_centroids_), None, shift
    previous = clusterer_from_rows(previous_rows)
    # Compare in the new model's k-means space: the previous centroids in feature units, put
    # through the new scaler.
    prev_space = (previous.centroids_ - clusterer.scaler_mean_) / clusterer.scaler_scale_
    ids = match_to_previous(prev_space, clusterer.scaled_centroids_, previous.segment_ids_)
    for row, segment in enumerate(ids):
        match = np.flatnonzero(previous.segment_ids_ == segment)
        if len(match):
            diff = clusterer.scaled_centroids_[row] - prev_space[match[0]]
            shift[row] = float(np.sqrt(diff @ diff))
    return ids, int(previous_rows["run_id"].iloc[0]), shift


def _run_metrics(
    clusterer: CustomerReturnClusterer, ordered: pd.DataFrame, settings: TrainingSettings
) -> dict[str, object]:
    """Silhouette and Davies-Bouldin (None with one segment), outlier distances and sizes."""
    matrix = clusterer.kmeans_space(ordered)
    labels = clusterer.labels_
    two_or_more = len(np.unique(labels)) >= 2
    own = np.sqrt(clusterer.squared_distances(ordered).min(axis=1))
    return {
        "rows": len(matrix),
        "silhouette": silhouette(
            matrix, labels, settings.silhouette_sample_size, settings.silhouette_seed
        )
        if two_or_more
        else None,
        "davies_bouldin": davies_bouldin(matrix, labels) if two_or_more else None,
        "outlier_distance": outlier_distances(own, labels, settings.outlier_quantile),
        "sizes": {int(s): int((labels == s).sum()) for s in clusterer.segment_ids_},
    }


def train_run(
    data: pd.DataFrame,
    settings: TrainingSettings,
    run_id: int,
    trained_at: datetime,
    previous_rows: pd.DataFrame | None = None,
    train_reason: str | None = None,
) -> tuple[CustomerReturnClusterer, pd.DataFrame]:
    """Fit a model, give its segments the ids of ``previous_rows``' nearest centroids (the
    fitted labels on the first run), measure it, judge it by its quality gates, and return
    it with its registry rows (plain dtypes; `typed_registry` types them)."""
    params = settings.kmeans
    clusterer = CustomerReturnClusterer.from_params(params, tuple(settings.features)).fit(data)
    ids, previous_run_id, shift = _stable_ids(clusterer, previous_rows)
    fitted_label = {int(segment): row for row, segment in enumerate(ids)}
    shift_by_id = {int(segment): shift[row] for row, segment in enumerate(ids)}
    clusterer.relabel(ids)
    ordered = data.sort_values(clusterer.key, kind="stable")
    measured = _run_metrics(clusterer, ordered, settings)
    sizes = measured["sizes"]
    n_rows = measured["rows"]
    run = {
        "run_id": run_id,
        "trained_at": trained_at,
        "invocation_id": None,
        "previous_run_id": previous_run_id,
        "train_reason": train_reason,
        "n_clusters": params.n_clusters,
        "random_state": params.random_state,
        "n_init": params.n_init,
        "scaled": params.scale,
        "features": ",".join(clusterer.features),
        "training_rows": n_rows,
        "inertia": clusterer.inertia_,
        "silhouette": measured["silhouette"],
        "silhouette_sample_size": min(settings.silhouette_sample_size, n_rows),
        "davies_bouldin": measured["davies_bouldin"],
        "outlier_quantile": settings.outlier_quantile,
    }
    run.update(runtime_versions())
    rows = []
    for position, segment in enumerate(clusterer.segment_ids_):
        segment = int(segment)
        for j, feature in enumerate(clusterer.features):
            row = dict(run)
            row.update(
                {
                    "segment_id": segment,
                    "fitted_label": fitted_label[segment],
                    "segment_size": sizes[segment],
                    "segment_share": sizes[segment] / n_rows,
                    "centroid_shift": None
                    if np.isnan(shift_by_id[segment])
                    else shift_by_id[segment],
                    "outlier_distance": measured["outlier_distance"].get(segment, 0.0),
                    "feature": feature,
                    "feature_position": j,
                    "centroid_value": float(clusterer.centroids_[position, j]),
                    "scaled_value": float(clusterer.scaled_centroids_[position, j]),
                    "scaler_mean": float(clusterer.scaler_mean_[j]),
                    "scaler_scale": float(clusterer.scaler_scale_[j]),
                    "passed_gates": None,
                    "gate_failures": None,
                }
            )
            rows.append(row)
    frame = pd.DataFrame(rows, columns=list(REGISTRY_DTYPES))
    # The gates judge the run as it is stored: scoring rebuilds it from these rows.
    stored = clusterer_from_rows(frame).predict(ordered)
    failures = gate_failures(
        sizes,
        measured["silhouette"],
        measured["davies_bouldin"],
        settings.thresholds,
        None if settings.named_segments is None else set(settings.named_segments),
        int((np.asarray(stored) != np.asarray(clusterer.labels_)).sum()),
    )
    frame["passed_gates"] = not failures
    frame["gate_failures"] = "; ".join(failures) if failures else None
    return clusterer, frame


def fit_drift(run_rows: pd.DataFrame, data: pd.DataFrame) -> float:
    """How much worse the run fits ``data`` than its training customers: the mean squared
    distance of ``data``'s rows to their nearest centroid, relative to the run's own
    inertia / training_rows (both in k-means space), minus 1. 0.1 = 10 % farther."""
    clusterer = clusterer_from_rows(run_rows)
    today = float(clusterer.squared_distances(data).min(axis=1).mean())
    first = run_rows.iloc[0]
    trained = float(first["inertia"]) / int(first["training_rows"])
    if trained == 0:
        return 0.0 if today == 0 else math.inf
    return today / trained - 1


def _changed_params(run_rows: pd.DataFrame, params: KMeansParams) -> list[str]:
    """The k-means settings (by var name) in which ``params`` differ from the run's."""
    first = run_rows.iloc[0]
    stored = {
        "n_clusters": (int(first["n_clusters"]), params.n_clusters),
        "random_state": (int(first["random_state"]), params.random_state),
        "n_init": (int(first["n_init"]), params.n_init),
        "scale_features": (bool(first["scaled"]), params.scale),
    }
    return [
        f"{name} {str(old).lower()} -> {str(new).lower()}"
        for name, (old, new) in stored.items()
        if old != new
    ]


def training_decision(
    current_rows: pd.DataFrame | None,
    params: KMeansParams,
    data: pd.DataFrame,
    now: datetime,
    policy: RetrainPolicy,
    full_refresh: bool = False,
) -> tuple[bool, str]:
    """Whether an unpinned build trains a new run or keeps ``current_rows`` (the current
    run), and why. Trains when there is no run, on `--full-refresh`, when `retrain` is set,
    when the k-means settings changed, when the run is `retrain_after_days` old (``now`` and
    `trained_at` both naive UTC), or when the run fits today's customers ``data`` worse than
    its own training customers by more than `max_fit_drift`. The first reason found wins."""
    if current_rows is None or current_rows.empty:
        return True, "no model yet"
    if full_refresh:
        return True, "full refresh"
    if policy.retrain:
        return True, "retrain requested"
    changed = _changed_params(current_rows, params)
    if changed:
        return True, "parameters changed: " + ", ".join(changed)
    age = (pd.Timestamp(now) - pd.Timestamp(current_rows["trained_at"].iloc[0])) / pd.Timedelta(
        days=1
    )
    if age >= policy.retrain_after_days:
        return True, (
            f"model is {age:.1f} days old (retrain_after_days={policy.retrain_after_days:g})"
        )
    drift = fit_drift(current_rows, data)
    if drift > policy.max_fit_drift:
        return True, f"fit drifted {drift * 100:+.1f} % (max_fit_drift={policy.max_fit_drift:g})"
    run_id = int(current_rows["run_id"].iloc[0])
    return False, f"kept run {run_id}: {age:.1f} days old, fit drifted {drift * 100:+.1f} %"


def next_registry_rows(
    features: pd.DataFrame,
    current_rows: pd.DataFrame | None,
    settings: TrainingSettings,
    policy: RetrainPolicy,
    now: datetime,
    next_run_id: int,
    full_refresh: bool = False,
) -> pd.DataFrame:
    """What an unpinned build appends to the registry: the rows of run ``next_run_id`` when
    `training_decision` finds a reason to train against ``current_rows`` (the current model:
    a run that passed its gates, None when there is none; its ids are what the new run's
    segments are matched to), else no rows. The run records whether it passed its gates.
    Plain dtypes, the registry's columns in order."""
    current = None if current_rows is None or current_rows.empty else current_rows
    train, reason = training_decision(current, settings.kmeans, features, now, policy, full_refresh)
    if not train:
        return pd.DataFrame(columns=list(REGISTRY_DTYPES))
    _, rows = train_run(features, settings, next_run_id, now, current, train_reason=reason)
    return rows
