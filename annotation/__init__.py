"""The labeling side of framestance: codebooks, Label Studio configs, articles, passages and tasks, and
exports turned into tables, agreement figures and gold labels.

`read_export`, `agreement` and `gold_labels` are loaded on first use, so importing the package stays light.
"""

from annotation.lazy import lazy_attributes

_LAZY = {
    "read_export": "annotation.convert",
    "LabelTables": "annotation.tables",
    "read_tables": "annotation.tables",
    "agreement": "annotation.agreement",
    "gold_labels": "annotation.gold",
    "review_tasks": "annotation.gold",
}
__all__ = sorted(_LAZY)


__getattr__ = lazy_attributes("annotation", _LAZY)
