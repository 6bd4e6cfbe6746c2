"""Suggestions for new passages: a table of labels and probabilities, and Label Studio tasks with predictions.

The table has one row per passage: its ids and offsets, then per question the label and one probability
column per label (`<question>__<label>`), and `score`, the model's confidence over all questions (the mean of
each question's top probability). Archive scoring reuses this schema. `write_suggestions` and
`studio_predictor` add `priority`, the passage's place in the order of labelling (`models.labeling_order`),
lowest first; it is the `score` of the predictions they write, so Label Studio sorts tasks by it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from annotation.codebook import require_codebook
from annotation.csv_safe import write_csv
from annotation.mentions import find_mentions
from models.features import transform_unique
from models.labeling_order import doubt, labeling_order, yes_no_doubt
from models.training import Model

ID_COLUMNS = ("passage_id", "article_id", "position", "start", "end", "source", "title")


def passage_texts(tasks: list[dict]) -> list[str]:
    """The passage text of each task (or task data), "" where it has none."""
    return [str(task.get("data", task).get("text") or "") for task in tasks]


def suggestion_table(model: Model, tasks: list[dict]) -> pd.DataFrame:
    """Labels and probabilities for every task's passage."""
    data = [task.get("data", task) for task in tasks]
    texts = passage_texts(tasks)
    table = pd.DataFrame({column: [d.get(column) for d in data] for column in ID_COLUMNS})
    confidences = []
    codebook = model.codebook
    if model.stance is not None:
        found = [find_mentions(text, codebook) for text in texts]
        for control, target in codebook.stance_controls.items():
            rows = pd.DataFrame({"text": texts, "target": target.id, "mentions": [f[target.id] for f in found]})
            probabilities = model.stance.predict_proba(rows)
            _add(table, control, model.stance.classes_, probabilities)
            confidences.append(probabilities.max(axis=1))
    if model.frames is not None:
        probabilities = model.frames.predict_proba(texts)
        chosen = probabilities >= model.frames.threshold
        table["frames"] = [list(model.frames.classes_[row]) for row in chosen]
        for j, label in enumerate(model.frames.classes_):
            table[f"frames__{label}"] = probabilities[:, j]
        # A yes/no answer per frame: its confidence is the probability of the answer given.
        confidences.append(np.where(chosen, probabilities, 1 - probabilities).mean(axis=1))
    if model.primary is not None:
        probabilities = model.primary.predict_proba(texts)
        _add(table, "primary_frame", model.primary.classes_, probabilities)
        confidences.append(probabilities.max(axis=1))
    table["score"] = np.mean(confidences, axis=0) if confidences else np.nan
    return table


def with_priority(model: Model, table: pd.DataFrame, texts: list[str]) -> pd.DataFrame:
    """The suggestion table with `priority`: each passage's place in the order of labelling, in [0, 1), lowest
    first. The doubt of a passage is the mean over the questions of the model's doubt about each answer."""
    doubts = []
    for control in model.codebook.stance_controls if model.stance is not None else ():
        doubts.append(doubt(table[[f"{control}__{label}" for label in model.stance.classes_]].to_numpy()))
    if model.frames is not None:
        doubts.append(yes_no_doubt(table[[f"frames__{label}" for label in model.frames.classes_]].to_numpy()))
    if model.primary is not None:
        doubts.append(doubt(table[[f"primary_frame__{label}" for label in model.primary.classes_]].to_numpy()))
    if not doubts or table.empty:
        return table.assign(priority=np.zeros(len(table)))
    estimator = next(e for e in (model.stance, model.frames, model.primary) if e is not None)
    features = transform_unique(estimator.vectorizer_, texts)
    _, priority = labeling_order(np.mean(doubts, axis=0), features)
    return table.assign(priority=priority)


def scored_passages(model: Model, tasks: list[dict]) -> pd.DataFrame:
    """The suggestion table with each passage's `text` and `date`, for reading and quoting."""
    table = suggestion_table(model, tasks)
    data = [task.get("data", task) for task in tasks]
    table.insert(len(ID_COLUMNS), "date", [d.get("date") for d in data])
    table.insert(len(ID_COLUMNS) + 1, "text", passage_texts(tasks))
    return table


def _add(table: pd.DataFrame, question: str, classes, probabilities: np.ndarray) -> None:
    table[question] = classes[np.argmax(probabilities, axis=1)]
    for j, label in enumerate(classes):
        table[f"{question}__{label}"] = probabilities[:, j]


def with_predictions(model: Model, tasks: list[dict], table: pd.DataFrame, questions: Iterable[str]) -> list[dict]:
    """The tasks with one prediction each for `questions`, built and checked with Label Studio's `LabelInterface`;
    a task keeps no prediction when no question is to be pre-filled."""
    made = predictions(model, table, questions=questions)
    return [
        {"data": task.get("data", task), "predictions": [p] if p["result"] else []}
        for task, p in zip(tasks, made, strict=True)
    ]


def predictions(
    model: Model, table: pd.DataFrame, label_config: str | None = None, questions: Iterable[str] | None = None
) -> list[dict]:
    """One Label Studio prediction per row of a suggestion table, for `questions` (control names; default: all
    the model answers), checked against `label_config`. Its `score` is the row's `priority` where the table has
    one (sorting by it gives the order of labelling), else the model's confidence.

    The config defaults to the one the model's codebook makes; give a project's own config to check that the
    project can show the predictions.
    """
    from annotation.label_config import build_label_config

    interface = label_interface(label_config or build_label_config(model.codebook))
    wanted = None if questions is None else set(questions)
    out = []
    for _, row in table.iterrows():
        result = []
        for control in [*model.codebook.stance_controls, "primary_frame"]:
            if wanted is not None and control not in wanted:
                continue
            if control in row and isinstance(row[control], str):
                result.append(_item(interface, control, [row[control]], float(row[f"{control}__{row[control]}"])))
        if (wanted is None or "frames" in wanted) and row.get("frames"):
            scores = [float(row[f"frames__{label}"]) for label in row["frames"]]
            result.append(_item(interface, "frames", list(row["frames"]), float(np.mean(scores))))
        score = row["priority"] if "priority" in row else row["score"]
        prediction = {"model_version": model.version, "score": round(float(score), 6), "result": result}
        if not interface.validate_prediction(prediction):
            raise ValueError(f"Label Studio rejects the prediction for {row['passage_id']}: {prediction}")
        out.append(prediction)
    return out


@lru_cache(maxsize=32)
def label_interface(label_config: str):
    """Label Studio's `LabelInterface` for a config, parsed once per config."""
    from label_studio_sdk.label_interface import LabelInterface

    return LabelInterface(label_config)


def studio_predictor(model: Model, questions: Iterable[str]):
    """A function from task data and a project's label config to the model's predictions for `questions`, scored
    by their place in the order of labelling among the tasks given at once."""
    questions = frozenset(questions)

    def predict(data: list[dict], label_config: str) -> list[dict]:
        table = with_priority(model, suggestion_table(model, data), passage_texts(data))
        return predictions(model, table, label_config, questions)

    return predict


def _item(interface, control: str, labels: list[str], score: float) -> dict:
    item = json.loads(interface.get_control(control).label(labels).to_json())
    item["score"] = round(score, 6)
    return item


def write_suggestions(
    model: Model, tasks: list[dict], out: str | Path, questions: Iterable[str], rank: bool = False
) -> pd.DataFrame:
    """Write suggestions as Label Studio tasks pre-filling `questions` (`.json`) or as a table of every question
    the model answers (`.csv`, `.parquet`), with `priority`; return the table. `rank` puts them in the order
    of labelling (`priority` ascending)."""
    out = Path(out)
    table = with_priority(model, suggestion_table(model, tasks), passage_texts(tasks))
    order = np.argsort(table["priority"].to_numpy(), kind="stable") if rank else np.arange(len(table))
    table = table.iloc[order].reset_index(drop=True)
    tasks = [tasks[i] for i in order]
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".json":
        made = with_predictions(model, tasks, table, questions)
        out.write_text(json.dumps(made, ensure_ascii=False, indent=1), "utf-8")
    elif out.suffix == ".csv":
        flat = table.assign(frames=table["frames"].map(";".join)) if "frames" in table else table
        write_csv(flat, out)
    elif out.suffix == ".parquet":
        table.to_parquet(out, index=False)
    else:
        raise ValueError(f"{out}: write suggestions to .json (Label Studio tasks), .csv or .parquet")
    return table


def read_inputs(paths: list[Path], codebook) -> tuple[list[dict], list[str]]:
    """Tasks from a Label Studio task file, or made from articles; and what was skipped."""
    if len(paths) == 1 and paths[0].suffix == ".json":
        try:
            tasks = json.loads(paths[0].read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"{paths[0]}: not a readable task file ({err})") from None
        if not isinstance(tasks, list) or not all(isinstance(t, dict) and "text" in t.get("data", t) for t in tasks):
            raise ValueError(f"{paths[0]}: a task file is a JSON list of tasks, each with data.text")
        for number, task in enumerate(tasks, 1):
            data = task.get("data", task)
            if "codebook" in data:  # a task made without --codebook does not say
                require_codebook(
                    data["codebook"], codebook.name, f"{paths[0]}: task {number} ({data.get('passage_id')})"
                )
        return tasks, []
    from annotation.tasks import tasks_from_files

    run = tasks_from_files(paths, codebook)
    return run.tasks, [str(item) for item in run.skipped]
