"""Choosing k: inertia (the tutorial's elbow), silhouette and Davies-Bouldin for k in a range.

A thin adapter around `customer_segmentation.metrics.k_selection`; the range is the vars
`k_selection_min` and `k_selection_max` (1 and 10), the other settings are the model's.
"""

from customer_segmentation.clustering import KMeansParams
from customer_segmentation.metrics import k_selection


def model(dbt, session):
    dbt.config(materialized="table")
    low = int(dbt.config.get("k_min"))
    high = int(dbt.config.get("k_max"))
    if not 1 <= low <= high:
        raise ValueError(f"need 1 <= k_selection_min <= k_selection_max, got {low} and {high}")
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
        sample_size=int(dbt.config.get("silhouette_sample_size")),
    )
