"""Quality gates: a training run records whether it passed, and only a run that passed is
ever the current model or the reference new runs' segment ids are matched to."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from test_registry import blobs

from customer_segmentation.core.clustering import KMeansParams
from customer_segmentation.core.current_run import select_run
from customer_segmentation.core.gates import GateThresholds
from customer_segmentation.core.training import (
    RetrainPolicy,
    TrainingSettings,
    next_registry_rows,
    train_run,
)

WHEN = datetime(2026, 1, 1)
NAMED = frozenset({0, 1, 2, 3})


def verdict(rows: pd.DataFrame) -> tuple[bool, str | None]:
    first = rows.iloc[0]
    return bool(first["passed_gates"]), first["gate_failures"]


def test_a_run_of_four_separated_groups_passes_every_gate():
    _, rows = train_run(blobs(), TrainingSettings(KMeansParams(), named_segments=NAMED), 1, WHEN)
    assert verdict(rows) == (True, None)


def test_a_run_with_one_segment_is_rejected_because_quality_is_undefined():
    _, rows = train_run(
        blobs(), TrainingSettings(KMeansParams(n_clusters=1), named_segments=NAMED), 1, WHEN
    )
    passed, failures = verdict(rows)
    assert not passed
    assert "one segment" in failures


def test_a_segment_id_without_a_name_rejects_the_run_naming_the_id():
    _, rows = train_run(
        blobs(), TrainingSettings(KMeansParams(n_clusters=5), named_segments=NAMED), 1, WHEN
    )
    passed, failures = verdict(rows)
    assert not passed
    assert "without a name in the segments seed: 4" in failures


def test_a_segment_below_the_minimum_share_rejects_the_run_naming_it():
    data = blobs()
    # Seven customers of the fourth group: 7 / 97 of the customers, below a 10 % minimum.
    small = pd.concat([data.iloc[:90], data.iloc[90:97]])
    _, rows = train_run(
        small,
        TrainingSettings(
            KMeansParams(), thresholds=GateThresholds(min_segment_share=0.1), named_segments=NAMED
        ),
        1,
        WHEN,
    )
    passed, failures = verdict(rows)
    assert not passed
    assert "below min_segment_share=0.1" in failures
    assert "(7.22%)" in failures


def test_silhouette_and_davies_bouldin_bounds_each_reject_and_say_why():
    _, rows = train_run(
        blobs(),
        TrainingSettings(
            KMeansParams(),
            thresholds=GateThresholds(min_silhouette=0.999, max_davies_bouldin=0.0001),
            named_segments=NAMED,
        ),
        1,
        WHEN,
    )
    passed, failures = verdict(rows)
    assert not passed
    assert "< min_silhouette=0.999" in failures
    assert "> max_davies_bouldin=0.0001" in failures


def test_the_latest_run_is_not_current_when_its_gates_rejected_it():
    _, first = train_run(blobs(), TrainingSettings(KMeansParams(), named_segments=NAMED), 1, WHEN)
    _, rejected = train_run(
        blobs(), TrainingSettings(KMeansParams(n_clusters=5), named_segments=NAMED), 2, WHEN, first
    )
    registry = pd.concat([first, rejected], ignore_index=True)
    assert select_run(registry)["run_id"].unique().tolist() == [1]


def test_a_rejected_run_cannot_be_pinned():
    _, first = train_run(blobs(), TrainingSettings(KMeansParams(), named_segments=NAMED), 1, WHEN)
    _, rejected = train_run(
        blobs(), TrainingSettings(KMeansParams(n_clusters=1), named_segments=NAMED), 2, WHEN, first
    )
    registry = pd.concat([first, rejected], ignore_index=True)
    with pytest.raises(ValueError, match=r"model_run_id=2 was rejected .*runs that passed: \[1\]"):
        select_run(registry, 2)


def test_a_registry_with_only_rejected_runs_serves_nothing():
    _, rejected = train_run(blobs(), TrainingSettings(KMeansParams(n_clusters=1)), 1, WHEN)
    with pytest.raises(ValueError, match="no run of the model registry passed its quality gates"):
        select_run(rejected)


def test_new_ids_are_matched_to_the_current_model_not_to_a_rejected_run():
    data = blobs()
    _, first = train_run(data, TrainingSettings(KMeansParams(), named_segments=NAMED), 1, WHEN)
    # A rejected five-segment run sits between the current model and the next training.
    _, rejected = train_run(
        data, TrainingSettings(KMeansParams(n_clusters=5), named_segments=NAMED), 2, WHEN, first
    )
    registry = pd.concat([first, rejected], ignore_index=True)
    rows = next_registry_rows(
        data,
        select_run(registry),
        TrainingSettings(KMeansParams(random_state=7), named_segments=NAMED),
        RetrainPolicy(retrain=True),
        now=WHEN,
        next_run_id=3,
    )
    assert rows["previous_run_id"].unique().tolist() == [1]
    assert sorted(rows["segment_id"].unique().tolist()) == [0, 1, 2, 3]
    assert verdict(rows) == (True, None)


def test_gate_verdict_survives_the_registry_types():
    from customer_segmentation.core.registry import typed_registry

    _, rows = train_run(blobs(), TrainingSettings(KMeansParams(n_clusters=1)), 1, WHEN)
    typed = typed_registry(rows)
    assert typed["passed_gates"].dtype.name == "boolean"
    assert not typed["passed_gates"].any()
    assert np.all(typed["gate_failures"].notna())


def test_an_absurd_feature_value_is_refused_naming_the_feature():
    from customer_segmentation.core.clustering import CustomerReturnClusterer

    data = blobs()
    data.loc[5, "monetaryRatio"] = 1e298
    with pytest.raises(ValueError, match=r"feature 'monetaryRatio' is 1e\+298 at row 5"):
        CustomerReturnClusterer().fit(data)
