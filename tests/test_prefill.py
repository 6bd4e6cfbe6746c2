"""What suggestions pre-fill: only the questions a model earned, in `suggest`, the ML backend and the plan's
lines; `--all-questions` pre-fills the others too and says so."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from annotation.codebook import load_codebook, shipped_codebooks
from annotation.convert import read_export
from annotation.sample import sample_file, sample_tasks
from models.backend import Backend
from models.persistence import save_model
from models.prefill import answered_questions, prefill_plan
from models.training import train

CODEBOOK_PATH = shipped_codebooks()["soleimani_2020"]
CODEBOOK = load_codebook(CODEBOOK_PATH)
FRAMESTANCE = str(Path(sys.executable).parent / "framestance")
AT_CHANCE = "stance_iranian_opposition"


@pytest.fixture(scope="module")
def chance_model(tmp_path_factory):
    """The demo model trained on the sample's labels with the MEK's stance labels dealt at random: on that
    question the model can only be at chance."""
    export = json.loads(sample_file("export.json").read_text(encoding="utf-8"))
    labels = [label.id for label in CODEBOOK.stance]
    draw = random.Random(7)
    for task in export:
        label = draw.choice(labels)  # one label per passage, so its annotators agree on it
        for annotation in task["annotations"]:
            for item in annotation["result"]:
                if item["from_name"] == AT_CHANCE:
                    item["value"]["choices"] = [label]
    folder = tmp_path_factory.mktemp("chance")
    path = folder / "export.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    model, _ = train(read_export(path, codebook=CODEBOOK), CODEBOOK, CODEBOOK_PATH.read_text("utf-8"))
    return model, save_model(model, folder / "model.skops")


def test_a_question_at_chance_is_left_for_the_annotator(chance_model):
    model, _ = chance_model
    plan = prefill_plan(model)
    assert AT_CHANCE in answered_questions(model) and AT_CHANCE not in plan.questions
    (line,) = [line for line in plan.lines if line.startswith(AT_CHANCE)]
    assert line.startswith(f"{AT_CHANCE}: left for the annotator: ") and "most common" in line
    forced = prefill_plan(model, all_questions=True)
    assert forced.questions == frozenset(answered_questions(model))
    assert any(line.startswith(f"{AT_CHANCE}: pre-filled only because of --all-questions") for line in forced.lines)


def test_suggest_prefills_only_what_the_model_earned_unless_told(chance_model, tmp_path):
    model, model_file = chance_model
    earned = prefill_plan(model).questions
    articles = sample_file("articles.jsonl")
    for flags, wanted in (([], earned), (["--all-questions"], set(answered_questions(model)))):
        out = tmp_path / f"suggestions{len(flags)}.json"
        done = subprocess.run(
            [FRAMESTANCE, "suggest", str(model_file), str(articles), "-o", str(out), *flags],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        said = [line for line in done.stderr.splitlines() if line.startswith(AT_CHANCE)]
        assert len(said) == 1 and ("--all-questions" in said[0]) == bool(flags)
        for task in json.loads(out.read_text(encoding="utf-8")):
            names = {item["from_name"] for prediction in task["predictions"] for item in prediction["result"]}
            assert names <= set(wanted) and (AT_CHANCE in names) == bool(flags)


def test_the_backend_prefills_what_the_model_earned(chance_model, tmp_path):
    model, _ = chance_model
    tasks = [{"data": task["data"]} for task in sample_tasks(CODEBOOK).tasks[:5]]
    for all_questions in (False, True):
        backend = Backend(model, tmp_path, all_questions=all_questions)
        names = {
            item["from_name"] for prediction in backend.predict(None, tasks, None) for item in prediction["result"]
        }
        assert (AT_CHANCE in names) == all_questions
        assert names <= prefill_plan(model, all_questions).questions
