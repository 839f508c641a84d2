create or alter procedure "dbo"."py_generate_customer_return_clusters"
as
begin
    set nocount on;
    exec sp_execute_external_script
        @language = N'Python',
        @script = N'"""The clustering core: k-means on the tutorial''s four return features.

Plain data in, plain data out, no I/O. This module imports nothing but numpy, pandas and
scikit-learn, because its source text is also embedded verbatim in the SQL Server procedure''s
``sp_execute_external_script`` call, where this package is not installed. For the same reason
it keeps to Python 3.7 syntax (SQL Server 2019 ships 3.7): isinstance takes tuples, no walrus.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# The tutorial''s feature columns, in the order the model sees them.
FEATURE_COLUMNS: tuple[str, ...] = ("orderRatio", "itemsRatio", "monetaryRatio", "frequency")
# The tutorial''s cluster-table columns (`py_customer_clusters`), in order.
CLUSTER_TABLE_COLUMNS: tuple[str, ...] = (
    "Customer",
    "OrderRatio",
    "itemsRatio",
    "monetaryRatio",
    "frequency",
    "cluster",
)
CUSTOMER_KEY = "customer"


def _positive_int(name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise a ValueError naming the parameter."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip("+-").isdigit():
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
        value = int(text)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
        value = int(value)
    if not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _boolean(name: str, value: object) -> bool:
    """Return ``value`` as a bool (dbt vars may arrive as text), or raise naming the parameter."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in {"true", "1", "yes"}:
        return True
    if text in {"false", "0", "no"}:
        return False
    raise ValueError(f"{name} must be true or false, got {value!r}")


@dataclass(frozen=True)
class KMeansParams:
    """Validated k-means parameters; the defaults are the tutorial''s."""

    n_clusters: int = 4
    random_state: int = 111
    # The default of the scikit-learn the tutorial ran on; today''s default ("auto") runs one init.
    n_init: int = 10

    # Standardise every feature to mean 0, variance 1 before k-means; off in the tutorial.
    scale: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_clusters", _positive_int("n_clusters", self.n_clusters))
        object.__setattr__(self, "scale", _boolean("scale", self.scale))
        object.__setattr__(
            self, "random_state", _positive_int("random_state", self.random_state, minimum=0)
        )
        object.__setattr__(self, "n_init", _positive_int("n_init", self.n_init))


def _feature_matrix(features: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    """Check the feature columns and return them as a float matrix."""
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise ValueError(
            f"feature columns missing: {missing}; expected {list(columns)}, "
            f"got {list(features.columns)}"
        )
    try:
        matrix = features.loc[:, list(columns)].to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"feature columns {list(columns)} must be numeric: {exc}") from exc
    bad = ~np.isfinite(matrix)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"feature {columns[col]!r} has a NULL, NaN or infinite value "
            f"({int(bad.sum())} such values; first at row {int(row)})"
        )
    return matrix


def _ordered_by_key(features: pd.DataFrame, key: str) -> pd.DataFrame:
    """Rows sorted by customer key, so the fit never depends on the order rows arrive in."""
    if key not in features.columns:
        raise ValueError(f"customer key column {key!r} missing; got {list(features.columns)}")
    keys = features[key]
    if keys.isna().any():
        raise ValueError(f"customer key column {key!r} has {int(keys.isna().sum())} NULL values")
    if keys.duplicated().any():
        dupes = keys[keys.duplicated()].unique()[:5].tolist()
        raise ValueError(f"customer key column {key!r} is not unique, e.g. {dupes}")
    return features.sort_values(key, kind="stable").reset_index(drop=True)


class CustomerReturnClusterer:
    """k-means over customers'' return behaviour, fitted on rows ordered by customer key.

    Fitted attributes: ``centroids_`` (k x features, feature units), ``scaled_centroids_``
    (the same in the space k-means ran in: standardised when ``params.scale``, else equal to
    ``centroids_``), ``scaler_mean_`` and ``scaler_scale_`` (0 and 1 when not scaling),
    ``segment_ids_`` (the id of each centroid row, ascending; 0..k-1 until ``relabel``),
    ``inertia_``, ``n_iter_``, ``customers_`` (training keys, sorted) and ``labels_``
    (segment ids, aligned with ``customers_``).
    """

    def __init__(
        self,
        params: KMeansParams | None = None,
        features: tuple[str, ...] = FEATURE_COLUMNS,
        key: str = CUSTOMER_KEY,
    ) -> None:
        self.params = params or KMeansParams()
        self.features = tuple(features)
        self.key = key

    def fit(self, data: pd.DataFrame) -> CustomerReturnClusterer:
        """Fit k-means on ``data`` (one row per customer: key plus feature columns)."""
        ordered = _ordered_by_key(data, self.key)
        matrix = _feature_matrix(ordered, self.features)
        k = self.params.n_clusters
        if len(ordered) < k:
            raise ValueError(
                f"cannot form n_clusters={k} clusters from {len(ordered)} customers: "
                "need at least as many customers as clusters"
            )
        self.scaler_mean_, self.scaler_scale_ = self._fit_scaler(matrix)
        # Imported here, not at the top: scoring with a stored model needs numpy only, and
        # importing scikit-learn costs about a second of every nightly build that keeps it.
        from sklearn.cluster import KMeans

        model = KMeans(
            n_clusters=k, random_state=self.params.random_state, n_init=self.params.n_init
        ).fit(self._scaled(matrix))
        self.scaled_centroids_ = np.asarray(model.cluster_centers_, dtype=float)
        self.centroids_ = self.scaled_centroids_ * self.scaler_scale_ + self.scaler_mean_
        self.segment_ids_ = np.arange(k, dtype=np.int32)
        self.inertia_ = float(model.inertia_)
        self.n_iter_ = int(model.n_iter_)
        self.customers_ = ordered[self.key].to_numpy()
        self.labels_ = np.asarray(model.labels_, dtype=np.int32)
        return self

    @classmethod
    def from_centroids(
        cls,
        scaled_centroids: np.ndarray,
        segment_ids: np.ndarray,
        scaler_mean: np.ndarray,
        scaler_scale: np.ndarray,
        params: KMeansParams | None = None,
        features: tuple[str, ...] = FEATURE_COLUMNS,
    ) -> CustomerReturnClusterer:
        """A fitted clusterer rebuilt from stored centroids (k-means space) and scaler."""
        clusterer = cls(params, features)
        scaled = np.asarray(scaled_centroids, dtype=float)
        if scaled.ndim != 2 or scaled.shape[1] != len(clusterer.features) or not len(scaled):
            raise ValueError(
                f"centroids must be a k x {len(clusterer.features)} matrix, got {scaled.shape}"
            )
        clusterer.scaler_mean_ = np.asarray(scaler_mean, dtype=float)
        clusterer.scaler_scale_ = np.asarray(scaler_scale, dtype=float)
        clusterer.scaled_centroids_ = scaled
        clusterer.centroids_ = scaled * clusterer.scaler_scale_ + clusterer.scaler_mean_
        clusterer.segment_ids_ = np.zeros(len(scaled), dtype=np.int32)
        return clusterer.relabel(np.asarray(segment_ids, dtype=np.int32), labels=False)

    def relabel(self, segment_ids: np.ndarray, labels: bool = True) -> CustomerReturnClusterer:
        """Give centroid row i the id ``segment_ids[i]``; rows are then sorted by id, so an
        exact tie in ``predict`` goes to the lowest id. ``labels_`` become those ids."""
        self._check_fitted()
        ids = np.asarray(segment_ids, dtype=np.int32)
        if ids.shape != (len(self.scaled_centroids_),) or len(set(ids.tolist())) != len(ids):
            raise ValueError(
                f"need {len(self.scaled_centroids_)} distinct segment ids, got {ids.tolist()}"
            )
        if labels and hasattr(self, "labels_"):
            self.labels_ = ids[np.searchsorted(self.segment_ids_, self.labels_)]
        order = np.argsort(ids, kind="stable")
        self.segment_ids_ = ids[order]
        self.scaled_centroids_ = self.scaled_centroids_[order]
        self.centroids_ = self.centroids_[order]
        return self

    def transform(self, data: pd.DataFrame) -> np.ndarray:
        """The feature matrix of ``data`` in the space k-means ran in (scaled or not)."""
        self._check_fitted()
        return self._scaled(_feature_matrix(data, self.features))

    def squared_distances(self, data: pd.DataFrame) -> np.ndarray:
        """Squared Euclidean distance of every row to every centroid (rows x k), in k-means
        space, summed feature by feature in order: the arithmetic the SQL scoring repeats."""
        scaled = self.transform(data)
        centroids = self._model_centroids()
        total = np.zeros((len(scaled), len(centroids)))
        for j in range(scaled.shape[1]):
            diff = scaled[:, j, None] - centroids[None, :, j]
            total = total + diff * diff
        return total

    def distances(self, data: pd.DataFrame) -> np.ndarray:
        """Euclidean distance of every row to every centroid (rows x k), in k-means space
        (feature units unless the model scales)."""
        return np.sqrt(self.squared_distances(data))

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        """Segment id of the nearest centroid of every row; an exact tie goes to the lowest id."""
        nearest = np.argmin(self.squared_distances(data), axis=1)
        ids = getattr(self, "segment_ids_", None)
        if ids is None:
            ids = np.arange(len(self._model_centroids()), dtype=np.int32)
        return np.asarray(ids, dtype=np.int32)[nearest]

    def _fit_scaler(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation per feature, or the identity when not scaling."""
        width = matrix.shape[1]
        if not self.params.scale:
            return np.zeros(width), np.ones(width)
        mean = matrix.mean(axis=0)
        scale = matrix.std(axis=0)
        constant = [f for f, s in zip(self.features, scale) if s == 0]  # noqa: B905 (3.7)
        if constant:
            raise ValueError(
                f"cannot standardise constant feature(s) {constant}: every customer has the "
                "same value; drop the feature or run without scaling"
            )
        return mean, scale

    def _scaled(self, matrix: np.ndarray) -> np.ndarray:
        mean = getattr(self, "scaler_mean_", None)
        if mean is None:
            return matrix
        return (matrix - mean) / self.scaler_scale_

    def _model_centroids(self) -> np.ndarray:
        scaled = getattr(self, "scaled_centroids_", None)
        return self.centroids_ if scaled is None else scaled

    def _check_fitted(self) -> None:
        if not hasattr(self, "centroids_"):
            raise RuntimeError("CustomerReturnClusterer is not fitted yet: call fit() first")


def cluster_customers(data: pd.DataFrame, params: KMeansParams | None = None) -> pd.DataFrame:
    """Fit on ``data`` and return the tutorial''s cluster table, one row per customer."""
    clusterer = CustomerReturnClusterer(params).fit(data)
    ordered = _ordered_by_key(data, clusterer.key)
    features = _feature_matrix(ordered, clusterer.features)
    table = pd.DataFrame(features, columns=list(CLUSTER_TABLE_COLUMNS[1:5]))
    table.insert(0, CLUSTER_TABLE_COLUMNS[0], ordered[clusterer.key].astype("int64").to_numpy())
    table[CLUSTER_TABLE_COLUMNS[5]] = clusterer.labels_
    return table


# SQL Server adapter: my_input_data in, OutputDataSet out (sp_execute_external_script).
OutputDataSet = cluster_customers(
    my_input_data,
    KMeansParams(
        n_clusters=4,
        random_state=111,
        n_init=10,
    ),
)
',
        @input_data_1 = N'with

store_sales as (
    select * from "tpcxbb_1gb"."dbo"."stg_tpcxbb__store_sales"
),

store_returns as (
    select * from "tpcxbb_1gb"."dbo"."stg_tpcxbb__store_returns"
),

customer_orders as (
    select
        customer_sk,
        count(distinct ticket_number) as orders_count,
        count(item_sk) as orders_items,
        sum(net_paid) as orders_money,
        -- The incremental model''s watermark: new sales come on higher ticket numbers.
        max(ticket_number) as last_ticket_number
    from store_sales
    where customer_sk is not null
    group by customer_sk
),

customer_returns as (
    select
        customer_sk,
        count(distinct ticket_number) as returns_count,
        count(item_sk) as returns_items,
        sum(return_amount) as returns_money
    from store_returns
    where customer_sk is not null
    group by customer_sk
),

features as (
    select
        customer_orders.customer_sk as customer,
        round(
        coalesce(
            cast(customer_returns.returns_count as float)
            / nullif(cast(customer_orders.orders_count as float), 0),
            0
        ),
        7
    )
            as orderRatio,
        round(
        coalesce(
            cast(customer_returns.returns_items as float)
            / nullif(cast(customer_orders.orders_items as float), 0),
            0
        ),
        7
    )
            as itemsRatio,
        round(
        coalesce(
            cast(customer_returns.returns_money as float)
            / nullif(cast(customer_orders.orders_money as float), 0),
            0
        ),
        7
    )
            as monetaryRatio,
        coalesce(customer_returns.returns_count, 0) as frequency
    from customer_orders
    left join customer_returns
        on customer_orders.customer_sk = customer_returns.customer_sk
)

select * from features',
        @input_data_1_name = N'my_input_data'
    with result sets ((
        Customer bigint,
        OrderRatio float,
        itemsRatio float,
        monetaryRatio float,
        frequency float,
        cluster int
    ));
end
