"""From labels to a model: gold labels, one stance model over all targets, a frames model and a primary-frame
model, each evaluated by cross-validation grouped by article, bundled with a model card."""

from __future__ import annotations

import hashlib
import importlib.metadata
import warnings
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold

from annotation.codebook import Codebook, parse_codebook
from annotation.mentions import find_mentions
from annotation.tables import LabelTables
from models.calibration import BINS, cross_fitted, expected_calibration_error, fit_calibration, reliability
from models.estimators import FrameClassifier, StanceClassifier
from models.evaluation import compare_answers, multi_label_scores, single_label_scores
from models.features import text_features
from models.gate import gate, gate_questions

MODEL_FORMAT = "framestance-model/2"  # 2: the stance model reads where each target is mentioned
MIN_EXAMPLES = 10
FOLDS = 5
STANCE, FRAMES, PRIMARY = "stance", "frames", "primary_frame"
MOST_COMMON, PER_TARGET = "most_common", "most_common_per_target"  # the baselines
NO_TARGET = "this question has no target, so the most common label per target is the most common label"
CROSS_VALIDATION, HELD_OUT = "cross-validation grouped by article", "held-out labels"
UNGATED = "this model was trained before suggestions were gated: retrain to evaluate it against the baselines"


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
                    "mentions": [find_mentions(t, codebook)[target.id] for t in text[answered]],
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


@dataclass
class Answers:
    """A kind of model's answers to its rows: the model's (None where it was not scored), each baseline's, and
    the model's probabilities over its classes, raw and calibrated where known, with the gold labels as
    `truth`: column indices of the classes, or for frames a 0/1 matrix over them."""

    predicted: list
    baselines: dict[str, list]
    truth: np.ndarray
    raw: np.ndarray | None = None
    calibrated: np.ndarray | None = None


def _truth(labels: list, classes: list[str], multi: bool) -> np.ndarray:
    """Gold labels as column indices of `classes` (-1 for a class the model lacks), or a 0/1 matrix for frames."""
    index = {label: j for j, label in enumerate(classes)}
    if not multi:
        return np.array([index.get(label, -1) for label in labels])
    matrix = np.zeros((len(labels), len(classes)), dtype=int)
    for i, chosen in enumerate(labels):
        matrix[i, [index[label] for label in chosen if label in index]] = 1
    return matrix


def _cross_validate(make, X, y, groups, seed: int, classes: list[str], baselines):
    """Each row's raw probabilities over `classes` from the fold model that did not learn from it, its fold (-1,
    with NaN probabilities, where the fold could not be trained) and each baseline's answer, learned by
    `baselines(train, test)` from the same training fold."""
    raw, fold = np.full((len(y), len(classes)), np.nan), np.full(len(y), -1)
    answered: dict[str, list] = {}
    position = {label: j for j, label in enumerate(classes)}
    for k, (train, test) in enumerate(_folds(groups, seed)):
        X_train = X.iloc[train] if isinstance(X, pd.DataFrame) else [X[i] for i in train]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # a frame absent from a fold
                estimator = make().fit(X_train, [y[i] for i in train])
        except ValueError:
            continue  # a fold with one class: its rows are not scored
        X_test = X.iloc[test] if isinstance(X, pd.DataFrame) else [X[i] for i in test]
        raw[test] = 0.0  # a class the fold never saw gets no probability
        raw[np.ix_(test, [position[label] for label in estimator.classes_])] = estimator.predict_proba(X_test)
        fold[test] = k
        for name, given in baselines(train, test).items():
            column = answered.setdefault(name, [None] * len(y))
            for i, value in zip(test, given, strict=True):
                column[i] = value
    return raw, fold, answered


def _learn(make, X, y, groups, seed: int, shared, baselines, multi: bool = False):
    """A kind of model fitted on everything with the shared features and calibrated on the out-of-fold
    probabilities; and what cross-validation saw: its answers, calibrated the way the final model's are (each
    fold by a map fitted on the other folds), and the baselines' answers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a frame that every passage, or none, has
        final = make().set_params(vectorizer=shared).fit(X, y)
    classes = np.asarray(final.classes_)
    truth = _truth(y, list(classes), multi)
    raw, fold, answered = _cross_validate(make, X, y, groups, seed, list(classes), baselines)
    scored = np.flatnonzero(fold >= 0)
    calibrated = np.full(raw.shape, np.nan)
    predicted: list = [None] * len(y)
    if len(scored):
        final.calibration_ = fit_calibration(raw[scored], truth[scored], multi)
        calibrated[scored] = cross_fitted(raw[scored], truth[scored], fold[scored], multi)
        for i in scored:
            predicted[i] = list(classes[calibrated[i] >= final.threshold]) if multi else classes[calibrated[i].argmax()]
    return Answers(predicted, answered, truth, raw, calibrated), final


def _counts(values) -> dict[str, int]:
    return {label: int(n) for label, n in sorted(Counter(values).items())}


def _stance_counts(labels: list[str], targets: list[str]) -> dict:
    """How often each stance occurs, across all targets and per target."""
    per_target: dict[str, list[str]] = {}
    for label, target in zip(labels, targets, strict=True):
        per_target.setdefault(target, []).append(label)
    return {"overall": _counts(labels), "per_target": {t: _counts(mine) for t, mine in sorted(per_target.items())}}


def _frame_counts(rows: list[list[str]]) -> dict[str, int]:
    """How many passages have each frame."""
    return _counts(label for labels in rows for label in labels)


def label_counts(data: TrainingData) -> dict:
    """How often each label occurs in the training labels, which the baselines answer from: stance across all
    targets and per target, frames (passages with each), primary frames."""

    def column(rows: pd.DataFrame, name: str) -> list:
        return list(rows[name]) if name in rows else []

    return {
        STANCE: _stance_counts(column(data.stance, "label"), column(data.stance, "target")),
        FRAMES: _frame_counts(column(data.frames, "labels")),
        PRIMARY: _counts(column(data.primary, "label")),
    }


def _most_common(counts: dict[str, int]) -> str:
    """The most common label (ties: the first in alphabetical order)."""
    return min(counts, key=lambda label: (-counts[label], label))


def _stance_baselines(counts: dict, targets: list[str]) -> dict[str, list]:
    """Per row, the most common stance across all targets, and the most common stance of the row's target
    (across all targets for a target without labels)."""
    overall = _most_common(counts["overall"])
    per_target = {target: _most_common(mine) for target, mine in counts["per_target"].items()}
    return {MOST_COMMON: [overall] * len(targets), PER_TARGET: [per_target.get(t, overall) for t in targets]}


def _frame_baselines(counts: dict[str, int], rows: int) -> dict[str, list]:
    """Every row given the single most common frame."""
    return {MOST_COMMON: [[_most_common(counts)]] * rows}


def _primary_baselines(counts: dict[str, int], rows: int) -> dict[str, list]:
    """Every row given the most common primary frame."""
    return {MOST_COMMON: [_most_common(counts)] * rows}


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
    evaluation: dict = {"method": CROSS_VALIDATION, "questions": {}, "skipped": {}}
    estimators: dict = {}
    # The final models share one set of features, so suggesting computes them once per passage; the
    # cross-validation models fit their own, on their training folds only.
    shared = text_features(features).fit(list(dict.fromkeys(tables.tasks["text"].dropna())))

    stance_labels = [s.id for s in codebook.stance]
    if reason := reasons[STANCE]:
        evaluation["skipped"][STANCE] = reason
    else:
        X, y = data.stance[["text", "target", "mentions"]].reset_index(drop=True), list(data.stance["label"])
        targets = list(data.stance["target"])

        def stance_baselines(train, test):
            counts = _stance_counts([y[i] for i in train], [targets[i] for i in train])
            return _stance_baselines(counts, [targets[i] for i in test])

        make = lambda: StanceClassifier(features=features, random_state=seed)  # noqa: E731
        groups = data.stance["group"].reset_index(drop=True)
        answers, estimators["stance"] = _learn(make, X, y, groups, seed, shared, stance_baselines)
        evaluation["questions"].update(_stance_scores(data.stance, answers, stance_labels, codebook, human, seed))

    frame_labels = [f.id for f in codebook.frames]
    if reason := reasons[FRAMES]:
        evaluation["skipped"][FRAMES] = reason
    else:
        texts, Y = list(data.frames["text"]), list(data.frames["labels"])

        def frame_baselines(train, test):
            return _frame_baselines(_frame_counts([Y[i] for i in train]), len(test))

        make = lambda: FrameClassifier(multi_label=True, features=features, random_state=seed)  # noqa: E731
        answers, estimators["frames"] = _learn(
            make, texts, Y, data.frames["group"], seed, shared, frame_baselines, multi=True
        )
        evaluation["questions"][FRAMES] = _frame_scores(data.frames, answers, frame_labels, human, seed)

    if reason := reasons[PRIMARY]:
        evaluation["skipped"][PRIMARY] = reason
    else:
        texts, y = list(data.primary["text"]), list(data.primary["label"])

        def primary_baselines(train, test):
            return _primary_baselines(_counts([y[i] for i in train]), len(test))

        make = lambda: FrameClassifier(multi_label=False, features=features, random_state=seed)  # noqa: E731
        answers, estimators["primary"] = _learn(make, texts, y, data.primary["group"], seed, shared, primary_baselines)
        evaluation["questions"][PRIMARY] = _primary_scores(data.primary, answers, frame_labels, human, seed)

    evaluation["gate"] = gate(evaluation, codebook)
    card = model_card(codebook, codebook_text, data, features, seed, evaluation)
    return Model(codebook_text, card, **estimators), evaluation


def _alpha(human: pd.DataFrame, question: str) -> float | None:
    if question in human.index and pd.notna(human.loc[question, "alpha"]):
        return float(human.loc[question, "alpha"])
    return None


def _constant(values: list):
    """The one answer a baseline gave every row (a frame for a one-frame list), or None if it varies."""
    distinct = {tuple(v) if isinstance(v, list) else v for v in values}
    if len(distinct) != 1:
        return None
    (answer,) = distinct
    return answer[0] if isinstance(answer, tuple) else answer


def _scores_of(
    truth: list, answers: Answers, rows: list[int], groups: list, labels: list[str], seed: int, baselines: dict
) -> dict:
    """The figures of the model's answers to `rows` (of frames when `answers.truth` is a matrix), the baselines'
    (described by `baselines`) with bootstrap intervals over articles, and the calibration of its probabilities."""
    multi = answers.truth.ndim == 2
    kept = [i for i in rows if answers.predicted[i] is not None]
    if not kept:
        return {"n": 0, "note": "not evaluated: the labels come from a single article"}
    gold, predicted = [truth[i] for i in kept], [answers.predicted[i] for i in kept]
    if multi:
        matrix = _truth(gold, labels, multi=True), _truth(predicted, labels, multi=True)
        scores = multi_label_scores(*matrix, labels)
    else:
        scores = single_label_scores(gold, predicted, labels)
    if len(kept) < len(rows):
        scores["unscored"] = len(rows) - len(kept)
    if answers.baselines:
        given = {name: [answers.baselines[name][i] for i in kept] for name in baselines}
        comparison = compare_answers(
            gold, {"model": predicted, **given}, [groups[i] for i in kept], labels, multi, seed
        )
        scores["baselines"] = {
            name: {"description": description, "answer": _constant(given[name]), **comparison["scores"][name]}
            for name, description in baselines.items()
        }
        scores.update({key: comparison[key] for key in ("intervals", "difference", "bootstrap")})
    scores["calibration"] = _calibration(answers, kept, multi)
    return scores


def _calibration(answers: Answers, rows: list[int], multi: bool) -> dict:
    """The reliability curve and expected calibration error of the probabilities before calibration (raw) and
    after (in training, cross-fitted), where known."""
    summary: dict = {"bins": BINS}
    for side, probabilities in (("before", answers.raw), ("after", answers.calibrated)):
        if probabilities is not None:
            curve = reliability(probabilities[rows], answers.truth[rows], multi)
            summary[f"reliability_{side}"] = curve
            summary[f"ece_{side}"] = expected_calibration_error(curve)
    return summary


def _stance_scores(
    rows: pd.DataFrame, answers: Answers, labels: list[str], codebook: Codebook, human, seed: int
) -> dict:
    truth, targets, groups = list(rows["label"]), list(rows["target"]), list(rows["group"])
    every = {
        MOST_COMMON: "the most common stance across all targets",
        PER_TARGET: "the most common stance of each target",
    }
    scores = {"stance (all targets)": _scores_of(truth, answers, list(range(len(truth))), groups, labels, seed, every)}
    one = {**every, PER_TARGET: "the most common stance for this target"}
    for control, target in codebook.stance_controls.items():
        mine = [i for i, t in enumerate(targets) if t == target.id]
        question = _scores_of(truth, answers, mine, groups, labels, seed, one)
        question["human_alpha"] = _alpha(human, control)
        scores[control] = question
    return scores


def _frame_scores(rows: pd.DataFrame, answers: Answers, labels: list[str], human, seed: int) -> dict:
    truth = list(rows["labels"])
    baselines = {MOST_COMMON: "the most common frame"}
    scores = _scores_of(truth, answers, list(range(len(truth))), list(rows["group"]), labels, seed, baselines)
    scores["baseline_note"] = NO_TARGET
    alphas = [_alpha(human, f"frame_{label}") for label in labels]
    alphas = [a for a in alphas if a is not None]
    scores["human_alpha"] = float(np.mean(alphas)) if alphas else None
    return scores


def _primary_scores(rows: pd.DataFrame, answers: Answers, labels: list[str], human, seed: int) -> dict:
    truth = list(rows["label"])
    baselines = {MOST_COMMON: "the most common primary frame"}
    scores = _scores_of(truth, answers, list(range(len(truth))), list(rows["group"]), labels, seed, baselines)
    scores["baseline_note"] = NO_TARGET
    scores["human_alpha"] = _alpha(human, "primary_frame")
    return scores


def model_card(codebook: Codebook, text: str, data: TrainingData, features: str, seed: int, evaluation: dict) -> dict:
    """What a model is: its codebook, labels, training data and its label counts, libraries, figures and gate."""
    libraries = {
        name: importlib.metadata.version(name)
        for name in ("framestance", "scikit-learn", "numpy", "scipy", "pandas", "skops")
    }
    return {
        "format": MODEL_FORMAT,
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
            "label_counts": label_counts(data),
        },
        "features": features,
        "seed": seed,
        "libraries": libraries,
        "evaluation": evaluation,
        "gate": evaluation["gate"],
    }


def prefill_questions(model: Model) -> dict[str, tuple[bool, str]]:
    """Per question that suggestions answer (`stance_<target id>`, `frames`, `primary_frame`): whether to
    pre-fill it, and one sentence that says why, from the gate in the model card. A model trained before
    there was a gate pre-fills nothing."""
    decisions = model.card.get("gate")
    if decisions is None:
        return {question: (False, UNGATED) for question in gate_questions(model.codebook)}
    return {question: (entry["prefill"], entry["reason"]) for question, entry in decisions.items()}


def _held_out(estimator, X, truth: list, baselines: dict[str, list], multi: bool = False) -> Answers:
    """A trained model's answers and probabilities for held-out rows, beside the baselines' answers."""
    probabilities = estimator.predict_proba(X)
    predicted = estimator.predict_labels(X) if multi else list(estimator.predict(X))
    side = "calibrated" if getattr(estimator, "calibration_", None) is not None else "raw"
    return Answers(predicted, baselines, _truth(truth, list(estimator.classes_), multi), **{side: probabilities})


def evaluate(model: Model, tables: LabelTables) -> dict:
    """Score a trained model on other labels, the way training scores it, beside the human agreement and the
    baselines learned from the model's training labels (their counts are in the model card)."""
    from annotation.agreement import agreement

    codebook = model.codebook
    data = training_data(tables, codebook)
    human = agreement(tables, codebook).set_index("question")
    counts, seed = model.card["training_data"].get("label_counts"), model.card["seed"]
    evaluation: dict = {"method": HELD_OUT, "questions": {}, "skipped": {}}
    if model.stance is not None and len(data.stance):
        targets = list(data.stance["target"])
        baselines = _stance_baselines(counts[STANCE], targets) if counts else {}
        X = data.stance[["text", "target", "mentions"]]
        answers = _held_out(model.stance, X, list(data.stance["label"]), baselines)
        labels = [s.id for s in codebook.stance]
        evaluation["questions"].update(_stance_scores(data.stance, answers, labels, codebook, human, seed))
    else:
        evaluation["skipped"][STANCE] = "no stance model or no stance labels"
    if model.frames is not None and len(data.frames):
        baselines = _frame_baselines(counts[FRAMES], len(data.frames)) if counts else {}
        answers = _held_out(model.frames, list(data.frames["text"]), list(data.frames["labels"]), baselines, True)
        labels = [f.id for f in codebook.frames]
        evaluation["questions"][FRAMES] = _frame_scores(data.frames, answers, labels, human, seed)
    else:
        evaluation["skipped"][FRAMES] = "no frames model or no frame labels"
    if model.primary is not None and len(data.primary):
        baselines = _primary_baselines(counts[PRIMARY], len(data.primary)) if counts else {}
        answers = _held_out(model.primary, list(data.primary["text"]), list(data.primary["label"]), baselines)
        labels = [f.id for f in codebook.frames]
        evaluation["questions"][PRIMARY] = _primary_scores(data.primary, answers, labels, human, seed)
    else:
        evaluation["skipped"][PRIMARY] = "no primary-frame model or no primary-frame labels"
    evaluation["gate"] = gate(evaluation, codebook)
    return evaluation
