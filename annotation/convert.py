"""Label Studio exports → `LabelTables`, checked against the codebook, losing nothing.

Every annotation (and draft) read is either a row of `annotations` or a row of `skipped` with its reason:
cancelled, empty, draft, failed check, malformed (a record of an impossible shape, which costs only itself), or
conflict (a passage read with two different texts, which is never merged).
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterable
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from annotation import fields
from annotation.codebook import Codebook
from annotation.exports import (
    CSV,
    FULL,
    MIN_META,
    ExportError,
    ExportFile,
    Unreadable,
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
    Layout,
    Question,
    layout_from_codebook,
    layout_from_config,
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
READ_ERRORS = (fields.Malformed, RecursionError)  # what a record of an impossible shape raises while it is read


class CheckError(ValueError):
    """Annotations that failed the codebook checks, with `--strict`."""


@dataclass
class _Answers:
    """One annotation's (or prediction's) answers: choices as lists, spans as dicts."""

    values: dict[str, object] = field(default_factory=dict)
    spans: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    learned: dict[str, Question] = field(default_factory=dict)  # questions first seen here, without a schema
    targets: dict[str, frozenset[str]] = field(default_factory=dict)  # the objects those questions label


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

    def __init__(self, questions: dict[str, Question] | None, codebook: Codebook | None, layout: Layout | None):
        self.fixed = questions is not None
        self.questions: dict[str, Question] = dict(questions or {})
        self.codebook = codebook
        self.targets: dict[str, frozenset[str]] = dict(layout.targets) if layout else {}
        self.fields: dict[str, str] | None = layout.fields if layout else None
        self.annotations = _Rows(ANNOTATION_META)
        self.predictions = _Rows(PREDICTION_META)
        self.spans = _Rows(SPAN_COLUMNS)
        self.skipped = _Rows(SKIPPED_COLUMNS)
        self.tasks = _Rows(TASK_COLUMNS)
        self.problems: list[str] = []
        self.emails: dict[str, str] = {}
        self.allowed: dict[str, frozenset] = {}
        self.passages: dict[str, tuple[str | None, str]] = {}  # passage id -> its text, and where it was read
        self.conflicts: dict[str, list[str]] = {}  # passage id -> where it was read with differing texts

    # -- questions ---------------------------------------------------------------------------------------

    def question(self, name: str, kind: str, answers: _Answers) -> Question | None:
        """The question a control answers; learns it from the results when no codebook or config is given
        (kept once the annotation is)."""
        known = self.questions.get(name) or answers.learned.get(name)
        if known is not None:
            return known
        if self.fixed:
            answers.problems.append(f"unknown control {name!r}")
            return None
        learned = answers.learned[name] = Question(name, kind, (), open=True)
        return learned

    def check_choices(self, question: Question, choices: list[str], problems: list[str]) -> list[str]:
        """The choices, with any label outside the codebook or a second single choice reported."""
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

    def check_target(self, name: str, to_name: object, answers: _Answers) -> None:
        """Report a result whose `to_name` is not the object its control labels (in the config or codebook;
        without either, the object its first result named)."""
        if not isinstance(to_name, str):
            raise fields.Malformed(f"{name}: to_name is {fields.show(to_name)}, not the name of an object")
        allowed = self.targets.get(name) or answers.targets.get(name)
        if allowed is None:
            answers.targets[name] = frozenset({to_name})
        elif to_name not in allowed:
            expected = " or ".join(repr(target) for target in sorted(allowed))
            answers.problems.append(f"{name}: labels the object {to_name!r}, not {expected}")

    def text_limit(self, data: dict, to_name: str | None) -> int | None:
        """The length of the text a span's object shows, when the task holds it."""
        if self.fields is not None:
            key = self.fields.get(to_name or "text", "text")
        else:
            key = to_name if isinstance(data.get(to_name), str) else "text"
        return fields.text_length(data.get(key))

    # -- one result list (full JSON) ----------------------------------------------------------------------

    def parse_result(self, result: list, data: dict) -> _Answers:
        """One annotation's (or prediction's) answers; `Malformed` for a result of an impossible shape."""
        answers = _Answers()
        span_frames: dict[str | None, list[str]] = {}
        limits: dict[str, int | None] = {}  # the length of the text each object shows, measured once
        for item in result:
            if not isinstance(item, dict):
                raise fields.Malformed(f"a result item is {fields.show(item)}, not an object")
            name, kind, value = item.get("from_name"), item.get("type"), item.get("value")
            if not isinstance(kind, str):
                raise fields.Malformed(f"a result item's type is {fields.show(kind)}, not text")
            if kind not in RESULT_TYPES:
                if not self.fixed:
                    continue  # relations, image regions and other results have no place in text tables
                answers.problems.append(f"unknown control {fields.text(name, 'from_name')!r} (result type {kind!r})")
                continue
            if not isinstance(name, str):
                raise fields.Malformed(f"a {kind} result's from_name is {fields.show(name)}, not text")
            if not isinstance(value, dict):
                raise fields.Malformed(f"{name}: the value is {fields.show(value)}, not an object")
            guess = SPAN_CHOICE if kind == "choices" and "start" in value else RESULT_TYPES[kind]
            question = self.question(name, guess, answers)
            if question is None:
                continue
            to_name = item.get("to_name")
            self.check_target(name, to_name, answers)
            if question.kind == SPANS:
                if to_name not in limits:
                    limits[to_name] = self.text_limit(data, to_name)
                self.add_spans(answers, question, value, _region(item.get("id")), limits[to_name])
            elif question.kind in CHOICE_KINDS:
                choices = self.check_choices(question, fields.labels(value, "choices", name), answers.problems)
                if question.kind == SPAN_CHOICE:
                    span_frames.setdefault(_region(item.get("id")), []).extend(choices)
                    answers.values.setdefault(name, []).extend(choices)
                else:
                    answers.values[name] = choices
            elif question.kind == RATING:
                answers.values[name] = fields.rating(value.get("rating", fields.MISSING), name)
            elif question.kind == TEXT:
                answers.values[name] = fields.note(value.get("text", fields.MISSING), name)
        for span in answers.spans:
            frames = span_frames.get(span["region_id"])
            span["frame"] = frames[0] if frames else None
        return answers

    def add_spans(self, answers: _Answers, question: Question, value: dict, region: str | None, limit) -> None:
        """One highlighted region: a span per label, its offsets checked against the text."""
        start, end = fields.offsets(value, question.name, limit)
        marked = fields.text(value.get("text"), f"{question.name}: the span's text")
        for label in self.check_choices(question, fields.labels(value, "labels", question.name), answers.problems):
            answers.spans.append(
                {
                    "control": question.name,
                    "region_id": region,
                    "start": start,
                    "end": end,
                    "text": marked,
                    "label": label,
                    "frame": None,
                }
            )

    # -- one flat row (JSON_MIN, CSV) ----------------------------------------------------------------------

    def parse_flat(self, row: dict, from_csv: bool, data: dict) -> _Answers:
        """One flat row's answers; `Malformed` for an answer of an impossible shape."""
        answers = _Answers()
        limit = self.text_limit(data, None)
        for name, raw in row.items():
            if name in MIN_META or raw is None or raw == "":
                continue
            value = _cell(raw) if from_csv else raw
            question = self.questions.get(name) or answers.learned.get(name)
            if question is None:
                if self.fixed or name in KNOWN_DATA:
                    continue  # another data field of the task
                kind = _flat_kind(value)
                if kind is None:
                    continue
                question = self.question(name, kind, answers)
            if question.kind == SPANS:
                if not isinstance(value, list) or not all(isinstance(region, dict) for region in value):
                    raise fields.Malformed(f"{name}: {fields.show(value)}, not a list of spans")
                for region in value:
                    self.add_spans(answers, question, region, None, limit)  # these formats lose the span's frame
            elif question.kind in CHOICE_KINDS:
                answers.values[name] = self.check_choices(question, _flat_choices(value, name), answers.problems)
            elif question.kind == RATING:
                if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
                    raise fields.Malformed(f"{name}: {fields.show(value)}, not a list of ratings")
                ratings = [fields.rating(r.get("rating", fields.MISSING), name) for r in value]
                answers.values[name] = ratings[0] if ratings else None
            elif question.kind == TEXT:
                answers.values[name] = raw if from_csv else fields.note(value, name)  # a CSV note is text as it is
        return answers

    # -- rows ----------------------------------------------------------------------------------------------

    def skip(self, meta: dict, reason: str) -> None:
        self.skipped.append(meta, more={"reason": reason})

    def malformed(self, meta: dict, problem: Exception, record: str | None = None) -> None:
        """Skip a record that cannot be read, saying where it is and what is wrong."""
        message = _malformed_message(problem)
        self.problems.append(f"{_place(meta, record)}: {message}")
        self.skip(meta, f"malformed: {message}")

    def add_task(self, base: dict, text: str | None, data_json: bytes) -> None:
        """A task's row; a passage read before with another text is noted as a conflict."""
        self.tasks.append({**base, "text": text, "data": data_json})
        passage, place = base["passage_id"], f"{base['export']} (task {base['task_id']})"
        seen = self.passages.get(passage)
        if seen is None:
            self.passages[passage] = (text, place)
        elif seen[0] != text:
            self.conflicts.setdefault(passage, [seen[1]]).append(place)

    def add(self, meta: dict, answers: _Answers) -> None:
        if answers.problems:
            problem = "; ".join(dict.fromkeys(answers.problems))
            self.problems.append(f"{_place(meta)}: {problem}")
            self.skip(meta, f"failed check: {problem}")
            return
        if not answers.values and not answers.spans:
            self.skip(meta, "empty: no answers")
            return
        self.learn(answers)
        self.annotations.append(meta, self.with_span_counts(answers))
        for span in answers.spans:
            self.spans.append(meta, more=span)

    def add_prediction(self, meta: dict, answers: _Answers, where: str) -> None:
        if answers.problems:
            problem = "; ".join(dict.fromkeys(answers.problems))
            self.problems.append(f"{where}: {problem}; the prediction is not kept")
            return
        self.learn(answers)
        self.predictions.append(meta, self.with_span_counts(answers))
        for span in answers.spans:
            self.spans.append(meta, more={**span, "annotation_id": None, "annotator": None})

    def learn(self, answers: _Answers) -> None:
        """Keep the questions, and the objects they label, that a kept annotation taught."""
        for name, question in answers.learned.items():
            self.questions.setdefault(name, question)
        for name, targets in answers.targets.items():
            self.targets.setdefault(name, targets)

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

    def conflict_problems(self) -> list[str]:
        """One line per passage read with different texts."""
        return [
            f"passage {passage!r} has different texts in {' and '.join(places)}: its annotations are skipped, "
            "not merged"
            for passage, places in self.conflicts.items()
        ]


def read_export(
    paths: str | Path | Iterable[str | Path],
    codebook: Codebook | None = None,
    config: str | None = None,
    strict: bool = False,
) -> LabelTables:
    """Read Label Studio exports (JSON, JSON_MIN or CSV; several are merged by `passage_id`) into tables.

    The questions come from `codebook`, else from the labeling `config` (XML text), else from the results.
    A record that cannot be read is skipped with the reason, and a passage found with different texts is
    not merged: its annotations are skipped. With `strict`, annotations that fail a check raise `CheckError`;
    otherwise they are listed in `skipped`.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if codebook is not None:
        questions, layout = questions_from_codebook(codebook), layout_from_codebook(codebook)
    elif config is not None:
        questions, layout = questions_from_config(config), layout_from_config(config)
    else:
        questions, layout = None, None
    builder = _Builder(questions, codebook, layout)
    with _collector_paused():
        for path in paths:
            export = open_export(path)
            if export.format == FULL:
                _read_full(export, builder)
            else:
                _read_flat(export, builder)
        builder.problems.extend(builder.conflict_problems())
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
    first = True
    for number, task, data_json in iter_tasks(export.path):
        if first and isinstance(task, dict):
            if "data" not in task or "annotations" not in task:
                raise ExportError(str(export.path), "a task without 'data' or 'annotations'", f"record {number}")
            first = False
        try:
            base, data = _full_task(export, task)
        except READ_ERRORS as err:
            meta = {"export": export.name, "task_id": _task_id_of(task)}
            builder.malformed(meta, err, f"record {number}")
            continue
        builder.add_task(base, data.get("text"), data_json)
        version = builder.version_problem(data)
        for annotation in task["annotations"]:
            _read_annotation(builder, base, data, annotation, version)
        _read_drafts(builder, base, task.get("drafts"))
        ids_only += _read_predictions(builder, base, data, task.get("predictions"), version)
    if ids_only:
        builder.problems.append(
            f"{export.name}: {ids_only} predictions are listed by id only; export a snapshot with full "
            "predictions to read them"
        )


def _full_task(export: ExportFile, task: object) -> tuple[dict, dict]:
    """A task's first columns and its data; `Malformed` if it is not a task of the right shape."""
    if isinstance(task, Unreadable):
        raise fields.Malformed(task.problem)
    if not isinstance(task, dict):
        raise fields.Malformed(f"the record is {fields.show(task)}, not a task object")
    task_id = fields.integer(task.get("id"), "the task id", optional=False)
    data = task.get("data")
    if not isinstance(data, dict):
        raise fields.Malformed(f"data is {fields.show(data)}, not an object")
    annotations = task.get("annotations")
    if not isinstance(annotations, list):
        raise fields.Malformed(f"annotations is {fields.show(annotations)}, not a list")
    return _task_base(export, task_id, data), data


def _task_id_of(record: object) -> int | None:
    """A malformed record's task id, where it has a readable one."""
    if isinstance(record, Unreadable):
        return record.task_id
    try:
        return fields.integer(record.get("id"), "the task id") if isinstance(record, dict) else None
    except fields.Malformed:
        return None


def _read_annotation(builder: _Builder, base: dict, data: dict, annotation: object, version: str | None) -> None:
    """One annotation of a full export: kept, or skipped with the reason."""
    try:
        meta = _annotation_meta(base, annotation, builder.emails)
    except READ_ERRORS as err:
        meta = {**base, **_readable_ids(annotation)}
        builder.malformed(meta, err)
        return
    result = annotation.get("result")
    if annotation.get("was_cancelled"):
        builder.skip(meta, "cancelled: the annotator skipped the task")
        return
    if isinstance(result, list) and not result:
        builder.skip(meta, "empty: no answers")
        return
    try:
        if not isinstance(result, list):
            raise fields.Malformed(f"result is {fields.show(result)}, not a list")
        answers = builder.parse_result(result, data)
    except READ_ERRORS as err:
        builder.malformed(meta, err)
        return
    if version:
        answers.problems.insert(0, version)
    builder.add(meta, answers)


def _annotation_meta(base: dict, annotation: object, emails: dict[str, str]) -> dict:
    """An annotation's own columns, each checked."""
    if not isinstance(annotation, dict):
        raise fields.Malformed(f"the annotation is {fields.show(annotation)}, not an object")
    annotator, email = _user(annotation.get("completed_by"))
    meta = {
        **base,
        "annotator": annotator,
        "annotation_id": fields.integer(annotation.get("id"), "the annotation id"),
        "created_at": fields.text(annotation.get("created_at"), "created_at"),
        "updated_at": fields.text(annotation.get("updated_at"), "updated_at"),
        "lead_time": fields.real(annotation.get("lead_time"), "lead_time"),
        "ground_truth": fields.flag(annotation.get("ground_truth"), "ground_truth"),
    }
    fields.flag(annotation.get("was_cancelled"), "was_cancelled")
    if email:
        emails[annotator] = email
    return meta


def _readable_ids(annotation: object) -> dict:
    """The annotation id and annotator of a malformed annotation, where they can be read."""
    ids = {"annotation_id": None, "annotator": None}
    if isinstance(annotation, dict):
        with suppress(fields.Malformed):
            ids["annotation_id"] = fields.integer(annotation.get("id"), "the annotation id")
        with suppress(fields.Malformed):
            ids["annotator"] = _user(annotation.get("completed_by"))[0]
    return ids


def _read_drafts(builder: _Builder, base: dict, drafts: object) -> None:
    """Each draft, skipped as never submitted."""
    if drafts is None:
        return
    if not isinstance(drafts, list):
        problem = fields.Malformed(f"drafts is {fields.show(drafts)}, not a list")
        builder.malformed(base, problem)
        return
    for draft in drafts:
        user = _draft_user(draft, builder.emails) if isinstance(draft, dict) else None
        builder.skip({**base, "annotation_id": None, "annotator": user}, "draft: saved but never submitted")


def _read_predictions(builder: _Builder, base: dict, data: dict, predictions: object, version: str | None) -> int:
    """Each full prediction, checked as annotations are (one that fails is reported and left out); returns how
    many are listed by id only."""
    if predictions is None:
        return 0
    if not isinstance(predictions, list):
        builder.problems.append(f"{_place(base)}: predictions is {fields.show(predictions)}, not a list")
        return 0
    ids_only = 0
    for prediction in predictions:
        if type(prediction) is int:
            ids_only += 1
            continue
        where = f"{_place(base)}, prediction"
        try:
            if not isinstance(prediction, dict):
                raise fields.Malformed(f"the prediction is {fields.show(prediction)}, not an object")
            meta = {
                **base,
                "prediction_id": fields.integer(prediction.get("id"), "the prediction id"),
                "model_version": fields.identifier(prediction.get("model_version"), "model_version"),
                "score": fields.real(prediction.get("score"), "score"),
            }
            where += f" {meta['prediction_id']}"
            result = prediction.get("result")
            if result is not None and not isinstance(result, list):
                raise fields.Malformed(f"result is {fields.show(result)}, not a list")
            answers = builder.parse_result(result or [], data)
        except READ_ERRORS as err:
            builder.problems.append(f"{where}: {_malformed_message(err)}; the prediction is not kept")
            continue
        if version:
            answers.problems.insert(0, version)
        builder.add_prediction(meta, answers, where)
    return ids_only


def _read_flat(export: ExportFile, builder: _Builder) -> None:
    from_csv = export.format == CSV
    rows = iter_csv_rows(export.path) if from_csv else iter_json_array(export.path)
    seen_tasks: set = set()
    for number, row in rows:
        record = f"{'row' if from_csv else 'record'} {number}"
        try:
            base, data, data_json = _flat_task(export, row, builder.questions)
        except READ_ERRORS as err:
            meta = {"export": export.name, "task_id": _task_id_of(row)}
            builder.malformed(meta, err, record)
            continue
        if base["task_id"] not in seen_tasks:
            seen_tasks.add(base["task_id"])
            builder.add_task(base, data.get("text"), data_json)
        if row.get("annotation_id") in (None, ""):
            continue  # a task nobody labeled
        try:
            meta = _flat_meta(base, row)
        except READ_ERRORS as err:
            builder.malformed({**base, **_readable_flat_ids(row)}, err, record)
            continue
        try:
            answers = builder.parse_flat(row, from_csv, data)
        except READ_ERRORS as err:
            builder.malformed(meta, err, record)
            continue
        version = builder.version_problem(data)
        if version:
            answers.problems.insert(0, version)
        builder.add(meta, answers)


def _flat_task(export: ExportFile, row: object, questions: dict[str, Question]) -> tuple[dict, dict, bytes]:
    """A flat row's task: its first columns, its data, and the data as JSON text."""
    if isinstance(row, Unreadable):
        raise fields.Malformed(row.problem)
    if not isinstance(row, dict):
        raise fields.Malformed(f"the record is {fields.show(row)}, not an object")
    task_id = fields.integer(row.get("id"), "the task id", optional=False)
    data = {k: v for k, v in row.items() if k not in MIN_META and k not in questions}
    base = _task_base(export, task_id, data)
    return base, data, json.dumps(data, ensure_ascii=False).encode("utf-8")


def _flat_meta(base: dict, row: dict) -> dict:
    """A flat row's annotation columns, each checked."""
    annotator = fields.identifier(row.get("annotator"), "the annotator")
    return {
        **base,
        "annotator": annotator,
        "annotation_id": fields.integer(row.get("annotation_id"), "the annotation id"),
        "created_at": fields.text(row.get("created_at"), "created_at") or None,
        "updated_at": fields.text(row.get("updated_at"), "updated_at") or None,
        "lead_time": fields.real(row.get("lead_time"), "lead_time"),
        "ground_truth": None,  # these formats do not say
    }


def _readable_flat_ids(row: dict) -> dict:
    """The annotation id and annotator of a malformed flat row, where they can be read."""
    return _readable_ids({"id": row.get("annotation_id"), "completed_by": row.get("annotator")})


def _place(meta: dict, record: str | None = None) -> str:
    """Where a row comes from: its export, then the record, task, annotation and annotator where known."""
    parts = [record] if record else []
    for name, column in (("task", "task_id"), ("annotation", "annotation_id"), ("annotator", "annotator")):
        if meta.get(column) is not None:
            parts.append(f"{name} {meta[column]}")
    return f"{meta['export']}: {', '.join(parts)}" if parts else meta["export"]


def _malformed_message(problem: Exception) -> str:
    if isinstance(problem, RecursionError):
        return "nested too deep to read (over about 1,000 levels)"
    return str(problem)


def _task_base(export: ExportFile, task_id: int, data: dict) -> dict:
    """The columns every row of a task starts with; tasks without a passage id get one from the export.
    `Malformed` if the passage or article id, or the text, is not text."""
    fields.text(data.get("text"), "the task's text")
    passage = fields.identifier(data.get("passage_id"), "passage_id")
    return {
        "export": export.name,
        "task_id": task_id,
        "passage_id": passage or f"{export.name}#{task_id}",
        "article_id": fields.identifier(data.get("article_id"), "article_id"),
    }


def _user(completed_by: object) -> tuple[str | None, str | None]:
    """The annotator's user id as text, and their email where the export gives it."""
    if isinstance(completed_by, dict):
        user = fields.identifier(completed_by.get("id"), "the annotator's id")
        return user, fields.text(completed_by.get("email"), "the annotator's email")
    return fields.identifier(completed_by, "the annotator (completed_by)"), None


def _draft_user(draft: dict, emails: dict[str, str]) -> str | None:
    # A full draft names its user by email, and by "Name email, id" in created_username.
    user = draft.get("user") if isinstance(draft.get("user"), str) else None
    named = draft.get("created_username")
    match = re.search(r",\s*(\d+)\s*$", named) if isinstance(named, str) else None
    if match:
        if user:
            emails[match.group(1)] = user
        return match.group(1)
    return user


def _cell(raw: str):
    """A CSV cell: JSON text for objects and lists, else the string itself."""
    if raw[:1] in "[{":
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def _flat_choices(value: object, name: str) -> list[str]:
    """JSON_MIN and CSV give one choice as text, several as a list or as `{"choices": [...]}`."""
    if isinstance(value, dict):
        return fields.labels(value, "choices", name)
    return fields.labels({"choices": value if isinstance(value, list) else [value]}, "choices", name)


def _region(region_id: object) -> str | None:
    """A result's region id as text."""
    return fields.identifier(region_id, "the result's id")


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
    predictions = _answer_frame(builder.predictions, questions)
    spans = builder.spans.frame()
    skipped = builder.skipped.frame()
    if builder.conflicts:
        annotations, spans, predictions, skipped = _without_conflicts(builder, annotations, spans, predictions, skipped)
    annotations["annotator_email"] = annotations["annotator"].map(builder.emails).astype("string")
    annotations["annotator"] = annotations["annotator"].astype("string")
    annotations["ground_truth"] = annotations["ground_truth"].astype("boolean")
    annotations["lead_time"] = annotations["lead_time"].astype("Float64")
    annotations["annotation_id"] = annotations["annotation_id"].astype("Int64")
    predictions["prediction_id"] = predictions["prediction_id"].astype("Int64")
    predictions["score"] = predictions["score"].astype("Float64")

    span_labels = dict.fromkeys(label for q in questions_of(questions, SPANS) for label in q.labels)
    spans["label"] = pd.Categorical(spans["label"], categories=list(span_labels))
    frame_labels = dict.fromkeys(label for q in questions_of(questions, SPAN_CHOICE) for label in q.labels)
    spans["frame"] = pd.Categorical(spans["frame"], categories=list(frame_labels))
    for column in ("annotation_id", "prediction_id", "start", "end"):
        spans[column] = spans[column].astype("Int64")
    spans["annotator"] = spans["annotator"].astype("string")

    skipped["annotation_id"] = skipped["annotation_id"].astype("Int64")
    skipped["annotator"] = skipped["annotator"].astype("string")
    skipped["reason"] = skipped["reason"].astype("string")
    tasks = builder.tasks.frame()
    for frame in (annotations, spans, predictions, skipped, tasks):
        frame["task_id"] = frame["task_id"].astype("Int64")
    return LabelTables(annotations, spans, predictions, skipped, tasks, questions, builder.problems)


def _without_conflicts(builder: _Builder, annotations, spans, predictions, skipped) -> tuple[pd.DataFrame, ...]:
    """The tables without the passages read with different texts: their annotations move to `skipped` (with
    the reason), and their spans and predictions go."""
    reasons = {
        passage: f"conflict: passage {passage!r} has different texts in {' and '.join(places)}"
        for passage, places in builder.conflicts.items()
    }
    clash = annotations["passage_id"].isin(list(reasons)).to_numpy(dtype=bool)
    moved = annotations.loc[clash, [c for c in SKIPPED_COLUMNS if c != "reason"]].astype(object)
    moved["reason"] = moved["passage_id"].map(reasons)
    skipped = pd.concat([skipped.astype(object), moved], ignore_index=True)
    keep = [
        frame[~frame["passage_id"].isin(list(reasons)).to_numpy(dtype=bool)].reset_index(drop=True)
        for frame in (annotations[~clash], spans, predictions)
    ]
    return (*keep, skipped)


def questions_of(questions: dict[str, Question], kind: str) -> list[Question]:
    """The questions of one kind."""
    return [q for q in questions.values() if q.kind == kind]
