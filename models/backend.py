"""A Label Studio ML backend serving a framestance model: suggestions when a task opens, retraining as labels arrive.

It speaks the protocol a Label Studio server uses with a model server: `GET /health`, `POST /setup` (the
server's address and API key for a project), `POST /predict` (one prediction per task, for every question the
model answers), `POST /webhook` (annotation events; the training ones retrain) and the older `POST /train`
(the server sends the labeled tasks itself), plus `GET /versions`. Each project gets its own model once it
has been retrained on its labels; until then it is served the model the server started with. Training runs
in a child process and the new model is swapped in when it is ready, so requests are never held up or dropped.
Every bad request gets a 4xx answer with a reason; the API key is kept in memory and never logged.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from models.training import Model

log = logging.getLogger("framestance.backend")

MAX_BODY = 16 * 1024 * 1024  # bytes: a request of 1,000 long passages fits
MAX_TASKS = 1000
TRAINING_EVENTS = frozenset({"ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED", "START_TRAINING"})
PROJECT = re.compile(r"\A(\d+)(?:\.\d+)?\Z")  # Label Studio sends "<project id>.<created at>"


class BadRequest(ValueError):
    """A request the backend refuses, with the HTTP status and the reason to send back."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


@dataclass
class Training:
    """A project's training: what runs, whether more labels arrived meanwhile, and how the last one ended."""

    running: Future | None = None
    again: bool = False
    export: Path | None = None
    runs: int = 0
    last: str = ""


@dataclass
class Backend:
    """What the server holds: the starting model, each project's own model, connections and trainings."""

    model: Model
    work: Path
    url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    models: dict[int, Model] = field(default_factory=dict)
    connections: dict[int, tuple[str, str]] = field(default_factory=dict, repr=False)
    trainings: dict[int, Training] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    scoring: threading.Lock = field(default_factory=threading.Lock, repr=False)
    pool: ProcessPoolExecutor | None = field(default=None, repr=False)
    all_questions: bool = False

    def model_for(self, project: int | None) -> Model:
        """The model that answers for a project: its retrained one, else the starting one."""
        return self.models.get(project, self.model) if project is not None else self.model

    def setup(self, project: int, hostname: str | None, access_token: str | None, schema: str | None) -> str:
        """Remember how to reach a project's server; return the model version that answers for it."""
        model = self.model_for(project)
        if schema:
            _check_config(model, schema)
        url, key = self.url or hostname, self.api_key or access_token
        if url and key:
            self.connections[project] = (url.rstrip("/"), key)
        return model.version

    def predict(self, project: int | None, tasks: list[dict], label_config: str | None) -> list[dict]:
        """One prediction per task, built for `label_config` (the model's own config when none is given), for the
        questions the project's model earned (every question with `all_questions`)."""
        from models.prefill import prefill_plan
        from models.suggest import predictions, suggestion_table

        model = self.model_for(project)  # taken once: a swap during the request does not mix models
        if label_config:
            _check_config(model, label_config)
        questions = prefill_plan(model, self.all_questions).questions
        with self.scoring:  # one request scores at a time: Python threads only contend for the same cores
            table = suggestion_table(model, [task["data"] for task in tasks])
            return predictions(model, table, label_config, questions)

    def train(self, project: int, export: Path | None = None) -> str:
        """Start retraining a project's model (at once, or after the running training); return a job id.

        The labels come from the project on its server, or from `export` (the older `/train` route sends them).
        """
        if export is None and project not in self.connections:
            raise BadRequest(404, f"project {project} is unknown here: Label Studio sends /setup for it first")
        with self.lock:
            training = self.trainings.setdefault(project, Training())
            training.export = export
            if training.running is not None and not training.running.done():
                training.again = True  # one more run when this one ends, with every label by then
                return f"{project}-{training.runs + 1}"
            self._start(project, training)
            return f"{project}-{training.runs}"

    def _start(self, project: int, training: Training) -> None:
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
        training.runs += 1
        out = self.work / f"project-{project}" / f"model-{training.runs}.skops"
        model = self.model_for(project)
        if training.export:
            source = ("export", str(training.export))
        else:
            source = ("studio", *self.connections[project], project)
        features, seed = model.card.get("features", "tfidf"), model.card.get("seed", 0)
        training.running = self.pool.submit(retrain, source, model.codebook_text, features, seed, str(out))
        training.running.add_done_callback(lambda done: self._finished(project, done, out))

    def _finished(self, project: int, done: Future, out: Path) -> None:
        from models.persistence import load_model

        with self.lock:
            training = self.trainings[project]
            try:
                done.result()
                model = load_model(out, self.model.codebook)
                lost = _questions(self.model_for(project)) - _questions(model)
                if lost:
                    skipped = model.card.get("evaluation", {}).get("skipped", {})
                    reasons = "; ".join(f"{q}: {skipped.get(q, 'not trained')}" for q in sorted(lost))
                    training.last = f"kept {self.model_for(project).version}: the labels do not train {reasons}"
                else:
                    self.models[project] = model  # the swap: requests from now on get the new model
                    training.last = f"trained {model.version}"
            except Exception as err:  # a training that fails leaves the current model serving
                training.last = f"failed: {err}"
            log.warning("project %s: %s", project, training.last)
            if training.again:
                training.again = False
                self._start(project, training)

    def versions(self, project: int | None) -> list[str]:
        """The model versions this server has served for a project, oldest first."""
        current = self.model_for(project).version
        return [self.model.version] + ([current] if current != self.model.version else [])

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


def retrain(source: tuple, codebook_text: str, features: str, seed: int, out: str) -> str:
    """Train a model on a project's labels and save it to `out`; return its version. Runs in a child process."""
    from annotation.codebook import parse_codebook
    from annotation.convert import read_export
    from models.persistence import save_model
    from models.training import train

    codebook = parse_codebook(codebook_text, "the model's codebook")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    if source[0] == "studio":
        from label_studio_sdk import LabelStudio

        _, url, key, project = source
        client = LabelStudio(base_url=url, api_key=key)
        export = Path(out).with_suffix(".export.json")
        export.write_bytes(b"".join(client.projects.exports.download_sync(id=project, export_type="JSON")))
    else:
        export = Path(source[1])
    model, _ = train(read_export(export, codebook=codebook), codebook, codebook_text, features, seed)
    save_model(model, out)
    return model.version


def _questions(model: Model) -> set[str]:
    return {kind for kind in ("stance", "frames", "primary") if getattr(model, kind) is not None}


def _check_config(model: Model, label_config: str) -> None:
    """Refuse a labeling config that lacks a question or label the model answers."""
    from models.suggest import label_interface

    try:
        interface = label_interface(label_config)
        found = {control.name: control for control in interface.controls}
    except Exception as err:  # the SDK raises several unrelated exception types
        raise BadRequest(422, f"Label Studio's parser rejects the label config: {err}") from None
    wanted = {}
    if model.stance is not None:
        wanted.update({control: model.stance.classes_ for control in model.codebook.stance_controls})
    if model.frames is not None:
        wanted["frames"] = model.frames.classes_
    if model.primary is not None:
        wanted["primary_frame"] = model.primary.classes_
    for name, classes in wanted.items():
        if name not in found:
            raise BadRequest(422, f"the label config has no control {name!r}, which the model answers")
        missing = sorted(set(classes) - set(found[name].labels_attrs))
        if missing:
            raise BadRequest(422, f"control {name!r} of the label config lacks the labels {missing}")


def project_id(value) -> int | None:
    """The project id in what Label Studio sends: `12`, `"12"`, `"12.1700000000"` or `{"id": 12, ...}`."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, bool) or value is None:
        raise BadRequest(400, "project must be a project id")
    match = PROJECT.match(str(value))
    if not match:
        raise BadRequest(400, f"project {str(value)[:40]!r} is not a project id")
    return int(match.group(1))


def parse_body(raw: bytes) -> dict:
    """The JSON object of a request body, or a 4xx saying what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadRequest(400, f"the body is not UTF-8 (byte {err.start})") from None
    try:
        body = json.loads(text)
    except json.JSONDecodeError as err:
        raise BadRequest(400, f"the body is not JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    if not isinstance(body, dict):
        raise BadRequest(400, "the body must be a JSON object")
    return body


def checked_tasks(body: dict) -> list[dict]:
    """The tasks of a /predict request, each with text to score."""
    tasks = body.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        raise BadRequest(422, "tasks must be a non-empty list")
    if len(tasks) > MAX_TASKS:
        raise BadRequest(413, f"{len(tasks)} tasks in one request; send at most {MAX_TASKS}")
    for i, task in enumerate(tasks):
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            raise BadRequest(422, f"task {i} (id {_id(task)}) has no data.text string")
        try:
            data["text"].encode("utf-8")
        except UnicodeEncodeError as err:  # JSON can carry half of a UTF-16 pair, which is no text at all
            raise BadRequest(422, f"task {i} (id {_id(task)}): its text is not valid Unicode at {err.start}") from None
    return tasks


def _id(task) -> str:
    return str(task.get("id"))[:20] if isinstance(task, dict) else "none"


def create_app(backend: Backend):
    """The FastAPI application serving `backend`."""

    @asynccontextmanager
    async def lifespan(_app):
        yield
        backend.close()

    app = FastAPI(title="framestance ML backend", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)

    @app.exception_handler(BadRequest)
    async def refused(_request: Request, err: BadRequest):
        return JSONResponse({"error": str(err)}, status_code=err.status)

    async def body_of(request: Request) -> dict:
        declared = request.headers.get("content-length")
        if declared and (not declared.isdigit() or int(declared) > MAX_BODY):
            raise BadRequest(413, f"the body is larger than {MAX_BODY} bytes")
        raw = bytearray()
        async for chunk in request.stream():
            raw.extend(chunk)
            if len(raw) > MAX_BODY:
                raise BadRequest(413, f"the body is larger than {MAX_BODY} bytes")
        return parse_body(bytes(raw))

    @app.get("/")
    @app.get("/health")
    async def health():
        from models.prefill import prefill_plan

        trainings = {str(p): t.last or "running" for p, t in backend.trainings.items()}
        return {
            "status": "UP",
            "model_class": "framestance",
            "model_version": backend.model.version,
            "prefill": list(prefill_plan(backend.model, backend.all_questions).lines),
            "trainings": trainings,
        }

    @app.post("/setup")
    async def setup(request: Request):
        body = await body_of(request)
        project = project_id(body.get("project"))
        if project is None:
            raise BadRequest(422, "setup needs the project")
        schema = body.get("schema")
        if schema is not None and not isinstance(schema, str):
            raise BadRequest(422, "schema must be the label config as a string")
        token = body.get("access_token")
        version = await run_in_threadpool(backend.setup, project, _text(body.get("hostname")), _text(token), schema)
        return {"model_version": version}

    @app.post("/predict")
    async def predict(request: Request):
        body = await body_of(request)
        project = project_id(body.get("project"))
        tasks = checked_tasks(body)
        config = body.get("label_config")
        if config is not None and not isinstance(config, str):
            raise BadRequest(422, "label_config must be a string")
        made = await run_in_threadpool(backend.predict, project, tasks, config)
        return {"results": made, "model_version": made[0]["model_version"]}

    @app.post("/webhook")
    async def webhook(request: Request):
        body = await body_of(request)
        action = body.get("action")
        if not isinstance(action, str):
            raise BadRequest(422, "a webhook names its action")
        project = project_id(body.get("project"))
        if action not in TRAINING_EVENTS:
            return JSONResponse({"status": "ignored", "action": action[:40]}, status_code=200)
        if project is None:
            raise BadRequest(422, f"{action} names no project")
        job = await run_in_threadpool(backend.train, project)
        return JSONResponse({"status": "training", "job": job}, status_code=201)

    @app.post("/train")
    async def train(request: Request):
        body = await body_of(request)
        project = project_id(body.get("project"))
        annotations = body.get("annotations")
        if project is None or not isinstance(annotations, list):
            raise BadRequest(422, "/train needs the project and its labeled tasks as annotations")
        folder = backend.work / f"project-{project}"
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=folder, delete=False) as out:
            json.dump(annotations, out)
        job = await run_in_threadpool(backend.train, project, Path(out.name))
        return JSONResponse({"job": job}, status_code=201)

    @app.get("/versions")
    async def versions(project: str | None = None):
        return {"versions": backend.versions(project_id(project))}

    return app


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None
