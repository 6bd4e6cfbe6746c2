"""How well calibrated the stance models' probabilities are, before and after calibration, on held-out data.

For SemEval-2016 Task 6 and NewsMTSC (read from `../shared/benchmarks/`): the stance model is fitted on the
training file; the calibration map is fitted, as `framestance train` fits it, on out-of-fold probabilities of
the training file (5 folds); the test file is scored once, raw and calibrated. For the bundled sample: the
figures `framestance train` itself records, out of fold by article and cross-fitted (the map that calibrates a
fold is fitted on the other folds). Printed per data set: the expected calibration error (15 equal-width bins
of the top class's probability; every label's for frames), the mean probability and the accuracy, before and
after, and the temperature.

    .venv/bin/python benchmarks/calibration.py [--data semeval,newsmtsc,sample]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold

from models.calibration import apply_calibration, expected_calibration_error, fit_calibration, reliability
from models.estimators import StanceClassifier

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "benchmarks"
SEED = 0
# The C each data set's public benchmark chose (benchmarks/public_data.py).
SETS = {
    "semeval": ("semeval2016_task6", ["text", "target"], 2.0),
    "newsmtsc": ("newsmtsc", ["text", "target", "target_from", "target_to"], 1.0),
}


def figures(probabilities: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    """ECE, mean top-class probability, accuracy."""
    ece = expected_calibration_error(reliability(probabilities, truth, multi_label=False))
    return ece, float(probabilities.max(axis=1).mean()), float((probabilities.argmax(axis=1) == truth).mean())


def public(name: str) -> tuple[str, tuple, tuple, float]:
    folder, columns, C = SETS[name]
    train = pd.read_csv(DATA / folder / "train.csv", keep_default_na=False)
    test = pd.read_csv(DATA / folder / "test.csv", keep_default_na=False)
    model = StanceClassifier(C=C, random_state=SEED)
    X, y = train[columns].reset_index(drop=True), train["label"].to_numpy()
    classes = np.unique(y)
    truth = np.searchsorted(classes, y)
    out_of_fold = np.zeros((len(y), len(classes)))
    for fit_rows, held in StratifiedKFold(5, shuffle=True, random_state=SEED).split(X, y):
        out_of_fold[held] = (
            clone(model)
            .fit(X.iloc[fit_rows].reset_index(drop=True), y[fit_rows])
            .predict_proba(X.iloc[held].reset_index(drop=True))
        )
    calibration = fit_calibration(out_of_fold, truth, multi_label=False)
    raw = model.fit(X, y).predict_proba(test[columns].reset_index(drop=True))
    test_truth = np.searchsorted(classes, test["label"].to_numpy())
    before, after = figures(raw, test_truth), figures(apply_calibration(calibration, raw), test_truth)
    return f"{name} (test, {len(test):,} rows)", before, after, calibration["temperature"]


def sample() -> list[tuple[str, tuple, tuple, float | None]]:
    from annotation.codebook import load_codebook, shipped_codebooks
    from annotation.convert import read_export
    from annotation.sample import EXAMPLE_CODEBOOK, sample_file
    from models.training import train

    path = shipped_codebooks()[EXAMPLE_CODEBOOK]
    codebook = load_codebook(path)
    model, evaluation = train(read_export(sample_file("export.json"), codebook=codebook), codebook, path.read_text())
    rows = []
    for question, scores in evaluation["questions"].items():
        calibration = scores.get("calibration")
        if not calibration:
            continue
        estimator = model.frames if question == "frames" else model.primary if question == "primary_frame" else None
        fitted = (estimator or model.stance).calibration_
        temperature = fitted.get("temperature")
        accuracy = scores.get("accuracy", np.nan)
        before = (calibration["ece_before"], mean_probability(calibration["reliability_before"]), accuracy)
        after = (calibration["ece_after"], mean_probability(calibration["reliability_after"]), accuracy)
        rows.append((f"sample: {question} (out of fold, {scores['n']} rows)", before, after, temperature))
    return rows


def mean_probability(curve: list[list]) -> float:
    """The mean probability over a reliability curve's bins, weighted by rows (the top class's, or every
    label's for frames)."""
    return float(sum(p * n for p, _, n in curve) / sum(n for _, _, n in curve))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="semeval,newsmtsc,sample")
    args = parser.parse_args()
    rows = []
    for name in args.data.split(","):
        if name == "sample":
            rows += sample()
        elif not (DATA / SETS[name][0]).exists():
            print(f"{name}: skipped, {DATA / SETS[name][0]} is absent")
        else:
            rows.append(public(name))
    header = ("data", "ECE before", "ECE after", "conf. before", "conf. after", "accuracy", "T")
    widths = (58, 10, 10, 12, 11, 8, 6)
    print(" ".join(f"{h:{'<' if i == 0 else '>'}{w}}" for i, (h, w) in enumerate(zip(header, widths, strict=True))))
    for name, before, after, temperature in rows:
        cells = [name, *(f"{v:.3f}" for v in (before[0], after[0], before[1], after[1], before[2]))]
        cells.append(f"{temperature:.2f}" if temperature else "—")
        print(" ".join(f"{c:{'<' if i == 0 else '>'}{w}}" for i, (c, w) in enumerate(zip(cells, widths, strict=True))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
