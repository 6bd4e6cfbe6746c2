"""A Label Studio ML backend serving a framestance model: suggestions when a task opens, retraining as labels arrive.

It speaks the protocol a Label Studio server uses with a model server: `GET /health`, `POST /setup` (the
server's address and API key for a project), `POST /predict` (one prediction per task, for every question the
model answers), `POST /webhook` (annotation events; the training ones retrain) and the older `POST /train`
(the server sends the labeled tasks itself), plus `GET /versions` and its OpenAPI schema at `/openapi.json`.
Each project gets its own model once it has been retrained on its labels; until then it is served the model the
server started with. Training runs in a child process and the new model is swapped in when it is ready, so
requests are never held up or dropped. A large `/predict` is scored in slices, one slice at a time across all
requests, so small requests get their turn between the slices of a large one.

Every bad request gets a 4xx answer with a reason, and a body that stops arriving gets 408. With credentials
(`auth`), every route but `GET /health` wants them as HTTP Basic auth. The API key is sent only with the
server address it was given with, and neither it nor the password is ever logged.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import re
import secrets
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from multiprocessing import get_context
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from models.training import Model

log = logging.getLogger("framestance.backend")

MAX_BODY = 16 * 1024 * 1024  # bytes: a request of 1,000 long passages fits
MAX_TASKS = 1000
MAX_TEXT = 32_000  # characters of one task's text: a passage has at most 200 words; this many take ~0.7 s to score
SLICE_TASKS = 25  # a large /predict is scored this many tasks at a time …
SLICE_TEXT = 16_000  # … or fewer, so that a slice holds about this many characters (~0.4 s to score)
READ_TIMEOUT = 10.0  # seconds for a whole request body to arrive
TRAINING_EVENTS = frozenset({"ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_DELETED", "START_TRAINING"})
# Label Studio sends "<project id>.<created at>"; the digits are bounded so no number is too long to read.
PROJECT = re.compile(r"\A([0-9]{1,15})(?:\.[0-9]{1,20})?\Z")
MAX_PROJECT = 10**15 - 1  # exact as a float too: a JSON reader may read numbers as floats


class BadRequest(ValueError):
    """A request the backend refuses, with the HTTP status and the reason to send back."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


@dataclass
class Training:
    """A project's training: what runs, whether more labels arrived meanwhile, and how the last one ended.

    `export` is the labels file (from `/train`) for the next run to start; a run owns its file and deletes it
    when it ends.
    """

    running: Future | None = None
    again: bool = False
    export: Path | None = None
    runs: int = 0
    last: str = ""


@dataclass
class Backend:
    """What the server holds: the starting model, each project's own model, connections and trainings.

    `url` and `api_key` are the Label Studio server given at start; without `url`, each project's server is the
    one its `/setup` names, reached with the key that came in the same `/setup`.
    """

    model: Model
    work: Path
    url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    models: dict[int, Model] = field(default_factory=dict)
    connections: dict[int, tuple[str, str]] = field(default_factory=dict, repr=False)
    trainings: dict[int, Training] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    pool: ProcessPoolExecutor | None = field(default=None, repr=False)
    all_questions: bool = False

    def __post_init__(self) -> None:
        if self.api_key and not self.url:
            raise ValueError("an API key is only sent to the server given with it: give its URL too")

    def model_for(self, project: int | None) -> Model:
        """The model that answers for a project: its retrained one, else the starting one."""
        return self.models.get(project, self.model) if project is not None else self.model

    def setup(self, project: int, hostname: str | None, access_token: str | None, schema: str | None) -> str:
        """Remember how to reach a project's server; return the model version that answers for it."""
        model = self.model_for(project)
        if schema:
            _check_config(model, schema)
        connection = (self.url, self.api_key or access_token) if self.url else (hostname, access_token)
        if connection[0] and connection[1]:
            self.connections[project] = (connection[0].rstrip("/"), connection[1])
        return model.version

    def predictor(self, project: int | None, label_config: str | None) -> Callable[[list[dict]], list[dict]]:
        """A function from tasks to their predictions, built for `label_config` (the model's own config when none
        is given), for the questions the project's model earned (every question with `all_questions`).

        The model is the project's when this is called: a swap while its tasks are scored does not mix models.
        """
        from models.prefill import prefill_plan

        model = self.model_for(project)
        if label_config:
            _check_config(model, label_config)
        return partial(_score, model, label_config, prefill_plan(model, self.all_questions).questions)

    def predict(self, project: int | None, tasks: list[dict], label_config: str | None) -> list[dict]:
        """One prediction per task, as `predictor` makes them, all in one go."""
        score = self.predictor(project, label_config)
        return [prediction for part in slices(tasks) for prediction in score(part)]

    def train(self, project: int, export: Path | None = None) -> str:
        """Start retraining a project's model (at once, or after the running training); return a job id.

        The labels come from the project on its server, or from `export` (the older `/train` route sends them),
        which the training deletes when it is done with it.
        """
        if export is None and project not in self.connections:
            raise BadRequest(404, f"project {project} is unknown here: Label Studio sends /setup for it first")
        with self.lock:
            training = self.trainings.setdefault(project, Training())
            _discard(training.export)  # labels sent before and not trained on yet: these newer ones replace them
            training.export = export
            if training.running is not None and not training.running.done():
                training.again = True  # one more run when this one ends, with every label by then
                return f"{project}-{training.runs + 1}"
            self._start(project, training)
            return f"{project}-{training.runs}"

    def _start(self, project: int, training: Training) -> None:
        training.runs += 1
        training.last = ""  # running
        out = self.work / f"project-{project}" / f"model-{training.runs}.skops"
        model = self.model_for(project)
        export, training.export = training.export, None
        source = ("export", str(export)) if export else ("studio", *self.connections[project], project)
        features, seed = model.card.get("features", "tfidf"), model.card.get("seed", 0)
        try:
            training.running = self._submit(retrain, source, model.codebook_text, features, seed, str(out))
        except BaseException:
            _discard(export)
            raise
        training.running.add_done_callback(lambda done: self._finished(project, done, out, export))

    def _submit(self, *job) -> Future:
        """Run a job in the training process, starting one if there is none or the last one died."""
        if self.pool is not None:
            try:
                return self.pool.submit(*job)
            except BrokenProcessPool:  # killed, or out of memory: the next training gets a new process
                pass
        self.pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
        return self.pool.submit(*job)

    def _finished(self, project: int, done: Future, out: Path, export: Path | None) -> None:
        from models.persistence import load_model

        _discard(export)
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
        """Stop the trainings that have not started and delete the labels they were sent."""
        with self.lock:
            for training in self.trainings.values():
                _discard(training.export)
                training.export, training.again = None, False
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


def _score(model: Model, label_config: str | None, questions: set[str], tasks: list[dict]) -> list[dict]:
    from models.suggest import predictions, suggestion_table

    return predictions(model, suggestion_table(model, [task["data"] for task in tasks]), label_config, questions)


def slices(tasks: list[dict]) -> Iterator[list[dict]]:
    """The tasks in order, in runs of at most SLICE_TASKS tasks and about SLICE_TEXT characters of text."""
    part: list[dict] = []
    size = 0
    for task in tasks:
        length = len(task["data"]["text"])
        if part and (len(part) == SLICE_TASKS or size + length > SLICE_TEXT):
            yield part
            part, size = [], 0
        part.append(task)
        size += length
    if part:
        yield part


def _discard(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)


def retrain(source: tuple, codebook_text: str, features: str, seed: int, out: str) -> str:
    """Train a model on a project's labels and save it to `out`; return its version. Runs in a child process.

    The labels a server sends for the training are deleted when it has read them. A failure is raised as a
    RuntimeError with its message: some exceptions cannot be sent back from a child process.
    """
    try:
        return _retrain(source, codebook_text, features, seed, out)
    except Exception as err:
        raise RuntimeError(str(err)) from None


def _retrain(source: tuple, codebook_text: str, features: str, seed: int, out: str) -> str:
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
        try:
            export.write_bytes(b"".join(client.projects.exports.download_sync(id=project, export_type="JSON")))
            labels = read_export(export, codebook=codebook)
        finally:
            export.unlink(missing_ok=True)
    else:
        labels = read_export(Path(source[1]), codebook=codebook)
    model, _ = train(labels, codebook, codebook_text, features, seed)
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
    if isinstance(value, float) and value.is_integer() and 0 <= value <= MAX_PROJECT:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_PROJECT:
        return value
    match = PROJECT.match(value) if isinstance(value, str) else None
    if not match:
        raise BadRequest(400, f"project {_shown(value)} is not a project id")
    return int(match.group(1))


def _shown(value) -> str:
    """A value as a reason quotes it: its type, or its first characters if it is a string."""
    return repr(value[:40]) if isinstance(value, str) else f"({type(value).__name__})"


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
    except ValueError:  # the only other error of json.loads: an integer longer than Python converts
        raise BadRequest(400, f"the body has a number of more than {sys.get_int_max_str_digits()} digits") from None
    except RecursionError:
        raise BadRequest(400, "the body nests arrays or objects too deep to read") from None
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
        if len(data["text"]) > MAX_TEXT:
            raise BadRequest(
                413, f"task {i} (id {_id(task)}): its text has {len(data['text'])} characters; at most {MAX_TEXT}"
            )
        try:
            data["text"].encode("utf-8")
        except UnicodeEncodeError as err:  # JSON can carry half of a UTF-16 pair, which is no text at all
            raise BadRequest(422, f"task {i} (id {_id(task)}): its text is not valid Unicode at {err.start}") from None
    return tasks


def _id(task) -> str:
    return str(task.get("id"))[:20] if isinstance(task, dict) else "none"


def checked_url(value) -> str | None:
    """The Label Studio address a /setup names, if it names one."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not re.match(r"https?://[^/\s]", value):
        raise BadRequest(422, "hostname must be the server's http:// or https:// address")
    return value


def _text(value, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise BadRequest(422, f"{name} must be a string")
    return value or None


def write_labels(folder: Path, annotations: list) -> Path:
    """The labeled tasks of a /train request in a file of their own in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir=folder, delete=False) as out:
        json.dump(annotations, out)  # never too deep: it is part of a body that was read as JSON
    return Path(out.name)


class BasicAuth:
    """ASGI middleware: every request but `GET /health` must carry these HTTP Basic credentials, or gets 401."""

    def __init__(self, app, user: str, password: str):
        self.app = app
        self.expected = hashlib.sha256(f"{user}:{password}".encode()).digest()

    async def __call__(self, scope, receive, send) -> None:
        open_route = scope["type"] != "http" or (scope["method"] == "GET" and scope["path"] == "/health")
        if open_route or self.allowed(dict(scope["headers"]).get(b"authorization", b"")):
            await self.app(scope, receive, send)
            return
        refusal = JSONResponse(
            {"error": "this backend wants HTTP Basic auth: the user and password given to `serve --auth`"},
            status_code=401,
            headers={"WWW-Authenticate": 'Basic realm="framestance"'},
        )
        await refusal(scope, receive, send)

    def allowed(self, header: bytes) -> bool:
        """Whether an Authorization header carries the credentials (compared in constant time)."""
        scheme, _, token = header.partition(b" ")
        try:
            given = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            given = b""
        match = secrets.compare_digest(hashlib.sha256(given).digest(), self.expected)
        return scheme.lower() == b"basic" and match


def create_app(backend: Backend, auth: tuple[str, str] | None = None, read_timeout: float = READ_TIMEOUT):
    """The FastAPI application serving `backend`: with `auth` (user, password) every route but `GET /health`
    wants them; a request body must arrive within `read_timeout` seconds."""
    scoring = asyncio.Lock()  # one slice scores at a time, in the order asked: threads only share the same cores

    @asynccontextmanager
    async def lifespan(_app):
        yield
        backend.close()

    app = FastAPI(title="framestance ML backend", docs_url=None, redoc_url=None, lifespan=lifespan)
    if auth:
        app.add_middleware(BasicAuth, user=auth[0], password=auth[1])
    app.openapi = partial(openapi_schema, app, auth is not None)

    @app.exception_handler(BadRequest)
    async def refused(_request: Request, err: BadRequest):
        closing = {"Connection": "close"} if err.status in (408, 413) else None
        return JSONResponse({"error": str(err)}, status_code=err.status, headers=closing)

    async def body_of(request: Request) -> dict:
        declared = request.headers.get("content-length")
        if declared and (not re.fullmatch(r"[0-9]{1,9}", declared) or int(declared) > MAX_BODY):
            raise BadRequest(413, f"the body is larger than {MAX_BODY} bytes")
        try:
            raw = await asyncio.wait_for(read_body(request), read_timeout)
        except asyncio.TimeoutError:
            raise BadRequest(408, f"the body did not arrive within {read_timeout:g} seconds") from None
        return parse_body(raw)

    @app.get("/", **route("health"))
    @app.get("/health", **route("health"))
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

    @app.post("/setup", **route("setup"))
    async def setup(request: Request):
        body = await body_of(request)
        project = project_id(body.get("project"))
        if project is None:
            raise BadRequest(422, "setup needs the project")
        schema = body.get("schema")
        if schema is not None and not isinstance(schema, str):
            raise BadRequest(422, "schema must be the label config as a string")
        hostname, token = checked_url(body.get("hostname")), _text(body.get("access_token"), "access_token")
        version = await run_in_threadpool(backend.setup, project, hostname, token, schema)
        return {"model_version": version}

    @app.post("/predict", **route("predict"))
    async def predict(request: Request):
        body = await body_of(request)
        project = project_id(body.get("project"))
        tasks = checked_tasks(body)
        config = _text(body.get("label_config"), "label_config")
        score = await run_in_threadpool(backend.predictor, project, config)
        made: list[dict] = []
        for part in slices(tasks):
            if await request.is_disconnected():  # the client hung up: the rest of its tasks are not scored
                return Response(status_code=499)
            async with scoring:
                made.extend(await run_in_threadpool(score, part))
        return JSONResponse({"results": made, "model_version": made[0]["model_version"]})

    @app.post("/webhook", **route("webhook"))
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

    @app.post("/train", **route("train"))
    async def train(request: Request):
        body = await body_of(request)
        project = project_id(body.get("project"))
        annotations = body.get("annotations")
        if project is None or not isinstance(annotations, list):
            raise BadRequest(422, "/train needs the project and its labeled tasks as annotations")
        labels = write_labels(backend.work / f"project-{project}", annotations)
        job = await run_in_threadpool(backend.train, project, labels)
        return JSONResponse({"job": job}, status_code=201)

    @app.get("/versions", **route("versions"))
    async def versions(request: Request):
        unknown = sorted(set(request.query_params) - {"project"})
        if unknown:
            raise BadRequest(400, f"/versions takes one query parameter, project, not {_shown(unknown[0])}")
        return {"versions": backend.versions(project_id(request.query_params.get("project")))}

    return app


async def read_body(request: Request) -> bytes:
    """The request's body, refused with 413 as soon as it is larger than MAX_BODY."""
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > MAX_BODY:
            raise BadRequest(413, f"the body is larger than {MAX_BODY} bytes")
    return bytes(raw)


# The OpenAPI schema: what each route reads and answers. The bodies are read and checked by the code above (so
# its reasons reach the client); these schemas describe the same rules for clients and for Schemathesis.
_NUMBER = {"type": "integer", "minimum": 0, "maximum": MAX_PROJECT}
_ID = {"anyOf": [_NUMBER, {"type": "string", "pattern": r"^[0-9]{1,15}(\.[0-9]{1,20})?$"}]}
_PROJECT = {
    "description": "The project: its id, `<id>.<created at>` as Label Studio sends it, or an object with its id.",
    "anyOf": [*_ID["anyOf"], {"type": "object", "properties": {"id": _ID}, "required": ["id"]}],
}
_OPTIONAL_PROJECT = {**_PROJECT, "anyOf": [*_PROJECT["anyOf"], {"type": "null"}]}
_STRING_OR_NULL = {"type": ["string", "null"]}
_TASK = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "data": {
            "type": "object",
            "required": ["text"],
            "properties": {"text": {"type": "string", "maxLength": MAX_TEXT}},
        }
    },
}
_PREDICTION = {
    "type": "object",
    "required": ["model_version", "score", "result"],
    "properties": {
        "model_version": {"type": "string"},
        "score": {"type": "number"},
        "result": {"type": "array", "items": {"type": "object"}},
    },
}
_BODIES = {
    "setup": {
        "type": "object",
        "required": ["project"],
        "properties": {
            "project": _PROJECT,
            "schema": {**_STRING_OR_NULL, "description": "The project's label config."},
            "hostname": {
                "description": "The server's address; used only when `serve` was given no --url.",
                "anyOf": [{"type": "string", "pattern": r"^https?://[^/\s]"}, {"const": ""}, {"type": "null"}],
            },
            "access_token": {**_STRING_OR_NULL, "description": "The API key for `hostname` (or for --url)."},
        },
    },
    "predict": {
        "type": "object",
        "required": ["tasks"],
        "properties": {
            "tasks": {"type": "array", "minItems": 1, "maxItems": MAX_TASKS, "items": _TASK},
            "project": _OPTIONAL_PROJECT,
            "label_config": {
                **_STRING_OR_NULL,
                "description": "The project's label config, which must ask the "
                "questions the model answers, with its labels.",
            },
        },
    },
    "webhook": {
        "type": "object",
        "required": ["action"],
        "properties": {"action": {"type": "string"}, "project": _OPTIONAL_PROJECT},
        "if": {"required": ["action"], "properties": {"action": {"enum": sorted(TRAINING_EVENTS)}}},
        "then": {"required": ["project"], "properties": {"project": _PROJECT}},
        "description": f"An event; {', '.join(sorted(TRAINING_EVENTS))} retrain the project's model and need the "
        "project, which Label Studio must have sent /setup for; the others are ignored.",
    },
    "train": {
        "type": "object",
        "required": ["project", "annotations"],
        "properties": {"project": _PROJECT, "annotations": {"type": "array", "description": "Labeled tasks."}},
    },
}
_ANSWERS = {
    "health": {
        "type": "object",
        "required": ["status", "model_class", "model_version", "prefill", "trainings"],
        "properties": {
            "status": {"const": "UP"},
            "model_class": {"type": "string"},
            "model_version": {"type": "string"},
            "prefill": {"type": "array", "items": {"type": "string"}},
            "trainings": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "setup": {"type": "object", "required": ["model_version"], "properties": {"model_version": {"type": "string"}}},
    "predict": {
        "type": "object",
        "required": ["results", "model_version"],
        "properties": {"results": {"type": "array", "items": _PREDICTION}, "model_version": {"type": "string"}},
    },
    "webhook": {
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"enum": ["ignored", "training"]},
            "action": {"type": "string"},
            "job": {"type": "string"},
        },
    },
    "train": {"type": "object", "required": ["job"], "properties": {"job": {"type": "string"}}},
    "versions": {
        "type": "object",
        "required": ["versions"],
        "properties": {"versions": {"type": "array", "items": {"type": "string"}}},
    },
}
_REFUSALS = {
    400: "The body is not a UTF-8 JSON object, or the project is not a project id.",
    404: "A training event for a project Label Studio has not sent /setup for.",
    408: "The body did not arrive in time.",
    413: "The body, the number of tasks or a task's text is too large.",
    422: "A field is missing or of the wrong kind, or the label config does not fit the model.",
}
_ROUTES = {  # route: (the success status, the refusals it can answer)
    "health": (200, ()),
    "setup": (200, (400, 408, 413, 422)),
    "predict": (200, (400, 408, 413, 422)),
    "webhook": (201, (400, 404, 408, 413, 422)),
    "train": (201, (400, 408, 413, 422)),
    "versions": (200, (400,)),
}
_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}


def route(name: str) -> dict:
    """The decorator arguments that document a route in the OpenAPI schema."""
    status, refusals = _ROUTES[name]
    answers = {status: {"description": "Done.", "content": {"application/json": {"schema": _ANSWERS[name]}}}}
    if name == "webhook":
        answers[200] = {"description": "Ignored: not a training event.", **answers[201]}
    for code in refusals:
        answers[code] = {"description": _REFUSALS[code], "content": {"application/json": {"schema": _ERROR}}}
    extra = {}
    if name in _BODIES:
        extra["requestBody"] = {"required": True, "content": {"application/json": {"schema": _BODIES[name]}}}
    if name == "versions":
        extra["parameters"] = [{"name": "project", "in": "query", "required": False, "schema": _ID["anyOf"][1]}]
    return {"status_code": status, "responses": answers, "openapi_extra": extra}


def openapi_schema(app: FastAPI, with_auth: bool) -> dict:
    """The app's OpenAPI schema, with HTTP Basic auth on every route but `GET /health` when the app wants it."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version="1", routes=app.routes)
        if with_auth:
            schema.setdefault("components", {})["securitySchemes"] = {"basic": {"type": "http", "scheme": "basic"}}
            schema["security"] = [{"basic": []}]
            for path, operations in schema["paths"].items():
                for operation in operations.values():
                    if path == "/health":
                        operation["security"] = []
                    else:
                        operation["responses"]["401"] = {
                            "description": "No credentials, or the wrong ones.",
                            "content": {"application/json": {"schema": _ERROR}},
                        }
        app.openapi_schema = schema
    return app.openapi_schema
