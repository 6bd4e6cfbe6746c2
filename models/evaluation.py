"""How good a model's answers are: per question macro-F1, stance F_avg, per-class figures, confusion matrices."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

FAVOR, AGAINST = "favor", "against"


def single_label_scores(truth, predicted, labels: list[str]) -> dict:
    """Scores of one-label answers: accuracy, macro-F1 over the labels that occur, F_avg where it applies."""
    truth, predicted = np.asarray(truth, dtype=object), np.asarray(predicted, dtype=object)
    present = [label for label in labels if label in set(truth) | set(predicted)]
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=present, zero_division=0)
    scores = {
        "n": len(truth),
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(f1_score(truth, predicted, labels=present, average="macro", zero_division=0)),
        "per_class": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(present, precision, recall, f1, support, strict=True)
        },
        "labels": present,
        "confusion": confusion_matrix(truth, predicted, labels=present).tolist(),
    }
    if FAVOR in labels and AGAINST in labels:
        pair = f1_score(truth, predicted, labels=[FAVOR, AGAINST], average=None, zero_division=0)
        scores["f_avg"] = float(np.mean(pair))
    return scores


def multi_label_scores(truth: np.ndarray, predicted: np.ndarray, labels: list[str]) -> dict:
    """Scores of several-labels answers (0/1 matrices over `labels`): micro- and macro-F1, per-label figures."""
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, zero_division=0)
    occurring = support > 0
    return {
        "n": int(truth.shape[0]),
        "micro_f1": float(f1_score(truth, predicted, average="micro", zero_division=0)),
        "macro_f1": float(np.mean(f1[occurring])) if occurring.any() else float("nan"),
        "per_class": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
        "labels": list(labels),
    }
