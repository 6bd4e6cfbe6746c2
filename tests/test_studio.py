"""Pushing tasks to and pulling labels from a real Label Studio server."""

from __future__ import annotations

import secrets

import pytest

from annotation.codebook import load_codebook, parse_codebook, shipped_codebooks
from annotation.convert import read_export
from annotation.sample import sample_tasks
from annotation.studio import StudioError, connect, find_projects, pull, push, sign_up

CODEBOOK_TEXT = shipped_codebooks()["soleimani_2020"].read_text(encoding="utf-8")
CODEBOOK = load_codebook(shipped_codebooks()["soleimani_2020"])

pytestmark = pytest.mark.studio


def test_a_wrong_key_or_address_gets_one_clear_message(studio_server):
    wrong = "0" * 40
    with pytest.raises(StudioError, match="refused the API key") as caught:
        connect(studio_server.url, wrong)
    assert wrong not in str(caught.value)
    with pytest.raises(StudioError, match="cannot reach a Label Studio server"):
        connect("http://127.0.0.1:9", wrong)


def test_push_twice_label_as_two_users_and_pull(studio_server, studio, tmp_path):
    tasks = sample_tasks(CODEBOOK).tasks[:6]
    first = push(studio, CODEBOOK, tasks, "Studio test", annotators=2)
    assert first.created == ["Studio test (annotator 1)", "Studio test (annotator 2)"]
    assert first.imported == {"Studio test (annotator 1)": 6, "Studio test (annotator 2)": 6}
    again = push(studio, CODEBOOK, tasks, "Studio test", annotators=2)
    assert again.created == [] and set(again.imported.values()) == {0} and set(again.already_there.values()) == {6}

    from label_studio_sdk import LabelStudio

    projects = find_projects(studio, "Studio test")
    for n, project in enumerate(projects):
        token = sign_up(studio_server.url, f"coder{n}-{secrets.token_hex(3)}@example.com", secrets.token_hex(8))
        coder = LabelStudio(base_url=studio_server.url, api_key=token)
        for i, task in enumerate(coder.tasks.list(project=project.id, fields="all")):
            stance = "against" if i % 2 == 0 or n == 0 else "favor"
            result = [
                {"from_name": "stance_us_government", "to_name": "text", "type": "choices",
                 "value": {"choices": [stance]}},
                {"from_name": "frames", "to_name": "text", "type": "choices", "value": {"choices": ["legality"]}},
            ]  # fmt: skip
            coder.annotations.create(id=task.id, result=result)

    files = pull(studio, "Studio test", tmp_path)
    assert len(files) == 2
    tables = read_export(files, codebook=CODEBOOK)
    assert tables.read == 12 and len(tables.annotations) == 12
    assert tables.annotations["passage_id"].nunique() == 6
    assert tables.annotations.groupby("passage_id")["annotator"].nunique().eq(2).all()

    from annotation.agreement import agreement

    figures = agreement(tables, CODEBOOK).set_index("question")
    assert figures.loc["stance_us_government", "items"] == 6
    assert figures.loc["stance_us_government", "percent_agreement"] == pytest.approx(0.5)


def test_a_newer_codebook_updates_the_config_or_is_refused(studio):
    tasks = sample_tasks(CODEBOOK).tasks[:2]
    push(studio, CODEBOOK, tasks, "Versions")
    (project,) = find_projects(studio, "Versions")
    task = next(iter(studio.tasks.list(project=project.id)))
    studio.annotations.create(
        id=task.id,
        result=[{"from_name": "frames", "to_name": "text", "type": "choices", "value": {"choices": ["morality"]}}],
    )
    newer = parse_codebook(CODEBOOK_TEXT.replace('version: "1.1"', 'version: "1.2"'), "newer.yaml")
    report = push(studio, newer, tasks, "Versions")
    assert report.updated == ["Versions"] and report.imported == {"Versions": 0}
    without = CODEBOOK_TEXT.replace('version: "1.1"', 'version: "2.0"') + (
        "frames:\n  - {id: security_defense, name: Security}\n  - {id: legality, name: Legality}\n"
    )
    with pytest.raises(StudioError, match="orphan"):
        push(studio, parse_codebook(without, "narrower.yaml"), tasks, "Versions")


def test_suggest_puts_predictions_on_unlabeled_tasks_and_prefills_them(studio_server, studio, sample_model_file):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from label_studio_sdk.label_interface import LabelInterface

    tasks = sample_tasks(CODEBOOK).tasks[:4]
    push(studio, CODEBOOK, tasks, "Suggest test", annotators=2)
    first, second = find_projects(studio, "Suggest test")
    labeled = next(iter(studio.tasks.list(project=first.id)))
    studio.annotations.create(
        id=labeled.id,
        result=[{"from_name": "frames", "to_name": "text", "type": "choices", "value": {"choices": ["morality"]}}],
    )
    command = [str(Path(sys.executable).parent / "framestance"), "studio", "suggest", str(sample_model_file)]
    env = {**os.environ, "LABEL_STUDIO_URL": studio_server.url, "LABEL_STUDIO_API_KEY": studio_server.token}
    done = subprocess.run([*command, "--project", "Suggest test"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert studio_server.token not in done.stdout + done.stderr
    assert "Suggest test (annotator 1): suggested 3 tasks; 1 already labeled" in done.stderr
    assert "Suggest test (annotator 2): suggested 4 tasks; 0 already labeled" in done.stderr

    from models.persistence import load_model

    version = load_model(sample_model_file).version
    interface = LabelInterface(first.label_config)
    for project in (first, second):
        stored = studio.projects.get(id=project.id)
        assert stored.model_version == version and stored.show_collab_predictions
        scores = []
        for task in studio.tasks.list(project=project.id, fields="all"):
            if task.id == labeled.id:
                assert not task.predictions
                continue
            (prediction,) = [p if isinstance(p, dict) else p.model_dump() for p in task.predictions]
            assert prediction["model_version"] == version
            scores.append(prediction["score"])
            assert interface.validate_prediction(json.loads(json.dumps(prediction, default=str)))
            assert {item["from_name"] for item in prediction["result"]} >= set(CODEBOOK.stance_controls)
        # The score is each task's place in the order of labelling among the tasks suggested at once.
        assert sorted(scores) == pytest.approx([i / len(scores) for i in range(len(scores))], abs=1e-6)

    again = subprocess.run([*command, "--project", "Suggest test"], capture_output=True, text=True, env=env)
    assert again.returncode == 0 and "suggested 0 tasks" in again.stderr and "3 already had" in again.stderr
    other = subprocess.run([*command, "--project", "No such project"], capture_output=True, text=True, env=env)
    assert other.returncode != 0 and "no project called 'No such project'" in other.stderr
