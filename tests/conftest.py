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


@pytest.fixture(scope="session")
def sample_model():
    """The demo model: trained on the labels of the bundled sample with the example codebook."""
    from annotation.codebook import load_codebook, shipped_codebooks
    from annotation.convert import read_export
    from annotation.sample import EXAMPLE_CODEBOOK, sample_file
    from models.training import train

    path = shipped_codebooks()[EXAMPLE_CODEBOOK]
    codebook = load_codebook(path)
    return train(read_export(sample_file("export.json"), codebook=codebook), codebook, path.read_text("utf-8"))[0]


@pytest.fixture(scope="session")
def sample_model_file(sample_model, tmp_path_factory) -> Path:
    """The demo model saved as a model file."""
    from models.persistence import save_model

    return save_model(sample_model, tmp_path_factory.mktemp("model") / "model.skops")
