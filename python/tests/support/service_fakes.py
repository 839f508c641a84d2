"""A small fitted model and a stand-in registry for the endpoint's tests."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pandas as pd

from customer_segmentation.core.clustering import CustomerReturnClusterer
from customer_segmentation.core.features import FEATURE_COLUMNS
from customer_segmentation.core.serving import ScoringModel

KEY = "test-key-0123456789abcdefghijklmnopq"  # the service wants at least 32 characters
AUTH = {"Authorization": f"Bearer {KEY}"}


def jumping_clock(step: float = 60.0) -> Callable[[], float]:
    """A clock a reload interval ahead at every reading: every request checks the registry."""
    return itertools.count(0.0, step).__next__


class ManualClock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def small_model(run_id: str = "run-1", seed: int = 0) -> ScoringModel:
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0, 0], [0.5, 0.5, 0.5, 2], [1, 1, 1, 6]])
    rows = np.abs(np.vstack([c + rng.normal(0, 0.02, (20, 4)) for c in centres]))
    data = pd.DataFrame(rows, columns=list(FEATURE_COLUMNS))
    data.insert(0, "customer", np.arange(100, 160))
    clusterer = CustomerReturnClusterer(n_clusters=3).fit(data)
    names = {0: "zero", 1: "one", 2: "two"}
    return ScoringModel(run_id, clusterer, names, data.set_index("customer"))


class Registry:
    """A stand-in registry whose current run the tests can change."""

    def __init__(self) -> None:
        self.model = small_model()
        self.loads = 0
        self.checks = 0

    def load(self) -> ScoringModel:
        self.loads += 1
        return self.model

    def current_run(self) -> str:
        self.checks += 1
        return self.model.run_id
