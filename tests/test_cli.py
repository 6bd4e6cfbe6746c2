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


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([FRAMESTANCE, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


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
    assert all(t["data"]["codebook"] == "soleimani_2020@1.0" for t in tasks)


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
