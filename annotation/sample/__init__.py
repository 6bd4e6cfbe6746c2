"""The bundled illustrative sample: invented articles on one event, and how three annotators labeled them."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

EXAMPLE_CODEBOOK = "soleimani_2020"


def sample_file(name: str) -> Path:
    """A file of the bundled sample: `articles.jsonl`, `labels.yaml` or `export.json`."""
    return Path(str(resources.files("annotation.sample") / name))


def sample_tasks(codebook=None):
    """The tasks of the bundled sample articles, their file named relative to the package."""
    from annotation.tasks import tasks_from_files

    path = sample_file("articles.jsonl")
    return tasks_from_files([path], codebook, relative_to=path.parents[1])
