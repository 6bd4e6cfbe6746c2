"""Label Studio exports in the shape a real 1.23.2 server writes them, built in tests from plain answers."""

from __future__ import annotations

import json
from itertools import count
from pathlib import Path

_ids = count(1)


def region_id() -> str:
    """A 10-character region id like the labeling editor's."""
    return f"r{next(_ids):09d}"


def choices(control: str, values: list[str], item_id: str | None = None) -> dict:
    return {
        "value": {"choices": list(values)},
        "id": item_id or region_id(),
        "from_name": control,
        "to_name": "text",
        "type": "choices",
        "origin": "manual",
    }


def span(control: str, text: str, start: int, end: int, label: str, item_id: str | None = None) -> dict:
    return {
        "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]},
        "id": item_id or region_id(),
        "from_name": control,
        "to_name": "text",
        "type": "labels",
        "origin": "manual",
    }


def span_choice(control: str, span_item: dict, value: str) -> dict:
    where = {k: span_item["value"][k] for k in ("start", "end", "text")}
    return {
        "value": {**where, "choices": [value]},
        "id": span_item["id"],
        "from_name": control,
        "to_name": "text",
        "type": "choices",
        "origin": "manual",
    }


def rating(control: str, value: int) -> dict:
    return {"value": {"rating": value}, "id": region_id(), "from_name": control, "to_name": "text", "type": "rating"}


def textarea(control: str, value: str) -> dict:
    return {"value": {"text": [value]}, "id": region_id(), "from_name": control, "to_name": "text", "type": "textarea"}


def annotation(ann_id: int, user: int, result: list[dict], cancelled: bool = False, ground_truth: bool = False) -> dict:
    return {
        "id": ann_id,
        "completed_by": user,
        "result": result,
        "was_cancelled": cancelled,
        "ground_truth": ground_truth,
        "created_at": f"2026-11-21T10:00:{ann_id % 60:02d}.000000Z",
        "updated_at": f"2026-11-21T10:00:{ann_id % 60:02d}.000000Z",
        "draft_created_at": None,
        "lead_time": 12.5,
        "prediction": {},
        "result_count": len({item["id"] for item in result}),
        "unique_id": f"u-{ann_id}",
        "import_id": None,
        "last_action": None,
        "bulk_created": False,
        "task": None,
        "project": 1,
        "updated_by": user,
        "parent_prediction": None,
        "parent_annotation": None,
        "last_created_by": None,
    }


def prediction(pred_id: int, result: list[dict], model_version: str = "m1", score: float = 0.5) -> dict:
    return {"id": pred_id, "result": result, "model_version": model_version, "score": score, "task": None, "project": 1}


def task(task_id: int, data: dict, annotations: list[dict], drafts: list = (), predictions: list = ()) -> dict:
    for item in annotations:
        item["task"] = task_id
    return {
        "id": task_id,
        "annotations": annotations,
        "drafts": list(drafts),
        "predictions": list(predictions),
        "data": data,
        "meta": {},
        "created_at": "2026-11-21T10:00:00.000000Z",
        "updated_at": "2026-11-21T10:00:00.000000Z",
        "allow_skip": True,
        "inner_id": task_id,
        "total_annotations": sum(not a["was_cancelled"] for a in annotations),
        "cancelled_annotations": sum(a["was_cancelled"] for a in annotations),
        "total_predictions": len(predictions),
        "comment_count": 0,
        "unresolved_comment_count": 0,
        "last_comment_updated_at": None,
        "project": 1,
        "updated_by": None,
        "comment_authors": [],
    }


def write_export(path: Path, tasks: list[dict]) -> Path:
    """Write tasks as a one-line JSON export, as the server's snapshot export does."""
    path.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    return path
