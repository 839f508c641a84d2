"""The model registry's rows: one training run as plain data, and a model rebuilt from them.

A run is stored long, one row per (segment, feature), so SQL can score customers against any
run and BI can plot centroids without parsing JSON; the run's parameters and metrics repeat on
each of its rows. `next_registry_rows` is what a build appends: a trained run when
`training_decision` finds a reason, nothing otherwise. The dbt Python model on DuckDB and the
SQL Server training procedure (which embeds this module) both call it; no I/O here. Like the
clustering core it keeps to pandas 0.23 / numpy 1.15 calls; `typed_registry` gives the rows
DuckDB's column types.
"""

from __future__ import annotations

import math
import platform
import re
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from customer_segmentation.clustering import (
    CLUSTER_TABLE_COLUMNS,
    FEATURE_COLUMNS,
    CustomerReturnClusterer,
    KMeansParams,
)
from customer_segmentation.metrics import (
    DEFAULT_SILHOUETTE_SAMPLE,
    DEFAULT_SILHOUETTE_SEED,
    davies_bouldin,
    outlier_distances,
    silhouette,
)
from customer_segmentation.segments import match_to_previous, transition_counts

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


def parse_run_id(value: object) -> int | None:
    """The `model_run_id` var as an int, None when unset ('' or none)."""
    if value is None or str(value).strip().lower() in {"", "none", "null"}:
        return None
    text = str(value).strip()
    # ASCII digits only: str.isdigit() also accepts Arabic-Indic and other scripts' digits.
    if not re.fullmatch("[0-9]{1,18}", text):
        raise ValueError(f"model_run_id must be a positive integer run id, got {value!r}")
    return int(text)


def passed(registry: pd.DataFrame) -> pd.Series:
    """Per row, whether its run passed its gates. Runs recorded before the registry kept gate
    results (no column, or NULL) were served as they were, and count as passed."""
    if "passed_gates" not in registry.columns:
        return pd.Series(True, index=registry.index)
    return registry["passed_gates"].isna() | (registry["passed_gates"] == True)  # noqa: E712


def select_run(registry: pd.DataFrame, run_id: int | None = None) -> pd.DataFrame:
    """The rows of the current model: run ``run_id`` when pinned, else the latest run that
    passed its gates. A run the gates rejected is never current: pinning one is an error, and
    the latest run being rejected leaves the one before it current."""
    if registry.empty:
        if run_id is not None:
            raise ValueError(
                f"model_run_id={run_id} is pinned but the registry holds no training run yet; "
                "build once without model_run_id to train the first model"
            )
        raise ValueError("the model registry is empty: no model has been trained yet")
    ok = passed(registry)
    if run_id is None:
        if not ok.any():
            raise ValueError(
                "no run of the model registry passed its quality gates "
                f"(rejected: {_rejections(registry)}): no model can be served"
            )
        run_id = int(registry.loc[ok, "run_id"].max())
    rows = registry[registry["run_id"] == run_id]
    if rows.empty:
        known = sorted(int(r) for r in registry["run_id"].unique())
        raise ValueError(
            f"model_run_id={run_id} is not in the model registry (runs: {known}); "
            "nothing was changed"
        )
    if not ok[rows.index].all():
        raise ValueError(
            f"model_run_id={run_id} was rejected by its quality gates "
            f"({rows['gate_failures'].iloc[0]}) and is never served; pin a run that passed "
            f"(runs that passed: {sorted(int(r) for r in registry.loc[ok, 'run_id'].unique())})"
        )
    return rows


def _rejections(registry: pd.DataFrame) -> str:
    runs = registry.drop_duplicates("run_id").sort_values("run_id")
    return "; ".join(f"run {int(r.run_id)}: {r.gate_failures}" for r in runs.itertuples())


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


@dataclass(frozen=True)
class GateThresholds:
    """The quality gates a training run must pass to become the current model: the vars
    `min_segment_share`, `min_silhouette` and `max_davies_bouldin`, validated."""

    # Every segment holds at least this share of the training customers.
    min_segment_share: float = 0.02
    # Mean silhouette on the sample, -1 to 1.
    min_silhouette: float = 0.25
    # Davies-Bouldin index, 0 is best.
    max_davies_bouldin: float = 1.5

    def __post_init__(self) -> None:
        for name, low, high in (
            ("min_segment_share", 0.0, 1.0),
            ("min_silhouette", -1.0, 1.0),
            ("max_davies_bouldin", 0.0, math.inf),
        ):
            number = _var_number(name, getattr(self, name))
            if not low <= number <= high:
                raise ValueError(
                    f"var {name}={getattr(self, name)!r} is not allowed: use a number in "
                    f"[{low:g}, {high:g}]"
                )
            object.__setattr__(self, name, number)


def gate_failures(
    sizes: dict[int, int],
    silhouette_value: float | None,
    db_value: float | None,
    thresholds: GateThresholds,
    named_segments: set[int] | None,
    relabelled: int,
) -> list[str]:
    """Why a run fails its quality gates, one reason per gate ([] when it passes): a segment
    below `min_segment_share`, silhouette or Davies-Bouldin outside their bounds (undefined
    with one segment), a segment id without a name in the `segments` seed (None: not
    checked), or customers whose segment the stored centroids do not reproduce."""
    failures = []
    total = sum(sizes.values())
    small = [
        f"{segment} ({size / total:.2%})"
        for segment, size in sorted(sizes.items())
        if size / total < thresholds.min_segment_share
    ]
    if small:
        failures.append(
            f"segments below min_segment_share={thresholds.min_segment_share:g}: "
            + ", ".join(small)
        )
    if silhouette_value is None or db_value is None:
        failures.append("one segment: silhouette and Davies-Bouldin need k >= 2")
    else:
        if silhouette_value < thresholds.min_silhouette:
            failures.append(
                f"silhouette {silhouette_value:.4f} < min_silhouette={thresholds.min_silhouette:g}"
            )
        if db_value > thresholds.max_davies_bouldin:
            failures.append(
                f"Davies-Bouldin {db_value:.4f} > "
                f"max_davies_bouldin={thresholds.max_davies_bouldin:g}"
            )
    if named_segments is not None:
        unnamed = sorted(set(sizes) - set(named_segments))
        if unnamed:
            failures.append(
                "segment ids without a name in the segments seed: "
                + ", ".join(str(s) for s in unnamed)
            )
    if relabelled:
        failures.append(
            f"{relabelled} customers get another segment from the stored centroids than "
            "from the fitted model"
        )
    return failures


def train_run(
    data: pd.DataFrame,
    params: KMeansParams,
    previous_rows: pd.DataFrame | None,
    run_id: int,
    trained_at: datetime,
    silhouette_sample_size: int = DEFAULT_SILHOUETTE_SAMPLE,
    silhouette_seed: int = DEFAULT_SILHOUETTE_SEED,
    outlier_quantile: float = DEFAULT_OUTLIER_QUANTILE,
    features: tuple[str, ...] = FEATURE_COLUMNS,
    train_reason: str | None = None,
    thresholds: GateThresholds | None = None,
    named_segments: set[int] | None = None,
) -> tuple[CustomerReturnClusterer, pd.DataFrame]:
    """Fit a model, give its segments the ids of the previous run's nearest centroids (or the
    fitted labels on the first run), measure it, judge it by its quality gates
    (`gate_failures`), and return it with its registry rows (plain dtypes; `typed_registry`
    types them); ``train_reason`` (see `training_decision`) and the runtime's versions are
    recorded on them."""
    clusterer = CustomerReturnClusterer(params, features).fit(data)
    previous_run_id: int | None = None
    shift = np.full(params.n_clusters, np.nan)
    if previous_rows is not None and not previous_rows.empty:
        previous = clusterer_from_rows(previous_rows)
        previous_run_id = int(previous_rows["run_id"].iloc[0])
        # Compare in the new model's k-means space: the previous centroids in feature units,
        # put through the new scaler.
        prev_space = (previous.centroids_ - clusterer.scaler_mean_) / clusterer.scaler_scale_
        ids = match_to_previous(prev_space, clusterer.scaled_centroids_, previous.segment_ids_)
        for row, segment in enumerate(ids):
            match = np.flatnonzero(previous.segment_ids_ == segment)
            if len(match):
                diff = clusterer.scaled_centroids_[row] - prev_space[match[0]]
                shift[row] = float(np.sqrt(diff @ diff))
    else:
        ids = match_to_previous(None, clusterer.scaled_centroids_)
    fitted_label = {int(segment): row for row, segment in enumerate(ids)}
    shift_by_id = {int(segment): shift[row] for row, segment in enumerate(ids)}
    clusterer.relabel(ids)

    ordered = data.sort_values(clusterer.key, kind="stable")
    matrix = clusterer.transform(ordered)
    labels = clusterer.labels_
    own = np.sqrt(clusterer.squared_distances(ordered).min(axis=1))
    two_or_more = len(np.unique(labels)) >= 2
    silhouette_value = (
        silhouette(matrix, labels, silhouette_sample_size, silhouette_seed) if two_or_more else None
    )
    db_value = davies_bouldin(matrix, labels) if two_or_more else None
    outlier_distance = outlier_distances(own, labels, outlier_quantile)
    sizes = {int(s): int((labels == s).sum()) for s in clusterer.segment_ids_}
    versions = runtime_versions()

    rows = []
    for position, segment in enumerate(clusterer.segment_ids_):
        segment = int(segment)
        for j, feature in enumerate(clusterer.features):
            rows.append(
                {
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
                    "training_rows": len(matrix),
                    "inertia": clusterer.inertia_,
                    "silhouette": silhouette_value,
                    "silhouette_sample_size": min(silhouette_sample_size, len(matrix)),
                    "davies_bouldin": db_value,
                    "outlier_quantile": outlier_quantile,
                    "segment_id": segment,
                    "fitted_label": fitted_label[segment],
                    "segment_size": sizes[segment],
                    "segment_share": sizes[segment] / len(matrix),
                    "centroid_shift": None
                    if np.isnan(shift_by_id[segment])
                    else shift_by_id[segment],
                    "outlier_distance": outlier_distance.get(segment, 0.0),
                    "feature": feature,
                    "feature_position": j,
                    "centroid_value": float(clusterer.centroids_[position, j]),
                    "scaled_value": float(clusterer.scaled_centroids_[position, j]),
                    "scaler_mean": float(clusterer.scaler_mean_[j]),
                    "scaler_scale": float(clusterer.scaler_scale_[j]),
                    **versions,
                    "passed_gates": None,
                    "gate_failures": None,
                }
            )
    frame = pd.DataFrame(rows, columns=list(REGISTRY_DTYPES))
    # The gates judge the run as it is stored: scoring rebuilds it from these rows.
    stored = clusterer_from_rows(frame).predict(ordered)
    failures = gate_failures(
        sizes,
        silhouette_value,
        db_value,
        thresholds or GateThresholds(),
        named_segments,
        int((np.asarray(stored) != np.asarray(labels)).sum()),
    )
    frame["passed_gates"] = not failures
    frame["gate_failures"] = "; ".join(failures) if failures else None
    return clusterer, frame


def _var_boolean(name: str, value: object) -> bool:
    """A dbt var that must be true or false (YAML's booleans, or their text)."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise ValueError(f"var {name}={value!r} is not allowed: use true or false")


def _var_number(name: str, value: object) -> float:
    """A dbt var that must be a finite number (dbt may hand it over as text)."""
    is_text = isinstance(value, str) and re.fullmatch(
        r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)", value.strip()
    )
    is_number = isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )
    number = float(value) if is_text or is_number else math.nan
    if not math.isfinite(number):
        raise ValueError(f"var {name}={value!r} is not allowed: use a number")
    return number


def _var_non_negative(name: str, value: object, example: str) -> float:
    """A dbt var that must be a number >= 0 (dbt may hand it over as text)."""
    try:
        number = _var_number(name, value)
    except ValueError:
        number = math.nan
    if not number >= 0:
        raise ValueError(f"var {name}={value!r} is not allowed: use a number >= 0, {example}")
    return number


@dataclass(frozen=True)
class RetrainPolicy:
    """When an unpinned build trains a new run instead of keeping the current one: the vars
    `retrain`, `retrain_after_days` and `max_fit_drift`, validated."""

    # Train on this build whatever the current run (var `retrain`).
    retrain: bool = False
    # Train when the current run is at least this many days old; 0 trains on every build.
    retrain_after_days: float = 7.0
    # Train when today's mean squared distance to the nearest centroid exceeds the run's own
    # by more than this share (0.1 = +10 %).
    max_fit_drift: float = 0.1

    def __post_init__(self) -> None:
        object.__setattr__(self, "retrain", _var_boolean("retrain", self.retrain))
        object.__setattr__(
            self,
            "retrain_after_days",
            _var_non_negative(
                "retrain_after_days", self.retrain_after_days, "e.g. 7 (0 = every build)"
            ),
        )
        object.__setattr__(
            self,
            "max_fit_drift",
            _var_non_negative("max_fit_drift", self.max_fit_drift, "e.g. 0.1 (= +10 %)"),
        )


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


def transitions(
    previous_rows: pd.DataFrame, current_rows: pd.DataFrame, data: pd.DataFrame
) -> pd.DataFrame:
    """Customers of ``data`` per (segment under the previous run, segment under the current
    run): the share of each segment a retrain moved elsewhere."""
    previous = clusterer_from_rows(previous_rows)
    current = clusterer_from_rows(current_rows)
    counts = transition_counts(previous.predict(data), current.predict(data))
    counts.insert(0, "previous_run_id", int(previous_rows["run_id"].iloc[0]))
    counts.insert(0, "run_id", int(current_rows["run_id"].iloc[0]))
    return counts.astype(TRANSITION_DTYPES)


def score_customers(data: pd.DataFrame, run_rows: pd.DataFrame) -> pd.DataFrame:
    """The tutorial's cluster table for ``data``, each customer in the segment of the nearest
    centroid of the stored run (its `predict`), ordered by customer."""
    if run_rows.empty:
        raise ValueError("no current model: the model registry has no rows for it")
    clusterer = clusterer_from_rows(run_rows)
    ordered = data.sort_values(clusterer.key, kind="stable").reset_index(drop=True)
    table = pd.DataFrame(
        np.asarray(ordered.loc[:, list(clusterer.features)], dtype=float),
        columns=list(CLUSTER_TABLE_COLUMNS[1:5]),
    )
    table.insert(0, CLUSTER_TABLE_COLUMNS[0], np.asarray(ordered[clusterer.key], dtype=np.int64))
    table[CLUSTER_TABLE_COLUMNS[5]] = clusterer.predict(ordered)
    return table


def next_registry_rows(
    features: pd.DataFrame,
    current_rows: pd.DataFrame | None,
    params: KMeansParams,
    policy: RetrainPolicy,
    now: datetime,
    next_run_id: int,
    full_refresh: bool = False,
    silhouette_sample_size: int = DEFAULT_SILHOUETTE_SAMPLE,
    outlier_quantile: float = DEFAULT_OUTLIER_QUANTILE,
    thresholds: GateThresholds | None = None,
    named_segments: set[int] | None = None,
) -> pd.DataFrame:
    """What an unpinned build appends to the registry: the rows of run ``next_run_id`` when
    `training_decision` finds a reason to train against ``current_rows`` (the current model:
    a run that passed its gates, None when there is none; its ids are what the new run's
    segments are matched to), else no rows. The run records whether it passed its gates.
    Plain dtypes, the registry's columns in order."""
    current = None if current_rows is None or current_rows.empty else current_rows
    train, reason = training_decision(current, params, features, now, policy, full_refresh)
    if not train:
        return pd.DataFrame(columns=list(REGISTRY_DTYPES))
    _, rows = train_run(
        features,
        params,
        current,
        run_id=next_run_id,
        trained_at=now,
        silhouette_sample_size=silhouette_sample_size,
        outlier_quantile=outlier_quantile,
        train_reason=reason,
        thresholds=thresholds,
        named_segments=named_segments,
    )
    return rows
