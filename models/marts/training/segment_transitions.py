"""How many customers each retrain moved between segments: one row per (run, from, to).

For the latest training run that passed its quality gates and had a previous one, every
featured customer is assigned by the previous run's model and by the new one (the core's
`predict`); the pairs are counted.
Incremental and never fully refreshed: each run's transitions are recorded once.
"""

import pandas as pd

from customer_segmentation.core.current_run import passed
from customer_segmentation.core.registry import TRANSITION_DTYPES
from customer_segmentation.core.scoring import transitions


def model(dbt, session):
    dbt.config(materialized="incremental", full_refresh=False)
    registry = dbt.ref("segment_model_registry").df()
    recorded = (
        set(session.sql(f"select distinct run_id from {dbt.this}").df()["run_id"].tolist())
        if dbt.is_incremental
        else set()
    )
    nothing = pd.DataFrame({c: pd.Series(dtype=t) for c, t in TRANSITION_DTYPES.items()})
    promoted = registry[passed(registry)] if not registry.empty else registry
    if promoted.empty:
        return nothing
    latest = promoted[promoted["run_id"] == promoted["run_id"].max()]
    previous_run_id = latest["previous_run_id"].iloc[0]
    if pd.isna(previous_run_id) or int(latest["run_id"].iloc[0]) in recorded:
        return nothing
    previous = registry[registry["run_id"] == int(previous_run_id)]
    return transitions(previous, latest, dbt.ref("customer_return_features").df())
