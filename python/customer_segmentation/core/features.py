"""The one feature list: the tutorial's four return features, the customer key, the cluster
table's columns, and the checks every feature matrix passes before k-means sees it.

Everything else reads the features from here: the clustering core, the endpoint's request
schema, and (through the generated macro ``segment_features()``) the SQL that scores
customers. Like the rest of the core it keeps to SQL Server 2019's pandas 0.23 / numpy 1.15.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# The tutorial's feature columns, in the order the model sees them.
FEATURE_COLUMNS: tuple[str, ...] = ("orderRatio", "itemsRatio", "monetaryRatio", "frequency")
# The column naming each customer in the feature table.
CUSTOMER_KEY = "customer"
# The tutorial's cluster-table columns (`py_customer_clusters`), in order: its key, its
# spelling of the features (`OrderRatio` is the tutorial's), and the segment id.
CLUSTER_TABLE_COLUMNS: tuple[str, ...] = (
    "Customer",
    "OrderRatio",
    "itemsRatio",
    "monetaryRatio",
    "frequency",
    "cluster",
)
# The features are return ratios and counts of tickets: anything this large comes from a
# broken source value, and its squared distances would overflow float64.
MAX_FEATURE_MAGNITUDE = 1e12


def feature_matrix(features: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    """The feature columns of ``features`` as a float matrix, after checking that they exist,
    are numeric, finite and of plausible size."""
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise ValueError(
            f"feature columns missing: {missing}; expected {list(columns)}, "
            f"got {list(features.columns)}"
        )
    try:
        matrix = np.asarray(features.loc[:, list(columns)], dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"feature columns {list(columns)} must be numeric: {exc}") from exc
    bad = ~np.isfinite(matrix)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"feature {columns[col]!r} has a NULL, NaN or infinite value "
            f"({int(bad.sum())} such values; first at row {int(row)})"
        )
    huge = np.abs(matrix) > MAX_FEATURE_MAGNITUDE
    if huge.any():
        row, col = np.argwhere(huge)[0]
        raise ValueError(
            f"feature {columns[col]!r} is {matrix[row, col]:g} at row {int(row)} "
            f"({int(huge.sum())} values beyond {MAX_FEATURE_MAGNITUDE:g}): the features are "
            "ratios and counts, so a source amount or quantity is implausible; k-means "
            "distances would overflow"
        )
    return matrix


def ordered_by_key(features: pd.DataFrame, key: str) -> pd.DataFrame:
    """Rows sorted by customer key, so a fit never depends on the order rows arrive in."""
    if key not in features.columns:
        raise ValueError(f"customer key column {key!r} missing; got {list(features.columns)}")
    keys = features[key]
    if keys.isna().any():
        raise ValueError(f"customer key column {key!r} has {int(keys.isna().sum())} NULL values")
    if keys.duplicated().any():
        dupes = keys[keys.duplicated()].unique()[:5].tolist()
        raise ValueError(f"customer key column {key!r} is not unique, e.g. {dupes}")
    return features.sort_values(key, kind="stable").reset_index(drop=True)


def cluster_table(
    ordered: pd.DataFrame, key: str, columns: tuple[str, ...], labels
) -> pd.DataFrame:
    """The tutorial's cluster table: ``ordered``'s key and features under the tutorial's
    column names, and each row's segment id from ``labels``."""
    table = pd.DataFrame(feature_matrix(ordered, columns), columns=list(CLUSTER_TABLE_COLUMNS[1:5]))
    table.insert(0, CLUSTER_TABLE_COLUMNS[0], np.asarray(ordered[key], dtype=np.int64))
    table[CLUSTER_TABLE_COLUMNS[5]] = np.asarray(labels, dtype=np.int32)
    return table
