"""The model registry: every training run appends its segments' centroids, scaler and metrics.

A thin adapter around `customer_segmentation.core.training`. Incremental and never fully
refreshed, so the history survives `--full-refresh`. An unpinned build trains a run only when
`training_decision` finds a reason (no model yet, `--full-refresh`, the `retrain` var, changed
k-means settings, the run's age, fit drift), recorded in `train_reason`; otherwise it appends
nothing and the current run keeps scoring. With the `model_run_id` var set nothing is trained:
the pinned run must exist and have passed its gates (else the build stops downstream, in
`int_segment_centroids_current`, before anything is published) and becomes the current
model. Every trained run is judged by its quality gates (the vars
`min_segment_share`, `min_silhouette`, `max_davies_bouldin`, a name in the `segments` seed for
every segment id, labels the stored centroids reproduce) and records the verdict in
`passed_gates` / `gate_failures`: a rejected run stays as evidence, is never the current model,
and `int_segment_centroids_current` stops the build that trained it before anything is
published. The dbt invocation id is filled in by a post-hook, since Python
models are not rendered with Jinja; `dbt_full_refresh` is the `--full-refresh` flag, added to
the config by the project's `build_config_dict` macro.
"""

from datetime import UTC, datetime

from customer_segmentation.core.clustering import KMeansParams
from customer_segmentation.core.current_run import passed, select_run
from customer_segmentation.core.gates import GateThresholds
from customer_segmentation.core.registry import empty_registry, typed_registry
from customer_segmentation.core.training import (
    RetrainPolicy,
    TrainingSettings,
    next_registry_rows,
)


def model(dbt, session):
    dbt.config(
        materialized="incremental",
        full_refresh=False,
        on_schema_change="append_new_columns",
    )
    policy = RetrainPolicy(
        retrain=dbt.config.get("retrain"),
        retrain_after_days=dbt.config.get("retrain_after_days"),
        max_fit_drift=dbt.config.get("max_fit_drift"),
    )
    registry = (
        session.sql(f"select * from {dbt.this}").df() if dbt.is_incremental else empty_registry()
    )
    # model_run_id is '' (unset) or a run id's digits, validated in macros/vars/.
    if dbt.config.get("model_run_id"):
        # Nothing is trained; int_segment_centroids_current (current_model_run_id) stops the
        # build with a message when the pinned run is unknown or was rejected.
        return empty_registry()
    # dbt finds a Python model's refs in plain statements only (not in comprehensions).
    segments = dbt.ref("segments").df()
    named_segments = frozenset(int(s) for s in segments["segment_id"])
    settings = TrainingSettings(
        kmeans=KMeansParams(
            n_clusters=dbt.config.get("n_clusters"),
            random_state=dbt.config.get("random_state"),
            n_init=dbt.config.get("n_init"),
            scale=dbt.config.get("scale_features"),
        ),
        silhouette_sample_size=dbt.config.get("silhouette_sample_size"),
        outlier_quantile=dbt.config.get("outlier_quantile"),
        thresholds=GateThresholds(
            min_segment_share=dbt.config.get("min_segment_share"),
            min_silhouette=dbt.config.get("min_silhouette"),
            max_davies_bouldin=dbt.config.get("max_davies_bouldin"),
        ),
        named_segments=named_segments,
    )
    rows = next_registry_rows(
        dbt.ref("customer_return_features").df(),
        # The current model, which new ids are matched to: none until a run has passed.
        select_run(registry) if passed(registry).any() else None,
        settings,
        policy,
        now=datetime.now(UTC).replace(tzinfo=None),
        next_run_id=1 if registry.empty else int(registry["run_id"].max()) + 1,
        full_refresh=bool(dbt.config.get("dbt_full_refresh")),
    )
    return typed_registry(rows)
