"""Stable segment ids across retrains: match new centroids to the previous model's.

k-means numbers its clusters arbitrarily, so a retrain can swap cluster 0 and 2 and mail the
wrong customers. Each new centroid takes the id of the previous centroid it is matched to by
an optimal assignment (Hungarian method) on centroid distance. Plain data in, plain data out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def match_to_previous(
    centroids_prev: np.ndarray | None,
    centroids_new: np.ndarray,
    previous_ids: np.ndarray | None = None,
) -> np.ndarray:
    """Segment id of every new centroid (row i of ``centroids_new`` gets ``result[i]``).

    The pairing minimises the total distance between matched centroids. With no previous
    model (first training run) the ids are the k-means labels as fitted, 0..k-1. When k grew,
    the new centroids left unmatched get fresh ids after the largest previous id, in the
    order k-means numbered them; when k shrank, the previous ids left unmatched retire.
    Both centroid sets must be in the same space (the new model's k-means space).
    """
    new = np.asarray(centroids_new, dtype=float)
    if new.ndim != 2 or not len(new):
        raise ValueError(f"centroids_new must be a non-empty k x features matrix, got {new.shape}")
    if centroids_prev is None or len(centroids_prev) == 0:
        return np.arange(len(new), dtype=np.int32)
    prev = np.asarray(centroids_prev, dtype=float)
    if prev.ndim != 2 or prev.shape[1] != new.shape[1]:
        raise ValueError(
            f"previous centroids have shape {prev.shape}, new ones {new.shape}: "
            "both need the same features"
        )
    ids_prev = (
        np.arange(len(prev), dtype=np.int32)
        if previous_ids is None
        else np.asarray(previous_ids, dtype=np.int32)
    )
    if ids_prev.shape != (len(prev),) or len(set(ids_prev.tolist())) != len(ids_prev):
        raise ValueError(f"need {len(prev)} distinct previous ids, got {ids_prev.tolist()}")
    cost = np.sqrt(((new[:, None, :] - prev[None, :, :]) ** 2).sum(axis=2))
    # Imported on a retrain only: scoring with a stored model never matches centroids.
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(cost)
    ids = np.full(len(new), -1, dtype=np.int32)
    ids[rows] = ids_prev[cols]
    unmatched = np.flatnonzero(ids < 0)
    ids[unmatched] = int(ids_prev.max()) + 1 + np.arange(len(unmatched), dtype=np.int32)
    return ids


def transition_counts(previous_segments: np.ndarray, new_segments: np.ndarray) -> pd.DataFrame:
    """Customers per (previous segment, new segment) pair, with each pair's share of the
    previous segment: how many customers a retrain moved, and where to."""
    before = np.asarray(previous_segments)
    after = np.asarray(new_segments)
    if before.shape != after.shape:
        raise ValueError(f"segment arrays differ in length: {before.shape} vs {after.shape}")
    pairs = pd.DataFrame({"from_segment_id": before, "to_segment_id": after})
    counts = (
        pairs.groupby(["from_segment_id", "to_segment_id"]).size().rename("customers").reset_index()
    )
    totals = counts.groupby("from_segment_id")["customers"].transform("sum")
    counts["share_of_from_segment"] = counts["customers"] / totals
    return counts.astype(
        {"from_segment_id": "int32", "to_segment_id": "int32", "customers": "int64"}
    )
