"""A local Label Studio server on loopback, in its own virtual environment, for tests and demos.

The server pins old versions of some packages, so it never shares an environment with framestance:
`ensure_server_env` builds one (once, cached), `start_server` runs it with a fresh data dir and returns
a `StudioServer` whose `stop()` ends it by its process id.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

SERVER_PACKAGE = "label-studio==1.23.2"
ADMIN_EMAIL = "admin@example.com"

# Variables the server reads that would point it elsewhere or make it call out.
_SCRUBBED = ("USERNAME", "PASSWORD", "PORT", "HOST", "LABEL_STUDIO_HOST", "LABEL_STUDIO_PORT")
_QUIET = {
    "LATEST_VERSION_CHECK": "false",
    "COLLECT_ANALYTICS": "false",
    "SENTRY_DSN": "",
    "FRONTEND_SENTRY_DSN": "",
    "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
    "DJANGO_DB": "sqlite",
    # `framestance serve` runs beside this server on loopback, which Label Studio refuses to call by default.
    "ML_BLOCK_LOCAL_IP": "false",
    "SSRF_PROTECTION_ENABLED": "false",
}


class StudioServerError(RuntimeError):
    """The Label Studio server could not be installed or started."""


@dataclass
class StudioServer:
    """A running server: where it answers, how to log in, and how to stop it."""

    url: str
    token: str = field(repr=False)
    email: str
    password: str = field(repr=False)
    pid: int
    data_dir: Path
    log: Path

    def client(self):
        """A connected `label_studio_sdk.LabelStudio` client."""
        from label_studio_sdk import LabelStudio

        return LabelStudio(base_url=self.url, api_key=self.token)

    def stop(self, timeout: float = 20) -> None:
        """End the server and the processes it started."""
        try:
            os.killpg(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(self.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)


def ensure_server_env(env_dir: Path, log=print) -> Path:
    """The `label-studio` command of a virtual environment at `env_dir`, created and installed if needed."""
    env_dir = Path(env_dir)
    command = env_dir / "bin" / "label-studio"
    marker = env_dir / ".installed"
    if command.exists() and marker.exists() and marker.read_text().strip() == SERVER_PACKAGE:
        return command
    log(f"Installing {SERVER_PACKAGE} into {env_dir} (about a minute, once)")
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(env_dir)],
        [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", SERVER_PACKAGE],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            raise StudioServerError(f"{' '.join(step)} failed:\n{done.stderr[-3000:]}")
    marker.write_text(SERVER_PACKAGE + "\n")
    return command


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def start_server(
    env_dir: Path,
    data_dir: Path,
    port: int | None = None,
    email: str = ADMIN_EMAIL,
    password: str | None = None,
    token: str | None = None,
    timeout: float = 180,
) -> StudioServer:
    """Start Label Studio on 127.0.0.1 with `data_dir` as its data and wait until `/health` answers."""
    command = ensure_server_env(env_dir)
    port = port or free_port()
    if not _port_is_free(port):
        # The server would silently move to the next port instead of failing.
        raise StudioServerError(f"port {port} on 127.0.0.1 is taken; choose another")
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    password = password or secrets.token_hex(12)
    token = token or secrets.token_hex(20)
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env.update(_QUIET, LABEL_STUDIO_BASE_DATA_DIR=str(data_dir))
    log = data_dir / "server.log"
    args = [
        str(command), "start",
        "--internal-host", "127.0.0.1",
        "--port", str(port),
        "--no-browser",
        f"--username={email}",
        f"--password={password}",
        f"--user-token={token}",
        "--enable-legacy-api-token",
    ]  # fmt: skip
    with open(log, "ab") as out:
        process = subprocess.Popen(
            args,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    server = StudioServer(f"http://127.0.0.1:{port}", token, email, password, process.pid, data_dir, log)
    try:
        wait_until_up(server.url, process, timeout, "Label Studio")
    except StudioServerError as err:
        server.stop()
        raise StudioServerError(f"{err}; see {log}") from None
    return server


def wait_until_up(url: str, process: subprocess.Popen, timeout: float, name: str) -> None:
    """Return once `url/health` answers 200; raise `StudioServerError` if `process` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StudioServerError(f"{name} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise StudioServerError(f"{name} did not answer {url}/health within {timeout:.0f} s")
