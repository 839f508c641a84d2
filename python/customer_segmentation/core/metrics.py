"""Quality metrics of a clustering and the figures for choosing k: plain data in and out."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from customer_segmentation.core.clustering import CustomerReturnClusterer, KMeansParams

# A fixed-size sample keeps the silhouette (quadratic in rows) cheap on any data size.
DEFAULT_SILHOUETTE_SAMPLE = 5000
DEFAULT_SILHOUETTE_SEED = 0
K_SELECTION_COLUMNS: tuple[str, ...] = (
    "k",
    "inertia",
    "silhouette",
    "davies_bouldin",
    "training_rows",
    "scaled",
)


def _check_two_clusters(metric: str, labels: np.ndarray) -> None:
    found = len(np.unique(labels))
    if found < 2:
        raise ValueError(
            f"{metric} needs at least 2 clusters (k >= 2), got {found}: it compares each "
            "cluster with its nearest other cluster"
        )


def silhouette(
    matrix: np.ndarray,
    labels: np.ndarray,
    sample_size: int = DEFAULT_SILHOUETTE_SAMPLE,
    random_state: int = DEFAULT_SILHOUETTE_SEED,
) -> float:
    """Mean silhouette on a fixed-size random sample (fixed seed): -1 bad, 1 well separated."""
    _check_two_clusters("silhouette", labels)
    if sample_size < 2:
        raise ValueError(f"silhouette sample_size must be >= 2, got {sample_size}")
    size = min(int(sample_size), len(matrix))
    # scikit-learn is imported when a metric is computed (training), not by scoring.
    from sklearn.metrics import silhouette_score

    return float(silhouette_score(matrix, labels, sample_size=size, random_state=random_state))


def davies_bouldin(matrix: np.ndarray, labels: np.ndarray) -> float:
    """Davies-Bouldin index over all rows: 0 is best, lower means better separated."""
    _check_two_clusters("Davies-Bouldin", labels)
    from sklearn.metrics import davies_bouldin_score

    return float(davies_bouldin_score(matrix, labels))


def outlier_distances(
    distances_to_own: np.ndarray, labels: np.ndarray, quantile: float
) -> dict[int, float]:
    """Per segment, the ``quantile`` of its members' distances to their centroid: a customer
    farther than that from the nearest centroid is an outlier of the segment."""
    if not 0 < quantile <= 1:
        raise ValueError(f"outlier quantile must be in (0, 1], got {quantile}")
    return {
        int(segment): float(np.quantile(distances_to_own[labels == segment], quantile))
        for segment in np.unique(labels)
    }


def k_selection(
    data: pd.DataFrame,
    k_values: Iterable[int],
    params: KMeansParams | None = None,
    sample_size: int = DEFAULT_SILHOUETTE_SAMPLE,
    random_state: int = DEFAULT_SILHOUETTE_SEED,
) -> pd.DataFrame:
    """Inertia (the elbow), silhouette and Davies-Bouldin for each k, one row per k.

    Silhouette and Davies-Bouldin are undefined for k=1 (there is no other cluster to
    compare with) and are NULL there; k larger than the number of customers is an error.
    """
    base = params or KMeansParams()
    rows = []
    for k in sorted({int(k) for k in k_values}):
        clusterer = CustomerReturnClusterer.from_params(
            KMeansParams(k, base.random_state, base.n_init, base.scale)
        ).fit(data)
        matrix = clusterer.kmeans_space(data.sort_values(clusterer.key, kind="stable"))
        two_or_more = k >= 2
        rows.append(
            {
                "k": k,
                "inertia": clusterer.inertia_,
                "silhouette": silhouette(matrix, clusterer.labels_, sample_size, random_state)
                if two_or_more
                else None,
                "davies_bouldin": davies_bouldin(matrix, clusterer.labels_)
                if two_or_more
                else None,
                "training_rows": len(matrix),
                "scaled": base.scale,
            }
        )
    if not rows:
        raise ValueError("k_values is empty: give at least one k")
    frame = pd.DataFrame(rows, columns=list(K_SELECTION_COLUMNS))
    return frame.astype(
        {
            "k": "int32",
            "silhouette": "Float64",
            "davies_bouldin": "Float64",
            "training_rows": "int64",
        }
    )
