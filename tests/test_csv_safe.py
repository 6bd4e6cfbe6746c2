"""Every CSV the project writes escapes text a spreadsheet would run as a formula; Parquet keeps it exact."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import export_factory as ls
import pandas as pd
import pytest

from annotation.convert import read_export
from annotation.csv_safe import FORMULA_STARTS, escape_cell, write_csv
from annotation.tables import read_tables

ROOT = Path(__file__).resolve().parents[1]
FRAMESTANCE = str(Path(sys.executable).parent / "framestance")
TEXT = '=HYPERLINK("http://example.com/x","click") is what the passage says'
NOTE = "+cmd|' /C calc'!A0"
PASSAGE = "@SUM(1+1)*cmd|' /C calc'!A0"
ARTICLE = "-2+3+cmd|' /C calc'!A0"
EMAIL = "=1+1@example.com"
SPAN = "\tthe strike"
CONTROL = "=1+1"


def hostile_export(path: Path) -> Path:
    """Two annotators' answers to one passage whose every text field starts like a formula."""
    data = {"text": TEXT, "passage_id": PASSAGE, "article_id": ARTICLE}
    results = []
    for user, stance in ((1, "-favor"), (2, "-favor")):
        result = [ls.choices(CONTROL, [stance]), ls.textarea("note", NOTE)]
        result.append(
            {
                **ls.span("cues", TEXT, 0, 10, "\rloaded"),
                "value": {"start": 0, "end": 10, "text": SPAN, "labels": ["\rloaded"]},
            }
        )
        annotation = ls.annotation(user, user, result)
        annotation["completed_by"] = {"id": user, "email": EMAIL}
        annotation["lead_time"] = -2.5
        results.append(annotation)
    return ls.write_export(path, [ls.task(1, data, results)])


def cells(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream))


def assert_nothing_runs(path: Path) -> None:
    """No cell (header included) of the CSV at `path` starts like a formula, unless it is a plain number."""
    for row in cells(path):
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS) or re.fullmatch(r"[+-][\d.eE+-]+", cell), (path.name, cell)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("a=1", "a=1"),
        ("", ""),
        ("-3", "-3"),
        ("+0.5", "+0.5"),
        ("-1e-5", "-1e-5"),
        (-3, -3),
        (2.5, 2.5),
        (None, None),
    ],
)
def test_escape_cell_follows_owasp(value, written):
    assert escape_cell(value) == written


def test_converted_tables_escape_csv_and_keep_parquet_exact(tmp_path):
    tables = read_export(hostile_export(tmp_path / "export.json"))
    assert len(tables.annotations) == 2 and tables.problems == []
    tables.write(tmp_path / "csv", "csv")
    tables.write(tmp_path / "parquet")
    for name in ("annotations", "spans", "skipped", "tasks", "predictions"):
        assert_nothing_runs(tmp_path / "csv" / f"{name}.csv")
    annotations = pd.read_csv(tmp_path / "csv" / "annotations.csv", dtype=str, keep_default_na=False)
    row = annotations.iloc[0]
    assert (row["passage_id"], row["article_id"], row["note"]) == ("'" + PASSAGE, "'" + ARTICLE, "'" + NOTE)
    assert (row["annotator_email"], row[f"'{CONTROL}"], row["lead_time"]) == ("'" + EMAIL, "'-favor", "-2.5")
    tasks = pd.read_csv(tmp_path / "csv" / "tasks.csv", dtype=str, keep_default_na=False)
    assert tasks.loc[0, "text"] == "'" + TEXT
    spans = cells(tmp_path / "csv" / "spans.csv")
    assert len(spans) == 3 and "'" + SPAN in spans[1] and "'\rloaded" in spans[1]  # a CR cannot cut a row

    back = read_tables(tmp_path / "parquet")
    row = back.annotations.iloc[0]
    assert (row["passage_id"], row["article_id"], row["note"], row[CONTROL]) == (PASSAGE, ARTICLE, NOTE, "-favor")
    assert row["annotator_email"] == EMAIL and row["lead_time"] == -2.5
    assert back.tasks.loc[0, "text"] == TEXT
    assert (back.spans.loc[0, "text"], back.spans.loc[0, "label"]) == (SPAN, "\rloaded")


def test_the_commands_write_safe_csv(tmp_path):
    """`convert --format csv` and `agreement -o x.csv`, run as a user runs them."""
    export = hostile_export(tmp_path / "export.json")
    done = subprocess.run(
        [FRAMESTANCE, "convert", str(export), "--format", "csv", "-o", str(tmp_path / "tables")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert_nothing_runs(tmp_path / "tables" / "annotations.csv")
    assert_nothing_runs(tmp_path / "tables" / "tasks.csv")
    out = tmp_path / "agreement.csv"
    done = subprocess.run(
        [FRAMESTANCE, "agreement", str(export), "-o", str(out)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert [row[0] for row in cells(out)[1:]][:1] == ["'" + CONTROL]
    assert_nothing_runs(out)


def test_suggestion_tables_escape_csv_and_keep_parquet_exact(sample_model, tmp_path):
    from annotation.sample import sample_tasks
    from models.suggest import write_suggestions

    tasks = sample_tasks(sample_model.codebook).tasks[:2]
    tasks = [{**t, "data": {**t["data"], "title": "=cmd|' /C calc'!A0", "passage_id": "@x:00"}} for t in tasks]
    write_suggestions(sample_model, tasks, tmp_path / "s.csv", questions=[])
    write_suggestions(sample_model, tasks, tmp_path / "s.parquet", questions=[])
    assert_nothing_runs(tmp_path / "s.csv")
    table = pd.read_csv(tmp_path / "s.csv", dtype=str)
    assert set(table["title"]) == {"'=cmd|' /C calc'!A0"} and set(table["passage_id"]) == {"'@x:00"}
    exact = pd.read_parquet(tmp_path / "s.parquet")
    assert set(exact["title"]) == {"=cmd|' /C calc'!A0"} and set(exact["passage_id"]) == {"@x:00"}


def test_every_csv_writer_goes_through_write_csv():
    """`DataFrame.to_csv` appears only in `annotation/csv_safe.py`, in the package and in the notebooks."""
    offenders = []
    for folder in ("annotation", "models", "notebooks", "scripts"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".ipynb") and path.name != "csv_safe.py":
                text = path.read_text(encoding="utf-8")
                if path.suffix == ".ipynb":
                    text = "".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
                if ".to_csv(" in text or "csv.writer(" in text or "DictWriter(" in text:
                    offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_write_csv_keeps_numbers_and_lists(tmp_path):
    frame = pd.DataFrame(
        {
            "n": pd.array([-1, 2], dtype="Int64"),
            "x": [-0.5, float("nan")],
            "s": pd.array(["-1", "=A1"], dtype="string"),
            "c": pd.Categorical(["=b", "a"]),
            "l": [["=x"], None],
        }
    )
    write_csv(frame, tmp_path / "f.csv")
    assert (tmp_path / "f.csv").read_bytes().startswith(b"n,x,s,c,l\r\n")
    assert cells(tmp_path / "f.csv") == [
        ["n", "x", "s", "c", "l"],
        ["-1", "-0.5", "-1", "'=b", "['=x']"],
        ["2", "", "'=A1", "a", ""],
    ]
