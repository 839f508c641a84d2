{#- GENERATED from python/customer_segmentation/{clustering,metrics,segments,registry,procedures}.py by `make sqlserver-script`: do not
    edit. The body of the SQL Server procedures' @script before each procedure's own call:
    ML Services runs it inside a generated function transform(), on Python 3.7 or later. -#}
{%- macro segment_model_script() -%}
{% raw %}from dataclasses import dataclass
import numpy as np
import pandas as pd
from collections.abc import Iterable
import math
import platform
import re
from datetime import datetime
import json

# --- customer_segmentation/clustering.py
FEATURE_COLUMNS = ('orderRatio', 'itemsRatio', 'monetaryRatio', 'frequency')
CLUSTER_TABLE_COLUMNS = ('Customer', 'OrderRatio', 'itemsRatio', 'monetaryRatio', 'frequency', 'cluster')
CUSTOMER_KEY = 'customer'

def _positive_int(name, value, minimum=1):
    """Return ``value`` as an int, or raise a ValueError naming the parameter."""
    if isinstance(value, bool):
        raise ValueError(f'{name} must be an integer >= {minimum}, got {value!r}')
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip('+-').isdigit():
            raise ValueError(f'{name} must be an integer >= {minimum}, got {value!r}')
        value = int(text)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f'{name} must be an integer >= {minimum}, got {value!r}')
        value = int(value)
    if not isinstance(value, (int, np.integer)):
        raise ValueError(f'{name} must be an integer >= {minimum}, got {value!r}')
    if value < minimum:
        raise ValueError(f'{name} must be an integer >= {minimum}, got {value!r}')
    return int(value)

def _boolean(name, value):
    """Return ``value`` as a bool (dbt vars may arrive as text), or raise naming the parameter."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in {'true', '1', 'yes'}:
        return True
    if text in {'false', '0', 'no'}:
        return False
    raise ValueError(f'{name} must be true or false, got {value!r}')

@dataclass(frozen=True)
class KMeansParams:
    """Validated k-means parameters; the defaults are the tutorial's."""
    n_clusters: int = 4
    random_state: int = 111
    n_init: int = 10
    scale: bool = False

    def __post_init__(self):
        object.__setattr__(self, 'n_clusters', _positive_int('n_clusters', self.n_clusters))
        object.__setattr__(self, 'scale', _boolean('scale', self.scale))
        object.__setattr__(self, 'random_state', _positive_int('random_state', self.random_state, minimum=0))
        object.__setattr__(self, 'n_init', _positive_int('n_init', self.n_init))
MAX_FEATURE_MAGNITUDE = 1000000000000.0

def _feature_matrix(features, columns):
    """Check the feature columns and return them as a float matrix."""
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise ValueError(f'feature columns missing: {missing}; expected {list(columns)}, got {list(features.columns)}')
    try:
        matrix = np.asarray(features.loc[:, list(columns)], dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f'feature columns {list(columns)} must be numeric: {exc}') from exc
    bad = ~np.isfinite(matrix)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(f'feature {columns[col]!r} has a NULL, NaN or infinite value ({int(bad.sum())} such values; first at row {int(row)})')
    huge = np.abs(matrix) > MAX_FEATURE_MAGNITUDE
    if huge.any():
        row, col = np.argwhere(huge)[0]
        raise ValueError(f'feature {columns[col]!r} is {matrix[row, col]:g} at row {int(row)} ({int(huge.sum())} values beyond {MAX_FEATURE_MAGNITUDE:g}): the features are ratios and counts, so a source amount or quantity is implausible; k-means distances would overflow')
    return matrix

def _ordered_by_key(features, key):
    """Rows sorted by customer key, so the fit never depends on the order rows arrive in."""
    if key not in features.columns:
        raise ValueError(f'customer key column {key!r} missing; got {list(features.columns)}')
    keys = features[key]
    if keys.isna().any():
        raise ValueError(f'customer key column {key!r} has {int(keys.isna().sum())} NULL values')
    if keys.duplicated().any():
        dupes = keys[keys.duplicated()].unique()[:5].tolist()
        raise ValueError(f'customer key column {key!r} is not unique, e.g. {dupes}')
    return features.sort_values(key, kind='stable').reset_index(drop=True)

class CustomerReturnClusterer:
    """k-means over customers' return behaviour, fitted on rows ordered by customer key.

    Fitted attributes: ``centroids_`` (k x features, feature units), ``scaled_centroids_``
    (the same in the space k-means ran in: standardised when ``params.scale``, else equal to
    ``centroids_``), ``scaler_mean_`` and ``scaler_scale_`` (0 and 1 when not scaling),
    ``segment_ids_`` (the id of each centroid row, ascending; 0..k-1 until ``relabel``),
    ``inertia_``, ``n_iter_``, ``customers_`` (training keys, sorted) and ``labels_``
    (segment ids, aligned with ``customers_``).
    """

    def __init__(self, params=None, features=FEATURE_COLUMNS, key=CUSTOMER_KEY):
        self.params = params or KMeansParams()
        self.features = tuple(features)
        self.key = key

    def fit(self, data):
        """Fit k-means on ``data`` (one row per customer: key plus feature columns)."""
        ordered = _ordered_by_key(data, self.key)
        matrix = _feature_matrix(ordered, self.features)
        k = self.params.n_clusters
        if len(ordered) < k:
            raise ValueError(f'cannot form n_clusters={k} clusters from {len(ordered)} customers: need at least as many customers as clusters')
        self.scaler_mean_, self.scaler_scale_ = self._fit_scaler(matrix)
        from sklearn.cluster import KMeans
        model = KMeans(n_clusters=k, random_state=self.params.random_state, n_init=self.params.n_init).fit(self._scaled(matrix))
        self.scaled_centroids_ = np.asarray(model.cluster_centers_, dtype=float)
        self.centroids_ = self.scaled_centroids_ * self.scaler_scale_ + self.scaler_mean_
        self.segment_ids_ = np.arange(k, dtype=np.int32)
        self.inertia_ = float(model.inertia_)
        self.n_iter_ = int(model.n_iter_)
        self.customers_ = np.asarray(ordered[self.key])
        self.labels_ = np.asarray(model.labels_, dtype=np.int32)
        return self

    @classmethod
    def from_centroids(cls, scaled_centroids, segment_ids, scaler_mean, scaler_scale, params=None, features=FEATURE_COLUMNS):
        """A fitted clusterer rebuilt from stored centroids (k-means space) and scaler."""
        clusterer = cls(params, features)
        scaled = np.asarray(scaled_centroids, dtype=float)
        if scaled.ndim != 2 or scaled.shape[1] != len(clusterer.features) or (not len(scaled)):
            raise ValueError(f'centroids must be a k x {len(clusterer.features)} matrix, got {scaled.shape}')
        clusterer.scaler_mean_ = np.asarray(scaler_mean, dtype=float)
        clusterer.scaler_scale_ = np.asarray(scaler_scale, dtype=float)
        clusterer.scaled_centroids_ = scaled
        clusterer.centroids_ = scaled * clusterer.scaler_scale_ + clusterer.scaler_mean_
        clusterer.segment_ids_ = np.zeros(len(scaled), dtype=np.int32)
        return clusterer.relabel(np.asarray(segment_ids, dtype=np.int32), labels=False)

    def relabel(self, segment_ids, labels=True):
        """Give centroid row i the id ``segment_ids[i]``; rows are then sorted by id, so an
        exact tie in ``predict`` goes to the lowest id. ``labels_`` become those ids."""
        self._check_fitted()
        ids = np.asarray(segment_ids, dtype=np.int32)
        if ids.shape != (len(self.scaled_centroids_),) or len(set(ids.tolist())) != len(ids):
            raise ValueError(f'need {len(self.scaled_centroids_)} distinct segment ids, got {ids.tolist()}')
        if labels and hasattr(self, 'labels_'):
            self.labels_ = ids[np.searchsorted(self.segment_ids_, self.labels_)]
        order = np.argsort(ids, kind='stable')
        self.segment_ids_ = ids[order]
        self.scaled_centroids_ = self.scaled_centroids_[order]
        self.centroids_ = self.centroids_[order]
        return self

    def transform(self, data):
        """The feature matrix of ``data`` in the space k-means ran in (scaled or not)."""
        self._check_fitted()
        return self._scaled(_feature_matrix(data, self.features))

    def squared_distances(self, data):
        """Squared Euclidean distance of every row to every centroid (rows x k), in k-means
        space, summed feature by feature in order: the arithmetic the SQL scoring repeats."""
        scaled = self.transform(data)
        centroids = self._model_centroids()
        total = np.zeros((len(scaled), len(centroids)))
        for j in range(scaled.shape[1]):
            diff = scaled[:, j, None] - centroids[None, :, j]
            total = total + diff * diff
        return total

    def distances(self, data):
        """Euclidean distance of every row to every centroid (rows x k), in k-means space
        (feature units unless the model scales)."""
        return np.sqrt(self.squared_distances(data))

    def predict(self, data):
        """Segment id of the nearest centroid of every row; an exact tie goes to the lowest id."""
        nearest = np.argmin(self.squared_distances(data), axis=1)
        ids = getattr(self, 'segment_ids_', None)
        if ids is None:
            ids = np.arange(len(self._model_centroids()), dtype=np.int32)
        return np.asarray(ids, dtype=np.int32)[nearest]

    def _fit_scaler(self, matrix):
        """Mean and standard deviation per feature, or the identity when not scaling."""
        width = matrix.shape[1]
        if not self.params.scale:
            return (np.zeros(width), np.ones(width))
        mean = matrix.mean(axis=0)
        scale = matrix.std(axis=0)
        constant = [f for f, s in zip(self.features, scale) if s == 0]
        if constant:
            raise ValueError(f'cannot standardise constant feature(s) {constant}: every customer has the same value; drop the feature or run without scaling')
        return (mean, scale)

    def _scaled(self, matrix):
        mean = getattr(self, 'scaler_mean_', None)
        if mean is None:
            return matrix
        return (matrix - mean) / self.scaler_scale_

    def _model_centroids(self):
        scaled = getattr(self, 'scaled_centroids_', None)
        return self.centroids_ if scaled is None else scaled

    def _check_fitted(self):
        if not hasattr(self, 'centroids_'):
            raise RuntimeError('CustomerReturnClusterer is not fitted yet: call fit() first')

def cluster_customers(data, params=None):
    """Fit on ``data`` and return the tutorial's cluster table, one row per customer."""
    clusterer = CustomerReturnClusterer(params).fit(data)
    ordered = _ordered_by_key(data, clusterer.key)
    features = _feature_matrix(ordered, clusterer.features)
    table = pd.DataFrame(features, columns=list(CLUSTER_TABLE_COLUMNS[1:5]))
    table.insert(0, CLUSTER_TABLE_COLUMNS[0], np.asarray(ordered[clusterer.key], dtype=np.int64))
    table[CLUSTER_TABLE_COLUMNS[5]] = clusterer.labels_
    return table

# --- customer_segmentation/metrics.py
DEFAULT_SILHOUETTE_SAMPLE = 5000
DEFAULT_SILHOUETTE_SEED = 0
K_SELECTION_COLUMNS = ('k', 'inertia', 'silhouette', 'davies_bouldin', 'training_rows', 'scaled')

def _check_two_clusters(metric, labels):
    found = len(np.unique(labels))
    if found < 2:
        raise ValueError(f'{metric} needs at least 2 clusters (k >= 2), got {found}: it compares each cluster with its nearest other cluster')

def silhouette(matrix, labels, sample_size=DEFAULT_SILHOUETTE_SAMPLE, random_state=DEFAULT_SILHOUETTE_SEED):
    """Mean silhouette on a fixed-size random sample (fixed seed): -1 bad, 1 well separated."""
    _check_two_clusters('silhouette', labels)
    if sample_size < 2:
        raise ValueError(f'silhouette sample_size must be >= 2, got {sample_size}')
    size = min(int(sample_size), len(matrix))
    from sklearn.metrics import silhouette_score
    return float(silhouette_score(matrix, labels, sample_size=size, random_state=random_state))

def davies_bouldin(matrix, labels):
    """Davies-Bouldin index over all rows: 0 is best, lower means better separated."""
    _check_two_clusters('Davies-Bouldin', labels)
    from sklearn.metrics import davies_bouldin_score
    return float(davies_bouldin_score(matrix, labels))

def outlier_distances(distances_to_own, labels, quantile):
    """Per segment, the ``quantile`` of its members' distances to their centroid: a customer
    farther than that from the nearest centroid is an outlier of the segment."""
    if not 0 < quantile <= 1:
        raise ValueError(f'outlier quantile must be in (0, 1], got {quantile}')
    return {int(segment): float(np.quantile(distances_to_own[labels == segment], quantile)) for segment in np.unique(labels)}

def k_selection(data, k_values, params=None, sample_size=DEFAULT_SILHOUETTE_SAMPLE, random_state=DEFAULT_SILHOUETTE_SEED):
    """Inertia (the elbow), silhouette and Davies-Bouldin for each k, one row per k.

    Silhouette and Davies-Bouldin are undefined for k=1 (there is no other cluster to
    compare with) and are NULL there; k larger than the number of customers is an error.
    """
    base = params or KMeansParams()
    rows = []
    for k in sorted({int(k) for k in k_values}):
        clusterer = CustomerReturnClusterer(KMeansParams(k, base.random_state, base.n_init, base.scale)).fit(data)
        matrix = clusterer.transform(data.sort_values(clusterer.key, kind='stable'))
        two_or_more = k >= 2
        rows.append({'k': k, 'inertia': clusterer.inertia_, 'silhouette': silhouette(matrix, clusterer.labels_, sample_size, random_state) if two_or_more else None, 'davies_bouldin': davies_bouldin(matrix, clusterer.labels_) if two_or_more else None, 'training_rows': len(matrix), 'scaled': base.scale})
    if not rows:
        raise ValueError('k_values is empty: give at least one k')
    frame = pd.DataFrame(rows, columns=list(K_SELECTION_COLUMNS))
    return frame.astype({'k': 'int32', 'silhouette': 'Float64', 'davies_bouldin': 'Float64', 'training_rows': 'int64'})

# --- customer_segmentation/segments.py
def match_to_previous(centroids_prev, centroids_new, previous_ids=None):
    """Segment id of every new centroid (row i of ``centroids_new`` gets ``result[i]``).

    The pairing minimises the total distance between matched centroids. With no previous
    model (first training run) the ids are the k-means labels as fitted, 0..k-1. When k grew,
    the new centroids left unmatched get fresh ids after the largest previous id, in the
    order k-means numbered them; when k shrank, the previous ids left unmatched retire.
    Both centroid sets must be in the same space (the new model's k-means space).
    """
    new = np.asarray(centroids_new, dtype=float)
    if new.ndim != 2 or not len(new):
        raise ValueError(f'centroids_new must be a non-empty k x features matrix, got {new.shape}')
    if centroids_prev is None or len(centroids_prev) == 0:
        return np.arange(len(new), dtype=np.int32)
    prev = np.asarray(centroids_prev, dtype=float)
    if prev.ndim != 2 or prev.shape[1] != new.shape[1]:
        raise ValueError(f'previous centroids have shape {prev.shape}, new ones {new.shape}: both need the same features')
    ids_prev = np.arange(len(prev), dtype=np.int32) if previous_ids is None else np.asarray(previous_ids, dtype=np.int32)
    if ids_prev.shape != (len(prev),) or len(set(ids_prev.tolist())) != len(ids_prev):
        raise ValueError(f'need {len(prev)} distinct previous ids, got {ids_prev.tolist()}')
    cost = np.sqrt(((new[:, None, :] - prev[None, :, :]) ** 2).sum(axis=2))
    from scipy.optimize import linear_sum_assignment
    rows, cols = linear_sum_assignment(cost)
    ids = np.full(len(new), -1, dtype=np.int32)
    ids[rows] = ids_prev[cols]
    unmatched = np.flatnonzero(ids < 0)
    ids[unmatched] = int(ids_prev.max()) + 1 + np.arange(len(unmatched), dtype=np.int32)
    return ids

def transition_counts(previous_segments, new_segments):
    """Customers per (previous segment, new segment) pair, with each pair's share of the
    previous segment: how many customers a retrain moved, and where to."""
    before = np.asarray(previous_segments)
    after = np.asarray(new_segments)
    if before.shape != after.shape:
        raise ValueError(f'segment arrays differ in length: {before.shape} vs {after.shape}')
    pairs = pd.DataFrame({'from_segment_id': before, 'to_segment_id': after})
    counts = pairs.groupby(['from_segment_id', 'to_segment_id']).size().rename('customers').reset_index()
    totals = counts.groupby('from_segment_id')['customers'].transform('sum')
    counts['share_of_from_segment'] = counts['customers'] / totals
    return counts.astype({'from_segment_id': 'int32', 'to_segment_id': 'int32', 'customers': 'int64'})

# --- customer_segmentation/registry.py
DEFAULT_OUTLIER_QUANTILE = 0.99
REGISTRY_DTYPES = {'run_id': 'int64', 'trained_at': 'datetime64[us]', 'invocation_id': 'string', 'previous_run_id': 'Int64', 'train_reason': 'string', 'n_clusters': 'int32', 'random_state': 'int32', 'n_init': 'int32', 'scaled': 'bool', 'features': 'string', 'training_rows': 'int64', 'inertia': 'float64', 'silhouette': 'Float64', 'silhouette_sample_size': 'int64', 'davies_bouldin': 'Float64', 'outlier_quantile': 'float64', 'segment_id': 'int32', 'fitted_label': 'int32', 'segment_size': 'int64', 'segment_share': 'float64', 'centroid_shift': 'Float64', 'outlier_distance': 'float64', 'feature': 'string', 'feature_position': 'int32', 'centroid_value': 'float64', 'scaled_value': 'float64', 'scaler_mean': 'float64', 'scaler_scale': 'float64', 'python_version': 'string', 'pandas_version': 'string', 'numpy_version': 'string', 'sklearn_version': 'string', 'passed_gates': 'boolean', 'gate_failures': 'string'}
TRANSITION_DTYPES = {'run_id': 'int64', 'previous_run_id': 'int64', 'from_segment_id': 'int32', 'to_segment_id': 'int32', 'customers': 'int64', 'share_of_from_segment': 'float64'}

def empty_registry():
    """A registry with no rows and the registry's column types."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in REGISTRY_DTYPES.items()})

def typed_registry(rows):
    """Registry rows with DuckDB's column types (nullable ints, floats and strings)."""
    if rows.empty:
        return empty_registry()
    return rows.loc[:, list(REGISTRY_DTYPES)].astype(REGISTRY_DTYPES)

def runtime_versions():
    """The Python, pandas, numpy and scikit-learn versions training runs on: k-means results
    differ between scikit-learn versions, and the two targets train on different ones."""
    import sklearn
    return {'python_version': platform.python_version(), 'pandas_version': pd.__version__, 'numpy_version': np.__version__, 'sklearn_version': sklearn.__version__}

def parse_run_id(value):
    """The `model_run_id` var as an int, None when unset ('' or none)."""
    if value is None or str(value).strip().lower() in {'', 'none', 'null'}:
        return None
    text = str(value).strip()
    if not re.fullmatch('[0-9]{1,18}', text):
        raise ValueError(f'model_run_id must be a positive integer run id, got {value!r}')
    return int(text)

def passed(registry):
    """Per row, whether its run passed its gates. Runs recorded before the registry kept gate
    results (no column, or NULL) were served as they were, and count as passed."""
    if 'passed_gates' not in registry.columns:
        return pd.Series(True, index=registry.index)
    return registry['passed_gates'].isna() | (registry['passed_gates'] == True)

def select_run(registry, run_id=None):
    """The rows of the current model: run ``run_id`` when pinned, else the latest run that
    passed its gates. A run the gates rejected is never current: pinning one is an error, and
    the latest run being rejected leaves the one before it current."""
    if registry.empty:
        if run_id is not None:
            raise ValueError(f'model_run_id={run_id} is pinned but the registry holds no training run yet; build once without model_run_id to train the first model')
        raise ValueError('the model registry is empty: no model has been trained yet')
    ok = passed(registry)
    if run_id is None:
        if not ok.any():
            raise ValueError(f'no run of the model registry passed its quality gates (rejected: {_rejections(registry)}): no model can be served')
        run_id = int(registry.loc[ok, 'run_id'].max())
    rows = registry[registry['run_id'] == run_id]
    if rows.empty:
        known = sorted((int(r) for r in registry['run_id'].unique()))
        raise ValueError(f'model_run_id={run_id} is not in the model registry (runs: {known}); nothing was changed')
    if not ok[rows.index].all():
        raise ValueError(f"model_run_id={run_id} was rejected by its quality gates ({rows['gate_failures'].iloc[0]}) and is never served; pin a run that passed (runs that passed: {sorted((int(r) for r in registry.loc[ok, 'run_id'].unique()))})")
    return rows

def _rejections(registry):
    runs = registry.drop_duplicates('run_id').sort_values('run_id')
    return '; '.join((f'run {int(r.run_id)}: {r.gate_failures}' for r in runs.itertuples()))

def clusterer_from_rows(rows):
    """The fitted model of one run, rebuilt from its registry rows."""
    runs = rows['run_id'].unique()
    if len(runs) != 1:
        raise ValueError(f'expected the rows of one run, got runs {sorted(runs.tolist())}')
    ordered = rows.sort_values(['segment_id', 'feature_position'])
    features = tuple(ordered.drop_duplicates('feature_position')['feature'].tolist())
    first = ordered.iloc[0]
    params = KMeansParams(int(first['n_clusters']), int(first['random_state']), int(first['n_init']), bool(first['scaled']))
    segments = np.asarray(ordered['segment_id'].drop_duplicates(), dtype=np.int32)
    per_segment = ordered.pivot(index='segment_id', columns='feature_position', values='scaled_value')
    scaler = ordered.drop_duplicates('feature_position')
    return CustomerReturnClusterer.from_centroids(np.asarray(per_segment.loc[segments], dtype=float), segments, np.asarray(scaler['scaler_mean'], dtype=float), np.asarray(scaler['scaler_scale'], dtype=float), params, features)

@dataclass(frozen=True)
class GateThresholds:
    """The quality gates a training run must pass to become the current model: the vars
    `min_segment_share`, `min_silhouette` and `max_davies_bouldin`, validated."""
    min_segment_share: float = 0.02
    min_silhouette: float = 0.25
    max_davies_bouldin: float = 1.5

    def __post_init__(self):
        for name, low, high in (('min_segment_share', 0.0, 1.0), ('min_silhouette', -1.0, 1.0), ('max_davies_bouldin', 0.0, math.inf)):
            number = _var_number(name, getattr(self, name))
            if not low <= number <= high:
                raise ValueError(f'var {name}={getattr(self, name)!r} is not allowed: use a number in [{low:g}, {high:g}]')
            object.__setattr__(self, name, number)

def gate_failures(sizes, silhouette_value, db_value, thresholds, named_segments, relabelled):
    """Why a run fails its quality gates, one reason per gate ([] when it passes): a segment
    below `min_segment_share`, silhouette or Davies-Bouldin outside their bounds (undefined
    with one segment), a segment id without a name in the `segments` seed (None: not
    checked), or customers whose segment the stored centroids do not reproduce."""
    failures = []
    total = sum(sizes.values())
    small = [f'{segment} ({size / total:.2%})' for segment, size in sorted(sizes.items()) if size / total < thresholds.min_segment_share]
    if small:
        failures.append(f'segments below min_segment_share={thresholds.min_segment_share:g}: ' + ', '.join(small))
    if silhouette_value is None or db_value is None:
        failures.append('one segment: silhouette and Davies-Bouldin need k >= 2')
    else:
        if silhouette_value < thresholds.min_silhouette:
            failures.append(f'silhouette {silhouette_value:.4f} < min_silhouette={thresholds.min_silhouette:g}')
        if db_value > thresholds.max_davies_bouldin:
            failures.append(f'Davies-Bouldin {db_value:.4f} > max_davies_bouldin={thresholds.max_davies_bouldin:g}')
    if named_segments is not None:
        unnamed = sorted(set(sizes) - set(named_segments))
        if unnamed:
            failures.append('segment ids without a name in the segments seed: ' + ', '.join((str(s) for s in unnamed)))
    if relabelled:
        failures.append(f'{relabelled} customers get another segment from the stored centroids than from the fitted model')
    return failures

def train_run(data, params, previous_rows, run_id, trained_at, silhouette_sample_size=DEFAULT_SILHOUETTE_SAMPLE, silhouette_seed=DEFAULT_SILHOUETTE_SEED, outlier_quantile=DEFAULT_OUTLIER_QUANTILE, features=FEATURE_COLUMNS, train_reason=None, thresholds=None, named_segments=None):
    """Fit a model, give its segments the ids of the previous run's nearest centroids (or the
    fitted labels on the first run), measure it, judge it by its quality gates
    (`gate_failures`), and return it with its registry rows (plain dtypes; `typed_registry`
    types them); ``train_reason`` (see `training_decision`) and the runtime's versions are
    recorded on them."""
    clusterer = CustomerReturnClusterer(params, features).fit(data)
    previous_run_id = None
    shift = np.full(params.n_clusters, np.nan)
    if previous_rows is not None and (not previous_rows.empty):
        previous = clusterer_from_rows(previous_rows)
        previous_run_id = int(previous_rows['run_id'].iloc[0])
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
    ordered = data.sort_values(clusterer.key, kind='stable')
    matrix = clusterer.transform(ordered)
    labels = clusterer.labels_
    own = np.sqrt(clusterer.squared_distances(ordered).min(axis=1))
    two_or_more = len(np.unique(labels)) >= 2
    silhouette_value = silhouette(matrix, labels, silhouette_sample_size, silhouette_seed) if two_or_more else None
    db_value = davies_bouldin(matrix, labels) if two_or_more else None
    outlier_distance = outlier_distances(own, labels, outlier_quantile)
    sizes = {int(s): int((labels == s).sum()) for s in clusterer.segment_ids_}
    versions = runtime_versions()
    rows = []
    for position, segment in enumerate(clusterer.segment_ids_):
        segment = int(segment)
        for j, feature in enumerate(clusterer.features):
            rows.append({'run_id': run_id, 'trained_at': trained_at, 'invocation_id': None, 'previous_run_id': previous_run_id, 'train_reason': train_reason, 'n_clusters': params.n_clusters, 'random_state': params.random_state, 'n_init': params.n_init, 'scaled': params.scale, 'features': ','.join(clusterer.features), 'training_rows': len(matrix), 'inertia': clusterer.inertia_, 'silhouette': silhouette_value, 'silhouette_sample_size': min(silhouette_sample_size, len(matrix)), 'davies_bouldin': db_value, 'outlier_quantile': outlier_quantile, 'segment_id': segment, 'fitted_label': fitted_label[segment], 'segment_size': sizes[segment], 'segment_share': sizes[segment] / len(matrix), 'centroid_shift': None if np.isnan(shift_by_id[segment]) else shift_by_id[segment], 'outlier_distance': outlier_distance.get(segment, 0.0), 'feature': feature, 'feature_position': j, 'centroid_value': float(clusterer.centroids_[position, j]), 'scaled_value': float(clusterer.scaled_centroids_[position, j]), 'scaler_mean': float(clusterer.scaler_mean_[j]), 'scaler_scale': float(clusterer.scaler_scale_[j]), **versions, 'passed_gates': None, 'gate_failures': None})
    frame = pd.DataFrame(rows, columns=list(REGISTRY_DTYPES))
    stored = clusterer_from_rows(frame).predict(ordered)
    failures = gate_failures(sizes, silhouette_value, db_value, thresholds or GateThresholds(), named_segments, int((np.asarray(stored) != np.asarray(labels)).sum()))
    frame['passed_gates'] = not failures
    frame['gate_failures'] = '; '.join(failures) if failures else None
    return (clusterer, frame)

def _var_boolean(name, value):
    """A dbt var that must be true or false (YAML's booleans, or their text)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in {'true', 'false'}:
        return value.strip().lower() == 'true'
    raise ValueError(f'var {name}={value!r} is not allowed: use true or false')

def _var_number(name, value):
    """A dbt var that must be a finite number (dbt may hand it over as text)."""
    is_text = isinstance(value, str) and re.fullmatch('-?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)', value.strip())
    is_number = isinstance(value, (int, float, np.integer, np.floating)) and (not isinstance(value, (bool, np.bool_)))
    number = float(value) if is_text or is_number else math.nan
    if not math.isfinite(number):
        raise ValueError(f'var {name}={value!r} is not allowed: use a number')
    return number

def _var_non_negative(name, value, example):
    """A dbt var that must be a number >= 0 (dbt may hand it over as text)."""
    try:
        number = _var_number(name, value)
    except ValueError:
        number = math.nan
    if not number >= 0:
        raise ValueError(f'var {name}={value!r} is not allowed: use a number >= 0, {example}')
    return number

@dataclass(frozen=True)
class RetrainPolicy:
    """When an unpinned build trains a new run instead of keeping the current one: the vars
    `retrain`, `retrain_after_days` and `max_fit_drift`, validated."""
    retrain: bool = False
    retrain_after_days: float = 7.0
    max_fit_drift: float = 0.1

    def __post_init__(self):
        object.__setattr__(self, 'retrain', _var_boolean('retrain', self.retrain))
        object.__setattr__(self, 'retrain_after_days', _var_non_negative('retrain_after_days', self.retrain_after_days, 'e.g. 7 (0 = every build)'))
        object.__setattr__(self, 'max_fit_drift', _var_non_negative('max_fit_drift', self.max_fit_drift, 'e.g. 0.1 (= +10 %)'))

def fit_drift(run_rows, data):
    """How much worse the run fits ``data`` than its training customers: the mean squared
    distance of ``data``'s rows to their nearest centroid, relative to the run's own
    inertia / training_rows (both in k-means space), minus 1. 0.1 = 10 % farther."""
    clusterer = clusterer_from_rows(run_rows)
    today = float(clusterer.squared_distances(data).min(axis=1).mean())
    first = run_rows.iloc[0]
    trained = float(first['inertia']) / int(first['training_rows'])
    if trained == 0:
        return 0.0 if today == 0 else math.inf
    return today / trained - 1

def _changed_params(run_rows, params):
    """The k-means settings (by var name) in which ``params`` differ from the run's."""
    first = run_rows.iloc[0]
    stored = {'n_clusters': (int(first['n_clusters']), params.n_clusters), 'random_state': (int(first['random_state']), params.random_state), 'n_init': (int(first['n_init']), params.n_init), 'scale_features': (bool(first['scaled']), params.scale)}
    return [f'{name} {str(old).lower()} -> {str(new).lower()}' for name, (old, new) in stored.items() if old != new]

def training_decision(current_rows, params, data, now, policy, full_refresh=False):
    """Whether an unpinned build trains a new run or keeps ``current_rows`` (the current
    run), and why. Trains when there is no run, on `--full-refresh`, when `retrain` is set,
    when the k-means settings changed, when the run is `retrain_after_days` old (``now`` and
    `trained_at` both naive UTC), or when the run fits today's customers ``data`` worse than
    its own training customers by more than `max_fit_drift`. The first reason found wins."""
    if current_rows is None or current_rows.empty:
        return (True, 'no model yet')
    if full_refresh:
        return (True, 'full refresh')
    if policy.retrain:
        return (True, 'retrain requested')
    changed = _changed_params(current_rows, params)
    if changed:
        return (True, 'parameters changed: ' + ', '.join(changed))
    age = (pd.Timestamp(now) - pd.Timestamp(current_rows['trained_at'].iloc[0])) / pd.Timedelta(days=1)
    if age >= policy.retrain_after_days:
        return (True, f'model is {age:.1f} days old (retrain_after_days={policy.retrain_after_days:g})')
    drift = fit_drift(current_rows, data)
    if drift > policy.max_fit_drift:
        return (True, f'fit drifted {drift * 100:+.1f} % (max_fit_drift={policy.max_fit_drift:g})')
    run_id = int(current_rows['run_id'].iloc[0])
    return (False, f'kept run {run_id}: {age:.1f} days old, fit drifted {drift * 100:+.1f} %')

def transitions(previous_rows, current_rows, data):
    """Customers of ``data`` per (segment under the previous run, segment under the current
    run): the share of each segment a retrain moved elsewhere."""
    previous = clusterer_from_rows(previous_rows)
    current = clusterer_from_rows(current_rows)
    counts = transition_counts(previous.predict(data), current.predict(data))
    counts.insert(0, 'previous_run_id', int(previous_rows['run_id'].iloc[0]))
    counts.insert(0, 'run_id', int(current_rows['run_id'].iloc[0]))
    return counts.astype(TRANSITION_DTYPES)

def score_customers(data, run_rows):
    """The tutorial's cluster table for ``data``, each customer in the segment of the nearest
    centroid of the stored run (its `predict`), ordered by customer."""
    if run_rows.empty:
        raise ValueError('no current model: the model registry has no rows for it')
    clusterer = clusterer_from_rows(run_rows)
    ordered = data.sort_values(clusterer.key, kind='stable').reset_index(drop=True)
    table = pd.DataFrame(np.asarray(ordered.loc[:, list(clusterer.features)], dtype=float), columns=list(CLUSTER_TABLE_COLUMNS[1:5]))
    table.insert(0, CLUSTER_TABLE_COLUMNS[0], np.asarray(ordered[clusterer.key], dtype=np.int64))
    table[CLUSTER_TABLE_COLUMNS[5]] = clusterer.predict(ordered)
    return table

def next_registry_rows(features, current_rows, params, policy, now, next_run_id, full_refresh=False, silhouette_sample_size=DEFAULT_SILHOUETTE_SAMPLE, outlier_quantile=DEFAULT_OUTLIER_QUANTILE, thresholds=None, named_segments=None):
    """What an unpinned build appends to the registry: the rows of run ``next_run_id`` when
    `training_decision` finds a reason to train against ``current_rows`` (the current model:
    a run that passed its gates, None when there is none; its ids are what the new run's
    segments are matched to), else no rows. The run records whether it passed its gates.
    Plain dtypes, the registry's columns in order."""
    current = None if current_rows is None or current_rows.empty else current_rows
    train, reason = training_decision(current, params, features, now, policy, full_refresh)
    if not train:
        return pd.DataFrame(columns=list(REGISTRY_DTYPES))
    _, rows = train_run(features, params, current, run_id=next_run_id, trained_at=now, silhouette_sample_size=silhouette_sample_size, outlier_quantile=outlier_quantile, train_reason=reason, thresholds=thresholds, named_segments=named_segments)
    return rows

# --- customer_segmentation/procedures.py
def _as_bool(value):
    """A bit or boolean as FOR JSON or a T-SQL bit parameter gives it."""
    if isinstance(value, str):
        return value.strip().lower() in ('1', 'true')
    return bool(value)
MODEL_ROW_COLUMNS = {'run_id': int, 'trained_at': str, 'n_clusters': int, 'random_state': int, 'n_init': int, 'scaled': _as_bool, 'inertia': float, 'training_rows': int, 'segment_id': int, 'feature': str, 'feature_position': int, 'scaled_value': float, 'scaler_mean': float, 'scaler_scale': float}

def model_rows_from_json(text):
    """The registry rows of one run from the JSON array a procedure built with FOR JSON PATH;
    no rows for NULL or empty text (no such run)."""
    records = json.loads(text) if text and text.strip() else []
    if not isinstance(records, list):
        raise ValueError(f'model rows must be a JSON array, got {type(records).__name__}')
    missing = sorted({c for c in MODEL_ROW_COLUMNS if records and c not in records[0]})
    if missing:
        raise ValueError(f'model rows lack the registry columns {missing}')
    columns = {name: [parse(record[name]) for record in records] for name, parse in MODEL_ROW_COLUMNS.items()}
    return pd.DataFrame(columns, columns=list(MODEL_ROW_COLUMNS))

def score_from_procedure(data, model_json):
    """`py_generate_customer_return_clusters`: the tutorial's cluster table, every customer in
    the stable segment of the current run's nearest centroid."""
    rows = model_rows_from_json(model_json)
    if rows.empty:
        raise ValueError('no current segment model: segment_model_registry has no run yet. Build once with `dbt build --target sqlserver` to train run 1')
    return score_customers(data, rows)

def train_from_procedure(data, current_model_json, next_run_id, n_clusters, random_state, n_init, scale_features, retrain, retrain_after_days, max_fit_drift, full_refresh, silhouette_sample_size, outlier_quantile, min_segment_share=0.02, min_silhouette=0.25, max_davies_bouldin=1.5, named_segments=None, now=None):
    """`py_train_customer_segment_model`: the registry rows a build appends (a new run when
    the retrain policy finds a reason, else none), matched to the current run's ids and
    judged by the quality gates; ``named_segments`` is the comma-separated ids of the
    `segments` seed (STRING_AGG), None when the seed is empty."""
    return next_registry_rows(data, model_rows_from_json(current_model_json), KMeansParams(n_clusters, random_state, n_init, _as_bool(scale_features)), RetrainPolicy(_as_bool(retrain), retrain_after_days, max_fit_drift), now=now or datetime.utcnow(), next_run_id=int(next_run_id), full_refresh=_as_bool(full_refresh), silhouette_sample_size=int(silhouette_sample_size), outlier_quantile=float(outlier_quantile), thresholds=GateThresholds(min_segment_share, min_silhouette, max_davies_bouldin), named_segments={int(s) for s in (named_segments or '').split(',') if s.strip()})

def transitions_from_procedure(data, previous_model_json, current_model_json):
    """`py_segment_transitions`: customers per (previous segment, new segment) of the latest
    run; no rows when either run is missing."""
    previous = model_rows_from_json(previous_model_json)
    current = model_rows_from_json(current_model_json)
    if previous.empty or current.empty:
        return pd.DataFrame(columns=['run_id', 'previous_run_id', 'from_segment_id', 'to_segment_id', 'customers', 'share_of_from_segment'])
    return transitions(previous, current, data)
{% endraw %}
{%- endmacro -%}
