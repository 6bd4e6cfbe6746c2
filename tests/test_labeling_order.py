"""The order of labelling: doubt spread over clusters of the pool, and a score that sorts into that order."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from models.labeling_order import clusters, doubt, labeling_order, yes_no_doubt


def blobs(centres: list[list[float]], size: int, spread: float, rng) -> np.ndarray:
    """`size` points around each centre, in the order of the centres."""
    return np.vstack([np.asarray(c) + spread * rng.standard_normal((size, len(c))) for c in centres])


def test_doubt_is_one_minus_the_margin_of_the_top_two():
    probabilities = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.6, 0.3, 0.1]])
    assert doubt(probabilities) == pytest.approx([1.0, 0.0, 0.7])
    assert doubt(np.ones((4, 1))).tolist() == [0.0] * 4  # one class: nothing to be torn between
    assert yes_no_doubt(np.array([[0.5, 1.0], [0.0, 0.25]])) == pytest.approx([0.5, 0.25])
    assert yes_no_doubt(np.zeros((2, 0))).tolist() == [0.0, 0.0]


def test_sorting_by_score_gives_the_order():
    rng = np.random.default_rng(0)
    features = sparse.csr_matrix(rng.random((300, 40)) * (rng.random((300, 40)) < 0.2))
    doubts = rng.random(300)
    order, scores = labeling_order(doubts, features, groups=20)
    assert sorted(order.tolist()) == list(range(300))
    assert np.array_equal(np.argsort(scores, kind="stable"), order)
    assert scores.min() == 0 and scores.max() < 1 and len(set(scores.tolist())) == 300


def test_each_run_of_groups_takes_the_most_doubtful_of_every_cluster():
    rng = np.random.default_rng(1)
    centres = [[10.0 * (i == j) for j in range(6)] for i in range(6)]
    features = blobs(centres, 30, 0.3, rng)
    doubts = rng.random(len(features))
    order, _ = labeling_order(doubts, features, groups=6)
    blob = np.repeat(np.arange(6), 30)
    first = order[:6]
    assert sorted(blob[first].tolist()) == list(range(6))
    for i in first:
        assert doubts[i] == doubts[blob == blob[i]].max()
    assert doubts[first].tolist() == sorted(doubts[first].tolist(), reverse=True)
    assert sorted(blob[order[6:12]].tolist()) == list(range(6))  # the next run covers every cluster again


def test_spread_finds_the_cluster_that_least_confident_never_picks():
    """A dense block of ambiguous near-duplicates draws every least-confident pick, while a cluster the model
    gets confidently wrong goes unlabelled; spreading the picks over clusters labels it and fixes the model."""
    rng = np.random.default_rng(2)
    # Class a, class b, and an unexplored cluster of class b that shares a's first feature, so that the model
    # trained on the first two calls it a with confidence; the ambiguous block lies on a feature of its own.
    centres = [[5.0, 0.0, 0.0, 0.0], [0.0, 5.0, 0.0, 0.0], [5.0, 0.0, 5.0, 0.0]]
    seen, test = blobs(centres, 50, 0.5, rng), blobs(centres, 50, 0.5, rng)
    y_seen = y_test = np.repeat(["a", "b", "b"], 50)
    ambiguous = np.array([0.0, 0.0, 0.0, 5.0]) + 0.01 * rng.standard_normal((300, 4))
    y_ambiguous = rng.choice(["a", "b"], 300)
    start = np.r_[0:10, 50:60]
    model = LogisticRegression().fit(seen[start], y_seen[start])
    pool = np.vstack([np.delete(seen, start, axis=0), ambiguous])
    y_pool = np.r_[np.delete(y_seen, start), y_ambiguous]
    unexplored = np.r_[np.zeros(80, bool), np.ones(50, bool), np.zeros(300, bool)]
    probabilities = model.predict_proba(pool)
    assert (model.predict(pool[unexplored]) == "a").all()

    ranked = np.argsort(probabilities.max(axis=1), kind="stable")[:10]
    spread, _ = labeling_order(doubt(probabilities), pool, groups=10)
    spread = spread[:10]
    assert not unexplored[ranked].any()
    assert unexplored[spread].any()

    def accuracy(picks: np.ndarray) -> float:
        X = np.vstack([seen[start], pool[picks]])
        y = np.r_[y_seen[start], y_pool[picks]]
        return (LogisticRegression(C=100).fit(X, y).predict(test) == y_test).mean()

    assert accuracy(ranked) < 0.7 < 0.85 < accuracy(spread)


def test_a_pool_smaller_than_the_groups_is_ordered_by_doubt():
    features = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    order, scores = labeling_order(np.array([0.2, 0.9, 0.5]), features, groups=50)
    assert order.tolist() == [1, 2, 0]
    assert scores.tolist() == pytest.approx([2 / 3, 0.0, 1 / 3])


def test_identical_passages_make_one_cluster_ordered_by_doubt():
    features = sparse.csr_matrix(np.ones((5, 4)))
    assert clusters(features, groups=3).tolist() == [0] * 5
    order, _ = labeling_order(np.array([0.1, 0.4, 0.3, 0.2, 0.5]), features, groups=3)
    assert order.tolist() == [4, 1, 2, 3, 0]


def test_one_class_and_an_empty_pool():
    features = np.eye(4)
    order, scores = labeling_order(doubt(np.ones((4, 1))), features)
    assert sorted(order.tolist()) == [0, 1, 2, 3] and np.array_equal(np.argsort(scores, kind="stable"), order)
    order, scores = labeling_order(np.zeros(0), sparse.csr_matrix((0, 7)))
    assert order.shape == scores.shape == (0,)


def test_features_must_match_the_doubts():
    with pytest.raises(ValueError, match="3 doubts but 2 rows"):
        labeling_order(np.zeros(3), np.eye(2))
