"""The notebooks run top to bottom on the bundled sample (and on the two shared articles), and are stored
without outputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import pytest

from tests.conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"
BOOKS = ("score_new_articles.ipynb", "compare_sources.ipynb")


def run(name: str, tmp_path: Path, **parameters) -> nbformat.NotebookNode:
    """Execute a notebook with these parameters in a fresh kernel; papermill raises on any cell's error."""
    return papermill.execute_notebook(
        NOTEBOOKS / name,
        tmp_path / f"executed-{name}",
        parameters=parameters,
        cwd=str(NOTEBOOKS),
        kernel_name="python3",
        progress_bar=False,
    )


@pytest.fixture
def demo_folder(tmp_path, sample_model_file) -> Path:
    folder = tmp_path / "demo"
    folder.mkdir()
    shutil.copyfile(sample_model_file, folder / "model.skops")
    return folder


def printed(book: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for cell in book.cells for o in cell.get("outputs", []))


@pytest.mark.parametrize("name", BOOKS)
def test_notebooks_are_stored_without_outputs_and_take_parameters_first(name):
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(book)
    code = [cell for cell in book.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code), f"{name} has outputs"
    assert code[0].metadata.get("tags") == ["parameters"]
    assert "articles = None" in code[0].source and "model_path = None" in code[0].source


def test_score_new_articles_on_the_sample(tmp_path, demo_folder):
    out = tmp_path / "scored"
    book = run("score_new_articles.ipynb", tmp_path, demo_folder=str(demo_folder), out=str(out), strips=2)
    assert "35 articles, 321 passages" in printed(book)
    passages = pd.read_parquet(out / "passages.parquet")
    assert len(passages) == 321 and passages["text"].str.len().min() > 0
    shares = pd.read_csv(out / "articles.csv")
    stance = shares[shares.question == "stance_us_government"].groupby("article_id")["share"].sum()
    assert len(stance) == 35 and stance.to_numpy() == pytest.approx([1.0] * 35)
    assert {p.name for p in out.glob("*.png")} == {
        "stance.png",
        "frames.png",
        "strip-ledger-01.png",
        "strip-ledger-02.png",
    }
    images = [o for cell in book.cells for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 4
    quotes = [
        o["data"]["text/markdown"]
        for c in book.cells
        for o in c.get("outputs", [])
        if "text/markdown" in o.get("data", {})
    ]
    assert quotes and "toward us_government" in quotes[0]


def test_score_new_articles_trains_the_demo_model_when_missing(tmp_path):
    folder = tmp_path / "demo"
    book = run(
        "score_new_articles.ipynb",
        tmp_path,
        demo_folder=str(folder),
        out=str(tmp_path / "out"),
        articles=str(ROOT / "annotation" / "sample" / "articles.jsonl"),
        strips=0,
    )
    assert "Trained the demo model" in printed(book)
    assert (folder / "model.skops").is_file()


def test_compare_sources_on_the_sample(tmp_path, demo_folder):
    out = tmp_path / "compared"
    chosen = ["The Harbor Ledger", "Restraint Review"]
    book = run("compare_sources.ipynb", tmp_path, demo_folder=str(demo_folder), out=str(out), sources=chosen)
    assert "- Restraint Review\n- The Harbor Ledger" in printed(book)
    scores = pd.read_csv(out / "log_odds.csv")
    assert list(dict.fromkeys(scores["group"])) == chosen
    shares = pd.read_csv(out / "sources.csv")
    assert set(shares["group"]) == set(chosen)
    assert {p.name for p in out.glob("*.png")} == {"stance.png", "frames.png", "log_odds.png"}
    quoted = [
        o["data"]["text/markdown"]
        for c in book.cells
        for o in c.get("outputs", [])
        if "text/markdown" in o.get("data", {})
    ]
    assert len(quoted) == 2 and all("**" in text for text in quoted)


@pytest.mark.shared
def test_both_notebooks_on_the_two_shared_articles(tmp_path, demo_folder, shared):
    articles = shared / "articles"
    run(
        "score_new_articles.ipynb",
        tmp_path,
        demo_folder=str(demo_folder),
        out=str(tmp_path / "s"),
        articles=str(articles),
    )
    shares = pd.read_csv(tmp_path / "s" / "articles.csv")
    assert sorted(shares["article_id"].unique()) == sorted(p.stem for p in articles.glob("*.txt"))
    book = run(
        "compare_sources.ipynb", tmp_path, demo_folder=str(demo_folder), out=str(tmp_path / "c"), articles=str(articles)
    )
    # The pages name no outlet, so each article stands for itself by its title.
    assert "After Soleimani’s Assassination" in printed(book)
    assert "Strategic Blow and Deadly Impasse of the Iranian Regime" in printed(book)
    scores = pd.read_csv(tmp_path / "c" / "log_odds.csv")
    assert scores["group"].nunique() == 2
