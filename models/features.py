"""Text features: word and character n-gram TF-IDF, optionally with sentence embeddings."""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

FEATURES = ("tfidf", "tfidf+embeddings")


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
    if features == "tfidf+embeddings":
        from models.embeddings import SentenceEmbeddings

        parts.append(("embeddings", SentenceEmbeddings(model=embedding_model)))
    return FeatureUnion(parts)


def transform_unique(transformer, texts) -> sparse.csr_matrix | np.ndarray:
    """`transformer.transform(texts)`, computed once per distinct text (passages repeat across targets)."""
    unique, inverse = np.unique(np.asarray(list(texts), dtype=object), return_inverse=True)
    matrix = transformer.transform(list(unique))
    return matrix[inverse]
