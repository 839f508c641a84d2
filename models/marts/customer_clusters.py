"""k-means segments of customers by return behaviour: the tutorial's `py_customer_clusters`.

A thin adapter: the clustering lives in the `customer_segmentation` package (python/), which
the SQL Server procedure and the scoring endpoint use too.
"""

from customer_segmentation.clustering import KMeansParams, cluster_customers


def model(dbt, session):
    dbt.config(materialized="table", alias="py_customer_clusters")
    params = KMeansParams(
        n_clusters=dbt.config.get("n_clusters"),
        random_state=dbt.config.get("random_state"),
        n_init=dbt.config.get("n_init"),
    )
    features = dbt.ref("customer_return_features").df()
    return cluster_customers(features, params)
