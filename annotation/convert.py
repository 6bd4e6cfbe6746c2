"""Label Studio exports → `LabelTables`, checked against the codebook, losing nothing.

Every annotation (and draft) read is either a row of `annotations` or a row of `skipped` with its reason:
cancelled, empty, draft, or failed check.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from annotation.codebook import Codebook
from annotation.exports import (
    CSV,
    FULL,
    MIN_META,
    ExportError,
    ExportFile,
    iter_csv_rows,
    iter_json_array,
    iter_tasks,
    open_export,
)
from annotation.questions import (
    MULTI,
    RATING,
    SINGLE,
    SPAN_CHOICE,
    SPANS,
    TEXT,
    Question,
    questions_from_codebook,
    questions_from_config,
)
from annotation.tables import (
    ANNOTATION_META,
    PREDICTION_META,
    SKIPPED_COLUMNS,
    SPAN_COLUMNS,
    TASK_COLUMNS,
    LabelTables,
    indicator_column,
)
from annotation.tasks import DATA_KEYS

KNOWN_DATA = {*DATA_KEYS, "codebook"}
RESULT_TYPES = {"choices": SINGLE, "labels": SPANS, "rating": RATING, "textarea": TEXT}
CHOICE_KINDS = (SINGLE, MULTI, SPAN_CHOICE)


class CheckError(ValueError):
    """Annotations that failed the codebook checks, with `--strict`."""


@dataclass
class _Answers:
    """One annotation's (or prediction's) answers: choices as lists, spans as dicts."""

    values: dict[str, object] = field(default_factory=dict)
    spans: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class _Rows:
    """Rows kept column by column (far less memory than a dict per row), with answers padded as they come."""

    def __init__(self, columns: tuple[str, ...]):
        self.columns = {column: [] for column in columns}
        self.answers: dict[str, list] = {}
        self.count = 0

    def append(self, row: dict, answers: dict | None = None, more: dict | None = None) -> None:
        """Add a row; `more` holds values that take precedence over `row`'s."""
        for column, values in self.columns.items():
            values.append(more[column] if more and column in more else row.get(column))
        for name, value in (answers or {}).items():
            values = self.answers.setdefault(name, [])
            if len(values) < self.count:
                values.extend([None] * (self.count - len(values)))
            values.append(value)
        self.count += 1

    def answer(self, name: str) -> list:
        """Every row's answer to one question (None where there is none)."""
        values = self.answers.get(name, [])
        return values + [None] * (self.count - len(values))

    def frame(self) -> pd.DataFrame:
        """The rows' own columns as a DataFrame; the lists are let go as they are copied, to keep memory low."""
        return pd.DataFrame({column: _column(self.columns.pop(column)) for column in list(self.columns)})


def _column(values: list):
    """A list as a column. Text goes to Arrow in one step (UTF-8 bytes, JSON text straight from the parser,
    without being decoded first); other values are left to pandas."""
    first = next((v for v in values if v is not None), None)
    if isinstance(first, (str, bytes)):
        import pyarrow as pa

        array = pa.array(values, type=pa.large_binary() if isinstance(first, bytes) else pa.large_string())
        return array.cast(pa.large_string()).to_pandas(types_mapper=_text_dtype)
    return values


def _text_dtype(arrow_type):
    """pandas' own text dtype for Arrow text; None (the default) for anything else."""
    import pyarrow as pa

    return pd.StringDtype("pyarrow", na_value=np.nan) if pa.types.is_large_string(arrow_type) else None


class _Builder:
    """Collects rows while exports are read, then builds the tables."""

    def __init__(self, questions: dict[str, Question] | None, codebook: Codebook | None):
        self.fixed = questions is not None
        self.questions: dict[str, Question] = dict(questions or {})
        self.codebook = codebook
        self.annotations = _Rows(ANNOTATION_META)
        self.predictions = _Rows(PREDICTION_META)
        self.spans = _Rows(SPAN_COLUMNS)
        self.skipped = _Rows(SKIPPED_COLUMNS)
        self.tasks = _Rows(TASK_COLUMNS)
        self.problems: list[str] = []
        self.emails: dict[str, str] = {}
        self.allowed: dict[str, frozenset] = {}

    # -- questions ---------------------------------------------------------------------------------------

    def question(self, name: str, kind: str, problems: list[str]) -> Question | None:
        """The question a control answers; learns it from the results when no codebook or config is given."""
        known = self.questions.get(name)
        if known is not None:
            return known
        if self.fixed:
            problems.append(f"unknown control {name!r}")
            return None
        learned = Question(name, kind, (), open=True)
        self.questions[name] = learned
        return learned

    def check_choices(self, question: Question, choices: list, problems: list[str]) -> list[str]:
        """The choices as text, with any label outside the codebook or a second single choice reported."""
        if not all(type(choice) is str for choice in choices):
            choices = [str(choice) for choice in choices]
        if question.open:
            return choices
        allowed = self.allowed.get(question.name)
        if allowed is None:
            allowed = self.allowed[question.name] = frozenset(question.labels)
        for choice in choices:
            if choice not in allowed:
                problems.append(f"{question.name}: label {choice!r} is not in the codebook")
                break
        if question.kind == SINGLE and len(choices) > 1:
            problems.append(f"{question.name}: {len(choices)} choices on a single-choice question")
        return choices

    # -- one result list (full JSON) ----------------------------------------------------------------------

    def parse_result(self, result: list) -> _Answers:
        answers = _Answers()
        span_frames: dict[str, list[str]] = {}
        for item in result:
            if not isinstance(item, dict):
                answers.problems.append("a result item is not an object")
                continue
            name, kind, value = item.get("from_name"), item.get("type"), item.get("value") or {}
            if kind not in RESULT_TYPES:
                if not self.fixed:
                    continue  # relations, image regions and other results have no place in text tables
                answers.problems.append(f"unknown control {name!r} (result type {kind!r})")
                continue
            guess = SPAN_CHOICE if kind == "choices" and "start" in value else RESULT_TYPES[kind]
            question = self.question(name, guess, answers.problems)
            if question is None:
                continue
            if question.kind == SPANS:
                for label in self.check_choices(question, value.get("labels", []), answers.problems):
                    answers.spans.append(
                        {
                            "control": name,
                            "region_id": item.get("id"),
                            "start": value.get("start"),
                            "end": value.get("end"),
                            "text": value.get("text"),
                            "label": label,
                        }
                    )
            elif question.kind in CHOICE_KINDS:
                choices = self.check_choices(question, value.get("choices", []), answers.problems)
                if question.kind == SPAN_CHOICE:
                    span_frames.setdefault(item.get("id"), []).extend(choices)
                    answers.values.setdefault(name, []).extend(choices)
                else:
                    answers.values[name] = choices
            elif question.kind == RATING:
                answers.values[name] = value.get("rating")
            elif question.kind == TEXT:
                text = value.get("text")
                answers.values[name] = "\n".join(text) if isinstance(text, list) else text
        for span in answers.spans:
            frames = span_frames.get(span["region_id"])
            span["frame"] = frames[0] if frames else None
        return answers

    # -- one flat row (JSON_MIN, CSV) ----------------------------------------------------------------------

    def parse_flat(self, row: dict, from_csv: bool) -> _Answers:
        answers = _Answers()
        for name, raw in row.items():
            if name in MIN_META or raw is None or raw == "":
                continue
            value = _cell(raw) if from_csv else raw
            question = self.questions.get(name)
            if question is None:
                if self.fixed or name in KNOWN_DATA or name in MIN_META:
                    continue  # another data field of the task
                kind = _flat_kind(value)
                if kind is None:
                    continue
                question = self.question(name, kind, answers.problems)
            if question.kind == SPANS:
                for region in value if isinstance(value, list) else []:
                    for label in self.check_choices(question, region.get("labels", []), answers.problems):
                        answers.spans.append(
                            {
                                "control": name,
                                "region_id": None,
                                "start": region.get("start"),
                                "end": region.get("end"),
                                "text": region.get("text"),
                                "label": label,
                                "frame": None,  # these formats lose the link between a span and its frame
                            }
                        )
            elif question.kind in CHOICE_KINDS:
                if isinstance(value, dict):
                    value = value.get("choices", [])
                choices = value if isinstance(value, list) else [value]
                answers.values[name] = self.check_choices(question, choices, answers.problems)
            elif question.kind == RATING:
                ratings = [r.get("rating") for r in value if isinstance(r, dict)] if isinstance(value, list) else []
                answers.values[name] = ratings[0] if ratings else None
            elif question.kind == TEXT:
                if from_csv:
                    answers.values[name] = raw  # a note is text even when it looks like JSON
                else:
                    answers.values[name] = "\n".join(map(str, value)) if isinstance(value, list) else str(value)
        return answers

    # -- rows ----------------------------------------------------------------------------------------------

    def skip(self, meta: dict, reason: str) -> None:
        self.skipped.append(meta, more={"reason": reason})

    def add(self, meta: dict, answers: _Answers, where: str) -> None:
        if answers.problems:
            problem = "; ".join(dict.fromkeys(answers.problems))
            self.problems.append(
                f"{where}: task {meta['task_id']}, annotation {meta['annotation_id']}, "
                f"annotator {meta['annotator']}: {problem}"
            )
            self.skip(meta, f"failed check: {problem}")
            return
        if not answers.values and not answers.spans:
            self.skip(meta, "empty: no answers")
            return
        self.annotations.append(meta, self.with_span_counts(answers))
        for span in answers.spans:
            self.spans.append(meta, more=span)

    def add_prediction(self, meta: dict, answers: _Answers) -> None:
        self.predictions.append(meta, self.with_span_counts(answers))
        for span in answers.spans:
            self.spans.append(meta, more={**span, "annotation_id": None, "annotator": None})

    def with_span_counts(self, answers: _Answers) -> dict:
        """The answers, with the number of spans of each spans question."""
        values = answers.values
        for span in answers.spans:
            values[span["control"]] = values.get(span["control"], 0) + 1
        return values

    def version_problem(self, data: dict) -> str | None:
        labeled_with = data.get("codebook")
        if self.codebook and labeled_with and labeled_with != self.codebook.ref:
            return f"task labeled with codebook {labeled_with}, not {self.codebook.ref}"
        return None


def read_export(
    paths: str | Path | Iterable[str | Path],
    codebook: Codebook | None = None,
    config: str | None = None,
    strict: bool = False,
) -> LabelTables:
    """Read Label Studio exports (JSON, JSON_MIN or CSV; several are merged by `passage_id`) into tables.

    The questions come from `codebook`, else from the labeling `config` (XML text), else from the results.
    With `strict`, annotations that fail a check raise `CheckError`; otherwise they are listed in `skipped`.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if codebook is not None:
        questions = questions_from_codebook(codebook)
    elif config is not None:
        questions = questions_from_config(config)
    else:
        questions = None
    builder = _Builder(questions, codebook)
    with _collector_paused():
        for path in paths:
            export = open_export(path)
            if export.format == FULL:
                _read_full(export, builder)
            else:
                _read_flat(export, builder)
        if strict and builder.problems:
            raise CheckError("\n".join(builder.problems))
        return _tables(builder)


@contextmanager
def _collector_paused():
    """Pause Python's cycle collector: reading makes millions of objects and no cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read_full(export: ExportFile, builder: _Builder) -> None:
    ids_only = 0
    for number, task, data_json in iter_tasks(export.path):
        if "data" not in task or "annotations" not in task:
            raise ExportError(str(export.path), "a task without 'data' or 'annotations'", f"record {number}")
        data = task.get("data") or {}
        base = _task_base(export, task.get("id"), data)
        builder.tasks.append({**base, "text": data.get("text"), "data": data_json})
        version = builder.version_problem(data)
        for annotation in task.get("annotations") or []:
            annotator, email = _user(annotation.get("completed_by"))
            if email:
                builder.emails[annotator] = email
            meta = {
                **base,
                "annotator": annotator,
                "annotation_id": annotation.get("id"),
                "created_at": annotation.get("created_at"),
                "updated_at": annotation.get("updated_at"),
                "lead_time": annotation.get("lead_time"),
                "ground_truth": bool(annotation.get("ground_truth")),
            }
            result = annotation.get("result")
            if annotation.get("was_cancelled"):
                builder.skip(meta, "cancelled: the annotator skipped the task")
            elif not isinstance(result, list):
                builder.add(meta, _Answers(problems=["result is not a list"]), export.name)
            elif not result:
                builder.skip(meta, "empty: no answers")
            else:
                answers = builder.parse_result(result)
                if version:
                    answers.problems.insert(0, version)
                builder.add(meta, answers, export.name)
        for draft in task.get("drafts") or []:
            user = None
            if isinstance(draft, dict):
                user = _draft_user(draft, builder.emails)
            builder.skip({**base, "annotation_id": None, "annotator": user}, "draft: saved but never submitted")
        for prediction in task.get("predictions") or []:
            if not isinstance(prediction, dict):
                ids_only += 1
                continue
            answers = builder.parse_result(prediction.get("result") or [])
            meta = {
                **base,
                "prediction_id": prediction.get("id"),
                "model_version": prediction.get("model_version"),
                "score": prediction.get("score"),
            }
            builder.add_prediction(meta, answers)
    if ids_only:
        builder.problems.append(
            f"{export.name}: {ids_only} predictions are listed by id only; export a snapshot with full "
            "predictions to read them"
        )


def _read_flat(export: ExportFile, builder: _Builder) -> None:
    from_csv = export.format == CSV
    rows = iter_csv_rows(export.path) if from_csv else iter_json_array(export.path)
    seen_tasks: set = set()
    for number, row in rows:
        if "id" not in row:
            raise ExportError(str(export.path), "a row without the task 'id'", f"row {number}")
        task_id = _number(row["id"])
        data = {k: v for k, v in row.items() if k not in MIN_META and k not in builder.questions}
        base = _task_base(export, task_id, data)
        if task_id not in seen_tasks:
            seen_tasks.add(task_id)
            data_json = json.dumps(data, ensure_ascii=False).encode("utf-8")
            builder.tasks.append({**base, "text": data.get("text"), "data": data_json})
        if row.get("annotation_id") in (None, ""):
            continue  # a task nobody labeled
        meta = {
            **base,
            "annotator": str(_number(row.get("annotator"))),
            "annotation_id": _number(row.get("annotation_id")),
            "created_at": row.get("created_at") or None,
            "updated_at": row.get("updated_at") or None,
            "lead_time": _float(row.get("lead_time")),
            "ground_truth": None,  # these formats do not say
        }
        answers = builder.parse_flat(row, from_csv)
        version = builder.version_problem(data)
        if version:
            answers.problems.insert(0, version)
        builder.add(meta, answers, export.name)


def _task_base(export: ExportFile, task_id, data: dict) -> dict:
    """The columns every row of a task starts with; tasks without a passage id get one from the export."""
    return {
        "export": export.name,
        "task_id": task_id,
        "passage_id": data.get("passage_id") or f"{export.name}#{task_id}",
        "article_id": data.get("article_id"),
    }


def _user(completed_by) -> tuple[str | None, str | None]:
    if isinstance(completed_by, dict):
        return str(completed_by.get("id")), completed_by.get("email")
    return (None if completed_by is None else str(completed_by)), None


def _draft_user(draft: dict, emails: dict[str, str]) -> str | None:
    # A full draft names its user by email, and by "Name email, id" in created_username.
    match = re.search(r",\s*(\d+)\s*$", draft.get("created_username") or "")
    if match:
        if draft.get("user"):
            emails[match.group(1)] = draft["user"]
        return match.group(1)
    return draft.get("user")


def _cell(raw: str):
    """A CSV cell: JSON text for objects and lists, else the string itself."""
    if raw[:1] in "[{":
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def _flat_kind(value) -> str | None:
    if isinstance(value, dict) and "choices" in value:
        return MULTI
    if isinstance(value, list) and value and isinstance(value[0], dict):
        if "start" in value[0]:
            return SPANS
        if "rating" in value[0]:
            return RATING
        return None
    if isinstance(value, str):
        return SINGLE
    return None


def _number(value):
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


def _float(value) -> float | None:
    try:
        return None if value in (None, "") else float(value)
    except (TypeError, ValueError):
        return None


# -- tables ----------------------------------------------------------------------------------------------


def _settle(builder: _Builder) -> dict[str, Question]:
    """Final questions: learned choice questions get their labels (sorted) and become multiple where needed."""
    questions = {}
    for name, question in builder.questions.items():
        if question.open and question.kind in (SINGLE, MULTI, SPAN_CHOICE):
            seen = [v for rows in (builder.annotations, builder.predictions) for v in rows.answer(name) if v]
            labels = tuple(sorted({label for choices in seen for label in choices}))
            kind = question.kind
            if kind == SINGLE and any(len(choices) > 1 for choices in seen):
                kind = MULTI
            question = Question(name, kind, labels, open=True)
        elif question.open and question.kind == SPANS:
            spans = builder.spans.columns
            labels = tuple(sorted({lab for c, lab in zip(spans["control"], spans["label"], strict=True) if c == name}))
            question = Question(name, SPANS, labels, open=True)
        questions[name] = question
    return questions


def _answer_frame(rows: _Rows, questions: dict[str, Question]) -> pd.DataFrame:
    frame = rows.frame()
    for name, question in questions.items():
        raw = rows.answer(name)
        rows.answers.pop(name, None)
        if question.kind == SINGLE:
            frame[name] = _categorical([v[0] if v else None for v in raw], question.labels)
        elif question.kind == MULTI:
            frame[name], indicators = _multi(raw, question.labels)
            for j, label in enumerate(question.labels):
                frame[indicator_column(name, label)] = pd.arrays.IntegerArray(indicators[0][:, j], indicators[1])
        elif question.kind == SPANS:
            frame[name] = pd.array([v or 0 for v in raw], dtype="Int64")
        elif question.kind == SPAN_CHOICE:
            frame[name] = pd.Series(raw, dtype=object)
        elif question.kind == RATING:
            frame[name] = pd.array([_int_or_none(v) for v in raw], dtype="Int64")
        elif question.kind == TEXT:
            frame[name] = pd.array(raw, dtype="string")
    return frame


def _categorical(values: list, labels: tuple[str, ...]) -> pd.Categorical:
    """Values as a categorical over `labels` (in their order); values outside them become missing."""
    index = {label: code for code, label in enumerate(labels)}
    codes = np.fromiter((index.get(v, -1) for v in values), dtype=np.int32, count=len(values))
    return pd.Categorical.from_codes(codes, categories=list(labels))


def _multi(raw: list, labels: tuple[str, ...]) -> tuple[pd.Series, tuple[np.ndarray, np.ndarray]]:
    """Lists of labels in label order, and the 0/1 matrix of labels with the mask of rows not answered."""
    order = {label: j for j, label in enumerate(labels)}
    known: dict[tuple, tuple[list[int], list[str]]] = {}  # each distinct set of choices is sorted once
    lists, rows, columns = [], [], []
    missing = np.ones(len(raw), dtype=bool)
    for i, chosen in enumerate(raw):
        if chosen is None:
            lists.append(None)
            continue
        key = tuple(chosen)
        hit = known.get(key)
        if hit is None:
            codes = sorted(order[label] for label in chosen)
            hit = known[key] = (codes, [labels[j] for j in codes])
        missing[i] = False
        lists.append(list(hit[1]))
        rows.extend([i] * len(hit[0]))
        columns.extend(hit[0])
    matrix = np.zeros((len(raw), len(labels)), dtype=np.int8)
    matrix[rows, columns] = 1
    return pd.Series(lists, dtype=object), (matrix, missing)


def _int_or_none(value) -> int | None:
    try:
        return None if value in (None, "") else int(value)
    except (TypeError, ValueError):
        return None


def _tables(builder: _Builder) -> LabelTables:
    questions = _settle(builder)
    annotations = _answer_frame(builder.annotations, questions)
    annotations["annotator_email"] = annotations["annotator"].map(builder.emails).astype("string")
    annotations["annotator"] = annotations["annotator"].astype("string")
    annotations["ground_truth"] = annotations["ground_truth"].astype("boolean")
    annotations["lead_time"] = annotations["lead_time"].astype("Float64")
    annotations["annotation_id"] = annotations["annotation_id"].astype("Int64")
    predictions = _answer_frame(builder.predictions, questions)
    predictions["score"] = predictions["score"].astype("Float64")

    spans = builder.spans.frame()
    span_labels = dict.fromkeys(label for q in questions_of(questions, SPANS) for label in q.labels)
    spans["label"] = pd.Categorical(spans["label"], categories=list(span_labels))
    frame_labels = dict.fromkeys(label for q in questions_of(questions, SPAN_CHOICE) for label in q.labels)
    spans["frame"] = pd.Categorical(spans["frame"], categories=list(frame_labels))
    for column in ("annotation_id", "prediction_id", "start", "end"):
        spans[column] = spans[column].astype("Int64")
    spans["annotator"] = spans["annotator"].astype("string")

    skipped = builder.skipped.frame()
    skipped["annotation_id"] = skipped["annotation_id"].astype("Int64")
    skipped["annotator"] = skipped["annotator"].astype("string")
    skipped["reason"] = skipped["reason"].astype("string")
    tasks = builder.tasks.frame()
    return LabelTables(annotations, spans, predictions, skipped, tasks, questions, builder.problems)


def questions_of(questions: dict[str, Question], kind: str) -> list[Question]:
    """The questions of one kind."""
    return [q for q in questions.values() if q.kind == kind]
