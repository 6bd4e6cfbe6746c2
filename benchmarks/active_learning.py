"""Whether the order of labelling of `framestance suggest --rank` beats labelling least confident first, and at random.

Simulates active learning on public data (read from `../shared/benchmarks/` beside the repository) with tfidf
features: SemEval-2016 Task 6 (stance toward five targets, F_avg ×100 on its test file), NewsMTSC (sentiment
toward a person mentioned in a news sentence, macro-F1 ×100 over negative/neutral/positive on its real-world
test file) and GVFC (primary frame, accuracy on its test file). Each run starts from a small stratified random
seed set of the training file, then repeatedly adds a batch of training rows, chosen either

- spread: the order of `models.labeling_order` (the order of `framestance suggest --rank` and of the
  prediction scores `framestance studio suggest` writes): the model's doubt (one minus the margin between its
  two most probable classes), spread over clusters of the pool,
- ranked: least confident first, confidence being the model's largest class probability (the old `--rank`
  order), or
- random,

retrains, and scores the test file. The budget is 1,000 labels (GVFC: its whole training file, 1,041 rows)
unless `--budget` caps it. Printed per data set: each strategy's score after every batch from 100 labels on
(mean and range over the seeds), the difference of the means from random, and whether spread is at least as
good as random at every one of those budgets and better at some.

    .venv/bin/python benchmarks/active_learning.py [--data semeval,newsmtsc,gvfc] [--seeds 3] [--seed-size 50]
        [--batch N] [--budget N] [--jobs 2] [--plot curves.png]

`--batch` defaults to 100 for SemEval and NewsMTSC and 50 for GVFC (a smaller file); `--jobs` is how many runs
go at once; `--plot` saves the curves as a PNG.
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
from public_data import f_avg, macro_f1
from sklearn.base import BaseEstimator
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

from models.estimators import FrameClassifier, StanceClassifier
from models.features import transform_unique
from models.labeling_order import doubt, labeling_order

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "benchmarks"
BUDGET = 1000
FROM = 100  # the first budget the goal is judged at
STRATEGIES = ("spread", "ranked", "random")
# Okabe-Ito green, blue and orange: told apart with any colour vision.
COLOURS = {"spread": "#009E73", "ranked": "#0072B2", "random": "#E69F00"}


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
    budget: int | None = BUDGET  # None: the whole training file


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
    "newsmtsc": Task(
        name="NewsMTSC, real-world test (sentiment toward a person)",
        folder="newsmtsc",
        metric="macro-F1 ×100",
        # The targets are mention strings; the offsets say where each one stands.
        columns=["text", "target", "target_from", "target_to"],
        make=lambda seed: StanceClassifier(random_state=seed),
        score=macro_f1,
        strata=lambda frame: frame["label"].to_numpy(),
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
        budget=None,
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
        chosen = pick(strategy, model, X.iloc[pool], size, rng, seed)
        labelled = np.concatenate([labelled, pool[chosen]])
        pool = np.delete(pool, chosen)


def pick(strategy: str, model: BaseEstimator, pool: pd.DataFrame, size: int, rng, seed: int) -> np.ndarray:
    """The positions in the pool of the next `size` rows to label."""
    if strategy == "random":
        return rng.choice(len(pool), size=size, replace=False)
    probabilities = model.predict_proba(pool)
    if strategy == "ranked":
        return np.argsort(probabilities.max(axis=1), kind="stable")[:size]
    features = transform_unique(model.vectorizer_, pool["text"].tolist())
    order, _ = labeling_order(doubt(probabilities), features, groups=size, seed=seed)
    return order[:size]


@dataclass
class Curves:
    """Mean, lowest and highest over seeds of each strategy's curve, at the same label counts."""

    labels: np.ndarray
    mean: dict[str, np.ndarray]
    low: dict[str, np.ndarray]
    high: dict[str, np.ndarray]


def summarise(runs: dict[str, list[list[tuple[int, float]]]]) -> Curves:
    """Average the seeds' curves of each strategy."""
    labels = np.array([count for count, _ in runs["random"][0]])
    scores = {strategy: np.array([[s for _, s in curve] for curve in curves]) for strategy, curves in runs.items()}
    return Curves(
        labels=labels,
        mean={strategy: values.mean(axis=0) for strategy, values in scores.items()},
        low={strategy: values.min(axis=0) for strategy, values in scores.items()},
        high={strategy: values.max(axis=0) for strategy, values in scores.items()},
    )


def print_curves(task: Task, curves: Curves) -> None:
    """Each strategy's mean [range] after every batch from FROM labels on, and the means' differences from
    random."""
    d = task.decimals
    width = 2 * d + 14
    others = [s for s in STRATEGIES if s != "random"]
    head = "".join(f"  {s:>{width}}" for s in STRATEGIES) + "".join(f"  {s + ' − random':>16}" for s in others)
    print(f"{'labels':>7}{head}")
    for i in np.flatnonzero(curves.labels >= FROM):
        cells = "".join(
            f"  {f'{curves.mean[s][i]:.{d}f} [{curves.low[s][i]:.{d}f}, {curves.high[s][i]:.{d}f}]':>{width}}"
            for s in STRATEGIES
        )
        gains = "".join(f"  {curves.mean[s][i] - curves.mean['random'][i]:>+16.{d}f}" for s in others)
        print(f"{curves.labels[i]:>7,}{cells}{gains}")
    print(verdict(task, curves))


def verdict(task: Task, curves: Curves) -> str:
    """Whether spread's mean is at least random's at every budget from FROM labels on, and where it is above."""
    judged = curves.labels >= FROM
    gain = (curves.mean["spread"] - curves.mean["random"])[judged]
    d = task.decimals
    where = f"{int((gain > 0).sum())} of {gain.size} budgets"
    if (gain >= 0).all():
        return f"goal holds: spread ≥ random at every budget from {FROM}, > at {where} (by up to {gain.max():.{d}f})"
    worst = curves.labels[judged][np.argmin(gain)]
    return (
        f"goal NOT met: spread < random at {int((gain < 0).sum())} of {gain.size} budgets "
        f"(worst {gain.min():+.{d}f} at {worst:,} labels); > random at {where}"
    )


def plot(results: dict[str, Curves], path: Path) -> None:
    """Save the learning curves, one panel per data set, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4.5), squeeze=False)
    for ax, (key, curves) in zip(axes[0], results.items(), strict=True):
        task = TASKS[key]
        for strategy in STRATEGIES:
            colour = COLOURS[strategy]
            ax.plot(curves.labels, curves.mean[strategy], marker="o", markersize=3, color=colour, label=strategy)
            low, high = curves.low[strategy], curves.high[strategy]
            ax.fill_between(curves.labels, low, high, color=colour, alpha=0.2, linewidth=0)
        ax.set_title(task.name)
        ax.set_xlabel("training labels used")
        ax.set_ylabel(f"test {task.metric}")
        ax.grid(alpha=0.3)
        ax.legend(title="order of labelling")
    fig.suptitle("Active learning: order of labelling (mean and range over seeds)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="semeval,newsmtsc,gvfc", help="semeval,newsmtsc,gvfc")
    parser.add_argument("--seeds", type=int, default=3, help="runs averaged per strategy")
    parser.add_argument("--seed-size", type=int, default=50, help="labels in the stratified random start")
    parser.add_argument("--batch", type=int, help="labels added per round (default: 100; GVFC 50)")
    parser.add_argument("--budget", type=int, help=f"most labels used (default: {BUDGET:,}; GVFC its whole file)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (default: 2)")
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
        budget = min(args.budget or task.budget or n_train, n_train)
        batch = args.batch or task.batch
        print(
            f"\n## {task.name}: test {task.metric}, tfidf; stratified random start of {args.seed_size}, "
            f"batches of {batch}, budget {budget:,} labels; mean [lowest, highest] over {args.seeds} seeds"
        )
        jobs = [(strategy, seed) for strategy in STRATEGIES for seed in range(args.seeds)]
        curves = Parallel(n_jobs=args.jobs)(
            delayed(simulate)(task, strategy, seed, args.seed_size, batch, budget) for strategy, seed in jobs
        )
        runs = {
            strategy: [c for (s, _), c in zip(jobs, curves, strict=True) if s == strategy] for strategy in STRATEGIES
        }
        results[key] = summarise(runs)
        print_curves(task, results[key])
    if args.plot and results:
        plot(results, args.plot)
        print(f"\nplot: {args.plot}")
    print(f"\ntotal time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
