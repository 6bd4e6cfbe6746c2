"""Shared fixtures: paths to the data the tests read, and a real Label Studio server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"
STUDIO_ENV = Path(os.environ.get("FRAMESTANCE_STUDIO_ENV", ROOT / ".cache" / "label-studio" / "venv"))


@pytest.fixture(scope="session")
def shared() -> Path:
    """The `../shared` folder beside the repository; tests that need it skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: it holds the sample articles and real exports these tests read")
    return SHARED


@pytest.fixture(scope="session")
def studio_server(tmp_path_factory):
    """A real Label Studio server on loopback with a fresh data dir, for the whole session."""
    from annotation.studio_server import start_server

    server = start_server(STUDIO_ENV, tmp_path_factory.mktemp("label-studio-data"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def studio(studio_server):
    """A `label_studio_sdk.LabelStudio` client connected to the test server."""
    return studio_server.client()
