"""The demo: the whole workflow on the bundled illustrative sample, every output in one folder."""

from __future__ import annotations

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
    shutil.copyfile(sample_file("export.json"), out / "label-studio-export.json")
    sources = sorted({article.source for article in run.articles})
    return [
        f"Codebook {codebook.ref}: {len(codebook.targets)} targets, {len(codebook.frames)} frames",
        f"Sample: {len(run.articles)} articles from {len(sources)} outlets ({', '.join(sources)})",
        *run.summary(),
        f"Wrote to {out}/: codebook.yaml, label_config.xml, instructions.html, tasks.json, "
        "label-studio-export.json (the sample labeled by three annotators on a real Label Studio server)",
    ]
