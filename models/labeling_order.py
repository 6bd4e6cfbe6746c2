"""The order in which to label passages: the ones the model is most torn about, spread over the kinds of passage
in the pool.

The pool is split into `groups` clusters of similar passages (k-means over a truncated SVD of the model's feature
vectors). The order takes the most doubtful passage of every cluster first, most doubtful of those first, then
the second most doubtful of every cluster, and so on: any `groups` consecutive passages from the start cover the
whole pool rather than one dense block of ambiguous near-duplicates, which is where ranking by doubt alone goes
wrong. Doubt is one minus the margin between the two most probable answers.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.preprocessing import normalize

GROUPS = 50  # clusters: the passages labelled per round in the benchmark, and a day's labelling
SVD_DIMS = 100  # dimensions the feature vectors are reduced to before clustering


def doubt(probabilities: np.ndarray) -> np.ndarray:
    """Per row of class probabilities, one minus the margin between the two most probable classes: 0 when the
    model is sure, 1 when it is torn between two (a single class leaves no doubt)."""
    probabilities = np.asarray(probabilities, dtype=float)
    if probabilities.shape[1] < 2:
        return np.zeros(len(probabilities))
    top = np.sort(probabilities, axis=1)[:, -2:]
    return 1 - (top[:, 1] - top[:, 0])


def yes_no_doubt(probabilities: np.ndarray) -> np.ndarray:
    """Per row of independent yes/no probabilities (one per label), the mean over labels of the doubt of each
    yes/no answer."""
    probabilities = np.asarray(probabilities, dtype=float)
    if probabilities.shape[1] == 0:
        return np.zeros(len(probabilities))
    return (1 - np.abs(2 * probabilities - 1)).mean(axis=1)


def clusters(features, groups: int = GROUPS, seed: int = 0) -> np.ndarray:
    """The cluster of each row of `features` (a sparse or dense matrix, one row per passage): at most `groups`
    clusters, fewer when the rows have fewer distinct values."""
    points = _points(features, seed)
    distinct = len(np.unique(points.round(9), axis=0)) if len(points) else 0
    k = min(groups, distinct)
    if k <= 1:
        return np.zeros(len(points), dtype=int)
    return KMeans(n_clusters=k, n_init=1, random_state=seed).fit_predict(points)


def _points(features, seed: int) -> np.ndarray:
    """The rows of `features` reduced to at most SVD_DIMS dimensions and scaled to unit length."""
    n, width = features.shape
    dims = min(SVD_DIMS, width - 1, n - 1)
    if dims >= 2:
        reduced = TruncatedSVD(n_components=dims, random_state=seed).fit_transform(features)
    else:
        reduced = features.toarray() if sparse.issparse(features) else np.asarray(features, dtype=float)
    return normalize(reduced)


def labeling_order(doubts: np.ndarray, features, groups: int = GROUPS, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The order in which to label the passages (indices into `doubts`, first to label first) and a score per
    passage in [0, 1) that gives the same order when sorted ascending (its position divided by the pool size).

    `doubts` is the model's doubt about each passage (see `doubt`), `features` its feature vectors, one row
    per passage, used to spread each run of `groups` passages over clusters of similar passages.
    """
    doubts = np.asarray(doubts, dtype=float)
    n = len(doubts)
    if n == 0:
        return np.zeros(0, dtype=int), np.zeros(0)
    if features.shape[0] != n:
        raise ValueError(f"{n} doubts but {features.shape[0]} rows of features")
    order = _round_robin(doubts, clusters(features, groups, seed))
    scores = np.empty(n)
    scores[order] = np.arange(n) / n
    return order, scores


def _round_robin(doubts: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """Indices by each passage's rank of doubt within its cluster, then by doubt, most doubtful first."""
    by_doubt = np.argsort(-doubts, kind="stable")
    rank = np.empty(len(doubts), dtype=int)
    seen: dict[int, int] = {}
    for i in by_doubt:
        rank[i] = seen.get(cluster[i], 0)
        seen[cluster[i]] = rank[i] + 1
    return np.lexsort((-doubts, rank))
