"""How good a model's answers are: per question macro-F1, stance F_avg, per-class figures, confusion matrices,
and bootstrap intervals over articles for the model's figures, the baselines' and their differences."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

FAVOR, AGAINST = "favor", "against"
REPLICATES = 1000  # bootstrap replicates
LEVEL = 0.90  # of the bootstrap intervals


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


def single_label_metrics(confusion: np.ndarray, labels: list[str]) -> dict[str, np.ndarray]:
    """Accuracy, macro-F1 (over the labels that occur) and F_avg where it applies, of each confusion matrix in a
    stack shaped (..., gold, predicted) over `labels`; the same figures `single_label_scores` gives."""
    hits = np.diagonal(confusion, axis1=-2, axis2=-1)
    occurring = confusion.sum(axis=-1) + confusion.sum(axis=-2)
    f1 = np.divide(2 * hits, occurring, out=np.zeros(occurring.shape), where=occurring > 0)
    metrics = {
        "accuracy": hits.sum(axis=-1) / confusion.sum(axis=(-2, -1)),
        "macro_f1": f1.sum(axis=-1) / (occurring > 0).sum(axis=-1),
    }
    if FAVOR in labels and AGAINST in labels:
        metrics["f_avg"] = (f1[..., labels.index(FAVOR)] + f1[..., labels.index(AGAINST)]) / 2
    return metrics


def multi_label_metrics(hits: np.ndarray, false_alarms: np.ndarray, misses: np.ndarray) -> dict[str, np.ndarray]:
    """Micro- and macro-F1 (over the labels that occur in the gold labels) from per-label counts shaped
    (..., labels); the same figures `multi_label_scores` gives."""
    wrong = false_alarms + misses
    total = 2 * hits.sum(axis=-1) + wrong.sum(axis=-1)
    f1 = np.divide(2 * hits, 2 * hits + wrong, out=np.zeros(hits.shape), where=2 * hits + wrong > 0)
    occurring = (hits + misses) > 0
    with np.errstate(invalid="ignore"):
        return {
            "micro_f1": np.divide(2 * hits.sum(axis=-1), total, out=np.zeros(total.shape), where=total > 0),
            "macro_f1": (f1 * occurring).sum(axis=-1) / occurring.sum(axis=-1),
        }


def article_weights(groups, replicates: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's article as a number, and per bootstrap replicate how often each article was drawn (articles
    resampled with replacement, as many as there are)."""
    codes, articles = pd.factorize(pd.Series(list(groups), dtype=object))
    draws = np.random.default_rng(seed).multinomial(
        len(articles), np.full(len(articles), 1 / len(articles)), replicates
    )
    return codes, draws.astype(float)


def compare_answers(truth, answers: dict[str, list], groups, labels: list[str], multi_label: bool, seed: int) -> dict:
    """The figures of several sets of answers to the same rows (the model's under "model", then the baselines'),
    each with a bootstrap interval over articles, and the model's difference from the better baseline per figure.

    Single-label answers are labels; multi-label ones are label lists. Replicates resample the articles
    (`groups`) with replacement and are shared by every set of answers, so the differences are paired. With
    one article there is nothing to resample and no interval.
    """
    codes, draws = article_weights(groups, REPLICATES, seed)
    counts = {
        name: _article_counts(truth, given, codes, draws.shape[1], labels, multi_label)
        for name, given in answers.items()
    }
    figures = {}
    for name, per_article in counts.items():
        point = _metrics(tuple(a.sum(axis=0) for a in per_article), labels, multi_label)
        replicated = _metrics(tuple(np.tensordot(draws, a, axes=1) for a in per_article), labels, multi_label)
        figures[name] = (point, replicated)
    resampled = draws.shape[1] > 1
    result = {
        "scores": {name: {m: _number(v) for m, v in point.items()} for name, (point, _) in figures.items()},
        "intervals": {
            name: {m: _interval(v) if resampled else None for m, v in replicated.items()}
            for name, (_, replicated) in figures.items()
        },
        "difference": {},
        "bootstrap": {"replicates": REPLICATES, "level": LEVEL, "articles": int(draws.shape[1]), "seed": seed},
    }
    model_point, model_replicated = figures["model"]
    for metric in model_point:
        better = max((name for name in answers if name != "model"), key=lambda name: figures[name][0][metric])
        result["difference"][metric] = {
            "baseline": better,
            "value": _number(model_point[metric] - figures[better][0][metric]),
            "interval": _interval(model_replicated[metric] - figures[better][1][metric]) if resampled else None,
        }
    return result


def _article_counts(truth, given, codes, articles: int, labels: list[str], multi_label: bool) -> tuple:
    """Per article: the confusion matrix (single-label), or per label the hits, false alarms and misses."""
    if multi_label:
        gold, chosen = _indicators(truth, labels), _indicators(given, labels)
        outcomes = (gold & chosen, ~gold & chosen, gold & ~chosen)
        return tuple(_per_article(o.astype(float), codes, articles) for o in outcomes)
    index, k = {label: i for i, label in enumerate(labels)}, len(labels)
    cells = np.array([index[t] * k + index[g] for t, g in zip(truth, given, strict=True)], dtype=int)
    return (np.bincount(codes * k * k + cells, minlength=articles * k * k).reshape(articles, k, k).astype(float),)


def _indicators(rows, labels: list[str]) -> np.ndarray:
    index = {label: j for j, label in enumerate(labels)}
    out = np.zeros((len(rows), len(labels)), dtype=bool)
    for i, chosen in enumerate(rows):
        out[i, [index[label] for label in chosen]] = True
    return out


def _per_article(values: np.ndarray, codes: np.ndarray, articles: int) -> np.ndarray:
    """The sums of `values` (rows × columns) over each article's rows."""
    return np.stack([np.bincount(codes, column, minlength=articles) for column in values.T], axis=1)


def _metrics(counts: tuple, labels: list[str], multi_label: bool) -> dict[str, np.ndarray]:
    return multi_label_metrics(*counts) if multi_label else single_label_metrics(counts[0], labels)


def _interval(values: np.ndarray) -> list[float] | None:
    """The central `LEVEL` percentile interval of bootstrap values (None if no replicate has a value)."""
    values = values[~np.isnan(values)]
    if not len(values):
        return None
    low, high = np.percentile(values, [50 * (1 - LEVEL), 50 * (1 + LEVEL)])
    return [float(low), float(high)]


def _number(value) -> float | None:
    return None if np.isnan(value) else float(value)
