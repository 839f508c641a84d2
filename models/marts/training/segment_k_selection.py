"""Choosing k: inertia (the tutorial's elbow), silhouette and Davies-Bouldin for k in a range.

A thin adapter around `customer_segmentation.core.metrics.k_selection`; the range is the vars
`k_selection_min` and `k_selection_max` (1 and 10, validated in macros/vars/), the other
settings are the model's.
"""

from customer_segmentation.core.clustering import KMeansParams
from customer_segmentation.core.metrics import k_selection


def model(dbt, session):
    dbt.config(materialized="table")
    low = dbt.config.get("k_min")
    high = dbt.config.get("k_max")
    params = KMeansParams(
        n_clusters=low,
        random_state=dbt.config.get("random_state"),
        n_init=dbt.config.get("n_init"),
        scale=dbt.config.get("scale_features"),
    )
    return k_selection(
        dbt.ref("customer_return_features").df(),
        range(low, high + 1),
        params,
        sample_size=dbt.config.get("silhouette_sample_size"),
    )
