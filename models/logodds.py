"""The words that most separate groups of texts: the weighted log-odds ratio with an informative Dirichlet
prior (Monroe, Colaresi and Quinn, 2008, "Fightin' Words", Political Analysis 16(4)).

Each group is compared with all the others together. The prior is a background word distribution (by
default, all the texts compared) scaled to `prior_strength` pseudo-counts; it shrinks the estimates of rare
words toward the background, so neither rare words nor function words dominate, and the z-score divides each
log-odds ratio by its estimated standard error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer

# Dotted abbreviations ("U.S."), and words that begin with a letter and may hold apostrophes and hyphens
# inside ("al-Muhandis", "Iran's").
TOKEN_PATTERN = r"(?u)\b(?:[^\W\d_]\.){2,}|\b[^\W\d_](?:[\w'’-]*[^\W_])?\b"
COLUMNS = ("group", "word", "count", "count_rest", "frequency", "log_odds", "se", "z")


def log_odds(
    texts,
    groups,
    background=None,
    prior_strength: float | None = None,
    min_count: int = 1,
) -> pd.DataFrame:
    """One row per group and word: how much more the group uses the word than the other groups do.

    `texts` and `groups` are sequences of the same length (two or more distinct groups). `background`, other
    texts whose word frequencies make the prior (default: `texts`). `prior_strength`, the prior's total
    pseudo-count (default: the number of words in the background). Words used fewer than `min_count` times in
    all `texts` are left out. Columns: `group`, `word`, `count` (in the group), `count_rest`, `frequency` (in
    all texts), `log_odds` (the group against the rest), `se`, and `z` (`log_odds / se`); rows sorted by group,
    then by `z`, largest first.
    """
    texts = _strings(texts)
    groups = pd.Series(list(groups), dtype=object).fillna("").astype(str)
    if len(texts) != len(groups):
        raise ValueError(f"log_odds needs one group per text: {len(texts)} texts, {len(groups)} groups")
    names = list(dict.fromkeys(groups))
    if len(names) < 2:
        raise ValueError(f"log_odds compares two or more groups; got {names or 'none'}")
    vectorizer = _vectorizer()
    try:
        counts = vectorizer.fit_transform(texts)
    except ValueError:
        raise ValueError("log_odds found no words in the texts") from None
    words = vectorizer.get_feature_names_out()
    per_group = np.vstack(
        [np.asarray(counts[(groups == name).to_numpy()].sum(axis=0)).ravel() for name in names]
    ).astype(float)
    total = per_group.sum(axis=0)
    prior = _prior(vectorizer, total, background, prior_strength)
    keep = total >= min_count
    parts = []
    for i, name in enumerate(names):
        mine, rest = per_group[i], total - per_group[i]
        delta, se = _delta(mine, rest, prior)
        parts.append(
            pd.DataFrame(
                {
                    "group": name,
                    "word": words,
                    "count": mine.astype(np.int64),
                    "count_rest": rest.astype(np.int64),
                    "frequency": total.astype(np.int64),
                    "log_odds": delta,
                    "se": se,
                    "z": delta / se,
                }
            )[keep].sort_values(["z", "word"], ascending=[False, True])
        )
    return pd.concat(parts, ignore_index=True)


def _strings(texts) -> list[str]:
    return ["" if text is None else str(text) for text in texts]


def _vectorizer(vocabulary: dict | None = None) -> CountVectorizer:
    """Word counts, lower-cased, of the words `TOKEN_PATTERN` finds."""
    return CountVectorizer(lowercase=True, token_pattern=TOKEN_PATTERN, vocabulary=vocabulary)


def _prior(vectorizer: CountVectorizer, total: np.ndarray, background, strength: float | None) -> np.ndarray:
    """Pseudo-counts per word: the background's word shares times the prior's strength."""
    if background is None:
        frequency = total
    else:
        counted = _vectorizer(vectorizer.vocabulary_)
        frequency = np.asarray(counted.transform(_strings(background)).sum(axis=0))
        frequency = frequency.ravel().astype(float)
    # A word the background never uses still gets a small pseudo-count, so no estimate divides by zero.
    frequency = np.maximum(frequency, 0.01)
    strength = float(frequency.sum() if strength is None else strength)
    if strength <= 0:
        raise ValueError(f"prior_strength must be positive, not {strength}")
    return frequency / frequency.sum() * strength


def _delta(mine: np.ndarray, rest: np.ndarray, prior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Monroe et al.'s estimate of the log-odds ratio of one group against the rest, and its standard error."""
    a0 = prior.sum()
    odds_mine = np.log(mine + prior) - np.log(mine.sum() + a0 - mine - prior)
    odds_rest = np.log(rest + prior) - np.log(rest.sum() + a0 - rest - prior)
    return odds_mine - odds_rest, np.sqrt(1 / (mine + prior) + 1 / (rest + prior))
