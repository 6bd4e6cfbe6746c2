"""Gold labels: one settled answer per passage and question, from the annotators' votes, ground truth or an
adjudicator, and Label Studio review tasks for the passages the vote left open.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd

from annotation.agreement import one_per_annotator
from annotation.codebook import Codebook
from annotation.label_config import TEXT
from annotation.questions import MULTI, RATING, SINGLE, SPAN_CHOICE, SPANS, Question, questions_from_codebook
from annotation.tables import LabelTables, indicator_column

MAJORITY, DAWID_SKENE, GROUND_TRUTH, ADJUDICATOR = "majority", "dawid-skene", "ground_truth", "adjudicator"
RULES = (MAJORITY, DAWID_SKENE)
META = ("passage_id", "task_id", "article_id", "annotators", "source", "unresolved")


def gold_labels(
    tables: LabelTables, codebook: Codebook | None = None, rule: str = MAJORITY, adjudicator: str | None = None
) -> pd.DataFrame:
    """One settled row per passage (sorted by `passage_id`).

    Columns: `passage_id`, `task_id` and `article_id` (from the passage's first annotation in table order, so
    from the first export it appears in), `annotators` (how many labeled it), `source` (what settled the row:
    `ground_truth` or `adjudicator` when such an annotation exists for the passage, else the rule),
    `unresolved` (names of the questions left open, in question order), then per question:

    - single choice: the label most annotators chose (a categorical); NaN when the top is tied;
    - multiple choice: the list of labels a strict majority of those who answered chose, and the 0/1 indicator
      columns (nullable; NA where a label is tied, which leaves the indicator column unresolved);
    - rating: the median.

    Text, spans and per-span questions are left out. With `rule="dawid-skene"` the Dawid–Skene model
    (crowd-kit) settles each single-choice question and each multiple-choice label, and nothing is tied. A
    ground-truth annotation settles every question it answers; otherwise `adjudicator`'s annotation does.
    A passage nobody answered a question for gets NaN there, and the question is not counted as unresolved.
    """
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; use one of: {', '.join(RULES)}")
    questions = questions_from_codebook(codebook) if codebook is not None else tables.questions
    annotations = tables.annotations
    _require(annotations, ("task_id", "article_id", "ground_truth"), "the annotations table")
    if adjudicator is not None and adjudicator not in set(annotations["annotator"].astype(str)):
        raise ValueError(f"the adjudicator {adjudicator!r} made no annotation in these tables")
    votes = one_per_annotator(annotations)
    votes = votes.assign(annotator=votes["annotator"].astype(str))
    first = annotations.drop_duplicates("passage_id").set_index("passage_id")
    passages = sorted(first.index)
    overrides, sources = _overrides(annotations, adjudicator, passages, rule)

    columns: dict[str, object] = {
        "passage_id": passages,
        "task_id": first.loc[passages, "task_id"].to_numpy(),
        "article_id": first.loc[passages, "article_id"].to_numpy(),
        "annotators": votes.groupby("passage_id")["annotator"].nunique().reindex(passages).to_numpy(),
        "source": [sources[p] for p in passages],
    }
    open_questions: dict[str, list[str]] = {p: [] for p in passages}
    for question in questions.values():
        if question.kind == SINGLE:
            columns.update(_settle_single(votes, question, rule, overrides, passages, open_questions))
        elif question.kind == MULTI:
            columns.update(_settle_multi(votes, question, rule, overrides, passages, open_questions))
        elif question.kind == RATING:
            columns[question.name] = _settle_rating(votes, question, overrides, passages)
    columns["unresolved"] = [open_questions[p] for p in passages]
    gold = pd.DataFrame(columns)
    return gold[[*META, *(c for c in columns if c not in META)]]


def review_tasks(tables: LabelTables, gold: pd.DataFrame, config: str | None = None) -> list[dict]:
    """Label Studio tasks for the passages with unresolved questions, one prediction per annotator.

    Each task carries the passage's task data plus `data["review"]` naming what to settle. Each prediction has
    `model_version` = the annotator id, a `result` that rebuilds that annotator's choices (single and
    multiple) and spans, and a `score`: the mean, over the unresolved questions the annotator answered, of the
    share of the passage's other annotators who gave the same answer (0 if they answered none of them).
    With `config` (a labeling config) the result items are built and checked by Label Studio's SDK.
    """
    _require(gold, ("passage_id", "task_id", "unresolved"), "the gold table")
    _require(tables.tasks, ("passage_id", "task_id", "data"), "the tasks table")
    interface = None
    if config is not None:
        from label_studio_sdk.label_interface import LabelInterface

        interface = LabelInterface(config)
    questions = tables.questions
    votes = one_per_annotator(tables.annotations)
    spans = tables.spans[tables.spans["prediction_id"].isna()]
    tasks = []
    for row in gold.itertuples(index=False):
        if not row.unresolved:
            continue
        task = tables.tasks[(tables.tasks["passage_id"] == row.passage_id) & (tables.tasks["task_id"] == row.task_id)]
        if task.empty:
            raise ValueError(f"the tasks table has no task {row.task_id} for passage {row.passage_id!r}")
        data = json.loads(task["data"].iloc[0])
        data["review"] = "unresolved: " + ", ".join(row.unresolved)
        passage_votes = votes[votes["passage_id"] == row.passage_id]
        predictions = [
            {
                "model_version": str(annotation["annotator"]),
                "score": _support(annotation, passage_votes, row.unresolved, questions),
                "result": _result(annotation, spans, questions, interface),
            }
            for _, annotation in passage_votes.iterrows()
        ]
        tasks.append({"data": data, "predictions": predictions})
    return tasks


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks the column(s) {', '.join(missing)}")


def _overrides(
    annotations: pd.DataFrame, adjudicator: str | None, passages: list, rule: str
) -> tuple[dict[object, pd.Series], dict[object, str]]:
    """Per passage, the annotation that overrides the vote (ground truth first, then the adjudicator's; the
    most recently updated if several), and what settled each passage."""
    order = [c for c in ("updated_at", "annotation_id") if c in annotations.columns]
    ordered = annotations.sort_values(order, kind="stable", na_position="first")
    truth = ordered[ordered["ground_truth"].fillna(False).astype(bool)].drop_duplicates("passage_id", keep="last")
    overrides, sources = {}, dict.fromkeys(passages, rule)
    if adjudicator is not None:
        judged = ordered[ordered["annotator"].astype(str) == adjudicator].drop_duplicates("passage_id", keep="last")
        for _, annotation in judged.iterrows():
            overrides[annotation["passage_id"]], sources[annotation["passage_id"]] = annotation, ADJUDICATOR
    for _, annotation in truth.iterrows():
        overrides[annotation["passage_id"]], sources[annotation["passage_id"]] = annotation, GROUND_TRUTH
    return overrides, sources


def _column(votes: pd.DataFrame, name: str) -> pd.Series:
    if name not in votes.columns:
        raise ValueError(f"the annotations table has no column {name!r}; do the tables and codebook match?")
    return votes[name]


def _settle_single(votes, question: Question, rule, overrides, passages, open_questions) -> dict[str, pd.Categorical]:
    answers = _column(votes, question.name)
    long = pd.DataFrame({"task": votes["passage_id"], "worker": votes["annotator"], "label": answers.astype(object)})
    long = long[answers.notna()]
    settled, tied = _vote(long, rule)
    for passage, annotation in overrides.items():
        if pd.notna(annotation[question.name]):
            settled[passage] = annotation[question.name]
            tied.discard(passage)
    for passage in passages:
        if passage in tied:
            open_questions[passage].append(question.name)
    labels = list(question.labels) or sorted({str(v) for v in settled.values()})
    return {question.name: pd.Categorical([settled.get(p) for p in passages], categories=labels)}


def _settle_multi(votes, question: Question, rule, overrides, passages, open_questions) -> dict[str, object]:
    lists = _column(votes, question.name)
    answered = lists.map(_is_list)
    indicators = {}
    for label in question.labels:
        name = indicator_column(question.name, label)
        chosen = lists[answered].map(lambda values, label=label: int(label in list(values)))
        long = pd.DataFrame({"task": votes["passage_id"], "worker": votes["annotator"]})[answered].assign(label=chosen)
        settled, tied = _vote(long, rule)
        for passage, annotation in overrides.items():
            if _is_list(annotation[question.name]):
                settled[passage] = int(label in list(annotation[question.name]))
                tied.discard(passage)
        for passage in passages:
            if passage in tied:
                open_questions[passage].append(name)
        indicators[name] = pd.array([settled.get(p) for p in passages], dtype="Int64")
    answered_passages = set(votes.loc[answered, "passage_id"])
    answered_passages |= {p for p, a in overrides.items() if _is_list(a[question.name])}
    picked = {
        label: (indicators[indicator_column(question.name, label)] == 1).fillna(False) for label in question.labels
    }
    chosen_lists = [
        [label for label in question.labels if picked[label][i]] if passage in answered_passages else None
        for i, passage in enumerate(passages)
    ]
    return {question.name: chosen_lists, **indicators}


def _settle_rating(votes, question: Question, overrides, passages) -> pd.Series:
    ratings = pd.to_numeric(_column(votes, question.name), errors="coerce")
    medians = ratings.groupby(votes["passage_id"]).median().to_dict()
    for passage, annotation in overrides.items():
        if pd.notna(annotation[question.name]):
            medians[passage] = float(annotation[question.name])
    return pd.array([medians.get(p, math.nan) for p in passages], dtype="Float64")


def _vote(long: pd.DataFrame, rule: str) -> tuple[dict, set]:
    """The settled label per task (task, worker, label rows) and the tasks whose top is tied."""
    if long.empty:
        return {}, set()
    if rule == DAWID_SKENE:
        return _dawid_skene(long).to_dict(), set()
    settled, tied = {}, set()
    for task, labels in long.groupby("task")["label"]:
        counts = labels.value_counts()
        if len(counts) > 1 and counts.iloc[0] == counts.iloc[1]:
            tied.add(task)
        else:
            settled[task] = counts.index[0]
    return settled, tied


def _dawid_skene(long: pd.DataFrame) -> pd.Series:
    try:
        from crowdkit.aggregation import DawidSkene
    except ImportError as err:
        raise ImportError("rule='dawid-skene' needs crowd-kit: pip install 'framestance[crowd]'") from err
    with warnings.catch_warnings():
        # crowd-kit 1.4 still uses pandas keywords that pandas 3 deprecates; nothing a user can act on
        warnings.simplefilter("ignore", DeprecationWarning)
        return DawidSkene(n_iter=100).fit_predict(long.reset_index(drop=True))


def _is_list(value: object) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))


def _support(annotation: pd.Series, passage_votes: pd.DataFrame, unresolved: list[str], questions) -> float:
    """Mean share of the other annotators who agree with this annotator on the unresolved questions."""
    targets = _targets(questions)
    others = passage_votes[passage_votes["annotator"] != annotation["annotator"]]
    shares = []
    for name in unresolved:
        if name not in targets:
            raise ValueError(f"unresolved question {name!r} is not among the questions of these tables")
        own = _answer(annotation, *targets[name])
        theirs = [a for a in (_answer(other, *targets[name]) for _, other in others.iterrows()) if a is not None]
        if own is not None and theirs:
            shares.append(sum(a == own for a in theirs) / len(theirs))
    return float(np.mean(shares)) if shares else 0.0


def _targets(questions: dict[str, Question]) -> dict[str, tuple[str, str | None]]:
    """What an unresolved name refers to: (single-choice question, None) or (multi-choice question, label)."""
    targets: dict[str, tuple[str, str | None]] = {
        q.name: (q.name, None) for q in questions.values() if q.kind == SINGLE
    }
    for question in questions.values():
        if question.kind == MULTI:
            targets.update({indicator_column(question.name, lb): (question.name, lb) for lb in question.labels})
    return targets


def _answer(annotation: pd.Series, control: str, label: str | None) -> object:
    """An annotation's answer to a single-choice question, or 0/1 for one label of a multi-choice one; None if
    it gave none."""
    value = annotation[control]
    if label is not None:
        return int(label in list(value)) if _is_list(value) else None
    return None if pd.isna(value) else str(value)


def _result(annotation: pd.Series, spans: pd.DataFrame, questions: dict[str, Question], interface) -> list[dict]:
    """An annotation's choices and spans as Label Studio result items."""
    result = []
    prefix = annotation["annotation_id"]
    for question in questions.values():
        value = annotation.get(question.name)
        if question.kind == SINGLE and pd.notna(value):
            result.append(_item(interface, question.name, "choices", f"{prefix}_{question.name}", [str(value)]))
        elif question.kind == MULTI and _is_list(value) and len(value):
            result.append(_item(interface, question.name, "choices", f"{prefix}_{question.name}", list(value)))
    span_controls = [q.name for q in questions.values() if q.kind == SPANS]
    frame_control = next((q.name for q in questions.values() if q.kind == SPAN_CHOICE), None)
    own = spans[(spans["annotation_id"] == annotation["annotation_id"]) & spans["control"].isin(span_controls)]
    for i, span in enumerate(own.itertuples(index=False)):
        region_id = getattr(span, "region_id", None)
        item_id = f"{prefix}_{region_id if pd.notna(region_id) else f'span{i}'}"
        region = {"start": int(span.start), "end": int(span.end), "text": str(span.text)}
        result.append(_item(interface, span.control, "labels", item_id, [str(span.label)], region))
        frame = getattr(span, "frame", None)
        if frame_control and pd.notna(frame):
            result.append(_item(interface, frame_control, "choices", item_id, [str(frame)], region))
    return result


def _item(interface, control: str, kind: str, item_id: str, labels: list[str], region: dict | None = None) -> dict:
    """One result item; with a labeling config, built by the SDK, which rejects labels the config lacks."""
    region = region or {}
    if interface is None:
        return {
            "id": item_id,
            "from_name": control,
            "to_name": TEXT,
            "type": kind,
            "value": {**region, kind: labels},
        }
    position = {k: region[k] for k in ("start", "end") if k in region and kind == "labels"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the SDK calls a pydantic method pydantic deprecates
        item = json.loads(interface.get_control(control).label(labels, **position).to_json())
    item["id"] = item_id
    item["value"].update(region)
    return item
