"""The `framestance` command: the labeling commands of `annotation.cli` and the model commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from annotation.cli import (
    ApiKey,
    CodebookOpt,
    ConfigOpt,
    Project,
    Sources,
    Url,
    console,
    fail,
    load,
    load_tables,
    run_studio,
    several_inputs,
    studio_app,
    studio_client,
)
from annotation.cli import app as labeling_app

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain help: the rich panels print `<bool>` beside every flag
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


ModelArg = Annotated[Path, typer.Argument(help="A model file written by `framestance train`.", show_default=False)]
AllQuestions = Annotated[
    bool,
    typer.Option(
        "--all-questions/--earned-only",
        help="Pre-fill every question the model answers, also those on which it did not beat the baselines.",
    ),
]
Features = Annotated[
    str,
    typer.Option(
        help="tfidf; tfidf+embeddings (adds sentence embeddings); tfidf+target-embeddings (adds, for stance, the "
        "embedding of where the target is named). The last two need the extra framestance[embeddings]."
    ),
]


def open_model(path: Path, codebook: Path | None = None):
    """The model at `path` (checked against a codebook if given), or a clear error and exit."""
    from models.persistence import ModelFileError, load_model

    try:
        return load_model(path, load(codebook) if codebook else None)
    except ModelFileError as err:
        raise fail(str(err)) from None


def prefill_plan_of(model, all_questions: bool):
    """The questions to pre-fill, after printing one line per question that says whether and why."""
    from models.prefill import prefill_plan

    plan = prefill_plan(model, all_questions)
    for line in plan.lines:
        console.print(line, highlight=False, markup=False)
    return plan


def show_evaluation(evaluation: dict, report: Path | None, card: dict) -> None:
    """Print an evaluation, and write it as a Markdown report if asked."""
    from models.report import format_evaluation, write_report

    console.print(format_evaluation(evaluation), highlight=False, markup=False)
    if report:
        write_report(evaluation, report, card)
        console.print(f"Wrote {report}", highlight=False)


@app.command("train")
@several_inputs("sources", folder=True)
def train(
    sources: Sources,
    codebook: Annotated[Path, typer.Option("--codebook", "-c", help="The codebook the labels follow.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="The model file to write.")] = Path("model.skops"),
    features: Features = "tfidf",
    seed: Annotated[int, typer.Option(help="The same seed gives the same model.")] = 0,
    report: Annotated[Path | None, typer.Option("--report", help="Also write the evaluation as Markdown.")] = None,
) -> None:
    """Train the stance, frames and primary-frame models on gold labels, evaluated by article-grouped CV."""
    from models.persistence import save_model
    from models.training import train as train_model

    book = load(codebook)
    tables, _ = load_tables(sources, codebook, None)
    try:
        model, evaluation = train_model(tables, book, codebook.read_text(encoding="utf-8"), features, seed)
    except (ValueError, ImportError) as err:
        raise fail(str(err)) from None
    save_model(model, out)
    show_evaluation(evaluation, report, model.card)
    console.print(f"Wrote {out} (model version {model.version})", highlight=False)


@app.command("evaluate")
@several_inputs("sources", folder=True)
def evaluate(
    model_path: ModelArg,
    sources: Sources,
    codebook: CodebookOpt = None,
    config: ConfigOpt = None,
    report: Annotated[Path | None, typer.Option("--report", help="Also write the evaluation as Markdown.")] = None,
) -> None:
    """Score a trained model on other, held-out labels, question by question, beside human agreement."""
    from models.training import evaluate as evaluation_of

    model = open_model(model_path, codebook)
    tables, _ = load_tables(sources, codebook, config)
    show_evaluation(evaluation_of(model, tables), report, model.card)


@app.command("suggest")
@several_inputs("inputs")
def suggest(
    model_path: ModelArg,
    inputs: Annotated[
        list[Path],
        typer.Argument(help="Articles (as `framestance tasks` reads them) or a task file.", show_default=False),
    ],
    out: Annotated[
        Path, typer.Option("-o", "--out", help=".json: Label Studio tasks with predictions; .csv/.parquet: a table.")
    ] = Path("suggestions.json"),
    rank: Annotated[bool, typer.Option("--rank/--no-rank", help="Label first: each cluster's most doubtful.")] = False,
    all_questions: AllQuestions = False,
) -> None:
    """Suggest stances and frames for new passages.

    A task file pre-fills only the questions on which the model beat the baselines (see its report);
    a table (.csv/.parquet) has every question.
    """
    from models.suggest import read_inputs, write_suggestions

    model = open_model(model_path)
    plan = prefill_plan_of(model, all_questions) if out.suffix == ".json" else None
    try:
        tasks, skipped = read_inputs(inputs, model.codebook)
    except ValueError as err:
        raise fail(str(err)) from None
    for line in skipped:
        console.print(f"skipped {line}", highlight=False, markup=False)
    if not tasks:
        raise fail("no passages to score: every input was skipped")
    try:
        table = write_suggestions(model, tasks, out, plan.questions if plan else (), rank=rank)
    except ValueError as err:
        raise fail(str(err)) from None
    what = "suggestions" if plan is None or plan.questions else "no suggestions (no question is pre-filled)"
    console.print(
        f"Wrote {what} for {len(table)} passages to {out} (model {model.version}; "
        f"mean confidence {table['score'].mean():.2f})",
        highlight=False,
    )


@studio_app.command("suggest")
def studio_suggest(
    model_path: ModelArg,
    project: Project,
    url: Url = None,
    api_key: ApiKey = None,
    all_questions: AllQuestions = False,
) -> None:
    """Put the model's suggestions on the unlabeled tasks of the project and its copies, pre-filled when opened.

    Only the questions on which the model beat the baselines are suggested, unless --all-questions.
    """
    from annotation.studio import put_predictions
    from models.suggest import studio_predictor

    model = open_model(model_path)
    plan = prefill_plan_of(model, all_questions)
    if not plan.questions:
        raise fail("nothing to suggest: the model beat the baselines on no question (--all-questions overrides)")
    client = studio_client(url, api_key)
    predict = studio_predictor(model, plan.questions)
    run_studio(
        "suggesting",
        lambda advance: put_predictions(client, project, predict, model.version, model.codebook.name, advance).lines(),
    )


@app.command("score")
def score(
    model_path: ModelArg,
    source: Annotated[
        Path,
        typer.Argument(help="A JSONL, CSV or Parquet file, or a folder of Parquet files; one article per row."),
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="The Parquet dataset (a folder) to write.")],
    chunk_rows: Annotated[int, typer.Option(help="Rows scored and written together.")] = 2000,
    engine: Annotated[str, typer.Option(help="local, or dask (needs framestance[dask]).")] = "local",
    scheduler: Annotated[
        str | None, typer.Option(help="A Dask scheduler's address; without one, a local cluster is started.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Workers of the local Dask cluster (default: one per core).")
    ] = None,
) -> None:
    """Score a whole archive into a Parquet dataset of suggestion tables, chunk by chunk; rerun to resume."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TimeRemainingColumn
    from rich.text import Text

    from models.archive import ArchiveError, count_rows, score_archive

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            return Text(f"{task.speed or 0:,.0f} rows/s", style="progress.data.speed")

    model = open_model(model_path)
    try:
        total = count_rows(source)
        with Progress(
            "scoring", BarColumn(), MofNCompleteColumn(), Rate(), TimeRemainingColumn(), console=console, transient=True
        ) as bar:
            job = bar.add_task("scoring", total=total)
            run = score_archive(
                model, source, out, chunk_rows, engine, scheduler, workers, lambda n: bar.advance(job, n)
            )
    except (ArchiveError, ImportError, OSError) as err:
        raise fail(str(err)) from None
    for line in run.lines():
        console.print(line, highlight=False, markup=False)


@app.command("serve")
def serve(
    model_path: ModelArg,
    port: Annotated[int, typer.Option(help="The port to listen on.")] = 9090,
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    url: Url = None,
    api_key: ApiKey = None,
    work: Annotated[Path | None, typer.Option(help="Where retrained models go (default: a temporary folder).")] = None,
    all_questions: AllQuestions = False,
    auth: Annotated[
        str | None,
        typer.Option(
            "--auth",
            envvar="FRAMESTANCE_BACKEND_AUTH",
            help="USER:PASS that callers must send as HTTP Basic auth, on every route but GET /health. Never printed.",
            show_default=False,
        ),
    ] = None,
    insecure: Annotated[
        bool, typer.Option("--insecure/--secure", help="Listen on an address other than loopback without --auth.")
    ] = False,
    read_timeout: Annotated[
        float,
        typer.Option(
            help="Seconds a request's headers, and then its body, may take to arrive: a connection whose headers are "
            "late is closed, a late body gets 408.",
            min=0.1,
        ),
    ] = 10.0,
) -> None:
    """Serve the model to Label Studio as an ML backend: suggestions when a task opens, retraining as labels come.

    Retraining reads the labels from the server given with --url and --api-key (or LABEL_STUDIO_URL and
    LABEL_STUDIO_API_KEY); without them, from the server each project's setup call names, with the key sent in
    that call. Each model (the starting one and each retrained one) pre-fills only the questions on which it beat
    the baselines, unless --all-questions.
    """
    import os
    import tempfile

    import uvicorn

    from annotation.studio import StudioError, backend_credentials, is_loopback
    from models.backend import Backend, create_app
    from models.http_deadline import protocol_with_header_deadline

    url, api_key = url or os.environ.get("LABEL_STUDIO_URL"), api_key or os.environ.get("LABEL_STUDIO_API_KEY")
    if api_key and not url:
        raise fail("the API key is only ever sent to the server given with it: add --url (or LABEL_STUDIO_URL)")
    try:
        credentials = backend_credentials(auth)
    except StudioError as err:
        raise fail(f"--auth (or FRAMESTANCE_BACKEND_AUTH): {err}") from None
    if credentials is None and not insecure and not is_loopback(host):
        raise fail(
            f"{host} is not a loopback address: anyone who reaches it could retrain the model. "
            "Give --auth USER:PASS (or FRAMESTANCE_BACKEND_AUTH), or --insecure"
        )
    model = open_model(model_path)
    prefill_plan_of(model, all_questions)
    folder = work or Path(tempfile.mkdtemp(prefix="framestance-serve-"))
    backend = Backend(model, folder, url, api_key, all_questions=all_questions)
    guarded = "HTTP Basic auth required" if credentials else "no auth"
    console.print(
        f"Serving {model.version} on http://{host}:{port} ({guarded}; retrained models go to {folder})",
        highlight=False,
    )
    app = create_app(backend, credentials, read_timeout)
    protocol = protocol_with_header_deadline(read_timeout)
    uvicorn.run(app, host=host, port=port, log_level="warning", http=protocol)


def main() -> None:
    """Entry point of the `framestance` console script."""
    app()
