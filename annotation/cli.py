"""The labeling commands: codebooks, labeling configs and tasks.

Heavy modules are imported inside the commands so that `framestance --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from annotation.passages import MAX_WORDS, MIN_WORDS

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Labeling: codebooks, Label Studio configs and tasks."
)
codebook_app = typer.Typer(no_args_is_help=True, add_completion=False, help="Write and check codebooks.")
app.add_typer(codebook_app, name="codebook")

console = Console(stderr=True, soft_wrap=True)

Out = Annotated[Path, typer.Option("-o", "--out", help="Where to write the output.")]
CodebookArg = Annotated[Path, typer.Argument(help="A codebook YAML file.", show_default=False)]


def fail(message: str) -> typer.Exit:
    """Print `message` as an error and return the exit to raise."""
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=2)


def load(path: Path):
    """The codebook at `path`, or a clear error and exit."""
    from annotation.codebook import CodebookError, load_codebook

    try:
        return load_codebook(path)
    except CodebookError as err:
        raise fail(str(err)) from None


def write_text(path: Path, text: str) -> None:
    """Write `text` to `path`, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@codebook_app.command("new")
def codebook_new(
    path: Annotated[Path, typer.Argument(help="Where to write the starter codebook.", show_default=False)],
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter codebook to edit."""
    from annotation.codebook import starter_codebook_text

    if path.exists() and not force:
        raise fail(f"{path} exists; pass --force to overwrite it")
    write_text(path, starter_codebook_text())
    console.print(f"Wrote a starter codebook to {path}; edit it, then run: framestance config {path}")


@codebook_app.command("check")
def codebook_check(codebook: CodebookArg) -> None:
    """Check a codebook and summarise what it asks."""
    from annotation.label_config import expected_controls

    book = load(codebook)
    console.print(f"{codebook}: {book.ref} is valid")
    for name, (tag, labels) in expected_controls(book).items():
        console.print(f"  {name} ({tag}): {', '.join(label.id for label in labels) or '-'}", highlight=False)


@app.command("config")
def config(codebook: CodebookArg, out: Out = Path("label_config.xml")) -> None:
    """Write the Label Studio labeling config for a codebook, checked by Label Studio's own parser."""
    from annotation.label_config import ConfigCheckError, build_label_config

    book = load(codebook)
    try:
        xml = build_label_config(book)
    except ConfigCheckError as err:
        raise fail(f"{codebook}: {err}") from None
    write_text(out, xml)
    console.print(f"Wrote the labeling config for {book.ref} to {out}")


@app.command("instructions")
def instructions(codebook: CodebookArg, out: Out = Path("instructions.html")) -> None:
    """Write the annotators' instructions (HTML) for a codebook."""
    from annotation.label_config import build_instructions

    book = load(codebook)
    write_text(out, build_instructions(book))
    console.print(f"Wrote the instructions for {book.ref} to {out}")


@app.command("tasks")
def tasks(
    articles: Annotated[
        list[Path],
        typer.Argument(help="Article files: .txt or .html pages, .jsonl or .csv collections.", show_default=False),
    ],
    codebook: Annotated[
        Path | None, typer.Option("--codebook", "-c", help="Tag tasks with this codebook's name@version.")
    ] = None,
    out: Out = Path("tasks.json"),
    min_words: Annotated[int, typer.Option(help="Shorter paragraphs join a neighbour.")] = MIN_WORDS,
    max_words: Annotated[int, typer.Option(help="Longer paragraphs are cut at sentence ends.")] = MAX_WORDS,
) -> None:
    """Cut articles into passages and write them as Label Studio tasks."""
    from annotation.tasks import tasks_from_files, write_tasks

    if min_words < 1 or max_words < min_words:
        raise fail(f"need 1 <= --min-words <= --max-words, got {min_words} and {max_words}")
    book = load(codebook) if codebook else None
    run = tasks_from_files(articles, book, min_words, max_words)
    for line in run.summary():
        console.print(line, highlight=False, markup=False)
    if not run.tasks:
        raise fail("no passages to write: every input was skipped")
    write_tasks(run.tasks, out)
    console.print(f"Wrote {len(run.tasks)} tasks to {out}")
