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
    sources = sorted({article.source for article in run.articles})
    return [
        f"Codebook {codebook.ref}: {len(codebook.targets)} targets, {len(codebook.frames)} frames",
        f"Sample: {len(run.articles)} articles from {len(sources)} outlets ({', '.join(sources)})",
        *run.summary(),
        *labels,
        f"Wrote to {out}/: codebook.yaml, label_config.xml, instructions.html, tasks.json, "
        "label-studio-export.json (the sample labeled by three annotators on a real Label Studio server), "
        "tables/, agreement.csv, agreement.png, gold.parquet, review.json",
    ]


def _labels(export: Path, codebook, out: Path) -> list[str]:
    """Convert the sample export, measure agreement, settle gold labels and write the review tasks."""
    from annotation.agreement import agreement, format_agreement, plot_agreement
    from annotation.convert import read_export
    from annotation.gold import gold_labels, review_tasks

    tables = read_export(export, codebook=codebook)
    tables.write(out / "tables")
    figures = agreement(tables, codebook)
    figures.to_csv(out / "agreement.csv", index=False)
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
