"""The shape of the package: `annotation` never imports `models`; the CLI imports heavy libraries lazily."""

from __future__ import annotations

import ast
import subprocess
import sys

from conftest import ROOT

HEAVY = ("label_studio_sdk", "sklearn", "torch", "trafilatura", "pandas")


def test_annotation_never_imports_models():
    for path in sorted((ROOT / "annotation").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n == "models" or n.startswith("models.") for n in names), f"{path}:{node.lineno}"


def test_loading_the_cli_imports_no_heavy_library():
    code = f"import sys, models.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
