"""The demo: the whole workflow on the bundled illustrative sample, every output in one folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from annotation.codebook import load_codebook, shipped_codebooks
from annotation.label_config import build_instructions, build_label_config
from annotation.sample import EXAMPLE_CODEBOOK, sample_file, sample_tasks
from annotation.tasks import write_tasks


def run_demo(out: Path) -> list[str]:
    """Run the demo into `out`; return the lines that say what was written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    codebook_path = shipped_codebooks()[EXAMPLE_CODEBOOK]
    codebook = load_codebook(codebook_path)
    shutil.copyfile(codebook_path, out / "codebook.yaml")
    (out / "label_config.xml").write_text(build_label_config(codebook), encoding="utf-8")
    (out / "instructions.html").write_text(build_instructions(codebook), encoding="utf-8")
    run = sample_tasks(codebook)
    if run.skipped:
        raise RuntimeError("the bundled sample has inputs that were skipped: " + "; ".join(map(str, run.skipped)))
    write_tasks(run.tasks, out / "tasks.json")
    export = out / "label-studio-export.json"
    shutil.copyfile(sample_file("export.json"), export)
    labels = _labels(export, codebook, out)
    learned = _model(export, codebook_path, codebook, out, run.tasks)
    sources = sorted({article.source for article in run.articles})
    return [
        f"Codebook {codebook.ref}: {len(codebook.targets)} targets, {len(codebook.frames)} frames",
        f"Sample: {len(run.articles)} articles from {len(sources)} outlets ({', '.join(sources)})",
        *run.summary(),
        *labels,
        *learned,
        f"Wrote to {out}/: codebook.yaml, label_config.xml, instructions.html, tasks.json, "
        "label-studio-export.json (the sample labeled by three annotators on a real Label Studio server), "
        "tables/, agreement.csv, agreement.png, gold.parquet, review.json, model.skops, model-report.md, "
        "suggestions.json (the sample's tasks with the model's suggestions, in the order of labelling), "
        "suggestions.parquet",
    ]


def _model(export: Path, codebook_path: Path, codebook, out: Path, tasks: list[dict]) -> list[str]:
    """Train on the sample's labels, then suggest labels for the sample's passages."""
    from annotation.convert import read_export
    from models.persistence import save_model
    from models.prefill import prefill_plan
    from models.report import format_evaluation, write_report
    from models.suggest import write_suggestions
    from models.training import train

    model, evaluation = train(read_export(export, codebook=codebook), codebook, codebook_path.read_text("utf-8"))
    save_model(model, out / "model.skops")
    write_report(evaluation, out / "model-report.md", model.card)
    plan = prefill_plan(model)
    write_suggestions(model, tasks, out / "suggestions.json", plan.questions, rank=True)
    table = write_suggestions(model, tasks, out / "suggestions.parquet", ())
    return [
        f"Model {model.version}, evaluated by cross-validation grouped by article:",
        format_evaluation(evaluation),
        "What suggestions pre-fill (only where the model beat the baselines):",
        *[f"  {line}" for line in plan.lines],
        f"Suggestions for {len(table)} passages (mean confidence {table['score'].mean():.2f})",
    ]


def _labels(export: Path, codebook, out: Path) -> list[str]:
    """Convert the sample export, measure agreement, settle gold labels and write the review tasks."""
    from annotation.agreement import agreement, format_agreement, plot_agreement
    from annotation.convert import read_export
    from annotation.csv_safe import write_csv
    from annotation.gold import gold_labels, review_tasks

    tables = read_export(export, codebook=codebook)
    tables.write(out / "tables")
    figures = agreement(tables, codebook)
    write_csv(figures, out / "agreement.csv")
    plot_agreement(figures, out / "agreement.png")
    gold = gold_labels(tables, codebook)
    gold.to_parquet(out / "gold.parquet", index=False)
    review = review_tasks(tables, gold, config=build_label_config(codebook))
    (out / "review.json").write_text(json.dumps(review, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return [
        tables.reconciliation(),
        format_agreement(figures),
        f"Gold labels for {len(gold)} passages; {len(review)} with unresolved questions go to review.json",
    ]


DEMO_PROJECT = "framestance demo"


def demo_model(folder: str | Path = "demo-output"):
    """The demo model from `folder/model.skops`, trained there on the sample's labels unless a usable one is
    there; and a line saying so when it was trained."""
    from models.persistence import ModelFileError, load_model

    codebook_path = shipped_codebooks()[EXAMPLE_CODEBOOK]
    codebook = load_codebook(codebook_path)
    folder = Path(folder)
    try:
        return load_model(folder / "model.skops", codebook), []
    except ModelFileError:
        _model(sample_file("export.json"), codebook_path, codebook, folder, sample_tasks(codebook).tasks)
        model = load_model(folder / "model.skops", codebook)
        return model, [f"Trained the demo model {model.version} on the sample's labels into {folder}"]


def demo_project(client, folder: Path) -> tuple[object, list[str]]:
    """The demo project on a Label Studio server: the sample's passages with the demo model's suggestions.

    The model is trained into `folder` unless a usable one is there. Returns the project and what was done.
    """
    from annotation.studio import find_projects, push, put_predictions
    from models.prefill import prefill_plan
    from models.suggest import studio_predictor

    model, lines = demo_model(folder)
    codebook = model.codebook
    pushed = push(client, codebook, sample_tasks(codebook).tasks, DEMO_PROJECT)
    plan = prefill_plan(model)
    predict = studio_predictor(model, plan.questions)
    suggested = put_predictions(client, DEMO_PROJECT, predict, model.version, codebook.name)
    (project,) = find_projects(client, DEMO_PROJECT)
    return project, [*lines, *pushed.lines(), *plan.lines, *suggested.lines()]
