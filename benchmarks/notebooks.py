"""How long each notebook takes to run top to bottom on the bundled sample, next to the same code run as a
plain Python script, measured in the same run.

Goal: under a minute per notebook. The notebook runs in a fresh kernel through papermill, as the tests run it;
the peer is the notebook's code cells written out as one script and run by a fresh interpreter, so the ratio
is what Jupyter adds. Both use the demo model, trained once beforehand into a temporary folder (that training
is timed too: it is what the first run pays when no demo model is there).

    .venv/bin/python benchmarks/notebooks.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
BOOKS = ("score_new_articles.ipynb", "compare_sources.ipynb")
GOAL = 60.0


def as_script(name: str, parameters: dict) -> str:
    """The notebook's code cells as one script, its parameters overridden as papermill would."""
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    cells = [cell.source for cell in book.cells if cell.cell_type == "code"]
    overrides = "\n".join(f"{key} = {value!r}" for key, value in parameters.items())
    body = "\n\n".join([cells[0], overrides, *cells[1:]])
    return "\n".join(line for line in body.splitlines() if not line.startswith("%"))


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        from models.demo import demo_model

        training = timed(lambda: demo_model(work / "demo"))
        print(f"demo model trained in {training:.1f} s (paid once, by the first run without one)")
        print(f"{'notebook':28} {'papermill (s)':>14} {'script (s)':>11} {'ratio':>6}  goal < {GOAL:.0f} s")
        for name in BOOKS:
            parameters = {"demo_folder": str(work / "demo"), "out": str(work / name)}
            script = work / f"{name}.py"
            script.write_text(as_script(name, parameters), encoding="utf-8")
            book = [
                timed(
                    lambda name=name, parameters=parameters: papermill.execute_notebook(
                        NOTEBOOKS / name,
                        work / f"ran-{name}",
                        parameters=parameters,
                        cwd=str(NOTEBOOKS),
                        kernel_name="python3",
                        progress_bar=False,
                    )
                )
                for _ in range(args.runs)
            ]
            plain = [
                timed(
                    lambda script=script: subprocess.run(
                        [sys.executable, str(script)], cwd=NOTEBOOKS, check=True, capture_output=True
                    )
                )
                for _ in range(args.runs)
            ]
            notebook, peer = statistics.median(book), statistics.median(plain)
            verdict = "met" if notebook < GOAL else "MISSED"
            print(f"{name:28} {notebook:>14.1f} {peer:>11.1f} {notebook / peer:>6.2f}  {verdict}")


if __name__ == "__main__":
    main()
