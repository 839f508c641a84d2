"""Scoring with a stored run: the tutorial's cluster table and the transitions of a retrain."""

from __future__ import annotations

import pandas as pd

from customer_segmentation.core.features import cluster_table
from customer_segmentation.core.registry import TRANSITION_DTYPES, clusterer_from_rows
from customer_segmentation.core.segments import transition_counts


def score_customers(data: pd.DataFrame, run_rows: pd.DataFrame) -> pd.DataFrame:
    """The tutorial's cluster table for ``data``, each customer in the segment of the nearest
    centroid of the stored run (its `predict`), ordered by customer."""
    if run_rows.empty:
        raise ValueError("no current model: the model registry has no rows for it")
    clusterer = clusterer_from_rows(run_rows)
    ordered = data.sort_values(clusterer.key, kind="stable").reset_index(drop=True)
    return cluster_table(
        ordered, clusterer.key, tuple(clusterer.features), clusterer.predict(ordered)
    )


def transitions(
    previous_rows: pd.DataFrame, current_rows: pd.DataFrame, data: pd.DataFrame
) -> pd.DataFrame:
    """Customers of ``data`` per (segment under the previous run, segment under the current
    run): the share of each segment a retrain moved elsewhere."""
    previous = clusterer_from_rows(previous_rows)
    current = clusterer_from_rows(current_rows)
    counts = transition_counts(previous.predict(data), current.predict(data))
    counts.insert(0, "previous_run_id", int(previous_rows["run_id"].iloc[0]))
    counts.insert(0, "run_id", int(current_rows["run_id"].iloc[0]))
    return counts.astype(TRANSITION_DTYPES)
