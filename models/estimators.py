"""The stance and frame classifiers, as scikit-learn estimators over raw text."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.utils.validation import check_is_fitted

from models.calibration import apply_calibration
from models.features import check_features, text_features, transform_unique

WINDOW = 120  # characters either side of a target's mention that make its local context


def _texts(X) -> list[str]:
    if isinstance(X, pd.DataFrame):
        if "text" not in X.columns:
            raise ValueError("X needs a 'text' column")
        values = X["text"]
    else:
        values = X
    if isinstance(values, str):
        raise ValueError("X must be a list of texts or a DataFrame with a 'text' column, not one string")
    texts = ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]
    if not texts:
        raise ValueError("X holds no texts")
    return texts


def _mention_spans(X) -> list[list[tuple[int, int]]] | None:
    """Each row's mentions of its target: its `target_from`/`target_to` where it has them, else its `mentions`;
    None when X carries neither column."""
    if not isinstance(X, pd.DataFrame):
        return None
    offsets = {"target_from", "target_to"} <= set(X.columns)
    if not offsets and "mentions" not in X.columns:
        return None
    n = len(X)
    starts = X["target_from"].tolist() if offsets else [None] * n
    ends = X["target_to"].tolist() if offsets else [None] * n
    listed = X["mentions"].tolist() if "mentions" in X.columns else [None] * n
    spans = []
    for start, end, mentions in zip(starts, ends, listed, strict=True):
        if start is not None and end is not None and not (pd.isna(start) or pd.isna(end)):
            spans.append([(int(start), int(end))])
        elif mentions is not None and not isinstance(mentions, (str, float)):
            spans.append([(int(a), int(b)) for a, b in mentions])
        else:
            spans.append([])
    return spans


def _local_texts(texts: list[str], spans: list[list[tuple[int, int]]]) -> list[str]:
    """The text around each mention, the mention itself replaced by TARGET; empty where there is none."""
    return [
        " … ".join(f"{text[max(0, a - WINDOW) : a]} TARGET {text[b : b + WINDOW]}" for a, b in row)
        for text, row in zip(texts, spans, strict=True)
    ]


def _vectorizer(estimator, texts: list[str]):
    """The estimator's `vectorizer` if one was given (fitted, and perhaps shared by several models), else one
    fitted on `texts`."""
    if estimator.vectorizer is not None:
        return estimator.vectorizer
    return text_features(estimator.features, estimator.embedding_model).fit(list(dict.fromkeys(texts)))


def _embedder(estimator):
    """The sentence-embedding part of the estimator's text features, or a new one for its embedding model."""
    parts = dict(getattr(estimator.vectorizer_, "transformer_list", []))
    if "embeddings" in parts:
        return parts["embeddings"]
    from models.embeddings import SentenceEmbeddings

    return SentenceEmbeddings(model=estimator.embedding_model)


def _binary(C: float, max_iter: int, random_state) -> LogisticRegression:
    # The dual liblinear solver is the fast one when there are far more n-grams than texts.
    return LogisticRegression(
        C=C, class_weight="balanced", solver="liblinear", dual=True, max_iter=max_iter, random_state=random_state
    )


def _one_label(C: float, max_iter: int, random_state) -> OneVsRestClassifier:
    """One yes/no model per class; their probabilities are normalised over the classes."""
    return OneVsRestClassifier(_binary(C, max_iter, random_state))


class StanceClassifier(ClassifierMixin, BaseEstimator):
    """Stance of a text toward a target, one model for every target.

    `X` is a DataFrame with `text` and optionally `target` and where the target is mentioned: `mentions` (a
    list of `[start, end]` character spans per row, as `annotation.mentions.find_mentions` gives them) and/or
    `target_from` and `target_to` (one mention's offsets, as in NewsMTSC), which take precedence in the rows
    that have them; or a list of texts. Each row's features are shared n-grams, the same n-grams again in a
    block of the row's own target (so the model learns what is particular to a target where it has the data,
    and falls back on what holds across targets where it has not), and the target itself. With mentions, also
    the n-grams of the text around each mention (the mention itself replaced by TARGET) and whether and how
    often the target is named, overall and per target, so that a target never named is learned as not
    addressed. With `features="tfidf+target-embeddings"` and mentions, also the encoder's token vectors pooled
    over the target's mentions (`SentenceEmbeddings.mention_vectors`), beside the passage's sentence embedding.
    A target with fewer than `min_target_rows` rows gets no blocks of its own. `vectorizer`, if given, is a
    fitted text transformer used as it is (several models may share one).
    """

    def __init__(
        self,
        features: str = "tfidf",
        C: float = 2.0,
        max_iter: int = 2000,
        random_state=None,
        embedding_model=None,
        vectorizer=None,
        min_target_rows: int = 20,
    ):
        self.features = features
        self.C = C
        self.max_iter = max_iter
        self.random_state = random_state
        self.embedding_model = embedding_model
        self.vectorizer = vectorizer
        self.min_target_rows = min_target_rows

    def _columns(self, X) -> tuple[list[str], list[str], list[list[tuple[int, int]]] | None]:
        texts = _texts(X)
        if isinstance(X, pd.DataFrame) and "target" in X.columns:
            targets = ["" if pd.isna(t) else str(t) for t in X["target"]]
        else:
            targets = [""] * len(texts)
        return texts, targets, _mention_spans(X)

    def _per_target(self, block, targets: list[str]) -> list:
        """`block`, then one copy of it per known target holding only that target's rows."""
        blocks = [block]
        for target in self.targets_:
            mine = np.array([t == target for t in targets])
            if mine.all():
                blocks.append(block)
            elif not mine.any():
                blocks.append(sparse.csr_matrix(block.shape, dtype=block.dtype))
            else:
                blocks.append(sparse.diags(mine.astype(block.dtype)) @ block)
        return blocks

    def _matrix(self, texts, targets, spans):
        if self.mentions_ and spans is None:
            raise ValueError(
                "this model reads where each target is mentioned: give X a 'mentions' column "
                "(annotation.mentions.find_mentions) or target_from/target_to"
            )
        blocks = self._per_target(transform_unique(self.vectorizer_, texts), targets)
        known = {t: i for i, t in enumerate(self.targets_)}
        rows = [i for i, t in enumerate(targets) if t in known]
        onehot = sparse.csr_matrix(
            (np.ones(len(rows)), (rows, [known[targets[i]] for i in rows])), shape=(len(texts), len(self.targets_))
        )
        blocks.append(onehot)
        if self.mentions_:
            blocks.append(transform_unique(self.local_vectorizer_, _local_texts(texts, spans)))
            counts = np.array([[1.0 if row else 0.0, np.log1p(len(row))] for row in spans]).reshape(-1, 2)
            blocks += self._per_target(sparse.csr_matrix(counts), targets)
            if self.features == "tfidf+target-embeddings":
                blocks.append(_embedder(self).mention_vectors(texts, spans))
        return sparse.hstack([sparse.csr_matrix(b) for b in blocks], format="csr")

    def fit(self, X, y):
        """Learn from texts (with their targets and mentions) and their stance labels."""
        check_features(self.features)
        texts, targets, spans = self._columns(X)
        y = np.asarray(y, dtype=object)
        if len(y) != len(texts):
            raise ValueError(f"X has {len(texts)} rows but y has {len(y)} labels")
        self.classes_ = np.unique(y.astype(str))
        if len(self.classes_) < 2:
            raise ValueError(f"need at least two stance classes to learn from, found {list(self.classes_)}")
        counts = pd.Series(targets).value_counts()
        # Only a target with enough rows gets n-grams of its own; the others rely on the shared ones.
        self.targets_ = sorted(t for t, n in counts.items() if t and n >= self.min_target_rows)
        self.vectorizer_ = _vectorizer(self, texts)
        self.mentions_ = spans is not None
        self.local_vectorizer_ = None
        if self.mentions_:
            self.local_vectorizer_ = text_features("tfidf").fit(list(dict.fromkeys(_local_texts(texts, spans))))
        self.model_ = _one_label(self.C, self.max_iter, self.random_state).fit(
            self._matrix(texts, targets, spans), y.astype(str)
        )
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Probability of each class in `classes_`, one row per row of X (calibrated when `calibration_` is set)."""
        check_is_fitted(self, "model_")
        texts, targets, local = self._columns(X)
        raw = self.model_.predict_proba(self._matrix(texts, targets, local))
        return apply_calibration(getattr(self, "calibration_", None), raw)

    def predict(self, X) -> np.ndarray:
        """The most likely stance of each row."""
        probabilities = self.predict_proba(X)
        return self.classes_[np.argmax(probabilities, axis=1)]


class FrameClassifier(ClassifierMixin, BaseEstimator):
    """The frames of a text: several at once (`multi_label=True`, one yes/no model per frame) or one.

    With `multi_label=True`, `fit(texts, Y)` takes a list of label lists and `predict` returns a 0/1 matrix
    with columns in `classes_`; with `multi_label=False`, `Y` is one label per text (the primary frame).
    `vectorizer`, if given, is a fitted text transformer used as it is (several models may share one).
    """

    def __init__(
        self,
        multi_label: bool = True,
        features: str = "tfidf",
        C: float = 4.0,
        threshold: float = 0.5,
        max_iter: int = 2000,
        random_state=None,
        embedding_model=None,
        vectorizer=None,
    ):
        self.multi_label = multi_label
        self.features = features
        self.C = C
        self.threshold = threshold
        self.max_iter = max_iter
        self.random_state = random_state
        self.embedding_model = embedding_model
        self.vectorizer = vectorizer

    def fit(self, X, Y):
        """Learn from texts and their frames."""
        check_features(self.features)
        texts = _texts(X)
        if len(Y) != len(texts):
            raise ValueError(f"X has {len(texts)} texts but Y has {len(Y)} rows")
        if self.multi_label:
            if any(isinstance(labels, str) for labels in Y):
                raise ValueError("with multi_label=True, Y is a list of label lists, e.g. [['legality'], []]")
            self.binarizer_ = MultiLabelBinarizer().fit(Y)
            self.classes_ = self.binarizer_.classes_
            if len(self.classes_) == 0:
                raise ValueError("no frame appears in Y")
            target = self.binarizer_.transform(Y)
            model = OneVsRestClassifier(_binary(self.C, self.max_iter, self.random_state))
        else:
            target = np.asarray(Y, dtype=object).astype(str)
            self.classes_ = np.unique(target)
            if len(self.classes_) < 2:
                raise ValueError(f"need at least two classes to learn from, found {list(self.classes_)}")
            model = _one_label(self.C, self.max_iter, self.random_state)
        self.vectorizer_ = _vectorizer(self, texts)
        self.model_ = model.fit(transform_unique(self.vectorizer_, texts), target)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Per text, the probability of each frame in `classes_` (independent ones when multi-label), calibrated
        when `calibration_` is set."""
        check_is_fitted(self, "model_")
        raw = self.model_.predict_proba(transform_unique(self.vectorizer_, _texts(X)))
        return apply_calibration(getattr(self, "calibration_", None), raw)

    def predict(self, X) -> np.ndarray:
        """A 0/1 matrix over `classes_` (multi-label), or one frame per text."""
        probabilities = self.predict_proba(X)
        if self.multi_label:
            return (probabilities >= self.threshold).astype(int)
        return self.classes_[np.argmax(probabilities, axis=1)]

    def predict_labels(self, X) -> list[list[str]]:
        """The frames of each text as lists (multi-label only)."""
        if not self.multi_label:
            raise ValueError("predict_labels is for multi_label=True; use predict")
        return [list(self.classes_[row.astype(bool)]) for row in self.predict(X)]
