"""Which run is the current model: one definition, used by every build and the endpoint.

The current run is the run pinned by the `model_run_id` var, else the latest run that passed
its quality gates. A run the gates rejected is never current. Plain data in and out.
"""

from __future__ import annotations

import pandas as pd


def passed(registry: pd.DataFrame) -> pd.Series:
    """Per row, whether its run passed its gates. Runs recorded before the registry kept gate
    results (no column, or NULL) were served as they were, and count as passed."""
    if "passed_gates" not in registry.columns:
        return pd.Series(True, index=registry.index)
    return registry["passed_gates"].isna() | (registry["passed_gates"] == True)  # noqa: E712


def select_run(registry: pd.DataFrame, run_id: int | None = None) -> pd.DataFrame:
    """The rows of the current model: run ``run_id`` when pinned, else the latest run that
    passed its gates. A run the gates rejected is never current: pinning one is an error, and
    the latest run being rejected leaves the one before it current."""
    if registry.empty:
        if run_id is not None:
            raise ValueError(
                f"model_run_id={run_id} is pinned but the registry holds no training run yet; "
                "build once without model_run_id to train the first model"
            )
        raise ValueError("the model registry is empty: no model has been trained yet")
    ok = passed(registry)
    if run_id is None:
        if not ok.any():
            raise ValueError(
                "no run of the model registry passed its quality gates "
                f"(rejected: {_rejections(registry)}): no model can be served"
            )
        run_id = int(registry.loc[ok, "run_id"].max())
    rows = registry[registry["run_id"] == run_id]
    if rows.empty:
        known = sorted(int(r) for r in registry["run_id"].unique())
        raise ValueError(
            f"model_run_id={run_id} is not in the model registry (runs: {known}); "
            "nothing was changed"
        )
    if not ok[rows.index].all():
        raise ValueError(
            f"model_run_id={run_id} was rejected by its quality gates "
            f"({rows['gate_failures'].iloc[0]}) and is never served; pin a run that passed "
            f"(runs that passed: {sorted(int(r) for r in registry.loc[ok, 'run_id'].unique())})"
        )
    return rows


def _rejections(registry: pd.DataFrame) -> str:
    runs = registry.drop_duplicates("run_id").sort_values("run_id")
    return "; ".join(f"run {int(r.run_id)}: {r.gate_failures}" for r in runs.itertuples())
