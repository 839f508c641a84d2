"""Stable segment ids: matching a retrain's centroids to the previous model's."""

from __future__ import annotations

import numpy as np
import pytest

from customer_segmentation.core.segments import match_to_previous, transition_counts

PREVIOUS = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])


def test_first_run_keeps_the_labels_as_fitted():
    assert match_to_previous(None, PREVIOUS).tolist() == [0, 1, 2]


def test_permuted_centroids_get_back_their_previous_ids():
    new = PREVIOUS[[2, 0, 1]] + 0.1
    assert match_to_previous(PREVIOUS, new).tolist() == [2, 0, 1]


def test_previous_ids_that_are_not_0_to_k_are_carried_over():
    ids = match_to_previous(PREVIOUS, PREVIOUS[[1, 2, 0]], previous_ids=np.array([4, 7, 9]))
    assert ids.tolist() == [7, 9, 4]


def test_matching_minimises_total_distance_not_each_greedy_pick():
    # Greedy would give new[0] the id of previous[0] (distance 1) and leave new[1] far away;
    # the optimal assignment pairs them crosswise (total 2.2 instead of 1 + 3).
    previous = np.array([[0.0], [2.0]])
    new = np.array([[1.0], [-1.0]])
    assert match_to_previous(previous, new).tolist() == [1, 0]


def test_a_new_cluster_beyond_the_previous_k_gets_a_fresh_id():
    new = np.vstack([PREVIOUS[[1, 0, 2]], [[50.0, 50.0]]])
    assert match_to_previous(PREVIOUS, new).tolist() == [1, 0, 2, 3]


def test_when_k_shrinks_the_farthest_previous_id_retires():
    new = PREVIOUS[[2, 0]] + 0.2
    assert match_to_previous(PREVIOUS, new).tolist() == [2, 0]


def test_centroids_with_different_features_are_rejected():
    with pytest.raises(ValueError, match="same features"):
        match_to_previous(PREVIOUS, np.zeros((3, 3)))


def test_transitions_count_customers_per_move_with_the_share_of_the_old_segment():
    counts = transition_counts(np.array([0, 0, 0, 1]), np.array([0, 0, 1, 1]))
    rows = counts.set_index(["from_segment_id", "to_segment_id"])
    assert rows.loc[(0, 0), "customers"] == 2
    assert rows.loc[(0, 1), "share_of_from_segment"] == pytest.approx(1 / 3)
    assert rows.loc[(1, 1), "share_of_from_segment"] == 1.0
    assert counts["customers"].sum() == 4
