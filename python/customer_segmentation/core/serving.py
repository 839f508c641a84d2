"""What the scoring endpoint serves: a stored run's model with its segment names, and the
error an adapter raises when the registry cannot be read. Plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from customer_segmentation.core.clustering import CustomerReturnClusterer


class RegistryUnavailable(Exception):  # noqa: N818 (a state, not a bug)
    """The registry cannot be read now; the message is shown to clients, so it names no path."""


@dataclass(frozen=True)
class ScoringModel:
    """Everything scoring needs, read from the registry at one moment."""

    run_id: str
    clusterer: CustomerReturnClusterer
    segment_names: dict[int, str]
    # Feature rows of the known customers, indexed by customer key.
    customer_features: pd.DataFrame = field(repr=False)

    def score(self, features: pd.DataFrame) -> list[dict[str, Any]]:
        distances = self.clusterer.transform(features)
        segments = self.clusterer.predict(features)
        return [
            {
                "segment_id": int(segment),
                "segment_name": self.segment_names.get(int(segment), f"segment {int(segment)}"),
                # Keyed by segment id: after a retrain ids need not be 0..k-1.
                "distances": {
                    str(int(segment_id)): float(d)
                    for segment_id, d in zip(self.clusterer.segment_ids_, row)  # noqa: B905
                },
                "run_id": self.run_id,
            }
            for segment, row in zip(segments, distances, strict=True)
        ]
