"""The tidy tables an export converts to, and how they are written and read back.

- `annotations`: one row per kept annotation: `export`, `task_id`, `passage_id`, `article_id`, `annotator`,
  `annotator_email`, `annotation_id`, `created_at`, `updated_at`, `lead_time`, `ground_truth`, then one column
  per question named by its control: single choices as categoricals (labels in codebook order), `frames`
  and other multiple choices as lists plus one 0/1 column `<control minus a trailing s>_<label>` per label
  (`frame_legality`), spans as the number of spans, per-span choices as a list, ratings as integers,
  text areas as strings.
- `spans`: one row per span: `export`, `task_id`, `passage_id`, `annotation_id`, `prediction_id`,
  `annotator`, `control`, `region_id`, `start`, `end`, `text`, `label`, `frame` (the per-span choice, where
  the format links it to its span).
- `predictions`: one row per prediction: `export`, `task_id`, `passage_id`, `prediction_id`, `model_version`,
  `score`, and the same question columns.
- `skipped`: one row per annotation (or draft, or record that could not be read) not kept: `export`, `task_id`,
  `passage_id`, `annotation_id`, `annotator`, `reason` (`cancelled`, `empty`, `draft`, `failed check`,
  `malformed` or `conflict`, a colon, and the detail).
- `tasks`: one row per task: `export`, `task_id`, `passage_id`, `article_id`, `text`, `data` (the task's
  data as JSON text).

`annotator` is the Label Studio user id as text. `passage_id` falls back to `<export>#<task id>` for tasks
without one, so items stay distinct across exports.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from annotation.csv_safe import write_csv
from annotation.questions import Question

TABLES = ("annotations", "spans", "predictions", "skipped", "tasks")
ANNOTATION_META = (
    "export",
    "task_id",
    "passage_id",
    "article_id",
    "annotator",
    "annotator_email",
    "annotation_id",
    "created_at",
    "updated_at",
    "lead_time",
    "ground_truth",
)
PREDICTION_META = ("export", "task_id", "passage_id", "prediction_id", "model_version", "score")
SPAN_COLUMNS = (
    "export",
    "task_id",
    "passage_id",
    "annotation_id",
    "prediction_id",
    "annotator",
    "control",
    "region_id",
    "start",
    "end",
    "text",
    "label",
    "frame",
)
SKIPPED_COLUMNS = ("export", "task_id", "passage_id", "annotation_id", "annotator", "reason")
TASK_COLUMNS = ("export", "task_id", "passage_id", "article_id", "text", "data")


def indicator_column(control: str, label: str) -> str:
    """The 0/1 column of one label of a multiple-choice question: `frames`, `legality` → `frame_legality`."""
    stem = control[:-1] if control.endswith("s") and len(control) > 1 else control
    return f"{stem}_{label}"


@dataclass
class LabelTables:
    """Everything read from one or more Label Studio exports, as tables, with the questions they answer."""

    annotations: pd.DataFrame
    spans: pd.DataFrame
    predictions: pd.DataFrame
    skipped: pd.DataFrame
    tasks: pd.DataFrame
    questions: dict[str, Question] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def read(self) -> int:
        """How many annotations (and drafts, and records that could not be read) were read: every one is kept or
        skipped."""
        return len(self.annotations) + len(self.skipped)

    def reconciliation(self) -> str:
        """One line: read = kept + skipped, with the reasons for skipping."""
        reasons = self.skipped["reason"].str.split(":").str[0].value_counts().sort_index()
        detail = ", ".join(f"{count} {reason}" for reason, count in reasons.items())
        line = f"read {self.read} annotations = {len(self.annotations)} kept + {len(self.skipped)} skipped"
        return line + (f" ({detail})" if detail else "")

    def write(self, folder: str | Path, fmt: str = "parquet") -> list[Path]:
        """Write every table to `folder` as Parquet (exactly), or CSV (text a spreadsheet would run as a formula
        escaped, see `annotation.csv_safe`), and the questions as `questions.json`."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name in TABLES:
            frame: pd.DataFrame = getattr(self, name)
            path = folder / f"{name}.{fmt}"
            if fmt == "parquet":
                frame.to_parquet(path, index=False)
            elif fmt == "csv":
                write_csv(frame, path)
            else:
                raise ValueError(f"unknown table format {fmt!r}; use parquet or csv")
            written.append(path)
        meta = folder / "questions.json"
        meta.write_text(json.dumps([asdict(q) for q in self.questions.values()], indent=1) + "\n", encoding="utf-8")
        return [*written, meta]


def read_tables(folder: str | Path) -> LabelTables:
    """Tables written by `LabelTables.write` (Parquet), read back."""
    folder = Path(folder)
    frames = {}
    for name in TABLES:
        path = folder / f"{name}.parquet"
        if not path.exists():
            raise FileNotFoundError(f"{folder}: no {name}.parquet; write the tables with `framestance convert`")
        frames[name] = pd.read_parquet(path)
    meta = folder / "questions.json"
    questions = json.loads(meta.read_text(encoding="utf-8")) if meta.exists() else []
    return LabelTables(
        **frames, questions={q["name"]: Question(**{**q, "labels": tuple(q["labels"])}) for q in questions}
    )
