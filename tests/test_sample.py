"""The bundled illustrative sample and the demo: shaped by a real server, consistent with the code."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd
import pytest

from annotation.bounded_yaml import read_yaml
from annotation.codebook import load_codebook, shipped_codebooks
from annotation.label_config import check_label_config, expected_controls
from annotation.sample import EXAMPLE_CODEBOOK, sample_file, sample_tasks

CODEBOOK = load_codebook(shipped_codebooks()[EXAMPLE_CODEBOOK])
EXPORT = json.loads(sample_file("export.json").read_text(encoding="utf-8"))
LABELS = read_yaml(sample_file("labels.yaml"))


def submitted():
    for task in EXPORT:
        for annotation in task["annotations"]:
            if not annotation["was_cancelled"]:
                yield task, annotation


def test_sample_is_marked_illustrative_and_large_enough():
    rows = [json.loads(line) for line in sample_file("articles.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all("Illustrative sample written for framestance" in row["note"] for row in rows)
    assert len({row["source"] for row in rows}) >= 3
    run = sample_tasks(CODEBOOK)
    assert run.skipped == [] and len(run.tasks) >= 60
    assert "illustrative" in sample_file("labels.yaml").read_text(encoding="utf-8").splitlines()[0].lower()


def test_export_holds_the_tasks_the_code_makes_now():
    """Re-run `make sample-export` when this fails: the splitter, the cleaner or the codebook changed."""
    ours = [task["data"] for task in sample_tasks(CODEBOOK).tasks]
    theirs = [task["data"] for task in sorted(EXPORT, key=lambda t: t["id"])]
    assert theirs == ours


def test_every_annotation_of_labels_yaml_is_in_the_export():
    pairs = sum(len(p["by"]) for p in LABELS["passages"].values())
    annotations = [a for t in EXPORT for a in t["annotations"]]
    assert len(annotations) == pairs
    assert sum(a["was_cancelled"] for a in annotations) == 7
    assert len({a["completed_by"] for a in annotations}) == len(LABELS["annotators"]) == 3


def test_every_question_and_every_stance_class_is_answered():
    used = Counter(item["from_name"] for _, a in submitted() for item in a["result"])
    assert set(used) == set(expected_controls(CODEBOOK))
    stance_ids = [s.id for s in CODEBOOK.stance]
    for control in CODEBOOK.stance_controls:
        values = {
            item["value"]["choices"][0] for _, a in submitted() for item in a["result"] if item["from_name"] == control
        }
        assert sorted(values) == sorted(stance_ids), control


def test_annotators_sometimes_disagree():
    answers = defaultdict(set)
    for task, annotation in submitted():
        for item in annotation["result"]:
            if item["type"] == "choices" and item["from_name"] != "cue_frame":
                answers[(task["id"], item["from_name"])].add(tuple(item["value"]["choices"]))
    disagreeing = Counter(name for (_, name), values in answers.items() if len(values) > 1)
    for control in [*CODEBOOK.stance_controls, "frames", "primary_frame"]:
        assert disagreeing[control] >= 2, control
    assert sum(disagreeing.values()) < len(answers)  # sometimes, not always


def test_results_fit_the_codebook_and_the_text():
    controls = expected_controls(CODEBOOK)
    for task, annotation in submitted():
        spans = {}
        for item in annotation["result"]:
            _, labels = controls[item["from_name"]]
            allowed = {label.id for label in labels}
            value = item["value"]
            for chosen in value.get("choices", []) + value.get("labels", []):
                assert chosen in allowed
            if "start" in value:
                assert task["data"]["text"][value["start"] : value["end"]] == value["text"]
            if item["type"] == "labels":
                spans[item["id"]] = value
        for item in annotation["result"]:
            if item["from_name"] == "cue_frame":
                assert item["id"] in spans  # linked to its span by the region id


def test_demo_writes_everything_to_one_folder(tmp_path):
    out = tmp_path / "demo"
    framestance = Path(sys.executable).parent / "framestance"
    done = subprocess.run([str(framestance), "demo", "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "agreement.csv",
        "agreement.png",
        "codebook.yaml",
        "gold.parquet",
        "instructions.html",
        "label-studio-export.json",
        "label_config.xml",
        "model-report",
        "model-report.md",
        "model.skops",
        "review.json",
        "suggestions.json",
        "suggestions.parquet",
        "tables",
        "tasks.json",
    ]
    assert sorted(p.name for p in (out / "tables").iterdir()) == [
        "annotations.parquet",
        "predictions.parquet",
        "questions.json",
        "skipped.parquet",
        "spans.parquet",
        "tasks.parquet",
    ]
    figures = pd.read_csv(out / "agreement.csv").set_index("question")
    assert set(CODEBOOK.stance_controls) <= set(figures.index) and "cues" in figures.index
    gold = pd.read_parquet(out / "gold.parquet")
    assert len(gold) == 321
    review = json.loads((out / "review.json").read_text(encoding="utf-8"))
    assert len(review) == int(gold["unresolved"].map(len).gt(0).sum()) > 0
    assert all({p["model_version"] for p in task["predictions"]} <= {"2", "3", "4"} for task in review)
    assert "read 882 annotations = 875 kept + 7 skipped (7 cancelled)" in done.stderr
    assert "stance_us_government" in done.stderr
    assert "evaluated by cross-validation grouped by article" in done.stderr
    suggestions = json.loads((out / "suggestions.json").read_text(encoding="utf-8"))
    assert len(suggestions) == 321
    scores = [task["predictions"][0]["score"] for task in suggestions]
    assert scores == sorted(scores)  # the order of labelling
    assert load_codebook(out / "codebook.yaml") == CODEBOOK
    check_label_config((out / "label_config.xml").read_text(encoding="utf-8"), CODEBOOK)
    assert json.loads((out / "tasks.json").read_text(encoding="utf-8")) == sample_tasks(CODEBOOK).tasks
    assert (out / "label-studio-export.json").read_bytes() == sample_file("export.json").read_bytes()
    assert "35 articles → 321 passages" in done.stderr


@pytest.mark.studio
def test_demo_config_and_tasks_go_into_a_real_project(studio, tmp_path):
    from annotation.label_config import build_label_config

    project = studio.projects.create(title="demo import", label_config=build_label_config(CODEBOOK))
    tasks = sample_tasks(CODEBOOK).tasks
    imported = studio.projects.import_tasks(id=project.id, request=tasks, return_task_ids=True)
    assert len(imported.task_ids) == len(tasks)
    stored = studio.tasks.get(id=imported.task_ids[5])
    assert stored.data == tasks[5]["data"]


@pytest.mark.studio
def test_review_tasks_go_into_a_real_project_with_one_prediction_per_annotator(studio):
    from annotation.convert import read_export
    from annotation.gold import gold_labels, review_tasks
    from annotation.label_config import build_label_config

    config = build_label_config(CODEBOOK)
    tables = read_export(sample_file("export.json"), codebook=CODEBOOK)
    review = review_tasks(tables, gold_labels(tables, CODEBOOK), config=config)
    project = studio.projects.create(title="review", label_config=config)
    imported = studio.projects.import_tasks(id=project.id, request=review, return_task_ids=True)
    assert len(imported.task_ids) == len(review)
    stored = studio.tasks.get(id=imported.task_ids[0])
    versions = sorted(p.model_version for p in stored.predictions)
    assert versions == sorted(p["model_version"] for p in review[0]["predictions"])
    assert stored.data["review"].startswith("unresolved: ")
