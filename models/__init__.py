"""The learning side of framestance: stance and frame classifiers trained on the labels, their evaluation,
model files and suggestions, and the command-line entry point.

The names below are loaded on first use, so importing the package stays light.
"""

from annotation.lazy import lazy_attributes

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


__getattr__ = lazy_attributes("models", _LAZY)
