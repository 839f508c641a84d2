"""The clustering core as a specification: plain data in, plain data out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from customer_segmentation.core.clustering import (
    CustomerReturnClusterer,
    KMeansParams,
    cluster_customers,
)
from customer_segmentation.core.features import CLUSTER_TABLE_COLUMNS, FEATURE_COLUMNS


def blobs(n_per_blob: int = 30, seed: int = 0) -> pd.DataFrame:
    """Four well separated groups of customers, keys 1..n."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0, 0], [0.5, 0.5, 0.5, 2], [1, 1, 1, 8], [0.1, 0.9, 0.2, 4]])
    rows = np.vstack([c + rng.normal(0, 0.02, (n_per_blob, 4)) for c in centres])
    frame = pd.DataFrame(np.abs(rows), columns=list(FEATURE_COLUMNS))
    frame.insert(0, "customer", np.arange(1, len(frame) + 1, dtype="int64"))
    return frame


def test_cluster_table_has_the_tutorials_columns_and_one_row_per_customer():
    data = blobs()
    table = cluster_customers(data)
    assert list(table.columns) == list(CLUSTER_TABLE_COLUMNS)
    assert len(table) == len(data)
    assert table["Customer"].is_unique
    assert table["cluster"].dtype == np.int32


def test_labels_do_not_depend_on_row_order():
    data = blobs(seed=3)
    expected = cluster_customers(data).set_index("Customer")["cluster"]
    for seed in range(3):
        shuffled = data.sample(frac=1.0, random_state=seed)
        actual = cluster_customers(shuffled).set_index("Customer")["cluster"]
        pd.testing.assert_series_equal(actual.sort_index(), expected.sort_index())


def test_separated_groups_land_in_separate_clusters():
    table = cluster_customers(blobs(n_per_blob=25))
    groups = (table["Customer"] - 1) // 25
    assert table.groupby(groups)["cluster"].nunique().eq(1).all()
    assert table["cluster"].nunique() == 4


def test_predict_assigns_training_rows_to_their_fitted_cluster():
    data = blobs(seed=5)
    clusterer = CustomerReturnClusterer().fit(data)
    ordered = data.sort_values("customer")
    np.testing.assert_array_equal(clusterer.predict(ordered), clusterer.labels_)


def test_predict_breaks_an_exact_tie_towards_the_lowest_cluster_id():
    clusterer = CustomerReturnClusterer.from_centroids(
        np.array([[1.0, 0, 0, 0], [-1.0, 0, 0, 0]]), np.array([0, 1]), np.zeros(4), np.ones(4)
    )
    midpoint = pd.DataFrame([[0.0, 0.0, 0.0, 0.0]], columns=list(FEATURE_COLUMNS))
    assert clusterer.predict(midpoint).tolist() == [0]


def test_fitted_attributes_describe_the_model():
    data = blobs()
    clusterer = CustomerReturnClusterer(n_clusters=3).fit(data)
    assert clusterer.centroids_.shape == (3, 4)
    assert clusterer.inertia_ > 0
    assert clusterer.customers_.tolist() == sorted(data["customer"].tolist())


@pytest.mark.parametrize("value", [0, -1, "5", 2.5, None, True])
def test_fit_rejects_an_invalid_n_clusters_naming_it(value):
    clusterer = CustomerReturnClusterer(n_clusters=value)
    with pytest.raises(ValueError, match="n_clusters must be an integer >= 1"):
        clusterer.fit(blobs())


def test_init_only_stores_its_parameters_even_invalid_ones():
    clusterer = CustomerReturnClusterer(n_clusters="bad", n_init=0)
    assert clusterer.get_params()["n_clusters"] == "bad"
    assert not hasattr(clusterer, "centroids_")


def test_get_params_round_trips_through_set_params():
    clusterer = CustomerReturnClusterer(3, random_state=5)
    params = clusterer.get_params()
    assert params == {
        "n_clusters": 3,
        "random_state": 5,
        "n_init": 10,
        "scale": False,
        "features": FEATURE_COLUMNS,
        "key": "customer",
    }
    other = CustomerReturnClusterer().set_params(**params)
    assert other.get_params() == params


def test_set_params_refuses_an_unknown_parameter():
    with pytest.raises(ValueError, match="invalid parameter"):
        CustomerReturnClusterer().set_params(n_cluster=3)


def test_fit_returns_self():
    clusterer = CustomerReturnClusterer(n_clusters=3)
    assert clusterer.fit(blobs()) is clusterer


def test_fit_predict_returns_labels_in_the_input_row_order():
    data = blobs().sample(frac=1.0, random_state=4)
    labels = CustomerReturnClusterer(n_clusters=3).fit_predict(data)
    fitted = CustomerReturnClusterer(n_clusters=3).fit(data)
    by_key = dict(zip(fitted.customers_.tolist(), fitted.labels_.tolist(), strict=True))
    assert labels.tolist() == [by_key[c] for c in data["customer"]]


def test_transform_is_the_distance_to_every_centroid_as_in_kmeans():
    data = blobs()
    clusterer = CustomerReturnClusterer(n_clusters=3).fit(data)
    distances = clusterer.transform(data)
    features = data.loc[:, list(FEATURE_COLUMNS)].to_numpy(dtype=float)
    expected = np.linalg.norm(features[:, None, :] - clusterer.centroids_[None, :, :], axis=2)
    np.testing.assert_allclose(distances, expected)
    assert distances.argmin(axis=1).tolist() == clusterer.predict(data).tolist()


def test_kmeans_params_build_the_same_estimator_as_keywords():
    from_params = CustomerReturnClusterer.from_params(KMeansParams(3, 7, 2, True))
    assert (
        from_params.get_params()
        == CustomerReturnClusterer(3, random_state=7, n_init=2, scale=True).get_params()
    )
    assert from_params.params == KMeansParams(3, 7, 2, True)


def test_fewer_customers_than_clusters_is_a_clear_error():
    with pytest.raises(ValueError, match="n_clusters=4 clusters from 3 customers"):
        cluster_customers(blobs().head(3))


def test_missing_feature_column_is_named():
    with pytest.raises(ValueError, match="monetaryRatio"):
        cluster_customers(blobs().drop(columns="monetaryRatio"))


def test_null_feature_value_is_named():
    data = blobs()
    data.loc[4, "itemsRatio"] = np.nan
    with pytest.raises(ValueError, match="'itemsRatio' has a NULL"):
        cluster_customers(data)


def test_duplicate_customer_keys_are_rejected():
    data = blobs()
    data.loc[1, "customer"] = data.loc[0, "customer"]
    with pytest.raises(ValueError, match="not unique"):
        cluster_customers(data)


def test_predict_before_fit_says_so():
    with pytest.raises(RuntimeError, match="not fitted"):
        CustomerReturnClusterer().predict(blobs())
