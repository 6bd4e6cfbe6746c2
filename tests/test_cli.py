"""The `framestance` command as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from annotation.codebook import load_codebook
from annotation.tasks import DATA_KEYS

FRAMESTANCE = str(Path(sys.executable).parent / "framestance")


def run(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([FRAMESTANCE, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout)


@pytest.mark.parametrize(
    "command",
    [[], ["demo"], ["config"], ["instructions"], ["tasks"], ["codebook"], ["codebook", "new"], ["codebook", "check"]],
)
def test_every_command_has_help(command):
    done = run(*command, "--help")
    assert done.returncode == 0, done.stderr
    assert "Usage: framestance" in done.stdout


def test_codebook_new_then_config_then_check(tmp_path):
    book = tmp_path / "study" / "codebook.yaml"
    assert run("codebook", "new", str(book)).returncode == 0
    assert load_codebook(book).name == "my_study"
    again = run("codebook", "new", str(book))
    assert again.returncode == 2 and "exists; pass --force" in again.stderr
    out = tmp_path / "config" / "label_config.xml"
    done = run("config", str(book), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").startswith("<View>")
    check = run("codebook", "check", str(book))
    assert "my_study@0.1 is valid" in check.stderr and "stance_the_government" in check.stderr
    html = tmp_path / "instructions.html"
    assert run("instructions", str(book), "--out", str(html)).returncode == 0
    assert "The government" in html.read_text(encoding="utf-8")


def test_a_bad_codebook_gets_one_clear_message(tmp_path):
    book = tmp_path / "bad.yaml"
    book.write_text("name: x\nversion: '1'\ntargets:\n  - id: U.S.\n", encoding="utf-8")
    done = run("config", str(book), "-o", str(tmp_path / "c.xml"))
    assert done.returncode == 2
    assert f"{book}: targets[0].id: 'U.S.' is not a valid id" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr and not (tmp_path / "c.xml").exists()


@pytest.mark.shared
def test_tasks_from_the_two_sample_articles(shared, tmp_path):
    articles = sorted((shared / "articles").glob("*.txt"))
    book = Path(__file__).resolve().parents[1] / "annotation" / "codebooks" / "soleimani_2020.yaml"
    out = tmp_path / "tasks.json"
    done = run("tasks", *map(str, articles), "--codebook", str(book), "-o", str(out))
    assert done.returncode == 0, done.stderr
    tasks = json.loads(out.read_text(encoding="utf-8"))
    by_article: dict[str, list[dict]] = {}
    for task in tasks:
        assert list(task["data"]) == [*DATA_KEYS, "codebook"]
        by_article.setdefault(task["data"]["article_id"], []).append(task["data"])
    assert sorted(by_article) == [a.stem for a in articles]
    assert [len(v) for _, v in sorted(by_article.items())] == [12, 11]
    assert "2 articles → 23 passages" in done.stderr
    first = by_article[articles[0].stem]
    assert first[0]["title"].startswith("After Soleimani")
    assert first[0]["text"].startswith("Anyone who believes")
    assert first[-1]["text"].startswith("The unwanted assassination")
    assert all(t["data"]["codebook"] == "soleimani_2020@1.1" for t in tasks)


def test_tasks_reports_what_it_skipped(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text(
        "Menu\n\nThe council voted on Tuesday to close the branch libraries an hour earlier. Residents "
        "who use the reading rooms said they had not been consulted about the change at all.\n",
        encoding="utf-8",
    )
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    done = run("tasks", str(good), str(empty), "-o", str(tmp_path / "t.json"))
    assert done.returncode == 0
    assert "1 articles → 1 passages" in done.stderr
    assert f"{empty}: empty file" in done.stderr
    nothing = run("tasks", str(empty), "-o", str(tmp_path / "none.json"))
    assert nothing.returncode == 2 and "every input was skipped" in nothing.stderr
    assert not (tmp_path / "none.json").exists()


def test_convert_agreement_and_gold_from_the_command_line(tmp_path):
    from annotation.sample import sample_file

    book = Path(__file__).resolve().parents[1] / "annotation" / "codebooks" / "soleimani_2020.yaml"
    tables = tmp_path / "tables"
    done = run("convert", str(sample_file("export.json")), "--codebook", str(book), "-o", str(tables))
    assert done.returncode == 0, done.stderr
    assert "read 882 annotations = 875 kept + 7 skipped (7 cancelled)" in done.stderr
    assert (tables / "annotations.parquet").exists() and (tables / "questions.json").exists()
    csv_out = tmp_path / "csv"
    assert run("convert", str(sample_file("export.json")), "--format", "csv", "-o", str(csv_out)).returncode == 0
    assert (csv_out / "annotations.csv").read_text(encoding="utf-8").startswith("export,task_id,passage_id")

    figures = tmp_path / "agreement.csv"
    done = run("agreement", str(tables), "-o", str(figures), "--plot", str(tmp_path / "agreement.png"))
    assert done.returncode == 0, done.stderr
    assert "stance_us_government" in done.stderr and (tmp_path / "agreement.png").stat().st_size > 10_000
    assert figures.read_text(encoding="utf-8").startswith("question,kind,items")

    gold = tmp_path / "gold.parquet"
    review = tmp_path / "review.json"
    done = run("gold", str(tables), "-o", str(gold), "--review-tasks", str(review))
    assert done.returncode == 0, done.stderr
    assert "Wrote 321 gold rows" in done.stderr
    assert json.loads(review.read_text(encoding="utf-8"))[0]["predictions"]


def test_convert_reports_bad_exports_without_a_traceback(tmp_path):
    bad = tmp_path / "cut.json"
    bad.write_text('[{"id": 1, "data": {"text": "a"}, "annotations": [', encoding="utf-8")
    done = run("convert", str(bad), "-o", str(tmp_path / "out"))
    assert done.returncode == 2
    assert f"{bad}, record 1: the file ends inside a record (truncated?)" in done.stderr
    assert "Traceback" not in done.stderr
    other = tmp_path / "scores.csv"
    other.write_text("name,score\nada,3\n", encoding="utf-8")
    done = run("agreement", str(other))
    assert done.returncode == 2 and "not a Label Studio export" in done.stderr


def test_strict_conversion_fails_on_a_label_outside_the_codebook(tmp_path):
    from annotation.sample import sample_file

    export = json.loads(sample_file("export.json").read_text(encoding="utf-8"))
    export[0]["annotations"][0]["result"][0]["value"]["choices"] = ["enthusiastic"]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    book = Path(__file__).resolve().parents[1] / "annotation" / "codebooks" / "soleimani_2020.yaml"
    lenient = run("convert", str(path), "--codebook", str(book), "-o", str(tmp_path / "a"))
    assert lenient.returncode == 0 and "label 'enthusiastic' is not in the codebook" in lenient.stderr
    assert "1 failed check" in lenient.stderr
    strict = run("convert", str(path), "--codebook", str(book), "--strict", "-o", str(tmp_path / "b"))
    assert strict.returncode == 2 and "failed the codebook checks" in strict.stderr
    assert not (tmp_path / "b").exists()


def test_train_then_evaluate_from_the_command_line(tmp_path):
    from annotation.sample import sample_file

    book = Path(__file__).resolve().parents[1] / "annotation" / "codebooks" / "soleimani_2020.yaml"
    model = tmp_path / "model.skops"
    done = run(
        "train",
        str(sample_file("export.json")),
        "-c",
        str(book),
        "-o",
        str(model),
        "--report",
        str(tmp_path / "r.md"),
        timeout=600,  # training with baselines and calibration: about 70 s alone, more on a busy machine
    )
    assert done.returncode == 0, done.stderr
    assert "stance_us_government" in done.stderr and "human α" in done.stderr
    assert "## stance_us_government" in (tmp_path / "r.md").read_text(encoding="utf-8")
    assert any((tmp_path / "r").glob("*.png"))
    held = tmp_path / "held.md"
    done = run("evaluate", str(model), str(sample_file("export.json")), "-c", str(book), "--report", str(held))
    assert done.returncode == 0, done.stderr
    assert "frames" in done.stderr and held.exists()
    other = tmp_path / "other.yaml"
    other.write_text(book.read_text(encoding="utf-8").replace('version: "1.1"', 'version: "2.0"'), encoding="utf-8")
    refused = run("evaluate", str(model), str(sample_file("export.json")), "-c", str(other))
    assert (
        refused.returncode == 2 and "trained for codebook soleimani_2020@1.1, not soleimani_2020@2.0" in refused.stderr
    )


def every_command() -> list[list[str]]:
    """Every command and group of `framestance`, as the words that name it."""
    import typer.main

    from models.cli import app

    def walk(command, words: list[str]):
        yield words
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, [*words, name])

    return list(walk(typer.main.get_command(app), []))


def test_help_shows_flags_as_flags():
    commands = every_command()
    assert ["suggest"] in commands and ["studio", "push"] in commands and len(commands) > 18
    for words in commands:
        done = run(*words, "--help")
        assert done.returncode == 0, (words, done.stderr)
        assert "<bool>" not in done.stdout and "BOOLEAN" not in done.stdout, (words, done.stdout)
    suggest = run("suggest", "--help").stdout
    assert "\n  --rank / --no-rank " in suggest and "\n  --all-questions / --earned-only" in suggest


def test_a_switch_can_be_turned_off(tmp_path, sample_model_file):
    """`--no-rank` is accepted and writes the suggestions in task order; `--rank` orders them for labelling."""
    article = tmp_path / "a.txt"
    article.write_text(
        "A title\n\nThe strike killed the general, whom officials called a terrorist.\n\n"
        "Tehran vowed revenge and mourners filled the streets.\n\nLawmakers asked whether the strike was legal.\n",
        encoding="utf-8",
    )
    orders = {}
    for flag in ("--rank", "--no-rank"):
        out = tmp_path / f"{flag}.json"
        done = run("suggest", str(sample_model_file), str(article), "-o", str(out), flag)
        assert done.returncode == 0, done.stderr
        orders[flag] = [task["data"]["passage_id"] for task in json.loads(out.read_text())]
    assert sorted(orders["--rank"]) == sorted(orders["--no-rank"]) == orders["--no-rank"]


def test_a_missing_input_among_several_is_an_error_after_the_rest_is_written(tmp_path):
    from annotation.sample import sample_file

    good = tmp_path / "good.txt"
    good.write_text(
        "The council voted on Tuesday to close the branch libraries an hour earlier. Residents who use the "
        "reading rooms said they had not been consulted about the change at all.\n",
        encoding="utf-8",
    )
    missing, folder = tmp_path / "missing.txt", tmp_path / "folder"
    folder.mkdir()
    done = run("tasks", str(good), str(missing), str(folder), "-o", str(tmp_path / "t.json"))
    assert done.returncode == 3, done.stderr
    assert f"error: {missing}: no such file" in done.stderr and f"error: {folder}: is a folder" in done.stderr
    assert len(json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))) == 1

    tables = tmp_path / "tables"
    done = run("convert", str(sample_file("export.json")), str(tmp_path / "export-2.json"), "-o", str(tables))
    assert done.returncode == 3 and "export-2.json: no such file" in done.stderr
    assert "read 882 annotations" in done.stderr and (tables / "annotations.parquet").exists()

    done = run("agreement", str(missing), str(tmp_path / "absent.json"), "-o", str(tmp_path / "a.csv"))
    assert done.returncode == 2 and "none of the inputs can be read" in done.stderr
    assert not (tmp_path / "a.csv").exists()
    done = run("convert", str(sample_file("export.json")), "--config", str(folder), "-o", str(tmp_path / "c"))
    assert done.returncode == 2 and f"{folder}: not a readable labeling config" in done.stderr


def test_gold_without_a_single_gold_row_says_why_and_fails(tmp_path):
    from annotation.sample import sample_file

    export = json.loads(sample_file("export.json").read_text(encoding="utf-8"))[:3]
    for task in export:
        for annotation in task["annotations"]:
            annotation["was_cancelled"] = True
    path = tmp_path / "cancelled.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    done = run("gold", str(path), "-o", str(tmp_path / "gold.parquet"))
    assert done.returncode == 2
    assert "no gold labels to write: every annotation read was skipped (9 cancelled" in done.stderr
    assert not (tmp_path / "gold.parquet").exists()
