"""Calibrated probabilities: a map fitted on cross-validated predictions and applied to a model's raw ones.

A single-label question (stance, primary frame) is calibrated by temperature scaling: the raw probabilities,
raised to `1 / temperature` and normalised again. A multi-label question (frames) is calibrated per label by
Platt scaling of the raw probability's log-odds: `sigmoid(slope * logit(p) + intercept)`. The fitted map is
a plain dict of numbers, so a model file holds it without any new type.

How well probabilities are calibrated is measured by the expected calibration error (ECE) over equal-width
bins: of the top class's probability for a single-label question, of every label's probability for a
multi-label one.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import logsumexp

EPSILON = 1e-6
BINS = 15
TEMPERATURES = (0.05, 20.0)  # the range searched for a temperature
RIDGE = 1.0  # a Gaussian prior on a Platt map's slope and intercept, centred on the identity
SHRINK = 10  # a label's Platt map moves from the identity by m / (m + SHRINK), m its rarer outcome's count


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return np.log(p) - np.log1p(-p)


def _tempered_logs(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Log-probabilities after temperature scaling, normalised over each row."""
    logs = np.log(np.clip(probabilities, EPSILON, 1.0)) / temperature
    return logs - logsumexp(logs, axis=1, keepdims=True)


def apply_calibration(calibration: dict | None, probabilities: np.ndarray) -> np.ndarray:
    """The calibrated probabilities for raw ones (returned as they are when `calibration` is None)."""
    if calibration is None:
        return probabilities
    if calibration["kind"] == "temperature":
        return np.exp(_tempered_logs(probabilities, calibration["temperature"]))
    if calibration["kind"] == "platt":
        slope, intercept = np.asarray(calibration["slope"]), np.asarray(calibration["intercept"])
        return 1 / (1 + np.exp(-(slope * _logit(probabilities) + intercept)))
    raise ValueError(f"unknown calibration {calibration['kind']!r}")


def fit_calibration(raw: np.ndarray, truth: np.ndarray, multi_label: bool) -> dict:
    """The calibration map that makes `raw` probabilities (rows × classes) match `truth`.

    Single-label: `truth` holds each row's class as a column index of `raw`; the temperature minimises the
    negative log-likelihood. Multi-label: `truth` is a 0/1 matrix shaped like `raw`; each label gets a Platt
    map, fitted with Platt's smoothed targets and a prior toward the identity, then shrunk toward the
    identity by how many examples its rarer outcome has, so that a label with few positives stays near it.
    """
    raw, truth = np.asarray(raw, dtype=float), np.asarray(truth)
    if not multi_label:
        rows = np.arange(len(truth))

        def loss(log_temperature: float) -> float:
            return -float(np.mean(_tempered_logs(raw, np.exp(log_temperature))[rows, truth]))

        found = minimize_scalar(loss, bounds=np.log(TEMPERATURES), method="bounded")
        return {"kind": "temperature", "temperature": float(np.exp(found.x))}
    fitted = [_platt(_logit(raw[:, j]), truth[:, j].astype(float)) for j in range(raw.shape[1])]
    return {"kind": "platt", "slope": [s for s, _ in fitted], "intercept": [b for _, b in fitted]}


def _platt(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """One label's shrunk Platt map (slope, intercept) from raw log-odds `x` and 0/1 outcomes `y`."""
    positives = y.sum()
    negatives = len(y) - positives
    target = np.where(y == 1, (positives + 1) / (positives + 2), 1 / (negatives + 2))

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        slope, intercept = params
        z = slope * x + intercept
        residual = 1 / (1 + np.exp(-z)) - target
        value = np.sum(np.logaddexp(0, z) - target * z) + RIDGE / 2 * ((slope - 1) ** 2 + intercept**2)
        gradient = np.array([residual @ x + RIDGE * (slope - 1), residual.sum() + RIDGE * intercept])
        return float(value), gradient

    slope, intercept = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B").x
    weight = min(positives, negatives) / (min(positives, negatives) + SHRINK)
    return float(1 + weight * (slope - 1)), float(weight * intercept)


def cross_fitted(raw: np.ndarray, truth: np.ndarray, folds: np.ndarray, multi_label: bool) -> np.ndarray:
    """`raw` calibrated fold by fold, each fold by a map fitted on the other folds' rows only, so that no
    label judges its own calibration. A fold with no other rows stays raw."""
    calibrated = np.array(raw, dtype=float)
    for fold in np.unique(folds):
        mine = folds == fold
        if (~mine).any():
            calibration = fit_calibration(raw[~mine], truth[~mine], multi_label)
            calibrated[mine] = apply_calibration(calibration, raw[mine])
    return calibrated


def reliability(probabilities: np.ndarray, truth: np.ndarray, multi_label: bool, bins: int = BINS) -> list[list]:
    """The reliability curve: per non-empty bin of equal width, `[mean probability, observed frequency, rows]`.

    Single-label (`truth` column indices): the top class's probability against whether it was right.
    Multi-label (`truth` a 0/1 matrix): every label's probability against whether the label applies, pooled.
    """
    probabilities = np.asarray(probabilities, dtype=float)
    if multi_label:
        confidence, outcome = probabilities.ravel(), np.asarray(truth, dtype=float).ravel()
    else:
        confidence = probabilities.max(axis=1)
        outcome = (probabilities.argmax(axis=1) == np.asarray(truth)).astype(float)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    counts = np.bincount(which, minlength=bins)
    mean = np.bincount(which, confidence, minlength=bins)
    observed = np.bincount(which, outcome, minlength=bins)
    filled = np.flatnonzero(counts)
    return [[float(mean[b] / counts[b]), float(observed[b] / counts[b]), int(counts[b])] for b in filled]


def expected_calibration_error(curve: list[list]) -> float:
    """The mean gap between probability and observed frequency over a reliability curve's bins, weighted by rows."""
    counts = np.array([n for _, _, n in curve], dtype=float)
    gaps = np.array([abs(p - f) for p, f, _ in curve])
    return float(gaps @ counts / counts.sum())
