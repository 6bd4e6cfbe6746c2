"""`make studio`: a local Label Studio server with the demo project, until Ctrl-C.

The server runs on loopback from its own virtual environment, with its data in a work folder (git-ignored,
`.work/studio` by default) that later runs reuse, so labels made in the demo survive a restart. The login is
made on the first run and kept in `login.json` in that folder (readable by its owner only).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
from pathlib import Path

from annotation.studio_server import ADMIN_EMAIL, StudioServerError, start_server
from models.demo import demo_project

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
    try:
        project, lines = demo_project(server.client(), args.work)
        for line in lines:
            print(line, flush=True)
        print(f"\nLabel Studio: {server.url}/projects/{project.id}/data", flush=True)
        print(f"Log in as {account['email']} with password {account['password']}", flush=True)
        print("Stop with Ctrl-C.", flush=True)
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
