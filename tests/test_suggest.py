"""Suggestions: the table schema, Label Studio tasks with valid predictions, ranking, and a real server."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from annotation.codebook import load_codebook, shipped_codebooks
from annotation.label_config import build_label_config
from annotation.sample import sample_file, sample_tasks
from annotation.studio import find_projects, push
from models.prefill import answered_questions
from models.suggest import studio_predictor, suggestion_table, with_predictions, write_suggestions

CODEBOOK_PATH = shipped_codebooks()["soleimani_2020"]
CODEBOOK = load_codebook(CODEBOOK_PATH)
FRAMESTANCE = str(Path(sys.executable).parent / "framestance")


def test_the_table_has_ids_and_per_question_labels_and_probabilities(sample_model):
    tasks = sample_tasks(CODEBOOK).tasks[:12]
    table = suggestion_table(sample_model, tasks)
    assert len(table) == 12 and list(table["passage_id"]) == [t["data"]["passage_id"] for t in tasks]
    for control in CODEBOOK.stance_controls:
        columns = [f"{control}__{label}" for label in sample_model.stance.classes_]
        assert set(table[control]) <= set(sample_model.stance.classes_)
        assert (table[columns].sum(axis=1).round(6) == 1).all()
        assert (table[control] == table[columns].idxmax(axis=1).str.split("__").str[1]).all()
    assert all(isinstance(v, list) for v in table["frames"])
    assert {f"frames__{f}" for f in sample_model.frames.classes_} <= set(table.columns)
    assert table["score"].between(0, 1).all()


def test_predictions_pass_label_studio_validation(sample_model):
    from label_studio_sdk.label_interface import LabelInterface

    tasks = sample_tasks(CODEBOOK).tasks[:8]
    suggested = with_predictions(
        sample_model, tasks, suggestion_table(sample_model, tasks), answered_questions(sample_model)
    )
    interface = LabelInterface(build_label_config(CODEBOOK))
    for task in suggested:
        (prediction,) = task["predictions"]
        assert interface.validate_prediction(prediction)
        assert prediction["model_version"] == sample_model.version and 0 <= prediction["score"] <= 1
        names = {item["from_name"] for item in prediction["result"]}
        assert set(CODEBOOK.stance_controls) | {"primary_frame"} <= names


def test_rank_follows_the_order_of_labelling_and_label_studio_sorts_the_same(sample_model, tmp_path):
    """`--rank` sorts by `priority` (models.labeling_order), `score` stays the confidence, and the predictions
    that `studio suggest` puts sort in the same order by their score."""
    tasks = sample_tasks(CODEBOOK).tasks[:60]
    ranked = write_suggestions(sample_model, tasks, tmp_path / "ranked.csv", (), rank=True)
    plain = write_suggestions(sample_model, tasks, tmp_path / "plain.csv", (), rank=False)
    assert ranked["priority"].is_monotonic_increasing and ranked["priority"].between(0, 1, inclusive="left").all()
    assert sorted(ranked["passage_id"]) == sorted(plain["passage_id"]) and len(set(plain["priority"])) == 60
    assert plain["score"].tolist() == suggestion_table(sample_model, tasks)["score"].tolist()
    made = studio_predictor(sample_model, answered_questions(sample_model))(
        [t["data"] for t in tasks], build_label_config(CODEBOOK)
    )
    by_score = [tasks[i]["data"]["passage_id"] for i in sorted(range(60), key=lambda i: made[i]["score"])]
    assert by_score == ranked["passage_id"].tolist()


def test_suggest_command_writes_each_format_and_ranks(sample_model_file, tmp_path):
    articles = sample_file("articles.jsonl")
    ranked = tmp_path / "ranked.json"
    done = subprocess.run(
        [FRAMESTANCE, "suggest", str(sample_model_file), str(articles), "-o", str(ranked), "--rank", "--all-questions"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    scores = [t["predictions"][0]["score"] for t in json.loads(ranked.read_text(encoding="utf-8"))]
    assert len(scores) == 321 and scores == sorted(scores)
    for suffix in (".csv", ".parquet"):
        out = tmp_path / f"table{suffix}"
        command = [FRAMESTANCE, "suggest", str(sample_model_file), str(articles), "-o", str(out)]
        assert subprocess.run(command).returncode == 0
        table = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
        assert len(table) == 321 and "stance_us_government__favor" in table.columns
    # A task file works as input too.
    task_file = tmp_path / "tasks.json"
    task_file.write_text(json.dumps(sample_tasks(CODEBOOK).tasks[:5]), encoding="utf-8")
    out = tmp_path / "from-tasks.parquet"
    command = [FRAMESTANCE, "suggest", str(sample_model_file), str(task_file), "-o", str(out)]
    assert subprocess.run(command).returncode == 0
    assert len(pd.read_parquet(out)) == 5


def test_suggest_refuses_what_it_cannot_read(sample_model_file, tmp_path):
    bad = tmp_path / "tasks.json"
    bad.write_text('{"not": "a task list"}', encoding="utf-8")
    done = subprocess.run([FRAMESTANCE, "suggest", str(sample_model_file), str(bad)], capture_output=True, text=True)
    assert done.returncode == 2 and "a task file is a JSON list of tasks" in done.stderr
    done = subprocess.run([FRAMESTANCE, "suggest", str(bad), str(bad)], capture_output=True, text=True)
    assert done.returncode == 2 and "not a framestance model file" in done.stderr


@pytest.mark.studio
def test_a_real_server_imports_the_suggestions(studio, sample_model):
    tasks = sample_tasks(CODEBOOK).tasks[:10]
    suggested = with_predictions(
        sample_model, tasks, suggestion_table(sample_model, tasks), answered_questions(sample_model)
    )
    # `studio push` of a suggestion file imports the tasks with their predictions.
    assert push(studio, CODEBOOK, suggested, "suggestions").imported == {"suggestions": 10}
    (project,) = find_projects(studio, "suggestions")
    stored = {t.data["passage_id"]: t for t in studio.tasks.list(project=project.id, fields="all")}
    assert len(stored) == 10
    (prediction,) = studio.tasks.get(id=stored[suggested[0]["data"]["passage_id"]].id).predictions
    assert prediction.model_version == sample_model.version
    assert prediction.score == pytest.approx(suggested[0]["predictions"][0]["score"])
    assert [r["from_name"] for r in prediction.result] == [
        r["from_name"] for r in suggested[0]["predictions"][0]["result"]
    ]


def test_suggest_refuses_tasks_made_from_another_codebook(sample_model_file, tmp_path):
    other = dataclasses.replace(CODEBOOK, name="other_study")
    task_file = tmp_path / "tasks.json"
    task_file.write_text(json.dumps(sample_tasks(other).tasks[:3]), encoding="utf-8")
    out = tmp_path / "suggestions.json"
    done = subprocess.run(
        [FRAMESTANCE, "suggest", str(sample_model_file), str(task_file), "-o", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 2 and not out.exists()
    assert (
        f"{task_file}: task 1 (ledger-01:00) was made from codebook other_study@1.1, the model from soleimani_2020"
        in " ".join(done.stderr.split())
    )


def test_a_flag_given_a_value_is_reported_and_the_rest_still_written(sample_model_file, tmp_path):
    out = tmp_path / "ranked.json"
    articles = str(sample_file("articles.jsonl"))
    command = [FRAMESTANCE, "suggest", str(sample_model_file), articles, "--rank", "true", "-o", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 3
    assert "error: true: no such file (flags take no value: write --rank, not --rank true)" in done.stderr
    scores = [t["predictions"][0]["score"] for t in json.loads(out.read_text(encoding="utf-8")) if t["predictions"]]
    assert len(scores) > 300 and scores == sorted(scores)
