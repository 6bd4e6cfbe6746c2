"""Driving a Label Studio server: projects from a codebook, tasks in, labels out.

The free edition has one annotation queue per project, so several annotators per passage means several
copies of a project: `NAME (annotator 1)` … `NAME (annotator N)`. Every function here works on a project and
all its copies. The API key is never printed, logged or written anywhere.
"""

from __future__ import annotations

import base64
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from annotation.codebook import Codebook, require_codebook
from annotation.label_config import build_instructions, build_label_config

MARK = "framestance codebook "  # the project description names the codebook it was made from
BATCH = 500  # tasks per import request
# Predictions per import request. Label Studio 1.23's import of predictions costs more the more predictions the
# project has, per request: 10,000 in one request took 11 s here, in requests of 500 about 70 s.
PREDICTION_BATCH = 5000


class StudioError(RuntimeError):
    """The server cannot be reached or refuses what was asked, said without the API key."""


def connect(url: str | None = None, api_key: str | None = None):
    """A client for the server at `url` (or LABEL_STUDIO_URL) with `api_key` (or LABEL_STUDIO_API_KEY)."""
    import httpx
    from label_studio_sdk import LabelStudio
    from label_studio_sdk.core.api_error import ApiError

    url = url or os.environ.get("LABEL_STUDIO_URL")
    api_key = api_key or os.environ.get("LABEL_STUDIO_API_KEY")
    if not url or not api_key:
        raise StudioError("give the server with --url and --api-key, or LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY")
    client = LabelStudio(base_url=url.rstrip("/"), api_key=api_key)
    try:
        client.users.whoami()
    except ApiError as err:
        if err.status_code in (401, 403):
            raise StudioError(
                f"{url} refused the API key (HTTP {err.status_code}); check it in Account & Settings"
            ) from None
        raise StudioError(f"{url} answered HTTP {err.status_code}; is it a Label Studio server?") from None
    except (httpx.HTTPError, OSError):
        raise StudioError(f"cannot reach a Label Studio server at {url}") from None
    return client


def copy_titles(name: str, annotators: int) -> list[str]:
    """The project titles for `annotators` annotators per passage."""
    if annotators < 1:
        raise StudioError("--annotators must be at least 1")
    return [name] if annotators == 1 else [f"{name} (annotator {i})" for i in range(1, annotators + 1)]


def find_projects(client, name: str) -> list:
    """The project called `name` and its annotator copies, in order."""
    copy = re.compile(rf"{re.escape(name)} \(annotator (\d+)\)\Z")
    found = []
    for project in client.projects.list(page_size=100):
        match = copy.match(project.title or "")
        if project.title == name:
            found.append((0, project))
        elif match:
            found.append((int(match.group(1)), project))
    return [project for _, project in sorted(found, key=lambda pair: pair[0])]


def existing_projects(client, name: str) -> list:
    """`find_projects`, refusing a name with no project."""
    projects = find_projects(client, name)
    if not projects:
        raise StudioError(f"no project called {name!r} (or {name!r} (annotator N)) on the server")
    return projects


def prefill(client, project, model_version: str) -> None:
    """Have the labeling page open pre-filled with the predictions (or backend) of `model_version`."""
    client.projects.update(id=project.id, model_version=model_version, show_collab_predictions=True)


def codebook_of(project) -> str | None:
    """The `name@version` of the codebook a project was made from, if framestance made it."""
    description = project.description or ""
    return description[len(MARK) :].split()[0] if description.startswith(MARK) else None


@dataclass
class PushReport:
    """What a push did, per project."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    imported: dict[str, int] = field(default_factory=dict)
    already_there: dict[str, int] = field(default_factory=dict)
    changed: dict[str, list[str]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"created project {t}" for t in self.created] + [f"updated the config of {t}" for t in self.updated]
        for title, count in self.imported.items():
            out.append(f"{title}: imported {count} tasks, {self.already_there.get(title, 0)} already there")
            for passage in self.changed.get(title, []):
                out.append(f"  {passage}: its text changed since it was imported; not imported again")
        return out


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\-]", version))


def push(
    client,
    codebook: Codebook,
    tasks: list[dict],
    name: str,
    annotators: int = 1,
    progress: Callable[[int], None] | None = None,
) -> PushReport:
    """Create (or update) the project and its copies from the codebook, and import the tasks not yet there."""
    from label_studio_sdk.core.api_error import ApiError

    report = PushReport()
    existing = {p.title: p for p in find_projects(client, name)}
    config = build_label_config(codebook)
    for title in copy_titles(name, annotators):
        project = existing.get(title)
        if project is None:
            project = client.projects.create(
                title=title,
                label_config=config,
                description=f"{MARK}{codebook.ref}",
                expert_instruction=build_instructions(codebook),
                show_instruction=True,
            )
            report.created.append(title)
        else:
            made_with = codebook_of(project)
            mine = made_with.split("@")[0] if made_with else None
            if mine != codebook.name:
                raise StudioError(f"project {title!r} was made from codebook {made_with}, not {codebook.name}")
            older = _version_key(made_with.split("@", 1)[1]) < _version_key(codebook.version)
            if older:
                orphaned = _orphaned(client, project, codebook)
                if orphaned:
                    raise StudioError(
                        f"project {title!r}: the config of {codebook.ref} would orphan labels already given "
                        f"({', '.join(orphaned)}); keep them in the codebook"
                    )
                try:
                    client.projects.update(
                        id=project.id,
                        label_config=config,
                        description=f"{MARK}{codebook.ref}",
                        expert_instruction=build_instructions(codebook),
                    )
                except ApiError as err:
                    raise StudioError(
                        f"project {title!r}: Label Studio refuses the config of {codebook.ref}, which would orphan "
                        f"labels already given ({_reason(err)}); keep those labels in the codebook"
                    ) from None
                report.updated.append(title)
        there = {}
        for task in _tasks(client, project, "id,data"):
            data = task.data or {}
            if data.get("passage_id"):
                there[data["passage_id"]] = data.get("passage_hash")
        new = [t for t in tasks if t["data"]["passage_id"] not in there]
        report.changed[title] = [
            t["data"]["passage_id"]
            for t in tasks
            if t["data"]["passage_id"] in there and there[t["data"]["passage_id"]] != t["data"].get("passage_hash")
        ]
        for start in range(0, len(new), BATCH):
            batch = new[start : start + BATCH]
            try:
                client.projects.import_tasks(id=project.id, request=batch, return_task_ids=True)
            except ApiError as err:
                raise StudioError(f"project {title!r}: Label Studio refuses the tasks: {_reason(err)}") from None
            if progress:
                progress(len(batch))
        report.imported[title] = len(new)
        report.already_there[title] = len(tasks) - len(new)
    return report


@dataclass
class SuggestReport:
    """What putting suggestions on a project and its copies did, per project."""

    model_version: str
    added: dict[str, int] = field(default_factory=dict)
    labeled: dict[str, int] = field(default_factory=dict)
    current: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [
            f"{title}: suggested {count} tasks; {self.labeled[title]} already labeled, {self.current[title]} "
            f"already had this model's suggestions; the labeling page pre-fills with {self.model_version}"
            for title, count in self.added.items()
        ]


def put_predictions(
    client,
    name: str,
    predict: Callable[[list[dict], str], list[dict]],
    model_version: str,
    codebook: str,
    progress: Callable[[int], None] | None = None,
) -> SuggestReport:
    """Put predictions on the unlabeled tasks of a project and its copies, and have them pre-fill the page.

    `predict(data, label_config)` returns one prediction per task data, checked against the project's config.
    Tasks with an annotation (or a skip), and tasks that already have a prediction of `model_version`, are
    left alone, so re-running adds nothing. `codebook` is the model's codebook name: a project made from
    another codebook is refused.
    """
    projects = existing_projects(client, name)
    report = SuggestReport(model_version)
    for project in projects:
        require_codebook(codebook_of(project), codebook, f"project {project.title!r}")
        todo, labeled, current = [], 0, 0
        state = "id,data,total_annotations,cancelled_annotations,predictions_model_versions"
        for task in _tasks(client, project, state):
            if task.total_annotations or task.cancelled_annotations:
                labeled += 1
            elif model_version in (task.predictions_model_versions or "").split(","):
                current += 1
            else:
                todo.append(task)
        made = predict([task.data for task in todo], project.label_config) if todo else []
        # A prediction with nothing in it (no question to pre-fill) is not worth a request.
        request = [
            {**prediction, "task": task.id} for task, prediction in zip(todo, made, strict=True) if prediction["result"]
        ]
        for start in range(0, len(request), PREDICTION_BATCH):
            batch = request[start : start + PREDICTION_BATCH]
            client.projects.import_predictions(
                id=project.id, request=batch, request_options={"timeout_in_seconds": 600}
            )
            if progress:
                progress(len(batch))
        prefill(client, project, model_version)
        report.added[project.title] = len(request)
        report.labeled[project.title] = labeled
        report.current[project.title] = current
    return report


def _tasks(client, project, include: str):
    """A project's tasks with only the `include` fields: listing whole tasks takes several times longer."""
    return client.tasks.list(project=project.id, fields="all", include=include, page_size=1000)


BACKEND_TITLE = "framestance"  # the project's model version names the backend, so its suggestions pre-fill


def connect_backend(client, name: str, url: str, auth: tuple[str, str] | None = None) -> list[str]:
    """Register the ML backend at `url` with a project and its copies, and have its suggestions pre-fill the page.

    With `auth` (user, password), Label Studio sends them as HTTP Basic auth on its calls to the backend and on
    the annotation events it sends to the backend's /webhook; a backend connected before gets the new ones.
    """
    from label_studio_sdk.core.api_error import ApiError

    projects = existing_projects(client, name)
    url = url.rstrip("/")
    credentials = {"auth_method": "BASIC_AUTH", "basic_auth_user": auth[0], "basic_auth_pass": auth[1]} if auth else {}
    lines = []
    for project in projects:
        known = [backend for backend in client.ml.list(project=project.id) if backend.url.rstrip("/") == url]
        try:
            if known and credentials:  # with its url and project: Label Studio checks the backend with them
                client.ml.update(id=known[0].id, url=url, project=project.id, **credentials)
            elif not known:
                client.ml.create(project=project.id, url=url, title=BACKEND_TITLE, is_interactive=False, **credentials)
            if auth:
                _authorize_webhook(client, project, url, auth)
        except ApiError as err:
            raise StudioError(f"Label Studio could not connect {project.title!r} to {url}: {_reason(err)}") from None
        state = "already connected" if known else "connected"
        lines.append(f"{project.title}: {state} to {url}" + (" with HTTP Basic auth" if auth else ""))
        prefill(client, project, BACKEND_TITLE)
    return lines


def _authorize_webhook(client, project, url: str, auth: tuple[str, str]) -> None:
    """Have the webhook Label Studio made for the backend send its credentials: it does not on its own."""
    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
    for hook in client.webhooks.list(project=str(project.id)):
        if hook.url.rstrip("/") == f"{url}/webhook":
            client.webhooks.update(id=hook.id, headers={"Authorization": f"Basic {token}"})


def backend_credentials(value: str | None) -> tuple[str, str] | None:
    """The user and password of `USER:PASS`, for an ML backend's HTTP Basic auth."""
    if value is None:
        return None
    user, colon, password = value.partition(":")
    if not colon or not user or not password:
        raise StudioError("give the credentials as USER:PASS, both non-empty (the user without a colon)")
    return user, password


def is_loopback(host: str) -> bool:
    """Whether a listening address is reachable from this machine only."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _orphaned(client, project, codebook: Codebook) -> list[str]:
    """The `control:label` pairs that the project's annotations use and the codebook no longer has."""
    import json

    from annotation.questions import questions_from_codebook

    questions = questions_from_codebook(codebook)
    exported = json.loads(b"".join(client.projects.exports.download_sync(id=project.id, export_type="JSON")))
    lost = set()
    for task in exported:
        for annotation in task.get("annotations") or []:
            for item in annotation.get("result") or []:
                name, value = item.get("from_name"), item.get("value") or {}
                question = questions.get(name)
                labels = value.get("choices") or value.get("labels") or []
                if question is None:
                    lost.add(f"{name}")
                elif question.labels:
                    lost.update(f"{name}:{label}" for label in labels if label not in question.labels)
    return sorted(lost)


def _reason(err) -> str:
    body = err.body if isinstance(err.body, dict) else {}
    detail = body.get("validation_errors") or body.get("detail") or err.body
    if isinstance(detail, dict):  # {field: [message, ...]}: the first message of each field
        detail = "; ".join(str(v[0] if isinstance(v, list) and v else v) for v in detail.values())
    return str(detail).split(" :: ")[0][:300]  # the server appends the whole offending item after " :: "


def export_project(client, project, folder: Path) -> Path:
    """A snapshot export of a project with full predictions, saved as the server wrote it."""
    snapshot = client.projects.exports.create(
        id=project.id, title="framestance pull", serialization_options={"predictions": {"only_id": False}}
    )
    deadline = time.monotonic() + 600
    while (status := client.projects.exports.get(id=project.id, export_pk=snapshot.id).status) != "completed":
        if status == "failed" or time.monotonic() > deadline:
            raise StudioError(f"the export of project {project.title!r} did not complete ({status})")
        time.sleep(0.3)
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^\w.-]+", "_", project.title).strip("_")
    path = folder / f"{safe}.json"
    path.write_bytes(
        b"".join(client.projects.exports.download(id=project.id, export_pk=snapshot.id, export_type="JSON"))
    )
    return path


def pull(client, name: str, folder: Path) -> list[Path]:
    """Export the project and all its annotator copies into `folder/exports`; return the files."""
    projects = existing_projects(client, name)
    return [export_project(client, project, Path(folder) / "exports") for project in projects]


def sign_up(url: str, email: str, password: str, first_name: str = "", last_name: str = "") -> str:
    """Create a user through the server's sign-up form and return their API token."""
    import httpx
    from label_studio_sdk import LabelStudio

    with httpx.Client(base_url=url, follow_redirects=False, timeout=30) as web:
        web.get("/user/signup/")
        form = {"csrfmiddlewaretoken": web.cookies["csrftoken"], "email": email, "password": password}
        answer = web.post("/user/signup/", data=form, headers={"Referer": f"{url}/user/signup/"})
        if answer.status_code != 302:
            raise StudioError(f"signing up {email} failed with HTTP {answer.status_code}")
        me = web.get("/api/current-user/whoami").json()
        token = web.get("/api/current-user/token").json()["token"]
    if first_name or last_name:
        LabelStudio(base_url=url, api_key=token).users.update(id=me["id"], first_name=first_name, last_name=last_name)
    return token
