"""Whether labelling the passages the model is least sure of first beats labelling at random.

Simulates active learning on public data (read from `../shared/benchmarks/` beside the repository) with tfidf
features: SemEval-2016 Task 6 (stance toward five targets, F_avg ×100 on its test file) and GVFC (primary
frame, accuracy on its test file). Each run starts from a small stratified random seed set of the training
file, then repeatedly adds a batch of training rows, chosen either

- ranked: least confident first, confidence being the model's largest class probability (the order of
  `framestance suggest --rank`, whose score is the mean over questions of that probability; one question
  here), or
- random,

retrains, and scores the test file. The budget is the whole training file unless `--budget` caps it. Printed
per data set: both learning curves side by side (mean and standard deviation over the seeds), and the labels
the ranked order needs to reach the score random reaches with the whole budget, as a share of the budget.

    .venv/bin/python benchmarks/active_learning.py [--data semeval,gvfc] [--seeds 3] [--seed-size 50]
        [--batch N] [--budget N] [--plot curves.png]

`--batch` defaults to 100 for SemEval and 50 for GVFC (a smaller file); `--plot` saves the curves as a PNG.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from models.estimators import FrameClassifier, StanceClassifier

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "benchmarks"
N_JOBS = 2
STRATEGIES = ("ranked", "random")
# Okabe-Ito blue and orange: told apart with any colour vision.
COLOURS = {"ranked": "#0072B2", "random": "#E69F00"}


@dataclass
class Task:
    """A data set and what is learnt and scored on it."""

    name: str
    folder: str
    metric: str
    columns: list[str]
    make: Callable[[int], BaseEstimator]
    score: Callable[[np.ndarray, np.ndarray], float]
    strata: Callable[[pd.DataFrame], np.ndarray]
    batch: int
    decimals: int


def f_avg(y_true, y_pred) -> float:
    """SemEval-2016's F_avg ×100: the mean of F1(FAVOR) and F1(AGAINST)."""
    return 100 * f1_score(y_true, y_pred, labels=["FAVOR", "AGAINST"], average="macro", zero_division=0)


TASKS = {
    "semeval": Task(
        name="SemEval-2016 Task 6, subtask A (stance)",
        folder="semeval2016_task6",
        metric="F_avg ×100",
        columns=["text", "target"],
        make=lambda seed: StanceClassifier(random_state=seed),
        score=f_avg,
        # Some targets have very few rows of one stance: the seed set is stratified on both.
        strata=lambda frame: (frame["target"] + "|" + frame["label"]).to_numpy(),
        batch=100,
        decimals=2,
    ),
    "gvfc": Task(
        name="GVFC (primary frame)",
        folder="gvfc",
        metric="accuracy",
        columns=["text"],
        make=lambda seed: FrameClassifier(multi_label=False, random_state=seed),
        score=accuracy_score,
        strata=lambda frame: frame["label"].to_numpy(),
        batch=50,
        decimals=3,
    ),
}


def read(task: Task, split: str) -> pd.DataFrame:
    """One split of a task's data set."""
    return pd.read_csv(DATA / task.folder / f"{split}.csv", keep_default_na=False)


def simulate(task: Task, strategy: str, seed: int, seed_size: int, batch: int, budget: int) -> list[tuple[int, float]]:
    """One learning curve: (labels used, test score) after the seed set and after every batch."""
    train, test = read(task, "train"), read(task, "test")
    X, y = train[task.columns], train["label"].to_numpy()
    X_test, y_test = test[task.columns], test["label"].to_numpy()
    # The pool comes shuffled, so ties in confidence are broken at random too.
    labelled, pool = train_test_split(
        np.arange(len(train)), train_size=seed_size, stratify=task.strata(train), random_state=seed
    )
    rng = np.random.default_rng(seed)
    curve = []
    while True:
        model = task.make(seed).fit(X.iloc[labelled], y[labelled])
        curve.append((len(labelled), task.score(y_test, model.predict(X_test))))
        size = min(batch, budget - len(labelled), len(pool))
        if size <= 0:
            return curve
        if strategy == "ranked":
            confidence = model.predict_proba(X.iloc[pool]).max(axis=1)
            chosen = np.argsort(confidence, kind="stable")[:size]
        else:
            chosen = rng.choice(len(pool), size=size, replace=False)
        labelled = np.concatenate([labelled, pool[chosen]])
        pool = np.delete(pool, chosen)


@dataclass
class Curves:
    """Mean and standard deviation over seeds of each strategy's curve, at the same label counts."""

    labels: np.ndarray
    mean: dict[str, np.ndarray]
    sd: dict[str, np.ndarray]


def summarise(runs: dict[str, list[list[tuple[int, float]]]]) -> Curves:
    """Average the seeds' curves of each strategy."""
    labels = np.array([count for count, _ in runs["random"][0]])
    scores = {strategy: np.array([[s for _, s in curve] for curve in curves]) for strategy, curves in runs.items()}
    return Curves(
        labels=labels,
        mean={strategy: values.mean(axis=0) for strategy, values in scores.items()},
        sd={strategy: values.std(axis=0) for strategy, values in scores.items()},
    )


def print_curves(task: Task, curves: Curves, budget: int, n_train: int) -> None:
    """Both curves side by side, and how many labels ranked needs to reach random's final score."""
    d = task.decimals
    print(f"{'labels':>7}  {'ranked':>16}  {'random':>16}  {'ranked − random':>15}")
    for i, count in enumerate(curves.labels):
        ranked = f"{curves.mean['ranked'][i]:.{d}f} ± {curves.sd['ranked'][i]:.{d}f}"
        random = f"{curves.mean['random'][i]:.{d}f} ± {curves.sd['random'][i]:.{d}f}"
        gain = curves.mean["ranked"][i] - curves.mean["random"][i]
        print(f"{count:>7,}  {ranked:>16}  {random:>16}  {gain:>+15.{d}f}")
    goal = curves.mean["random"][-1]
    whole = "the whole training file" if budget >= n_train else f"a budget of {budget:,} of {n_train:,} rows"
    reached = np.flatnonzero(curves.mean["ranked"] >= goal)
    if reached.size:
        count = curves.labels[reached[0]]
        print(
            f"ranked reaches random's final score ({goal:.{d}f} with {curves.labels[-1]:,} labels, {whole}) "
            f"with {count:,} labels: {count / curves.labels[-1]:.0%} of the budget"
        )
    else:
        print(f"ranked does not reach random's final score ({goal:.{d}f}, {whole}) within the budget")


def plot(results: dict[str, Curves], path: Path) -> None:
    """Save the learning curves, one panel per data set, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4.5), squeeze=False)
    for ax, (key, curves) in zip(axes[0], results.items(), strict=True):
        task = TASKS[key]
        for strategy in STRATEGIES:
            mean, sd = curves.mean[strategy], curves.sd[strategy]
            ax.plot(curves.labels, mean, marker="o", markersize=3, color=COLOURS[strategy], label=strategy)
            ax.fill_between(curves.labels, mean - sd, mean + sd, color=COLOURS[strategy], alpha=0.2, linewidth=0)
        ax.set_title(task.name)
        ax.set_xlabel("training labels used")
        ax.set_ylabel(f"test {task.metric}")
        ax.grid(alpha=0.3)
        ax.legend(title="order of labelling")
    fig.suptitle("Active learning: least confident first vs random (mean ± sd over seeds)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="semeval,gvfc", help="semeval,gvfc")
    parser.add_argument("--seeds", type=int, default=3, help="runs averaged per strategy")
    parser.add_argument("--seed-size", type=int, default=50, help="labels in the stratified random start")
    parser.add_argument("--batch", type=int, help="labels added per round (default: 100 SemEval, 50 GVFC)")
    parser.add_argument("--budget", type=int, help="most labels used (default: the whole training file)")
    parser.add_argument("--plot", type=Path, help="save the curves as a PNG here")
    args = parser.parse_args()
    keys = [key.strip() for key in args.data.split(",") if key.strip()]
    if unknown := [key for key in keys if key not in TASKS]:
        parser.error(f"--data: unknown {', '.join(unknown)}; choose from {', '.join(TASKS)}")
    if not DATA.is_dir():
        print(f"skipped: the public benchmark data is missing ({DATA} not found; it lives in ../shared/benchmarks)")
        sys.exit(0)
    start = time.perf_counter()
    results = {}
    for key in keys:
        task = TASKS[key]
        if not all((DATA / task.folder / f"{split}.csv").is_file() for split in ("train", "test")):
            print(f"\n## {task.name}\nskipped: train.csv or test.csv not found in {DATA / task.folder}")
            continue
        n_train = len(read(task, "train"))
        budget = min(args.budget or n_train, n_train)
        batch = args.batch or task.batch
        print(
            f"\n## {task.name}: test {task.metric}, tfidf; stratified random start of {args.seed_size}, "
            f"batches of {batch}, budget {budget:,} labels; mean ± sd over {args.seeds} seeds"
        )
        jobs = [(strategy, seed) for strategy in STRATEGIES for seed in range(args.seeds)]
        curves = Parallel(n_jobs=N_JOBS)(
            delayed(simulate)(task, strategy, seed, args.seed_size, batch, budget) for strategy, seed in jobs
        )
        runs = {
            strategy: [c for (s, _), c in zip(jobs, curves, strict=True) if s == strategy] for strategy in STRATEGIES
        }
        results[key] = summarise(runs)
        print_curves(task, results[key], budget, n_train)
    if args.plot and results:
        plot(results, args.plot)
        print(f"\nplot: {args.plot}")
    print(f"\ntotal time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
