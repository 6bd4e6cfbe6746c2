"""The `framestance` command: the labeling commands of `annotation.cli` and the model commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from annotation.cli import app as labeling_app
from annotation.cli import console

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="framestance: label news passages for stance and framing, measure agreement, suggest labels.",
)
app.add_typer(labeling_app)


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Option("-o", "--out", help="The folder to write everything to.")] = Path("demo-output"),
) -> None:
    """Run the whole workflow on the bundled illustrative sample and write every output to one folder."""
    from models.demo import run_demo

    for line in run_demo(out):
        console.print(line, highlight=False, markup=False)


def main() -> None:
    """Entry point of the `framestance` console script."""
    app()
