"""How well each feature setting learns from few labels: test scores at 50, 100, 250, 500, 1,000 labels and all.

For SemEval-2016 Task 6 (stance, F_avg ×100), NewsMTSC real-world (sentiment toward a mentioned person,
macro-F1 ×100) and GVFC (primary frame, accuracy ×100), read from `../shared/benchmarks/` beside the
repository. Each run draws a stratified random sample of the training file (a new one per seed), fits the
estimator with its default parameters, and scores the whole test file once. Printed per data set: for each
setting and size, the mean and range over the seeds, and the mean training time (encoding included: each
text is encoded once per process, so the first fit that meets a text pays for it).

    .venv/bin/python benchmarks/learning_curves.py [--data semeval,newsmtsc,gvfc]
        [--features tfidf,tfidf+embeddings,tfidf+target-embeddings] [--sizes 50,100,250,500,1000,all]
        [--seeds 3]

SemEval's targets are found in the tweets by the aliases in `public_data.SEMEVAL_ALIASES` (the way a codebook
names them); NewsMTSC gives each target's offsets. `tfidf+target-embeddings` on GVFC (no targets) is the same
as `tfidf+embeddings`, so it is not run there.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import numpy as np
from public_data import BENCHMARKS, DATA, choices, embeddings_available, read
from sklearn.model_selection import train_test_split

from models.features import FEATURES

SIZES = ("50", "100", "250", "500", "1000", "all")


@dataclass
class Point:
    """One setting at one size: the seeds' scores and training times."""

    scores: list[float]
    seconds: list[float]


def sample(y, size: str, seed: int) -> np.ndarray:
    """Row numbers of a stratified random sample of `size` rows (all of them for "all")."""
    rows = np.arange(len(y))
    if size == "all" or int(size) >= len(y):
        return rows
    labels = np.asarray([str(v) for v in y])
    # Classes too rare to be stratified on are drawn like any other row.
    counts = {label: int((labels == label).sum()) for label in set(labels)}
    strata = np.where([counts[label] >= 2 for label in labels], labels, "rare")
    chosen, _ = train_test_split(rows, train_size=int(size), stratify=strata, random_state=seed)
    return np.sort(chosen)


def curve(key: str, setting: str, sizes: list[str], seeds: int) -> dict[str, Point]:
    """Scores and training times of one setting on one data set, per size."""
    benchmark = BENCHMARKS[key][0]
    folder = DATA / benchmark.folder
    X, y = benchmark.load(read(folder, "train"))
    X_test, y_test = benchmark.load(read(folder, "test"))
    points = {}
    for size in sizes:
        point = Point([], [])
        for seed in range(seeds):
            rows = sample(y, size, seed)
            X_part = X.iloc[rows].reset_index(drop=True) if hasattr(X, "iloc") else [X[i] for i in rows]
            start = time.perf_counter()
            model = benchmark.make(setting).set_params(random_state=seed).fit(X_part, np.asarray(y)[rows])
            point.seconds.append(time.perf_counter() - start)
            scale = 100 if benchmark.decimals == 3 else 1  # accuracy as a percentage, like the F1 figures
            point.scores.append(scale * benchmark.score(y_test, benchmark.predict(model, X_test)))
            if size == "all" or int(size) >= len(y):
                break  # every seed would see the same rows
        points[size] = point
        print(f"  {setting} {size}: {np.mean(point.scores):.2f}", file=sys.stderr, flush=True)
    return points


def print_table(key: str, results: dict[str, dict[str, Point]], sizes: list[str], seeds: int) -> None:
    """One row per size, one column group per setting: mean [min–max] and mean training seconds."""
    benchmark = BENCHMARKS[key][0]
    percent = " as a percentage" if benchmark.decimals == 3 else ""
    print(f"\n## {benchmark.name}: test {benchmark.metric}{percent}; {seeds} seeds")
    header = f"{'labels':>6}"
    for setting in results:
        header += f" | {setting:>30}"
    print(header)
    print(f"{'':>6}" + "".join(f" | {'mean [min–max]':>20} {'train s':>9}" for _ in results))
    for size in sizes:
        line = f"{size:>6}"
        for points in results.values():
            p = points[size]
            span = f"{np.mean(p.scores):.1f} [{min(p.scores):.1f}–{max(p.scores):.1f}]"
            line += f" | {span:>20} {np.mean(p.seconds):>9.1f}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=lambda v: choices(v, list(BENCHMARKS)), default=list(BENCHMARKS))
    parser.add_argument("--features", type=lambda v: choices(v, FEATURES), default=list(FEATURES))
    parser.add_argument("--sizes", type=lambda v: choices(v, SIZES), default=list(SIZES))
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"skipped: the public benchmark data is missing ({DATA} not found; it lives in ../shared/benchmarks)")
        sys.exit(0)
    settings = [s for s in args.features if s == "tfidf" or embeddings_available()]
    if skipped := sorted(set(args.features) - set(settings)):
        print(f"not run: {', '.join(skipped)} (pip install 'framestance[embeddings]')")
    start = time.perf_counter()
    for key in args.data:
        results = {
            setting: curve(key, setting, args.sizes, args.seeds)
            for setting in settings
            if not (key == "gvfc" and setting == "tfidf+target-embeddings")
        }
        print_table(key, results, args.sizes, args.seeds)
    print(f"\ntotal time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
