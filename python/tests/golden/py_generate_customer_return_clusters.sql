create or alter procedure "dbo"."py_generate_customer_return_clusters"
as
begin
    set nocount on;
    exec sp_execute_external_script
        @language = N'Python',
        @script = N'"""The clustering core: k-means on the tutorial''s four return features.

Plain data in, plain data out, no I/O. This module imports nothing but numpy, pandas and
scikit-learn, because its source text is also embedded verbatim in the SQL Server procedure''s
``sp_execute_external_script`` call, where this package is not installed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

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
    if not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class KMeansParams:
    """Validated k-means parameters; the defaults are the tutorial''s."""

    n_clusters: int = 4
    random_state: int = 111
    # The default of the scikit-learn the tutorial ran on; today''s default ("auto") runs one init.
    n_init: int = 10

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_clusters", _positive_int("n_clusters", self.n_clusters))
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

    Fitted attributes: ``centroids_`` (k x features, feature units), ``inertia_``,
    ``n_iter_``, ``customers_`` (training keys, sorted) and ``labels_`` (aligned with them).
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
        model = KMeans(
            n_clusters=k, random_state=self.params.random_state, n_init=self.params.n_init
        ).fit(matrix)
        self.centroids_ = np.asarray(model.cluster_centers_, dtype=float)
        self.inertia_ = float(model.inertia_)
        self.n_iter_ = int(model.n_iter_)
        self.customers_ = ordered[self.key].to_numpy()
        self.labels_ = np.asarray(model.labels_, dtype=np.int32)
        return self

    def distances(self, data: pd.DataFrame) -> np.ndarray:
        """Euclidean distance of every row to every centroid (rows x k), in feature units."""
        self._check_fitted()
        matrix = _feature_matrix(data, self.features)
        diff = matrix[:, None, :] - self.centroids_[None, :, :]
        return np.sqrt(np.einsum("nkf,nkf->nk", diff, diff))

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        """Nearest centroid of every row; an exact tie goes to the lowest cluster id."""
        return np.argmin(self.distances(data), axis=1).astype(np.int32)

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
        sum(net_paid) as orders_money
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
