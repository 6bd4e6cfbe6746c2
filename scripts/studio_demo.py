"""`make studio`: a local Label Studio server with the demo project and the demo model's ML backend, until Ctrl-C.

The backend (`framestance serve`) runs beside the server, connected to the demo project, and retrains as
labels arrive. It wants HTTP Basic auth with a password made afresh on each run, which only the backend (in its
environment) and the server (in the backend's settings) hold: it is never printed. The server runs on loopback
from its own virtual environment, with its data in a work folder (git-ignored, `.work/studio` by default) that
later runs reuse, so labels made in the demo survive a restart.
The login is made on the first run and kept in `login.json` in that folder (readable by its owner only).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

from annotation.studio import StudioError, connect_backend
from annotation.studio_server import ADMIN_EMAIL, StudioServerError, start_server, wait_until_up
from models.demo import DEMO_PROJECT, demo_project

ROOT = Path(__file__).resolve().parents[1]


def login(work: Path) -> dict:
    """The demo server's login, made once and kept in `work/login.json`."""
    path = work / "login.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    work.mkdir(parents=True, exist_ok=True)
    made = {"email": ADMIN_EMAIL, "password": secrets.token_urlsafe(9), "token": secrets.token_hex(20)}
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(made, out)
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", type=Path, default=ROOT / ".cache" / "label-studio" / "venv")
    parser.add_argument("--work", type=Path, default=ROOT / ".work" / "studio")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--backend-port", type=int, default=9090)
    args = parser.parse_args()

    account = login(args.work)
    print(f"Starting Label Studio on 127.0.0.1:{args.port} (data in {args.work / 'data'}) …", flush=True)
    try:
        server = start_server(
            args.env, args.work / "data", args.port, account["email"], account["password"], account["token"]
        )
    except StudioServerError as err:
        print(f"error: {err} (make studio STUDIO_PORT=…)", file=sys.stderr)
        return 1
    for stop in (signal.SIGINT, signal.SIGTERM):  # SIGINT too: a shell's background job starts with it ignored
        signal.signal(stop, signal.default_int_handler)
    backend = None
    try:
        client = server.client()
        project, lines = demo_project(client, args.work)
        for line in lines:
            print(line, flush=True)
        credentials = ("label-studio", secrets.token_urlsafe(24))
        backend, backend_url = start_backend(args.work, args.backend_port, credentials)
        for line in connect_backend(client, DEMO_PROJECT, backend_url, credentials):
            print(line, flush=True)
        print(f"\nLabel Studio: {server.url}/projects/{project.id}/data", flush=True)
        print(
            f"ML backend: {backend_url} (it retrains on the project's labels as they arrive; "
            "Label Studio holds its password)",
            flush=True,
        )
        print(f"Log in as {account['email']} with password {account['password']}", flush=True)
        print("Stop with Ctrl-C.", flush=True)
        signal.pause()
    except KeyboardInterrupt:
        pass
    except (StudioError, StudioServerError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        if backend is not None:
            backend.terminate()
            backend.wait(timeout=30)
        server.stop()
    return 0


def start_backend(work: Path, port: int, credentials: tuple[str, str]) -> tuple[subprocess.Popen, str]:
    """`framestance serve` for the demo model on loopback, wanting `credentials`, once it answers /health.

    It reads the labels from the server each project's setup call names: not from one of the caller's.
    """
    url = f"http://127.0.0.1:{port}"
    command = [str(Path(sys.executable).parent / "framestance"), "serve", str(work / "model.skops")]
    env = {k: v for k, v in os.environ.items() if k not in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY")}
    env["FRAMESTANCE_BACKEND_AUTH"] = ":".join(credentials)  # not on the command line, which `ps` shows
    process = subprocess.Popen([*command, "--port", str(port), "--work", str(work / "backend")], env=env)
    try:
        wait_until_up(url, process, 120, "framestance serve")
    except StudioServerError:
        process.terminate()
        raise
    return process, url


if __name__ == "__main__":
    sys.exit(main())
