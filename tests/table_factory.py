"""Small `LabelTables` written out by hand, for the agreement and gold-label tests."""

from __future__ import annotations

import json

import pandas as pd

from annotation.questions import MULTI, RATING, SINGLE, SPAN_CHOICE, SPANS, Question
from annotation.tables import LabelTables, indicator_column


def make_tables(rows: list[tuple], questions: dict[str, Question]) -> LabelTables:
    """Tables from `(passage, annotator, {control: answer})` rows.

    Spans answers are `(start, end, label, frame)` lists; the key `ground_truth` marks a ground-truth annotation.
    """
    annotations, spans = [], []
    task_ids = {p: n for n, p in enumerate(dict.fromkeys(r[0] for r in rows), start=1)}
    for i, (passage, annotator, answers) in enumerate(rows, start=1):
        row = {
            "export": "e1",
            "task_id": task_ids[passage],
            "passage_id": passage,
            "article_id": f"a{passage}",
            "annotator": annotator,
            "annotator_email": f"{annotator}@example.org",
            "annotation_id": i,
            "created_at": pd.Timestamp("2025-01-01") + pd.Timedelta(minutes=i),
            "updated_at": pd.Timestamp("2025-01-01") + pd.Timedelta(minutes=i),
            "lead_time": 1.0,
            "ground_truth": answers.get("ground_truth", False),
        }
        for question in questions.values():
            answer = answers.get(question.name)
            if question.kind == MULTI:
                row[question.name] = answer
                for label in question.labels:
                    row[indicator_column(question.name, label)] = int(answer is not None and label in answer)
            elif question.kind == SPANS:
                row[question.name] = len(answer or [])
                for region, (start, end, label, *frame) in enumerate(answer or []):
                    spans.append(
                        {
                            "passage_id": passage,
                            "annotation_id": i,
                            "prediction_id": None,
                            "annotator": annotator,
                            "control": question.name,
                            "region_id": f"r{region}",
                            "start": start,
                            "end": end,
                            "text": "x" * (end - start),
                            "label": label,
                            "frame": frame[0] if frame else None,
                        }
                    )
            elif question.kind == SPAN_CHOICE:
                row[question.name] = [s[3] for s in answers.get("cues") or [] if len(s) > 3 and s[3]]
            else:
                row[question.name] = answer
        annotations.append(row)
    frame = pd.DataFrame(annotations)
    for question in questions.values():
        if question.kind == SINGLE:
            frame[question.name] = pd.Categorical(frame[question.name], categories=question.labels)
        elif question.kind == RATING:
            frame[question.name] = frame[question.name].astype("Int64")
    span_columns = ["passage_id", "annotation_id", "prediction_id", "annotator", "control", "region_id"]
    span_frame = pd.DataFrame(spans, columns=[*span_columns, "start", "end", "text", "label", "frame"])
    passages = dict.fromkeys(r[0] for r in rows)
    tasks = pd.DataFrame(
        [
            {"export": "e1", "task_id": task_ids[p], "passage_id": p, "data": json.dumps({"text": f"text {p}"})}
            for p in passages
        ]
    )
    return LabelTables(frame, span_frame, pd.DataFrame(), pd.DataFrame(), tasks, dict(questions))
