"""k-means segments of customers by return behaviour: the tutorial's `py_customer_clusters`.

A thin adapter: every customer gets the stable segment id of the nearest centroid of the
current model in the registry (`int_segment_centroids_current`: the latest training run that
passed its quality gates, or the run pinned by the `model_run_id` var). On a fresh build the
registry's first run keeps k-means' own labels, so the table equals the tutorial's clusters.

Incremental, like the SQL scoring: a run scores the customers whose features were refreshed
after this table's latest `refreshed_at`, and everyone when a stored row was scored by
another run than the current one. `run_id` and `refreshed_at` are this table's own state: on
SQL Server the table is the tutorial procedure's result without them, so nothing downstream
reads them.
"""

import pandas as pd

from customer_segmentation.core.scoring import score_customers


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        alias="py_customer_clusters",
        unique_key="Customer",
        incremental_strategy="delete+insert",
        on_schema_change="fail",
    )
    current = dbt.ref("int_segment_centroids_current").df()
    features = dbt.ref("customer_return_features")
    run_id = int(current["run_id"].iloc[0]) if not current.empty else None
    if dbt.is_incremental:
        last_refreshed_at, runs_stored, other_runs = session.execute(
            f"select max(refreshed_at), count(run_id), count(*) filter (where run_id <> ?) "
            f"from {dbt.this}",
            [run_id],
        ).fetchone()
        if last_refreshed_at is not None and runs_stored > 0 and other_runs == 0:
            # A timestamp read from this table, written back as a typed literal.
            features = features.filter(
                f"refreshed_at > cast('{last_refreshed_at.isoformat(sep=' ')}' as timestamp)"
            )
    table = score_customers(features.df(), current)
    table["run_id"] = pd.Series(run_id, index=table.index, dtype="int64")
    table["refreshed_at"] = pd.Series(
        pd.Timestamp(dbt.config.get("dbt_build_stamp")), index=table.index
    ).astype("datetime64[us]")
    return table
