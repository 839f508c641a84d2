"""The model registry: every training run appends its segments' centroids, scaler and metrics.

A thin adapter around `customer_segmentation.registry`. Incremental and never fully
refreshed, so the history survives `--full-refresh`. With the `model_run_id` var set nothing
is trained: the pinned run must exist (else the build stops and nothing is written) and
becomes the current model downstream. The dbt invocation id is filled in by a post-hook,
since Python models are not rendered with Jinja.
"""

from datetime import UTC, datetime

from customer_segmentation.clustering import KMeansParams
from customer_segmentation.registry import empty_registry, parse_run_id, select_run, train_run


def model(dbt, session):
    dbt.config(materialized="incremental", full_refresh=False)
    pinned = parse_run_id(dbt.config.get("model_run_id"))
    registry = (
        session.sql(f"select * from {dbt.this}").df() if dbt.is_incremental else empty_registry()
    )
    if pinned is not None:
        select_run(registry, pinned)
        return empty_registry()
    params = KMeansParams(
        n_clusters=dbt.config.get("n_clusters"),
        random_state=dbt.config.get("random_state"),
        n_init=dbt.config.get("n_init"),
        scale=dbt.config.get("scale_features"),
    )
    previous = None if registry.empty else select_run(registry)
    _, rows = train_run(
        dbt.ref("customer_return_features").df(),
        params,
        previous,
        run_id=1 if registry.empty else int(registry["run_id"].max()) + 1,
        trained_at=datetime.now(UTC).replace(tzinfo=None),
        silhouette_sample_size=int(dbt.config.get("silhouette_sample_size")),
        outlier_quantile=float(dbt.config.get("outlier_quantile")),
    )
    return rows
