"""How far annotators agree, question by question: percent agreement, Krippendorff's alpha, Cohen's kappa per
pair of annotators, each annotator against the majority of the others, and span F1 for highlighted cues.

Items are passages (`passage_id`), so a passage labeled in several exports counts once. When one annotator
labeled a passage more than once, only their most recently updated annotation counts.
"""

from __future__ import annotations

import math
from collections import Counter
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from annotation.codebook import Codebook
from annotation.questions import MULTI, SINGLE, SPANS, Question, questions_from_codebook
from annotation.tables import LabelTables, indicator_column

NOMINAL, BINARY, SPAN = "nominal", "binary", "spans"
BASE_COLUMNS = ("question", "kind", "items", "annotators", "percent_agreement", "alpha")
SPAN_F1_COLUMNS = ("span_f1_exact", "span_f1_overlap")
THRESHOLDS = ((0.667, "0.667: tentative conclusions"), (0.8, "0.8: reliable"))
# Okabe–Ito colours, which stay distinct under the common forms of colour blindness.
BLUE, VERMILLION, GREEN, GREY = "#0072B2", "#D55E00", "#009E73", "#555555"


def agreement(tables: LabelTables, codebook: Codebook | None = None) -> pd.DataFrame:
    """Agreement per question, one row for each question with an item labeled by two or more annotators.

    Rows: every single-choice question (kind `nominal`); every label of every multiple-choice question as a
    yes/no item named by its indicator column (kind `binary`), counting only annotations that answered the
    question (an empty list answers "no" to every label); and every spans question last (kind `spans`).
    Columns: `question`, `kind`, `items` (items with two or more annotators), `annotators` (distinct
    annotators in those items), `percent_agreement` (mean share of agreeing pairs per item), `alpha`
    (Krippendorff's nominal alpha), `kappa_<a>_<b>` (Cohen's kappa on the items both annotators labeled),
    `vs_majority_<a>` (how often an annotator matches the strict majority of the others on an item), and for
    spans `span_f1_exact` and `span_f1_overlap` (see `span_f1`). A value that cannot be computed is NaN.
    """
    questions = questions_from_codebook(codebook) if codebook is not None else tables.questions
    annotations = one_per_annotator(tables.annotations)
    rows, span_rows = [], []
    for question in questions.values():
        if question.kind == SINGLE:
            rows.append(_choice_row(question.name, NOMINAL, _single_votes(annotations, question)))
        elif question.kind == MULTI:
            for label in question.labels:
                votes = _label_votes(annotations, question, label)
                rows.append(_choice_row(indicator_column(question.name, label), BINARY, votes))
        elif question.kind == SPANS:
            span_rows.append(_span_row(question.name, annotations, tables.spans))
    kept = [row for row in rows + span_rows if row is not None]
    if not kept:
        return pd.DataFrame(columns=list(BASE_COLUMNS))
    annotators = _sorted_ids({a for row in kept for a in row.pop("_annotators")})
    columns = [*BASE_COLUMNS]
    columns += [f"kappa_{a}_{b}" for a, b in combinations(annotators, 2)]
    columns += [f"vs_majority_{a}" for a in annotators]
    if span_rows:
        columns += SPAN_F1_COLUMNS
    return pd.DataFrame(kept).reindex(columns=columns)


def one_per_annotator(annotations: pd.DataFrame) -> pd.DataFrame:
    """The annotations with one per passage and annotator: the most recently updated (then highest id)."""
    missing = [c for c in ("passage_id", "annotator", "annotation_id") if c not in annotations.columns]
    if missing:
        raise ValueError(f"the annotations table lacks the column(s) {', '.join(missing)}")
    order = [c for c in ("updated_at", "annotation_id") if c in annotations.columns]
    ordered = annotations.sort_values(order, kind="stable", na_position="first")
    latest = ordered.drop_duplicates(["passage_id", "annotator"], keep="last")
    return latest.sort_index()


def span_f1(first: list[list[tuple]], second: list[list[tuple]], overlap: bool = False) -> float:
    """F1 between two annotators' spans, micro-averaged over the items both labeled.

    Each argument holds, item by item, one annotator's spans as `(start, end, label)`. Exact matching needs
    the same start, end and label; overlap matching needs the same label and overlapping character ranges,
    each span matched at most once (a maximum matching). NaN when neither annotator marked any span.
    """
    matched = total = 0
    for a, b in zip(first, second, strict=True):
        matched += _overlap_matches(a, b) if overlap else sum((Counter(a) & Counter(b)).values())
        total += len(a) + len(b)
    return 2 * matched / total if total else math.nan


def format_agreement(frame: pd.DataFrame) -> str:
    """A compact text table of an `agreement` frame: items, percent agreement, alpha and mean pairwise kappa."""
    kappas = [c for c in frame.columns if c.startswith("kappa_")]
    header = f"{'question':<32} {'kind':<8} {'items':>5} {'% agree':>8} {'alpha':>6} {'kappa':>6}"
    lines = [header, "-" * len(header)]
    notes = []
    for _, row in frame.iterrows():
        kappa = row[kappas].astype(float).mean() if kappas else math.nan
        lines.append(
            f"{row['question']:<32} {row['kind']:<8} {row['items']:>5} {_number(row['percent_agreement'], 100, 8)}"
            f" {_number(row['alpha'], 1, 6)} {_number(kappa, 1, 6)}"
        )
        if row["kind"] == SPAN:
            notes.append(
                f"{row['question']}: span F1 {_number(row['span_f1_exact'], 1, 0).strip()} exact, "
                f"{_number(row['span_f1_overlap'], 1, 0).strip()} overlapping"
            )
    return "\n".join(lines + notes)


def plot_agreement(frame: pd.DataFrame, path: str | Path) -> None:
    """Save a PNG chart of an `agreement` frame: alpha per question as bars, percent agreement (and span F1
    for spans questions) as markers, with the usual reliability thresholds marked."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if frame.empty:
        raise ValueError("no agreement to plot: no question has an item labeled by two or more annotators")
    names = list(frame["question"])[::-1]  # first question at the top
    rows = frame.iloc[::-1]
    y = np.arange(len(names))
    alpha = rows["alpha"].astype(float).to_numpy()
    figure = Figure(figsize=(8, 2.4 + 0.32 * len(names)), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.barh(y, np.nan_to_num(alpha), color=BLUE, height=0.6, label="Krippendorff's alpha")
    for position, value in zip(y, alpha, strict=True):
        if not math.isnan(value):
            ax.annotate(
                f"{value:.2f}",
                (max(value, 0.0), position),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize="x-small",
                color=BLUE,
            )
    ax.plot(rows["percent_agreement"].astype(float), y, "D", color=VERMILLION, label="percent agreement")
    if "span_f1_overlap" in rows:
        ax.plot(rows["span_f1_overlap"].astype(float), y, "s", color=GREEN, label="span F1 (overlap)")
    for (value, text), style in zip(THRESHOLDS, ("--", ":"), strict=True):
        ax.axvline(value, color=GREY, linestyle=style, linewidth=1, label=text)
    ax.set_yticks(y, names)
    ax.set_xlim(min(0.0, float(np.nanmin(alpha, initial=0.0))) - 0.02, 1.08)
    ax.set_xlabel("agreement (alpha; share of agreeing pairs; F1)")
    ax.set_ylabel("question")
    ax.set_title("Inter-annotator agreement per question")
    figure.legend(loc="outside lower center", ncols=3, fontsize="small", frameon=False)
    figure.savefig(Path(path), format="png", dpi=150)


def _single_votes(annotations: pd.DataFrame, question: Question) -> pd.DataFrame:
    """passage_id, annotator, value for every annotation that answered a single-choice question."""
    answers = _column(annotations, question.name)
    votes = annotations.loc[answers.notna(), ["passage_id", "annotator"]].copy()
    votes["value"] = answers[answers.notna()].astype(str)
    return votes


def _label_votes(annotations: pd.DataFrame, question: Question, label: str) -> pd.DataFrame:
    """passage_id, annotator, 0/1 for one label of a multiple-choice question, among annotations answering it."""
    lists = _column(annotations, question.name)
    answered = lists.map(lambda value: isinstance(value, (list, tuple, np.ndarray)))
    votes = annotations.loc[answered, ["passage_id", "annotator"]].copy()
    votes["value"] = lists[answered].map(lambda chosen: int(label in list(chosen)))
    return votes


def _column(annotations: pd.DataFrame, name: str) -> pd.Series:
    if name not in annotations.columns:
        raise ValueError(f"the annotations table has no column {name!r}; do the tables and codebook match?")
    return annotations[name]


def _choice_row(name: str, kind: str, votes: pd.DataFrame) -> dict | None:
    votes = _shared_items(votes)
    if votes.empty:
        return None
    wide = votes.pivot(index="annotator", columns="passage_id", values="value")
    row = {
        "question": name,
        "kind": kind,
        "items": wide.shape[1],
        "annotators": wide.shape[0],
        "percent_agreement": float(np.mean([_pair_share(wide[item].dropna()) for item in wide.columns])),
        "alpha": _alpha(wide),
        "_annotators": list(wide.index),
    }
    for a, b in combinations(_sorted_ids(wide.index), 2):
        row[f"kappa_{a}_{b}"] = _kappa(wide.loc[a], wide.loc[b])
    for annotator in wide.index:
        row[f"vs_majority_{annotator}"] = _vs_majority(wide, annotator)
    return row


def _shared_items(votes: pd.DataFrame) -> pd.DataFrame:
    """The votes on items that two or more annotators labeled."""
    counts = votes.groupby("passage_id")["annotator"].transform("nunique")
    return votes[counts >= 2]


def _pair_share(values: pd.Series) -> float:
    """The share of annotator pairs on one item that gave the same answer."""
    n = len(values)
    same = sum(c * (c - 1) for c in values.value_counts())
    return same / (n * (n - 1))


def _alpha(wide: pd.DataFrame) -> float:
    import krippendorff

    codes = {value: i for i, value in enumerate(pd.unique(wide.to_numpy().ravel())) if not pd.isna(value)}
    if len(codes) < 2:
        return math.nan  # one value everywhere: alpha is undefined
    data = wide.apply(lambda column: column.map(codes)).to_numpy(dtype=float)
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def _kappa(a: pd.Series, b: pd.Series) -> float:
    from sklearn.metrics import cohen_kappa_score

    both = a.notna() & b.notna()
    first, second = a[both].astype(str), b[both].astype(str)
    if both.sum() < 2 or len(set(first) | set(second)) < 2:
        return math.nan  # too few shared items, or one value everywhere: kappa is undefined
    return float(cohen_kappa_score(first, second))


def _vs_majority(wide: pd.DataFrame, annotator: str) -> float:
    hits = []
    for item in wide.columns:
        own = wide.at[annotator, item]
        if pd.isna(own):
            continue
        others = wide[item].drop(annotator).dropna()
        if others.empty:
            continue
        top, count = others.value_counts().index[0], others.value_counts().iloc[0]
        if count * 2 > len(others):
            hits.append(own == top)
    return float(np.mean(hits)) if hits else math.nan


def _span_row(name: str, annotations: pd.DataFrame, spans: pd.DataFrame) -> dict | None:
    if name in annotations.columns:
        annotations = annotations[annotations[name].notna()]
    own = spans[spans["prediction_id"].isna() & (spans["control"] == name)]
    by_annotation = {
        annotation_id: list(zip(group["start"], group["end"], group["label"], strict=True))
        for annotation_id, group in own.groupby("annotation_id")
    }
    votes = annotations[["passage_id", "annotator"]].copy()
    votes["value"] = pd.Series(
        [by_annotation.get(a, []) for a in annotations["annotation_id"]], index=votes.index, dtype=object
    )
    votes = _shared_items(votes)
    if votes.empty:
        return None
    wide = votes.pivot(index="annotator", columns="passage_id", values="value")
    scores: dict[str, list[float]] = {"exact": [], "overlap": []}
    for a, b in combinations(wide.index, 2):
        both = wide.loc[a].notna() & wide.loc[b].notna()
        if both.any():
            first, second = list(wide.loc[a, both]), list(wide.loc[b, both])
            scores["exact"].append(span_f1(first, second))
            scores["overlap"].append(span_f1(first, second, overlap=True))
    return {
        "question": name,
        "kind": SPAN,
        "items": wide.shape[1],
        "annotators": wide.shape[0],
        "percent_agreement": math.nan,
        "alpha": math.nan,
        "span_f1_exact": _nanmean(scores["exact"]),
        "span_f1_overlap": _nanmean(scores["overlap"]),
        "_annotators": list(wide.index),
    }


def _overlap_matches(first: list[tuple], second: list[tuple]) -> int:
    """The most pairs of same-label, overlapping spans, each span used at most once."""
    from scipy.optimize import linear_sum_assignment

    if not first or not second:
        return 0
    fits = np.array([[la == lb and sa < eb and sb < ea for sb, eb, lb in second] for sa, ea, la in first])
    rows, cols = linear_sum_assignment(fits, maximize=True)
    return int(fits[rows, cols].sum())


def _nanmean(values: list[float]) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return float(np.mean(kept)) if kept else math.nan


def _sorted_ids(ids) -> list[str]:
    """Annotator ids in natural order: numeric ids by number, then the rest alphabetically."""
    return sorted(ids, key=lambda a: (0, int(a), "") if str(a).isdigit() else (1, 0, str(a)))


def _number(value: float, scale: float, width: int) -> str:
    return f"{'—':>{width}}" if pd.isna(value) else f"{value * scale:>{width}.{1 if scale == 100 else 3}f}"
