"""A small fitted model and a stand-in registry for the endpoint's tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from customer_segmentation.clustering import FEATURE_COLUMNS, CustomerReturnClusterer, KMeansParams
from customer_segmentation.service import ScoringModel

KEY = "test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


def small_model(run_id: str = "run-1", seed: int = 0) -> ScoringModel:
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0, 0], [0.5, 0.5, 0.5, 2], [1, 1, 1, 6]])
    rows = np.abs(np.vstack([c + rng.normal(0, 0.02, (20, 4)) for c in centres]))
    data = pd.DataFrame(rows, columns=list(FEATURE_COLUMNS))
    data.insert(0, "customer", np.arange(100, 160))
    clusterer = CustomerReturnClusterer(KMeansParams(n_clusters=3)).fit(data)
    names = {0: "zero", 1: "one", 2: "two"}
    return ScoringModel(run_id, clusterer, names, data.set_index("customer"))


class Registry:
    """A stand-in registry whose current run the tests can change."""

    def __init__(self) -> None:
        self.model = small_model()
        self.loads = 0

    def load(self) -> ScoringModel:
        self.loads += 1
        return self.model

    def current_run(self) -> str:
        return self.model.run_id
