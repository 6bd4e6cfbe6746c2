"""`framestance serve`: Label Studio's ML backend protocol, hostile requests, and retraining under load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from annotation.codebook import load_codebook, shipped_codebooks
from annotation.label_config import build_label_config
from annotation.sample import sample_file, sample_tasks
from annotation.studio import find_projects, push
from annotation.studio_server import StudioServerError, free_port, wait_until_up

CODEBOOK = load_codebook(shipped_codebooks()["soleimani_2020"])
CONFIG = build_label_config(CODEBOOK)
FRAMESTANCE = str(Path(sys.executable).parent / "framestance")
TEXT = "The drone strike killed the general, whom officials called a terrorist plotting attacks on troops."


@pytest.fixture(scope="module")
def backend(sample_model_file, tmp_path_factory):
    """A running `framestance serve` of the demo model on a free loopback port: its address."""
    port = free_port()
    work = tmp_path_factory.mktemp("backend")
    process = subprocess.Popen(
        [FRAMESTANCE, "serve", str(sample_model_file), "--port", str(port), "--work", str(work)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, 120, "framestance serve")
    except StudioServerError as err:
        process.kill()
        pytest.fail(f"{err}:\n{process.stdout.read()}")
    yield url
    process.terminate()
    process.wait(timeout=30)


def predict(url: str, tasks: list[dict], **fields) -> httpx.Response:
    return httpx.post(f"{url}/predict", json={"tasks": tasks, **fields}, timeout=60)


def test_predict_answers_every_question_of_every_task(backend, sample_model):
    from label_studio_sdk.label_interface import LabelInterface

    tasks = [{"id": i, "data": task["data"]} for i, task in enumerate(sample_tasks(CODEBOOK).tasks[:20])]
    answer = predict(backend, tasks, project="3.1700000000", label_config=CONFIG)
    assert answer.status_code == 200
    body = answer.json()
    assert len(body["results"]) == 20 and body["model_version"] == sample_model.version
    interface = LabelInterface(CONFIG)
    for prediction in body["results"]:
        assert prediction["model_version"] == sample_model.version and 0 < prediction["score"] <= 1
        assert interface.validate_prediction(prediction)
        names = {item["from_name"] for item in prediction["result"]}
        assert set(CODEBOOK.stance_controls) | {"primary_frame"} <= names
    health = httpx.get(f"{backend}/health").json()
    assert health["status"] == "UP" and health["model_version"] == sample_model.version
    setup = httpx.post(f"{backend}/setup", json={"project": "3.1700000000", "schema": CONFIG})
    assert setup.status_code == 200 and setup.json() == {"model_version": sample_model.version}


HOSTILE = [
    ("/predict", b'{"tasks": [', 400, "not JSON"),
    ("/predict", b"[1, 2, 3]", 400, "JSON object"),
    ("/predict", '{"tasks": []}'.encode("utf-16"), 400, "not UTF-8"),
    ("/predict", b'{"tasks": [{"data": {"text": "caf\xe9"}}]}', 400, "not UTF-8"),
    ("/predict", b'{"tasks": "everything"}', 422, "non-empty list"),
    ("/predict", b'{"tasks": [{"id": 7, "data": {"text": 42}}]}', 422, "task 0 (id 7) has no data.text"),
    ("/predict", json.dumps({"tasks": [{"data": {"text": "a"}}] * 1001}).encode(), 413, "at most 1000"),
    ("/predict", json.dumps({"tasks": [{"data": {"text": "a"}}], "project": "x; drop"}).encode(), 400, "not a project"),
    ("/predict", b'{"tasks": [{"id": 3, "data": {"text": "half \\ud800 pair"}}]}', 422, "not valid Unicode at 5"),
    ("/predict", json.dumps({"tasks": [{"data": {"text": "a"}}], "label_config": "<View"}).encode(), 422, "parser"),
    (
        "/predict",
        json.dumps({"tasks": [{"data": {"text": "a"}}], "label_config": "<View></View>"}).encode(),
        422,
        "no control 'stance_us_government'",
    ),
    ("/webhook", b'{"action": "ANNOTATION_CREATED", "project": {"id": 987654}}', 404, "project 987654 is unknown"),
    ("/webhook", b'{"project": {"id": 1}}', 422, "names its action"),
    ("/setup", b'{"schema": "<View/>"}', 422, "needs the project"),
    ("/train", b'{"project": "1.1", "annotations": "all"}', 422, "labeled tasks"),
]


@pytest.mark.parametrize(("path", "body", "status", "reason"), HOSTILE, ids=[h[3] for h in HOSTILE])
def test_a_bad_request_gets_a_4xx_with_its_reason(backend, path, body, status, reason):
    answer = httpx.post(f"{backend}{path}", content=body, headers={"content-type": "application/json"}, timeout=60)
    assert answer.status_code == status and reason in answer.json()["error"]


def test_huge_bodies_are_refused_and_the_server_keeps_serving(backend):
    huge = b'{"tasks": [{"data": {"text": "' + b"x" * (17 * 1024 * 1024) + b'"}}]}'
    declared = httpx.post(f"{backend}/predict", content=huge, timeout=60)
    assert declared.status_code == 413

    def chunks():  # no Content-Length: the size is only known while reading
        yield b'{"tasks": [{"data": {"text": "'
        for _ in range(20):
            yield b"y" * (1024 * 1024)
        yield b'"}}]}'

    streamed = httpx.post(f"{backend}/predict", content=chunks(), timeout=60)
    assert streamed.status_code == 413
    # Texts no one expects still get predictions: control characters, right-to-left script, emoji, nothing.
    odd = ["\x00\x07 strike", "اغتيال سليماني", "🚀" * 500, ""]
    body = json.dumps({"tasks": [{"data": {"text": t}} for t in odd]})
    answer = httpx.post(f"{backend}/predict", content=body.encode(), timeout=60)
    assert answer.status_code == 200 and len(answer.json()["results"]) == len(odd)
    assert httpx.get(f"{backend}/health").status_code == 200
    assert predict(backend, [{"data": {"text": TEXT}}]).status_code == 200


def labeled_sample_tasks() -> list[dict]:
    """The sample's tasks with their annotators' results, as a task file with annotations to import."""
    export = json.loads(sample_file("export.json").read_text(encoding="utf-8"))
    return [
        {
            "data": task["data"],
            "annotations": [{"result": a["result"]} for a in task["annotations"] if not a.get("was_cancelled")],
        }
        for task in export
    ]


@pytest.mark.studio
def test_label_studio_calls_the_backend_and_stores_its_predictions(studio_server, studio, backend, sample_model):
    push(studio, CODEBOOK, sample_tasks(CODEBOOK).tasks[:5], "Backend live")
    env = {**os.environ, "LABEL_STUDIO_URL": studio_server.url, "LABEL_STUDIO_API_KEY": studio_server.token}
    command = [FRAMESTANCE, "studio", "connect", "--project", "Backend live", "--backend", backend]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    assert done.returncode == 0 and "Backend live: connected to" in done.stderr, done.stderr
    again = subprocess.run(command, capture_output=True, text=True, env=env)
    assert again.returncode == 0 and "already connected" in again.stderr
    (project,) = find_projects(studio, "Backend live")
    assert studio.projects.get(id=project.id).model_version == "framestance"
    task = next(iter(studio.tasks.list(project=project.id)))
    opened = studio.tasks.get(id=task.id)  # opening a task without predictions asks the backend
    (prediction,) = opened.predictions
    assert prediction.model_version == sample_model.version
    assert {item["from_name"] for item in prediction.result} >= set(CODEBOOK.stance_controls)
    assert len(list(studio.predictions.list(task=task.id))) == 1  # stored, not only shown


@pytest.mark.studio
def test_retraining_under_load_drops_no_request(studio, backend, sample_model):
    from annotation.studio import connect_backend

    tasks = labeled_sample_tasks()
    for task in tasks[-3:]:  # left for the annotators: Label Studio will ask the retrained model for these
        task["annotations"] = []
    push(studio, CODEBOOK, tasks, "Backend training")
    (project,) = find_projects(studio, "Backend training")
    connect_backend(studio, "Backend training", backend)
    uid = f"{project.id}.{int(time.time())}"
    seen: list[tuple[int, str | None]] = []
    stop = threading.Event()

    def steady_stream():
        with httpx.Client(timeout=60) as client:
            while not stop.is_set():
                answer = client.post(
                    f"{backend}/predict", json={"tasks": [{"id": 1, "data": {"text": TEXT}}], "project": uid}
                )
                seen.append((answer.status_code, answer.json().get("model_version")))
                time.sleep(0.02)

    stream = threading.Thread(target=steady_stream)
    stream.start()
    try:
        time.sleep(1)
        task = next(iter(studio.tasks.list(project=project.id)))
        studio.annotations.create(  # Label Studio sends ANNOTATION_CREATED to the backend's /webhook
            id=task.id,
            result=[{"from_name": "frames", "to_name": "text", "type": "choices", "value": {"choices": ["morality"]}}],
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not any(v not in (None, sample_model.version) for _, v in seen):
            time.sleep(0.5)
        time.sleep(1)
    finally:
        stop.set()
        stream.join()
    health = httpx.get(f"{backend}/health").json()
    assert all(status == 200 for status, _ in seen), [s for s in seen if s[0] != 200][:5]
    versions = [v for _, v in seen]
    new = versions[-1]
    assert new != sample_model.version, health
    switched = versions.index(new)
    assert set(versions[:switched]) == {sample_model.version} and set(versions[switched:]) == {new}
    assert health["trainings"][str(project.id)] == f"trained {new}"
    # Label Studio now asks the backend again and stores the new model's suggestion for an unlabeled task.
    unlabeled = [t for t in studio.tasks.list(project=project.id, fields="all") if not t.total_annotations]
    opened = studio.tasks.get(id=unlabeled[-1].id)
    assert new in {p.model_version for p in opened.predictions}
