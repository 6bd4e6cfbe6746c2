"""`framestance serve`: Label Studio's ML backend protocol, auth, hostile requests, and retraining under load."""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
SCHEMATHESIS = str(Path(sys.executable).parent / "st")
TEXT = "The drone strike killed the general, whom officials called a terrorist plotting attacks on troops."
AUTH = ("label-studio", secrets.token_urlsafe(16))
READ_TIMEOUT = 3  # seconds, for the served backend: a half-sent body is answered 408 after this
# The environment `serve` runs in: no Label Studio server of the caller's, and the credentials in a variable.
SERVE_ENV = {
    **{k: v for k, v in os.environ.items() if k not in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY")},
    "FRAMESTANCE_BACKEND_AUTH": ":".join(AUTH),
}


@dataclass
class Served:
    """A running `framestance serve`: its address, its work folder, and the file its output goes to."""

    url: str
    work: Path
    log: Path
    process: subprocess.Popen = field(repr=False)


def start_serve(model_file: Path, folder: Path, *options: str, env: dict | None = None) -> Served:
    """`framestance serve` of a model on a free loopback port, once it answers /health."""
    port = free_port()
    log = folder / "serve.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [FRAMESTANCE, "serve", str(model_file), "--port", str(port), "--work", str(folder / "work"), *options],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env or SERVE_ENV,
        )
    served = Served(f"http://127.0.0.1:{port}", folder / "work", log, process)
    try:
        wait_until_up(served.url, process, 120, "framestance serve")
    except StudioServerError as err:
        process.kill()
        pytest.fail(f"{err}:\n{log.read_text()}")
    return served


def stop(served: Served) -> None:
    served.process.terminate()
    served.process.wait(timeout=30)


@pytest.fixture(scope="module")
def served(sample_model_file, tmp_path_factory):
    """The demo model served with HTTP Basic auth (given in FRAMESTANCE_BACKEND_AUTH) and a short read timeout."""
    served = start_serve(sample_model_file, tmp_path_factory.mktemp("backend"), "--read-timeout", str(READ_TIMEOUT))
    yield served
    stop(served)


@pytest.fixture(scope="module")
def backend(served) -> str:
    """The address of the served backend."""
    return served.url


def post(url: str, path: str, body, **options) -> httpx.Response:
    """A POST with the backend's credentials: `body` is sent as JSON, or as is if it is bytes."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    return httpx.post(f"{url}{path}", content=content, headers=headers, auth=AUTH, timeout=60, **options)


def predict(url: str, tasks: list[dict], **fields) -> httpx.Response:
    return post(url, "/predict", {"tasks": tasks, **fields})


def test_predict_answers_every_question_of_every_task(backend, sample_model):
    from label_studio_sdk.label_interface import LabelInterface

    tasks = [{"id": i, "data": task["data"]} for i, task in enumerate(sample_tasks(CODEBOOK).tasks[:60])]
    answer = predict(backend, tasks, project="3.1700000000", label_config=CONFIG)
    assert answer.status_code == 200
    body = answer.json()
    assert len(body["results"]) == 60 and body["model_version"] == sample_model.version
    interface = LabelInterface(CONFIG)
    for prediction in body["results"]:
        assert prediction["model_version"] == sample_model.version and 0 < prediction["score"] <= 1
        assert interface.validate_prediction(prediction)
        names = {item["from_name"] for item in prediction["result"]}
        assert set(CODEBOOK.stance_controls) | {"primary_frame"} <= names
    # 60 tasks are scored in slices: the same predictions as each task alone.
    alone = [predict(backend, [task], label_config=CONFIG).json()["results"][0] for task in tasks[::20]]
    assert [p["score"] for p in alone] == [p["score"] for p in body["results"][::20]]
    health = httpx.get(f"{backend}/health").json()
    assert health["status"] == "UP" and health["model_version"] == sample_model.version
    setup = post(backend, "/setup", {"project": "3.1700000000", "schema": CONFIG})
    assert setup.status_code == 200 and setup.json() == {"model_version": sample_model.version}


def test_every_route_but_health_wants_the_credentials(backend):
    schema = httpx.get(f"{backend}/openapi.json", auth=AUTH).json()
    routes = [(method.upper(), path) for path, operations in schema["paths"].items() for method in operations]
    assert set(routes) >= {("GET", "/health"), ("POST", "/predict"), ("POST", "/train"), ("POST", "/webhook")}
    for wrong in (None, (AUTH[0], AUTH[1] + "x"), ("someone", AUTH[1]), (AUTH[0], "")):
        for method, path in [*routes, ("GET", "/openapi.json"), ("GET", "/nowhere")]:
            answer = httpx.request(method, f"{backend}{path}", json={}, auth=wrong, timeout=30)
            if path == "/health":
                assert answer.status_code == 200
            else:
                assert answer.status_code == 401, (method, path, wrong is None)
                assert answer.headers["www-authenticate"].startswith("Basic") and "auth" in answer.json()["error"]
    for header in ("Basic !!!", "Bearer " + AUTH[1], "Basic " + AUTH[1]):
        answer = httpx.post(f"{backend}/setup", json={"project": 1}, headers={"authorization": header})
        assert answer.status_code == 401


LONG_ID = "9" * 5000
HOSTILE = [
    ("/predict", b'{"tasks": [', 400, "not JSON"),
    ("/predict", b"[1, 2, 3]", 400, "JSON object"),
    ("/predict", '{"tasks": []}'.encode("utf-16"), 400, "not UTF-8"),
    ("/predict", b'{"tasks": [{"data": {"text": "caf\xe9"}}]}', 400, "not UTF-8"),
    ("/predict", b'{"tasks": "everything"}', 422, "non-empty list"),
    ("/predict", b'{"tasks": [{"id": 7, "data": {"text": 42}}]}', 422, "task 0 (id 7) has no data.text"),
    ("/predict", json.dumps({"tasks": [{"data": {"text": "a"}}] * 1001}).encode(), 413, "at most 1000"),
    ("/predict", json.dumps({"tasks": [{"id": 2, "data": {"text": "a" * 32_001}}]}).encode(), 413, "(id 2): its text"),
    ("/predict", json.dumps({"tasks": [{"data": {"text": "a"}}], "project": "x; drop"}).encode(), 400, "not a project"),
    ("/predict", json.dumps({"tasks": [{"data": {"text": "a"}}], "project": LONG_ID}).encode(), 400, "not a project"),
    ("/predict", b'{"tasks": [{"data": {"text": "a"}}], "project": ' + LONG_ID.encode() + b"}", 400, "digits"),
    ("/predict", json.dumps({"tasks": [{"data": {"text": "a"}}], "project": 10**16}).encode(), 400, "not a project"),
    ("/predict", json.dumps({"tasks": [{"data": {"text": "a"}}], "project": 1.5}).encode(), 400, "(float)"),
    ("/predict", b"[" * 100_000 + b"]" * 100_000, 400, "too deep"),
    ("/predict", b'{"tasks": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400, "too deep"),
    ("/predict", b'{"tasks": [{"id": 3, "data": {"text": "half \\ud800 pair"}}]}', 422, "not valid Unicode at 5"),
    ("/predict", json.dumps({"tasks": [{"data": {"text": "a"}}], "label_config": "<View"}).encode(), 422, "parser"),
    ("/predict", json.dumps({"tasks": [{"data": {"text": "a"}}], "label_config": 3}).encode(), 422, "be a string"),
    (
        "/predict",
        json.dumps({"tasks": [{"data": {"text": "a"}}], "label_config": "<View></View>"}).encode(),
        422,
        "no control 'stance_us_government'",
    ),
    ("/webhook", b'{"action": "ANNOTATION_CREATED", "project": {"id": 987654}}', 404, "project 987654 is unknown"),
    ("/webhook", b'{"project": {"id": 1}}', 422, "names its action"),
    ("/webhook", b'{"action": "START_TRAINING"}', 422, "names no project"),
    ("/webhook", json.dumps({"action": "START_TRAINING", "project": {"id": LONG_ID}}).encode(), 400, "not a project"),
    ("/setup", b'{"schema": "<View/>"}', 422, "needs the project"),
    ("/setup", b'{"project": 1, "hostname": "file:///etc/passwd"}', 422, "hostname must be"),
    ("/setup", b'{"project": 1, "access_token": ["k"]}', 422, "access_token must be a string"),
    ("/setup", json.dumps({"project": LONG_ID}).encode(), 400, "not a project"),
    ("/train", b'{"project": "1.1", "annotations": "all"}', 422, "labeled tasks"),
    ("/train", b'{"project": 1, "annotations": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400, "too deep"),
]


@pytest.mark.parametrize(("path", "body", "status", "reason"), HOSTILE, ids=[f"{h[0]} {h[3]}" for h in HOSTILE])
def test_a_bad_request_gets_a_4xx_with_its_reason(backend, path, body, status, reason):
    answer = post(backend, path, body)
    assert answer.status_code == status and reason in answer.json()["error"], answer.text[:300]


@pytest.mark.parametrize(
    ("query", "reason"), [(f"project={LONG_ID}", "not a project id"), ("project=1&m=2", "not 'm'")], ids=["id", "other"]
)
def test_versions_refuses_a_bad_query_with_its_reason(backend, query, reason):
    answer = httpx.get(f"{backend}/versions?{query}", auth=AUTH)
    assert answer.status_code == 400 and reason in answer.json()["error"]
    assert httpx.get(f"{backend}/versions?project=3.1700000000", auth=AUTH).json()["versions"]


def test_huge_bodies_are_refused_and_the_server_keeps_serving(backend):
    huge = b'{"tasks": [{"data": {"text": "' + b"x" * (17 * 1024 * 1024) + b'"}}]}'
    declared = post(backend, "/predict", huge)
    assert declared.status_code == 413

    def chunks():  # no Content-Length: the size is only known while reading
        yield b'{"tasks": [{"data": {"text": "'
        for _ in range(20):
            yield b"y" * (1024 * 1024)
        yield b'"}}]}'

    streamed = httpx.post(f"{backend}/predict", content=chunks(), auth=AUTH, timeout=60)
    assert streamed.status_code == 413
    # Texts no one expects still get predictions: control characters, right-to-left script, emoji, nothing.
    odd = ["\x00\x07 strike", "اغتيال سليماني", "🚀" * 500, ""]
    answer = predict(backend, [{"data": {"text": t}} for t in odd])
    assert answer.status_code == 200 and len(answer.json()["results"]) == len(odd)
    assert httpx.get(f"{backend}/health").status_code == 200
    assert predict(backend, [{"data": {"text": TEXT}}]).status_code == 200


def raw_request(url: str, path: str, body: bytes, declared: int | None = None) -> socket.socket:
    """A socket that has sent a POST with the credentials and `body`, declaring `declared` bytes (default: all)."""
    host, port = url.removeprefix("http://").split(":")
    token = base64.b64encode(":".join(AUTH).encode()).decode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body) if declared is None else declared}\r\n\r\n"
    )
    sock = socket.create_connection((host, int(port)))
    sock.sendall(head.encode() + body)
    return sock


def test_a_body_that_stops_half_way_gets_408_and_the_connection_closed(backend):
    body = json.dumps({"tasks": [{"data": {"text": TEXT}}] * 50}).encode()
    sock = raw_request(backend, "/predict", body[: len(body) // 2], declared=len(body))
    sock.settimeout(READ_TIMEOUT + 5)
    start = time.monotonic()
    answer = b""
    with sock:
        while chunk := sock.recv(65536):  # the server answers, then closes: recv gives b"" at the end
            answer += chunk
    waited = time.monotonic() - start
    assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive within 3 seconds" in answer, answer[:300]
    assert READ_TIMEOUT - 0.5 < waited < READ_TIMEOUT + 3
    assert predict(backend, [{"data": {"text": TEXT}}]).status_code == 200


@pytest.mark.parametrize("sent", [b"", b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le"])
def test_a_connection_whose_headers_do_not_arrive_is_closed(backend, sent):
    host, port = backend.removeprefix("http://").split(":")
    start = time.monotonic()
    with socket.create_connection((host, int(port))) as sock:
        sock.settimeout(READ_TIMEOUT + 10)
        sock.sendall(sent)
        time.sleep(READ_TIMEOUT / 2)
        sock.sendall(b"ngth: 2\r\n" if sent else b"P")  # a trickle of bytes does not buy more time
        assert sock.recv(65536) == b""  # closed by the server, not by our timeout
    assert READ_TIMEOUT - 0.5 < time.monotonic() - start < READ_TIMEOUT + 3
    assert predict(backend, [{"data": {"text": TEXT}}]).status_code == 200


def cpu_seconds(pid: int) -> float:
    """The processor time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_small_requests_are_answered_while_a_large_one_is_scored(served):
    """A large /predict is scored slice by slice, and small requests take their turn between the slices; when its
    client hangs up, the rest of its slices are not scored."""
    texts = [t["data"]["text"] for t in sample_tasks(CODEBOOK).tasks]
    long_text = " ".join(texts)[:16_000]  # ~0.25 s to score: 200 of them keep the server busy for about a minute
    big = json.dumps({"tasks": [{"data": {"text": long_text[i:] + long_text[:i]}} for i in range(200)]}).encode()
    backend = served.url
    sock = raw_request(backend, "/predict", big)
    try:
        time.sleep(2)  # the body has arrived and the scoring began
        waits = []
        for text in texts[:8]:
            start = time.monotonic()
            answer = httpx.post(f"{backend}/predict", json={"tasks": [{"data": {"text": text}}]}, auth=AUTH, timeout=10)
            waits.append(time.monotonic() - start)
            assert answer.status_code == 200
        sock.settimeout(0)
        with pytest.raises(BlockingIOError):
            sock.recv(1)  # the large request is still being scored
    finally:
        sock.close()
    assert max(waits) < 2, waits
    time.sleep(1.5)  # the slice being scored when the client hung up ends; no other one starts
    before = cpu_seconds(served.process.pid)
    time.sleep(2)
    assert cpu_seconds(served.process.pid) - before < 0.3


class Listener:
    """An HTTP server on loopback standing in for a Label Studio server: it records the Authorization header of
    each request and answers every one with an empty export."""

    def __init__(self):
        self.seen: list[tuple[str, str | None]] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                listener.seen.append((self.path, self.headers.get("authorization")))
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"[]")

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for_a_request(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.seen and time.monotonic() < deadline:
            time.sleep(0.2)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listeners():
    """Two stand-ins for Label Studio servers: ours and someone else's."""
    ours, theirs = Listener(), Listener()
    yield ours, theirs
    ours.close()
    theirs.close()


def training_ended(url: str, project: int, seconds: float = 120) -> str:
    """How a project's training ended, as /health reports it, once it has."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = httpx.get(f"{url}/health").json()["trainings"].get(str(project), "running")
        if state != "running":
            return state
        time.sleep(0.3)
    raise AssertionError(f"project {project}'s training did not end within {seconds} s")


def test_an_api_key_goes_only_to_the_server_given_with_it(sample_model_file, tmp_path, listeners):
    ours, theirs = listeners
    key = secrets.token_hex(20)
    env = {**SERVE_ENV, "LABEL_STUDIO_URL": ours.url}
    served = start_serve(sample_model_file, tmp_path, "--api-key", key, env=env)
    try:
        # A /setup naming another server and no key: the retraining still reads from ours, with our key.
        assert post(served.url, "/setup", {"project": 8, "hostname": theirs.url}).status_code == 200
        assert post(served.url, "/webhook", {"action": "ANNOTATION_CREATED", "project": 8}).status_code == 201
        ours.wait_for_a_request(90)
        assert training_ended(served.url, 8).startswith("failed")
    finally:
        stop(served)
    assert theirs.seen == []
    assert ours.seen and {auth for _, auth in ours.seen} == {f"Token {key}"}
    assert not list(served.work.rglob("*.json")), "the export pulled from the server is left on disk"
    assert key not in served.log.read_text()


def test_a_setup_names_a_server_only_with_the_key_it_brings(served, listeners):
    theirs, _ = listeners
    assert post(served.url, "/setup", {"project": 9, "hostname": theirs.url}).status_code == 200
    refused = post(served.url, "/webhook", {"action": "START_TRAINING", "project": 9})
    assert refused.status_code == 404 and "unknown" in refused.json()["error"]
    assert post(served.url, "/setup", {"project": 9, "hostname": theirs.url, "access_token": "theirs"}).is_success
    assert post(served.url, "/webhook", {"action": "START_TRAINING", "project": 9}).status_code == 201
    theirs.wait_for_a_request(90)
    assert training_ended(served.url, 9).startswith("failed")
    assert {auth for _, auth in theirs.seen} == {"Token theirs"}


def test_an_api_key_without_its_server_is_refused(sample_model_file):
    key = secrets.token_hex(20)
    command = [FRAMESTANCE, "serve", str(sample_model_file), "--port", str(free_port()), "--api-key", key]
    done = subprocess.run(command, capture_output=True, text=True, env=SERVE_ENV, timeout=60)
    assert done.returncode != 0 and "add --url" in done.stdout + done.stderr
    assert key not in done.stdout + done.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_listening_beyond_loopback_without_credentials_is_refused(sample_model_file, host):
    command = [FRAMESTANCE, "serve", str(sample_model_file), "--host", host, "--port", str(free_port())]
    env = {k: v for k, v in SERVE_ENV.items() if k != "FRAMESTANCE_BACKEND_AUTH"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode != 0 and "not a loopback address" in done.stderr and "--insecure" in done.stderr


@pytest.mark.parametrize(("value", "secret"), [("n0colon", "n0colon"), (":s3cr3t", "s3cr3t"), ("s0meone:", "s0meone")])
def test_credentials_that_are_not_user_and_password_are_refused(sample_model_file, value, secret):
    command = [FRAMESTANCE, "serve", str(sample_model_file), "--port", str(free_port())]
    done = subprocess.run(
        command, capture_output=True, text=True, env={**SERVE_ENV, "FRAMESTANCE_BACKEND_AUTH": value}, timeout=60
    )
    assert done.returncode != 0 and "USER:PASS" in done.stderr
    assert secret not in done.stdout + done.stderr


def test_labels_sent_for_training_are_deleted_when_it_ends(served):
    labeled = labeled_sample_tasks()
    for labels in ([None, None], labeled[:3]):
        answer = post(served.url, "/train", {"project": 31, "annotations": labels})
        assert answer.status_code == 201, answer.text  # a training that failed leaves the next one possible
        state = training_ended(served.url, 31)
        assert state.startswith("failed") and not list((served.work / "project-31").glob("*.json")), state


def test_schemathesis_finds_no_server_error_and_no_answer_off_the_schema(backend, tmp_path):
    """Property-based requests generated from the published OpenAPI schema, with the credentials: no 5xx, every
    answer as the schema says (status, content type, body), bad input refused, and 401 without credentials."""
    har = tmp_path / "requests.har"
    command = [
        SCHEMATHESIS, "--config-file", str(Path(__file__).with_name("schemathesis.toml")),
        "run", f"{backend}/openapi.json", "--max-examples", "15", "--workers", "1",
        "--auth", ":".join(AUTH), "--report", "har", "--report-har-path", str(har), "--no-color",
        # Every check runs by default; the config leaves out only what cannot be judged on a route. One seed, so
        # that every run sends the same requests.
        "--seed", "14",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-6000:]
    assert "7 selected / 7 total" in done.stdout and "No issues found" in done.stdout
    print(done.stdout[done.stdout.index("Test cases:") :].split("Seed:")[0].strip())
    routes: dict[str, dict[str, int]] = {}
    for entry in json.loads(har.read_text())["log"]["entries"]:
        request = entry["request"]
        route = f"{request['method']} {httpx.URL(request['url']).path}"
        signed = any(h["name"].lower() == "authorization" for h in request["headers"])
        key = f"{entry['response']['status']}{'' if signed else ' without credentials'}"
        routes.setdefault(route, {}).setdefault(key, 0)
        routes[route][key] += 1
    print(
        "\n".join(
            f"{route}: {sum(seen.values())} requests, {dict(sorted(seen.items()))}" for route, seen in routes.items()
        )
    )
    for route in ("POST /predict", "POST /setup", "POST /webhook", "POST /train", "GET /versions", "GET /"):
        assert sum(routes[route].values()) >= 15 and routes[route].get("401 without credentials"), route
    assert set(routes["GET /health"]) == {"200"}  # it takes no input: a few requests are all there is to send


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
    env = {**SERVE_ENV, "LABEL_STUDIO_URL": studio_server.url, "LABEL_STUDIO_API_KEY": studio_server.token}
    command = [FRAMESTANCE, "studio", "connect", "--project", "Backend live", "--backend", backend]
    without = {k: v for k, v in env.items() if k != "FRAMESTANCE_BACKEND_AUTH"}
    refused = subprocess.run(command, capture_output=True, text=True, env=without)
    assert refused.returncode != 0 and "401" in refused.stderr, refused.stderr  # Label Studio's own reason
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    assert done.returncode == 0 and "Backend live: connected to" in done.stderr, done.stderr
    again = subprocess.run(command, capture_output=True, text=True, env=env)
    assert again.returncode == 0 and "already connected" in again.stderr
    assert AUTH[1] not in done.stdout + done.stderr + again.stdout + again.stderr
    (project,) = find_projects(studio, "Backend live")
    assert studio.projects.get(id=project.id).model_version == "framestance"
    (registered,) = studio.ml.list(project=project.id)
    assert registered.auth_method == "BASIC_AUTH" and registered.basic_auth_user == AUTH[0]
    task = next(iter(studio.tasks.list(project=project.id)))
    opened = studio.tasks.get(id=task.id)  # opening a task without predictions asks the backend, with the password
    (prediction,) = opened.predictions
    assert prediction.model_version == sample_model.version
    assert {item["from_name"] for item in prediction.result} >= set(CODEBOOK.stance_controls)
    assert len(list(studio.predictions.list(task=task.id))) == 1  # stored, not only shown


@pytest.mark.studio
def test_retraining_under_load_drops_no_request(studio, served, sample_model):
    from annotation.studio import connect_backend

    backend = served.url
    tasks = labeled_sample_tasks()
    for task in tasks[-3:]:  # left for the annotators: Label Studio will ask the retrained model for these
        task["annotations"] = []
    push(studio, CODEBOOK, tasks, "Backend training")
    (project,) = find_projects(studio, "Backend training")
    connect_backend(studio, "Backend training", backend, AUTH)
    uid = f"{project.id}.{int(time.time())}"
    seen: list[tuple[int, str | None]] = []
    stop_stream = threading.Event()

    def steady_stream():
        with httpx.Client(timeout=60, auth=AUTH) as client:
            while not stop_stream.is_set():
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
        studio.annotations.create(  # Label Studio sends ANNOTATION_CREATED to the backend's /webhook, with auth
            id=task.id,
            result=[{"from_name": "frames", "to_name": "text", "type": "choices", "value": {"choices": ["morality"]}}],
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not any(v not in (None, sample_model.version) for _, v in seen):
            time.sleep(0.5)
        time.sleep(1)
    finally:
        stop_stream.set()
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
    assert not list((served.work / f"project-{project.id}").glob("*.json"))  # the export it trained on is gone


def test_the_password_never_appears_in_what_serve_wrote(served):
    """Last in this module: by now every route has been called, with and without the credentials."""
    written = served.log.read_text()
    assert "Serving" in written and AUTH[1] not in written
