"""Text features: word and character n-gram TF-IDF, optionally with sentence embeddings.

The feature settings:
- `tfidf`: word and character n-grams;
- `tfidf+embeddings`: and the passage's sentence embedding;
- `tfidf+target-embeddings`: and, for stance, also the encoder's token vectors pooled where the target is
  named (frames read the passage as with `tfidf+embeddings`).
"""

from __future__ import annotations

import os
import weakref

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

FEATURES = ("tfidf", "tfidf+embeddings", "tfidf+target-embeddings")
WITH_EMBEDDINGS = ("tfidf+embeddings", "tfidf+target-embeddings")


def check_features(features: str) -> None:
    """Raise a clear error for an unknown feature setting."""
    if features not in FEATURES:
        raise ValueError(f"features={features!r} is not one of {', '.join(FEATURES)}")


def text_features(features: str = "tfidf", embedding_model: str | None = None) -> BaseEstimator:
    """A transformer from a list of texts to a feature matrix."""
    check_features(features)
    parts = [
        (
            "words",
            TfidfVectorizer(
                ngram_range=(1, 2), min_df=1, sublinear_tf=True, lowercase=True, token_pattern=r"(?u)\b\w[\w’'-]*\b"
            ),
        ),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)),
    ]
    if features in WITH_EMBEDDINGS:
        from models.embeddings import SentenceEmbeddings

        parts.append(("embeddings", SentenceEmbeddings(model=embedding_model)))
    return FeatureUnion(parts)


PARALLEL_FROM = 4000  # texts; below this, starting worker processes costs more than it saves
# The latest transform (transformer, texts, matrix), for the next model that shares the transformer and texts.
# One tuple, replaced whole, so threads serving requests at once never pair one's texts with another's matrix.
_last: list = [None]


def transform_unique(transformer, texts) -> sparse.csr_matrix | np.ndarray:
    """`transformer.transform(texts)`, computed once per distinct text (passages repeat across targets) and once
    for all the models that share one transformer (the stance, frames and primary-frame models of a bundle)."""
    texts = list(texts)
    last = _last[0]
    if last is not None and last[0]() is transformer and last[1] == texts:
        return last[2]
    unique, inverse = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
    matrix = _transform(transformer, list(unique))[inverse]
    _last[0] = (weakref.ref(transformer), texts, matrix)
    return matrix


def _transform(transformer, texts: list[str]):
    """Transform in as many processes as there are cores, for n-grams (sentence embeddings use threads already)."""
    parts = dict(getattr(transformer, "transformer_list", []))
    workers = min(os.cpu_count() or 1, 4)
    if len(texts) < PARALLEL_FROM or workers < 2 or "embeddings" in parts:
        return transformer.transform(texts)
    from joblib import Parallel, delayed

    chunks = [texts[i::workers] for i in range(workers)]
    pieces = Parallel(n_jobs=workers)(delayed(transformer.transform)(chunk) for chunk in chunks)
    # Chunks were dealt round-robin: put the rows back in their order.
    order = np.argsort(np.concatenate([np.arange(i, len(texts), workers) for i in range(workers)]), kind="stable")
    return sparse.vstack(pieces, format="csr")[order]
