"""k-means segments of customers by return behaviour: the tutorial's `py_customer_clusters`.

A thin adapter: every customer gets the stable segment id of the nearest centroid of the
current model in the registry (`int_segment_centroids_current`: the latest training run that
passed its quality gates, or the run pinned by the `model_run_id` var). On a fresh build the
registry's first run keeps k-means' own labels, so the table equals the tutorial's clusters.
"""

from customer_segmentation.core.scoring import score_customers


def model(dbt, session):
    dbt.config(materialized="table", alias="py_customer_clusters")
    current = dbt.ref("int_segment_centroids_current").df()
    features = dbt.ref("customer_return_features").df()
    return score_customers(features, current)
