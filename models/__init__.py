"""The learning side of framestance: stance and frame classifiers trained on the labels, their evaluation,
model files and suggestions, and the command-line entry point.

The names below are loaded on first use, so importing the package stays light.
"""

from importlib import import_module

_LAZY = {
    "StanceClassifier": "models.estimators",
    "FrameClassifier": "models.estimators",
    "Model": "models.training",
    "train": "models.training",
    "save_model": "models.persistence",
    "load_model": "models.persistence",
    "suggestion_table": "models.suggest",
    "write_suggestions": "models.suggest",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'models' has no attribute {name!r}")
