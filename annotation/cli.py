"""The labeling commands: codebooks, labeling configs and tasks.

Heavy modules are imported inside the commands so that `framestance --help` stays fast.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from annotation.passages import MAX_WORDS, MIN_WORDS

# Plain help (rich_markup_mode=None): the rich panels print a `<bool>` type beside every flag, as if it took a value.
app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    help="Labeling: codebooks, Label Studio configs and tasks.",
)
codebook_app = typer.Typer(
    no_args_is_help=True, add_completion=False, rich_markup_mode=None, help="Write and check codebooks."
)
app.add_typer(codebook_app, name="codebook")

console = Console(stderr=True, soft_wrap=True)

Out = Annotated[Path, typer.Option("-o", "--out", help="Where to write the output.")]
CodebookArg = Annotated[Path, typer.Argument(help="A codebook YAML file.", show_default=False)]


# Exit codes (README, "Exit codes"): 0 done; 2 refused, nothing written; 3 some input files could not be read and
# the command wrote what the others give. 1 is Python's own, for a crash.
REFUSED, PARTIAL = 2, 3
FLAG_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "1", "0"})


def fail(message: str) -> typer.Exit:
    """Print `message` as an error and return the exit to raise."""
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=REFUSED)


def several_inputs(name: str, folder: bool = False) -> Callable[[Callable], Callable]:
    """For a command whose parameter `name` lists input files: each one that cannot be opened is reported and
    left out, the command runs on the others and writes what they give, then exits PARTIAL. None readable:
    refused. With `folder`, a single folder given alone (of converted tables) is an input too."""

    def decorate(command: Callable) -> Callable:
        @functools.wraps(command)
        def run(**params):
            paths = params[name]
            params[name] = [p for p in paths if not _unreadable(p, folder and len(paths) == 1)]
            if not params[name]:
                raise fail("none of the inputs can be read")
            if len(params[name]) < len(paths):
                console.print(
                    f"reading the {len(params[name])} other inputs; the command exits {PARTIAL} once it has written "
                    "what they give",
                    highlight=False,
                )
            command(**params)
            if len(params[name]) < len(paths):
                raise typer.Exit(code=PARTIAL)

        return run

    return decorate


def _unreadable(path: Path, folder: bool) -> bool:
    """Whether `path` cannot be opened as an input; if so, it is reported as an error saying why."""
    try:
        if not path.is_dir():
            path.open("rb").close()
            return False
        problem = None if folder else "is a folder; name the files in it"
    except FileNotFoundError:
        hint = " (flags take no value: write --rank, not --rank true)" if path.name.lower() in FLAG_WORDS else ""
        problem = f"no such file{hint}"
    except OSError as err:
        problem = f"cannot be read ({err.strerror or err})"
    if problem:
        console.print(f"[bold red]error:[/] {escape(f'{path}: {problem}')}", highlight=False)
    return problem is not None


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
    force: Annotated[bool, typer.Option("--force/--no-force", help="Overwrite an existing file.")] = False,
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
    console.print("Aliases (the names that count as a mention of each target):")
    for target in book.targets:
        named = ", ".join(target.aliases) if target.aliases else "none: its mentions are not found, so the "
        named += "" if target.aliases else "labeling page cannot show them and the stance model cannot use them"
        console.print(f"  {target.id}: {named}", highlight=False, markup=False)


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
@several_inputs("articles")
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


Sources = Annotated[
    list[Path],
    typer.Argument(
        help="Label Studio exports (JSON, JSON_MIN, CSV), or one folder of converted tables.", show_default=False
    ),
]
CodebookOpt = Annotated[Path | None, typer.Option("--codebook", "-c", help="Check against this codebook.")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Without a codebook: the project's labeling config (XML).")
]


def load_tables(sources: list[Path], codebook: Path | None, config: Path | None, strict: bool = False):
    """Tables from exports or from a folder written by `convert`, or a clear error and exit."""
    from annotation.convert import CheckError, read_export
    from annotation.exports import ExportError
    from annotation.tables import read_tables

    if codebook and config:
        raise fail("give --codebook or --config, not both")
    book = load(codebook) if codebook else None
    try:
        xml = config.read_text(encoding="utf-8") if config else None
    except (OSError, UnicodeDecodeError) as err:
        raise fail(f"{config}: not a readable labeling config ({err})") from None
    try:
        if len(sources) == 1 and sources[0].is_dir():
            return read_tables(sources[0]), book
        tables = read_export(sources, codebook=book, config=xml, strict=strict)
    except (ExportError, FileNotFoundError) as err:
        raise fail(str(err)) from None
    except CheckError as err:
        raise fail(f"annotations failed the codebook checks (--strict):\n{err}") from None
    for problem in tables.problems:
        console.print(f"[yellow]warning:[/] {problem}", highlight=False)
    console.print(tables.reconciliation(), highlight=False)
    return tables, book


@app.command("convert")
@several_inputs("exports")
def convert(
    exports: Annotated[
        list[Path], typer.Argument(help="Label Studio exports: JSON, JSON_MIN or CSV.", show_default=False)
    ],
    codebook: CodebookOpt = None,
    config: ConfigOpt = None,
    out: Annotated[Path, typer.Option("-o", "--out", help="The folder to write the tables to.")] = Path("tables"),
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    strict: Annotated[
        bool, typer.Option("--strict/--no-strict", help="Fail on annotations that break the codebook.")
    ] = False,
) -> None:
    """Convert Label Studio exports to tidy tables: annotations, spans, predictions, skipped, tasks."""
    if fmt not in ("parquet", "csv"):
        raise fail(f"--format must be parquet or csv, not {fmt!r}")
    tables, _ = load_tables(exports, codebook, config, strict)
    written = tables.write(out, fmt)
    console.print(f"Wrote {', '.join(p.name for p in written)} to {out}", highlight=False)


@app.command("agreement")
@several_inputs("sources", folder=True)
def agreement(
    sources: Sources,
    codebook: CodebookOpt = None,
    config: ConfigOpt = None,
    out: Annotated[Path, typer.Option("-o", "--out", help="The CSV to write, one row per question.")] = Path(
        "agreement.csv"
    ),
    plot: Annotated[Path | None, typer.Option("--plot", help="Also draw the figures to this PNG.")] = None,
) -> None:
    """Agreement between annotators per question: percent agreement, Krippendorff's alpha, Cohen's kappa."""
    from annotation.agreement import agreement as measure
    from annotation.agreement import format_agreement, plot_agreement
    from annotation.csv_safe import write_csv

    tables, book = load_tables(sources, codebook, config)
    frame = measure(tables, book)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(frame, out)
    console.print(format_agreement(frame), highlight=False, markup=False)
    console.print(f"Wrote {out}", highlight=False)
    if plot:
        plot.parent.mkdir(parents=True, exist_ok=True)
        plot_agreement(frame, plot)
        console.print(f"Drew {plot}", highlight=False)


@app.command("gold")
@several_inputs("sources", folder=True)
def gold(
    sources: Sources,
    codebook: CodebookOpt = None,
    config: ConfigOpt = None,
    out: Annotated[Path, typer.Option("-o", "--out", help="The Parquet file of gold labels.")] = Path("gold.parquet"),
    rule: Annotated[str, typer.Option(help="majority or dawid-skene.")] = "majority",
    adjudicator: Annotated[
        str | None, typer.Option(help="The annotator (user id) whose answers settle every passage they labeled.")
    ] = None,
    review_tasks: Annotated[
        Path | None, typer.Option("--review-tasks", help="Write the unresolved passages as Label Studio tasks.")
    ] = None,
) -> None:
    """Gold labels per passage by majority vote (or Dawid-Skene), with ground truth and an adjudicator first."""
    from annotation.gold import gold_labels
    from annotation.gold import review_tasks as make_review_tasks

    tables, book = load_tables(sources, codebook, config)
    try:
        labels = gold_labels(tables, book, rule=rule, adjudicator=adjudicator)
    except (ValueError, ImportError) as err:
        raise fail(str(err)) from None
    if labels.empty:
        raise fail(f"no gold labels to write: {no_gold_reason(tables)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    labels.to_parquet(out, index=False)
    unresolved = int(labels["unresolved"].map(len).gt(0).sum())
    console.print(f"Wrote {len(labels)} gold rows to {out}; {unresolved} passages have unresolved questions")
    if review_tasks:
        from annotation.label_config import build_label_config

        config_xml = build_label_config(book) if book else (config.read_text(encoding="utf-8") if config else None)
        tasks = make_review_tasks(tables, labels, config=config_xml)
        review_tasks.parent.mkdir(parents=True, exist_ok=True)
        review_tasks.write_text(json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        console.print(f"Wrote {len(tasks)} review tasks to {review_tasks}")


def no_gold_reason(tables) -> str:
    """Why tables give no gold row: what became of the annotations read."""
    skipped = tables.skipped
    if skipped.empty:
        return "the inputs hold no annotations (export the project once annotators have labeled)"
    reasons = ", ".join(f"{count} {reason}" for reason, count in skipped["reason"].value_counts().items())
    return f"every annotation read was skipped ({reasons})"


studio_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="Work with a Label Studio server: push tasks, pull labels."
)
app.add_typer(studio_app, name="studio")
Url = Annotated[str | None, typer.Option("--url", help="The server; default LABEL_STUDIO_URL.", show_default=False)]
ApiKey = Annotated[
    str | None, typer.Option("--api-key", help="Default LABEL_STUDIO_API_KEY. Never printed.", show_default=False)
]
Project = Annotated[str, typer.Option("--project", help="The project's name (copies add ' (annotator N)').")]


def studio_client(url: str | None, api_key: str | None):
    """A connected client, or one clear message (without the key) and exit."""
    from annotation.studio import StudioError, connect

    try:
        return connect(url, api_key)
    except StudioError as err:
        raise fail(str(err)) from None


def run_studio(description: str, work, total: int | None = None) -> None:
    """Run `work(advance)` under a progress bar and print the lines it returns; a refusal is one message and exit."""
    from rich.progress import Progress

    from annotation.studio import StudioError

    with Progress(console=console, transient=True) as bar:
        job = bar.add_task(description, total=total)
        try:
            lines = work(lambda n: bar.advance(job, n))
        except (StudioError, ValueError) as err:
            raise fail(str(err)) from None
    for line in lines:
        console.print(line, highlight=False, markup=False)


@studio_app.command("push")
def studio_push(
    codebook: CodebookArg,
    tasks_file: Annotated[Path, typer.Argument(help="A task file written by `framestance tasks`.", show_default=False)],
    project: Project,
    annotators: Annotated[int, typer.Option(help="Copies of the project, one per annotator.")] = 1,
    url: Url = None,
    api_key: ApiKey = None,
) -> None:
    """Create the project from the codebook (or update it) and import the tasks it does not have yet."""
    from annotation.studio import copy_titles, push

    book = load(codebook)
    try:
        tasks = json.loads(tasks_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise fail(f"{tasks_file}: not a readable task file ({err})") from None
    if not isinstance(tasks, list) or not all(isinstance(t, dict) and "passage_id" in t.get("data", {}) for t in tasks):
        raise fail(f"{tasks_file}: a task file is a JSON list of tasks with data.passage_id (framestance tasks)")
    client = studio_client(url, api_key)
    total = len(tasks) * len(copy_titles(project, max(annotators, 1)))
    run_studio("importing", lambda advance: push(client, book, tasks, project, annotators, advance).lines(), total)


@studio_app.command("pull")
def studio_pull(
    project: Project,
    codebook: CodebookOpt = None,
    out: Annotated[Path, typer.Option("-o", "--out", help="The folder for the exports and tables.")] = Path("labels"),
    url: Url = None,
    api_key: ApiKey = None,
) -> None:
    """Export the project and its annotator copies, convert and merge them into tables, print agreement."""
    from annotation.agreement import agreement, format_agreement
    from annotation.studio import StudioError, pull

    client = studio_client(url, api_key)
    try:
        files = pull(client, project, out)
    except StudioError as err:
        raise fail(str(err)) from None
    console.print(f"Exported {len(files)} projects to {out / 'exports'}", highlight=False)
    tables, book = load_tables(files, codebook, None)
    tables.write(out / "tables")
    console.print(format_agreement(agreement(tables, book)), highlight=False, markup=False)
    console.print(f"Wrote the tables to {out / 'tables'}", highlight=False)


@studio_app.command("connect")
def studio_connect(
    project: Project,
    backend: Annotated[str, typer.Option("--backend", help="The address of `framestance serve`.")],
    url: Url = None,
    api_key: ApiKey = None,
    backend_auth: Annotated[
        str | None,
        typer.Option(
            "--backend-auth",
            envvar="FRAMESTANCE_BACKEND_AUTH",
            help="USER:PASS the backend wants (its --auth): Label Studio sends them as HTTP Basic auth. Never printed.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Connect a running `framestance serve` to the project and its copies, so tasks open with its suggestions."""
    from annotation.studio import StudioError, backend_credentials, connect_backend

    try:
        credentials = backend_credentials(backend_auth)
    except StudioError as err:
        raise fail(f"--backend-auth (or FRAMESTANCE_BACKEND_AUTH): {err}") from None
    client = studio_client(url, api_key)
    run_studio("connecting", lambda _advance: connect_backend(client, project, backend, credentials))
