"""The model registry: every training run appends its segments' centroids, scaler and metrics.

A thin adapter around `customer_segmentation.registry`. Incremental and never fully
refreshed, so the history survives `--full-refresh`. An unpinned build trains a run only when
`training_decision` finds a reason (no model yet, `--full-refresh`, the `retrain` var, changed
k-means settings, the run's age, fit drift), recorded in `train_reason`; otherwise it appends
nothing and the current run keeps scoring. With the `model_run_id` var set nothing is trained:
the pinned run must exist (else the build stops and nothing is written) and becomes the
current model downstream. The dbt invocation id is filled in by a post-hook, since Python
models are not rendered with Jinja; `dbt_full_refresh` is the `--full-refresh` flag, added to
the config by the project's `build_config_dict` macro.
"""

from datetime import UTC, datetime

from customer_segmentation.clustering import KMeansParams
from customer_segmentation.registry import (
    RetrainPolicy,
    empty_registry,
    next_registry_rows,
    parse_run_id,
    select_run,
    typed_registry,
)


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        full_refresh=False,
        on_schema_change="append_new_columns",
    )
    pinned = parse_run_id(dbt.config.get("model_run_id"))
    policy = RetrainPolicy(
        retrain=dbt.config.get("retrain"),
        retrain_after_days=dbt.config.get("retrain_after_days"),
        max_fit_drift=dbt.config.get("max_fit_drift"),
    )
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
    rows = next_registry_rows(
        dbt.ref("customer_return_features").df(),
        None if registry.empty else select_run(registry),
        params,
        policy,
        now=datetime.now(UTC).replace(tzinfo=None),
        next_run_id=1 if registry.empty else int(registry["run_id"].max()) + 1,
        full_refresh=bool(dbt.config.get("dbt_full_refresh")),
        silhouette_sample_size=int(dbt.config.get("silhouette_sample_size")),
        outlier_quantile=float(dbt.config.get("outlier_quantile")),
    )
    return typed_registry(rows)
