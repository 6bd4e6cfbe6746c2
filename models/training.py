"""From labels to a model: gold labels, one stance model over all targets, a frames model and a primary-frame
model, each evaluated by cross-validation grouped by article, bundled with a model card."""

from __future__ import annotations

import hashlib
import importlib.metadata
import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold

from annotation.codebook import Codebook, parse_codebook
from annotation.tables import LabelTables
from models.estimators import FrameClassifier, StanceClassifier
from models.evaluation import multi_label_scores, single_label_scores
from models.features import text_features

MIN_EXAMPLES = 10
FOLDS = 5
STANCE, FRAMES, PRIMARY = "stance", "frames", "primary_frame"


@dataclass
class Model:
    """A trained model: the codebook it answers, its card, and one estimator per kind of question."""

    codebook_text: str
    card: dict
    stance: StanceClassifier | None = None
    frames: FrameClassifier | None = None
    primary: FrameClassifier | None = None

    @cached_property
    def codebook(self) -> Codebook:
        """The codebook the model answers, parsed once."""
        return parse_codebook(self.codebook_text, f"the model's codebook ({self.card['codebook']['ref']})")

    @property
    def version(self) -> str:
        """The model version that suggestions carry: codebook, features and training data."""
        return self.card["model_version"]


@dataclass
class TrainingData:
    """What a model learns from: one row per (passage, question) with a settled label."""

    stance: pd.DataFrame  # text, target, label, group
    frames: pd.DataFrame  # text, labels (list), group
    primary: pd.DataFrame  # text, label, group
    passages: int = 0
    fingerprint: str = ""
    notes: list[str] = field(default_factory=list)


def codebook_hash(text: str) -> str:
    """The SHA-256 of a codebook's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def training_data(tables: LabelTables, codebook: Codebook) -> TrainingData:
    """The settled labels of every passage (majority vote, ground truth first), with their texts."""
    from annotation.gold import gold_labels

    gold = gold_labels(tables, codebook)
    texts = tables.tasks.drop_duplicates("passage_id").set_index("passage_id")["text"]
    gold = gold[gold["passage_id"].isin(texts.index)].reset_index(drop=True)
    text = gold["passage_id"].map(texts)
    group = gold["article_id"].astype(object).where(gold["article_id"].notna(), gold["passage_id"])
    stance_rows = []
    for control, target in codebook.stance_controls.items():
        answered = gold[control].notna()
        stance_rows.append(
            pd.DataFrame(
                {
                    "passage_id": gold.loc[answered, "passage_id"],
                    "text": text[answered],
                    "target": target.id,
                    "label": gold.loc[answered, control].astype(str),
                    "group": group[answered],
                }
            )
        )
    stance = pd.concat(stance_rows, ignore_index=True) if stance_rows else pd.DataFrame()
    frames = pd.DataFrame()
    if "frames" in gold:
        answered = gold["frames"].map(lambda v: isinstance(v, list))
        frames = pd.DataFrame(
            {
                "passage_id": gold.loc[answered, "passage_id"],
                "text": text[answered],
                "labels": gold.loc[answered, "frames"],
                "group": group[answered],
            }
        ).reset_index(drop=True)
    primary = pd.DataFrame()
    if "primary_frame" in gold:
        answered = gold["primary_frame"].notna()
        primary = pd.DataFrame(
            {
                "passage_id": gold.loc[answered, "passage_id"],
                "text": text[answered],
                "label": gold.loc[answered, "primary_frame"].astype(str),
                "group": group[answered],
            }
        ).reset_index(drop=True)
    digest = hashlib.sha256()
    for frame in (stance, frames, primary):
        digest.update(pd.util.hash_pandas_object(frame.astype(str), index=False).values.tobytes())
    return TrainingData(stance, frames, primary, passages=len(gold), fingerprint=digest.hexdigest())


def _too_few(rows: pd.DataFrame, classes: int) -> str | None:
    if len(rows) < MIN_EXAMPLES:
        return f"only {len(rows)} labeled examples (need {MIN_EXAMPLES})"
    if classes < 2:
        return f"only {classes} class among the labels (need 2)"
    return None


def _folds(groups: pd.Series, seed: int):
    distinct = groups.nunique()
    if distinct < 2:
        return []
    return list(GroupKFold(n_splits=min(FOLDS, distinct), shuffle=True, random_state=seed).split(groups, groups=groups))


def _cross_validate(make, X, y, groups, seed: int, multi: bool):
    """Out-of-fold predictions (rows whose fold could not be trained stay missing)."""
    predicted = [None] * len(groups)
    for train, test in _folds(groups, seed):
        X_train = X.iloc[train] if isinstance(X, pd.DataFrame) else [X[i] for i in train]
        y_train = [y[i] for i in train]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # a frame absent from a fold
                estimator = make().fit(X_train, y_train)
        except ValueError:
            continue  # a fold with one class: its rows are not scored
        X_test = X.iloc[test] if isinstance(X, pd.DataFrame) else [X[i] for i in test]
        labels = estimator.predict_labels(X_test) if multi else estimator.predict(X_test)
        for i, value in zip(test, labels, strict=True):
            predicted[i] = value
    return predicted


def _learn(make, X, y, groups, seed: int, shared, multi: bool = False):
    """Out-of-fold predictions of a kind of model, and that model fitted on everything with the shared features."""
    predicted = _cross_validate(make, X, y, groups, seed, multi)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a frame that every passage, or none, has
        return predicted, make().set_params(vectorizer=shared).fit(X, y)


def train(
    tables: LabelTables, codebook: Codebook, codebook_text: str, features: str = "tfidf", seed: int = 0
) -> tuple[Model, dict]:
    """Train the stance, frames and primary-frame models on `tables`; return the model and its evaluation."""
    from annotation.agreement import agreement

    data = training_data(tables, codebook)
    used = {label for labels in data.frames.get("labels", []) for label in labels}
    reasons = {
        STANCE: _too_few(data.stance, data.stance["label"].nunique() if len(data.stance) else 0),
        FRAMES: _too_few(data.frames, 2 if used else 0),
        PRIMARY: _too_few(data.primary, data.primary["label"].nunique() if len(data.primary) else 0),
    }
    if all(reasons.values()):
        raise ValueError("nothing to train: " + "; ".join(f"{q}: {r}" for q, r in reasons.items()))
    human = agreement(tables, codebook).set_index("question")
    evaluation: dict = {"questions": {}, "skipped": {}}
    estimators: dict = {}
    # The final models share one set of features, so suggesting computes them once per passage; the
    # cross-validation models fit their own, on their training folds only.
    shared = text_features(features).fit(list(dict.fromkeys(tables.tasks["text"].dropna())))

    stance_labels = [s.id for s in codebook.stance]
    if reason := reasons[STANCE]:
        evaluation["skipped"][STANCE] = reason
    else:
        X, y = data.stance[["text", "target"]].reset_index(drop=True), list(data.stance["label"])
        make = lambda: StanceClassifier(features=features, random_state=seed)  # noqa: E731
        predicted, estimators["stance"] = _learn(make, X, y, data.stance["group"].reset_index(drop=True), seed, shared)
        evaluation["questions"].update(_stance_scores(data.stance, predicted, stance_labels, codebook, human))

    frame_labels = [f.id for f in codebook.frames]
    if reason := reasons[FRAMES]:
        evaluation["skipped"][FRAMES] = reason
    else:
        texts, Y = list(data.frames["text"]), list(data.frames["labels"])
        make = lambda: FrameClassifier(multi_label=True, features=features, random_state=seed)  # noqa: E731
        predicted, estimators["frames"] = _learn(make, texts, Y, data.frames["group"], seed, shared, multi=True)
        evaluation["questions"][FRAMES] = _frame_scores(Y, predicted, frame_labels, human)

    if reason := reasons[PRIMARY]:
        evaluation["skipped"][PRIMARY] = reason
    else:
        texts, y = list(data.primary["text"]), list(data.primary["label"])
        make = lambda: FrameClassifier(multi_label=False, features=features, random_state=seed)  # noqa: E731
        predicted, estimators["primary"] = _learn(make, texts, y, data.primary["group"], seed, shared)
        scores = _scores_of(y, predicted, frame_labels)
        scores["human_alpha"] = _alpha(human, "primary_frame")
        evaluation["questions"][PRIMARY] = scores

    card = model_card(codebook, codebook_text, data, features, seed, evaluation)
    return Model(codebook_text, card, **estimators), evaluation


def _alpha(human: pd.DataFrame, question: str) -> float | None:
    if question in human.index and pd.notna(human.loc[question, "alpha"]):
        return float(human.loc[question, "alpha"])
    return None


def _scores_of(truth: list, predicted: list, labels: list[str]) -> dict:
    kept = [i for i, p in enumerate(predicted) if p is not None]
    if not kept:
        return {"n": 0, "note": "not evaluated: the labels come from a single article"}
    scores = single_label_scores([truth[i] for i in kept], [predicted[i] for i in kept], labels)
    if len(kept) < len(truth):
        scores["unscored"] = len(truth) - len(kept)
    return scores


def _stance_scores(rows: pd.DataFrame, predicted: list, labels: list[str], codebook: Codebook, human) -> dict:
    truth = list(rows["label"])
    scores = {"stance (all targets)": _scores_of(truth, predicted, labels)}
    targets = list(rows["target"])
    for control, target in codebook.stance_controls.items():
        mine = [i for i, t in enumerate(targets) if t == target.id]
        question = _scores_of([truth[i] for i in mine], [predicted[i] for i in mine], labels)
        question["human_alpha"] = _alpha(human, control)
        scores[control] = question
    return scores


def _frame_scores(truth: list, predicted: list, labels: list[str], human) -> dict:
    kept = [i for i, p in enumerate(predicted) if p is not None]
    if not kept:
        return {"n": 0, "note": "not evaluated: the labels come from a single article"}
    order = {label: j for j, label in enumerate(labels)}

    def matrix(rows):
        out = np.zeros((len(rows), len(labels)), dtype=int)
        for i, chosen in enumerate(rows):
            for label in chosen:
                out[i, order[label]] = 1
        return out

    scores = multi_label_scores(matrix([truth[i] for i in kept]), matrix([predicted[i] for i in kept]), labels)
    alphas = [_alpha(human, f"frame_{label}") for label in labels]
    alphas = [a for a in alphas if a is not None]
    scores["human_alpha"] = float(np.mean(alphas)) if alphas else None
    return scores


def model_card(codebook: Codebook, text: str, data: TrainingData, features: str, seed: int, evaluation: dict) -> dict:
    """What a model is: its codebook, labels, training data, libraries and figures."""
    libraries = {
        name: importlib.metadata.version(name)
        for name in ("framestance", "scikit-learn", "numpy", "scipy", "pandas", "skops")
    }
    return {
        "format": "framestance-model/1",
        "model_version": f"{codebook.ref}+{features}+{data.fingerprint[:10]}",
        "codebook": {
            "name": codebook.name,
            "version": codebook.version,
            "ref": codebook.ref,
            "sha256": codebook_hash(text),
        },
        "labels": {
            "targets": [t.id for t in codebook.targets],
            "stance": [s.id for s in codebook.stance],
            "frames": [f.id for f in codebook.frames],
        },
        "training_data": {
            "fingerprint": data.fingerprint,
            "passages": data.passages,
            "stance_rows": len(data.stance),
            "frame_rows": len(data.frames),
            "primary_rows": len(data.primary),
        },
        "features": features,
        "seed": seed,
        "libraries": libraries,
        "evaluation": evaluation,
    }


def evaluate(model: Model, tables: LabelTables) -> dict:
    """Score a trained model on other labels, the way training scores it, beside the human agreement."""
    from annotation.agreement import agreement

    codebook = model.codebook
    data = training_data(tables, codebook)
    human = agreement(tables, codebook).set_index("question")
    evaluation: dict = {"questions": {}, "skipped": {}}
    if model.stance is not None and len(data.stance):
        predicted = list(model.stance.predict(data.stance[["text", "target"]]))
        labels = [s.id for s in codebook.stance]
        evaluation["questions"].update(_stance_scores(data.stance, predicted, labels, codebook, human))
    else:
        evaluation["skipped"][STANCE] = "no stance model or no stance labels"
    if model.frames is not None and len(data.frames):
        predicted = model.frames.predict_labels(list(data.frames["text"]))
        labels = [f.id for f in codebook.frames]
        evaluation["questions"][FRAMES] = _frame_scores(list(data.frames["labels"]), predicted, labels, human)
    else:
        evaluation["skipped"][FRAMES] = "no frames model or no frame labels"
    if model.primary is not None and len(data.primary):
        predicted = list(model.primary.predict(list(data.primary["text"])))
        scores = _scores_of(list(data.primary["label"]), predicted, [f.id for f in codebook.frames])
        scores["human_alpha"] = _alpha(human, "primary_frame")
        evaluation["questions"][PRIMARY] = scores
    else:
        evaluation["skipped"][PRIMARY] = "no primary-frame model or no primary-frame labels"
    return evaluation
