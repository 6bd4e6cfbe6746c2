"""Malformed exports (issue 14): a bad record costs that record, never the file; nothing is lost silently.

Each case corrupts one record of a small export that is otherwise good, and checks that the record becomes one
`skipped` row naming what is wrong, that everything else converts, that the tables write as Parquet and CSV, and
that agreement and gold labels run on them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import export_factory as ls
import pandas as pd
import pytest

from annotation.agreement import agreement
from annotation.codebook import load_codebook, shipped_codebooks
from annotation.convert import read_export
from annotation.gold import gold_labels
from annotation.tables import read_tables

CODEBOOK = load_codebook(shipped_codebooks()["soleimani_2020"])
FRAMESTANCE = str(Path(sys.executable).parent / "framestance")
TEXT = "Officials called the strike an assassination and a crime."
DEEP = 5000


def good_tasks() -> list[dict]:
    """Three passages, each labeled by two annotators (annotation ids 11, 12, 21, 22, 31, 32), each with a
    prediction."""
    tasks = []
    for number in (1, 2, 3):
        data = {"text": TEXT, "passage_id": f"x:{number:02d}", "article_id": "x"}
        annotations = []
        for user in (1, 2):
            result = [
                ls.choices("stance_us_government", ["against"]),
                ls.choices("frames", ["legality", "political"]),
                ls.span("cues", TEXT, 21, 26, "loaded_language"),
                ls.rating("confidence", 4),
                ls.textarea("note", "a note"),
            ]
            annotations.append(ls.annotation(10 * number + user, user, result))
        prediction = ls.prediction(number, [ls.choices("stance_us_government", ["favor"])])
        tasks.append(ls.task(number, data, annotations, predictions=[prediction]))
    return tasks


def first_result(tasks: list[dict], control: str = "stance_us_government") -> dict:
    """Task 2's first annotation's result for `control`."""
    return next(item for item in tasks[1]["annotations"][0]["result"] if item["from_name"] == control)


def span_value(tasks: list[dict]) -> dict:
    return first_result(tasks, "cues")["value"]


# (case, how task 2 or its first annotation (21) is corrupted, words of the reason, skipped task id, annotation id)
ANNOTATION_CASES = [
    ("annotation is 42", lambda t: t[1]["annotations"].append(42), "the annotation is the number 42", 2, None),
    ("value is text", lambda t: first_result(t).update(value="against"), "value is the text 'against'", 2, 21),
    ("value is a list", lambda t: first_result(t).update(value=["against"]), "value is a list", 2, 21),
    ("labels null", lambda t: span_value(t).update(labels=None), "cues: labels is null", 2, 21),
    ("choices null", lambda t: first_result(t)["value"].update(choices=None), "choices is null", 2, 21),
    ("choices is text", lambda t: first_result(t)["value"].update(choices="favor"), "choices is the text", 2, 21),
    (
        "annotation id abc",
        lambda t: t[1]["annotations"][0].update(id="abc"),
        "annotation id is the text 'abc'",
        2,
        None,
    ),
    ("annotation id 10^30", lambda t: t[1]["annotations"][0].update(id=10**30), "too large", 2, None),
    ("lead_time slow", lambda t: t[1]["annotations"][0].update(lead_time="slow"), "lead_time is the text", 2, 21),
    (
        "rating five",
        lambda t: first_result(t, "confidence")["value"].update(rating="five"),
        "rating is the text",
        2,
        21,
    ),
    ("span start > end", lambda t: span_value(t).update(start=26, end=21), "26–21 ends before it starts", 2, 21),
    ("span negative start", lambda t: span_value(t).update(start=-4), "starts at -4, before the text", 2, 21),
    ("span past the text", lambda t: span_value(t).update(end=500), "runs past the end of the text (57", 2, 21),
    ("span offset 10^20", lambda t: span_value(t).update(end=10**20), "too large", 2, 21),
    ("span start is text", lambda t: span_value(t).update(start="21"), None, None, None),  # digits: a number
]
TASK_CASES = [
    ("annotations is text", lambda t: t[1].update(annotations="x"), "annotations is the text 'x'", 2),
    ("data is text", lambda t: t[1].update(data="hello"), "data is the text 'hello'", 2),
    ("task id 10^40", lambda t: t[1].update(id=10**40), "task id is the number", None),
    ("task id missing", lambda t: t[1].pop("id"), "the task id is missing", None),
    ("passage_id object", lambda t: t[1]["data"].update(passage_id={"a": 1}), "passage_id is an object", 2),
    ("text is a number", lambda t: t[1]["data"].update(text=12345), "text is the number 12345", 2),
    ("article_id list", lambda t: t[1]["data"].update(article_id=[1]), "article_id is a list", 2),
    ("task is a list", lambda t: t.__setitem__(1, [1, 2]), "the record is a list", None),
    ("task is null", lambda t: t.__setitem__(1, None), "the record is null", None),
]


def convert_and_write(paths, tmp_path: Path, **schema):
    """Convert, then write the tables both ways and read the Parquet back; agreement and gold must run."""
    tables = read_export(paths, **schema)
    assert tables.read == len(tables.annotations) + len(tables.skipped)
    tables.write(tmp_path / "parquet")
    tables.write(tmp_path / "csv", "csv")
    back = read_tables(tmp_path / "parquet")
    assert len(back.annotations) == len(tables.annotations) and len(back.skipped) == len(tables.skipped)
    book = schema.get("codebook")
    agreement(tables, book)
    gold_labels(tables, book)
    return tables


@pytest.mark.parametrize("schema", ["codebook", "none"])
@pytest.mark.parametrize(
    ("mutate", "words", "task_id", "annotation_id"),
    [case[1:] for case in ANNOTATION_CASES],
    ids=[case[0] for case in ANNOTATION_CASES],
)
def test_a_malformed_annotation_costs_that_annotation(tmp_path, schema, mutate, words, task_id, annotation_id):
    tasks = good_tasks()
    mutate(tasks)
    path = ls.write_export(tmp_path / "bad.json", tasks)
    tables = convert_and_write(path, tmp_path, **({"codebook": CODEBOOK} if schema == "codebook" else {}))
    if words is None:  # not malformed after all
        assert len(tables.annotations) == 6 and tables.skipped.empty and tables.problems == []
        return
    lost = [] if "42" in words else [21]  # the 42 is an extra annotation
    assert sorted(tables.annotations["annotation_id"]) == [i for i in (11, 12, 21, 22, 31, 32) if i not in lost]
    (skipped,) = tables.skipped.to_dict("records")
    assert skipped["reason"].startswith("malformed: ") and words in skipped["reason"], skipped["reason"]
    assert (skipped["export"], skipped["task_id"]) == ("bad.json", task_id)
    assert (None if skipped["annotation_id"] is pd.NA else skipped["annotation_id"]) == annotation_id
    (problem,) = tables.problems
    assert problem.startswith("bad.json: task 2") and words in problem
    assert len(tables.predictions) == 3


@pytest.mark.parametrize(
    ("mutate", "words", "task_id"), [case[1:] for case in TASK_CASES], ids=[case[0] for case in TASK_CASES]
)
def test_a_malformed_task_costs_that_task(tmp_path, mutate, words, task_id):
    tasks = good_tasks()
    mutate(tasks)
    path = ls.write_export(tmp_path / "bad.json", tasks)
    tables = convert_and_write(path, tmp_path, codebook=CODEBOOK)
    assert sorted(tables.annotations["annotation_id"]) == [11, 12, 31, 32]
    assert sorted(tables.tasks["task_id"]) == [1, 3] and sorted(tables.predictions["task_id"]) == [1, 3]
    (skipped,) = tables.skipped.to_dict("records")
    assert skipped["reason"].startswith("malformed: ") and words in skipped["reason"], skipped["reason"]
    assert (None if skipped["task_id"] is pd.NA else skipped["task_id"]) == task_id
    (problem,) = tables.problems
    assert problem.startswith("bad.json: record 2") and words in problem


def test_nesting_too_deep_costs_that_task(tmp_path):
    """Python's JSON parser gives up past about 1,000 levels (RecursionError); the record is stepped over."""
    tasks = good_tasks()
    path = ls.write_export(tmp_path / "deep.json", tasks)
    deep = "[" * DEEP + "]" * DEEP
    text = path.read_text(encoding="utf-8").replace('"article_id": "x"}', f'"article_id": "x", "deep": {deep}}}', 2)
    path.write_text(text.replace(f', "deep": {deep}', "", 1), encoding="utf-8")  # only task 2 is deep
    tables = convert_and_write(path, tmp_path)
    assert sorted(tables.annotations["annotation_id"]) == [11, 12, 31, 32]
    (skipped,) = tables.skipped.to_dict("records")
    assert (
        skipped["task_id"] == 2 and skipped["reason"] == "malformed: nested too deep to read (over about 1,000 levels)"
    )
    assert tables.problems == ["deep.json: record 2, task 2: nested too deep to read (over about 1,000 levels)"]


def test_deep_nesting_inside_a_json_min_record(tmp_path):
    rows = [{"id": n, "text": TEXT, "annotation_id": n, "annotator": 1, "stance": "favor"} for n in (1, 2, 3)]
    text = json.dumps(rows).replace(
        '"stance": "favor"}, {"id": 2', '"stance": "favor"}, {"id": 2, "x": ' + "[" * DEEP + "]" * DEEP, 1
    )
    path = tmp_path / "min.json"
    path.write_text(text, encoding="utf-8")
    tables = convert_and_write(path, tmp_path)
    assert sorted(tables.annotations["annotation_id"]) == [1, 3]
    assert tables.skipped["reason"].tolist() == ["malformed: nested too deep to read (over about 1,000 levels)"]


def test_a_lone_surrogate_costs_that_task(tmp_path):
    """`\\ud800` alone is not a character: Parquet could not hold it."""
    path = ls.write_export(tmp_path / "half.json", good_tasks())
    text = path.read_text(encoding="utf-8").replace('"article_id": "x"}', '"article_id": "x", "t": "\\ud800"}', 2)
    path.write_text(text.replace(', "t": "\\ud800"', "", 1), encoding="utf-8")
    tables = convert_and_write(path, tmp_path)
    assert sorted(tables.annotations["annotation_id"]) == [11, 12, 31, 32]
    assert "half of a character" in tables.skipped["reason"].iloc[0]


def test_a_first_record_that_is_no_task_is_a_file_error(tmp_path):
    from annotation.exports import ExportError

    path = tmp_path / "numbers.json"
    path.write_text("[42, 43]", encoding="utf-8")
    with pytest.raises(ExportError, match="record 1: expected a task object, found int"):
        read_export(path)


# -- CSV -----------------------------------------------------------------------------------------------------------

HEADER = "annotation_id,annotator,created_at,id,lead_time,stance_us_government,text,updated_at"


def csv_row(number: int, text: str | None = None) -> str:
    return f"{number},1,2026-11-21T10:00:00Z,{number},4.2,against,{text or f'passage {number}'},2026-11-21T10:00:00Z"


def write_csv_export(path: Path, rows: list[str]) -> Path:
    path.write_text("\r\n".join([HEADER, *rows]) + "\r\n", encoding="utf-8")
    return path


def test_an_unterminated_quote_costs_one_row_and_is_named(tmp_path):
    """Old main read these 4 rows as 3 annotations with no word; the quote swallowed row 4."""
    rows = [csv_row(n) for n in (1, 2, 4)]
    rows.insert(2, csv_row(3, '"passage 3 opens a quote'))
    tables = convert_and_write(write_csv_export(tmp_path / "quote.csv", rows), tmp_path)
    assert tables.read == 4 and sorted(tables.annotations["annotation_id"]) == [1, 2, 4]
    (problem,) = tables.problems
    assert problem.startswith("quote.csv: row 4: CSV line 4: unexpected end of data")
    assert "would swallow lines 5 to 5" in problem


def test_a_quote_in_a_ten_row_file_loses_nothing_else(tmp_path):
    rows = [csv_row(n, '"4 opens a quote' if n == 4 else None) for n in range(1, 11)]
    tables = convert_and_write(write_csv_export(tmp_path / "ten.csv", rows), tmp_path)
    assert tables.read == 10 and sorted(tables.annotations["annotation_id"]) == [1, 2, 3, *range(5, 11)]
    assert tables.skipped["reason"].str.contains("CSV line 5").tolist() == [True]


def test_a_multi_line_note_is_not_a_swallowing_quote(tmp_path):
    rows = [csv_row(1), csv_row(2, '"a passage\r\nover two lines"'), csv_row(3)]
    tables = convert_and_write(write_csv_export(tmp_path / "lines.csv", rows), tmp_path)
    assert tables.read == 3 and tables.skipped.empty
    assert tables.tasks.set_index("task_id").loc[2, "text"] == "a passage\r\nover two lines"


@pytest.mark.parametrize(
    ("row", "words"),
    [
        (csv_row(2) + ',"extra"', "CSV line 3: 9 fields where the header has 8"),
        (csv_row(2).rsplit(",", 1)[0], "CSV line 3: 7 fields where the header has 8"),
        (csv_row(2).replace(",2,4.2", ",,4.2"), "the task id is missing"),
        (csv_row(2).replace(",2,4.2", ",1e400,4.2"), "task id is the text '1e400'"),
        (csv_row(2).replace(",2,4.2", f",{10**30},4.2"), "too large"),
        (csv_row(2).replace(",4.2,", ",slow,"), "lead_time is the text 'slow'"),
        (csv_row(2).replace('"', "").replace("passage 2", 'pass"age 2"x'), None),  # a quote inside a field is text
    ],
)
def test_a_malformed_csv_row_costs_that_row(tmp_path, row, words):
    tables = convert_and_write(write_csv_export(tmp_path / "rows.csv", [csv_row(1), row, csv_row(3)]), tmp_path)
    if words is None:
        assert tables.read == 3 and tables.skipped.empty
        return
    assert tables.read == 3 and sorted(tables.annotations["annotation_id"]) == [1, 3]
    (reason,) = tables.skipped["reason"]
    assert reason.startswith("malformed: ") and words in reason
    assert tables.problems[0].startswith("rows.csv: row 3")


def test_json_min_records_of_the_wrong_shape(tmp_path):
    rows = [
        {"id": 1, "text": TEXT, "annotation_id": 1, "annotator": 1, "stance": "favor"},
        42,
        {"id": 3, "text": TEXT, "annotation_id": "abc", "annotator": 1, "stance": "favor"},
        {"id": 4, "text": TEXT, "annotation_id": 4, "annotator": 1, "stance": 5},
        {"id": 5, "text": TEXT, "annotation_id": 5, "annotator": {"x": 1}, "stance": "favor"},
        {"id": 6, "text": TEXT, "annotation_id": 6, "annotator": 1, "stance": "favor"},
    ]
    path = tmp_path / "min.json"
    path.write_text(json.dumps(rows), encoding="utf-8")
    config = (
        '<View><Text name="text" value="$text"/><Choices name="stance" toName="text">'
        '<Choice value="favor"/><Choice value="against"/></Choices></View>'
    )
    tables = convert_and_write(path, tmp_path, config=config)
    assert sorted(tables.annotations["annotation_id"]) == [1, 6]
    assert [r.split(":")[0] for r in tables.skipped["reason"]] == ["malformed"] * 4
    places = [problem.split(": ")[1] for problem in tables.problems]
    assert places == [
        "record 2",
        "record 3, task 3, annotator 1",
        "record 4, task 4, annotation 4, annotator 1",
        "record 5, task 5, annotation 5",
    ]


# -- checks without a codebook -------------------------------------------------------------------------------------


def test_to_name_is_checked_against_the_config_and_else_for_consistency(tmp_path):
    tasks = good_tasks()
    first_result(tasks)["to_name"] = "image"
    path = ls.write_export(tmp_path / "to.json", tasks)
    for schema in ({"codebook": CODEBOOK}, {}):
        tables = convert_and_write(path, tmp_path, **schema)
        (reason,) = tables.skipped["reason"]
        assert reason.startswith("failed check: stance_us_government: labels the object 'image', not 'text'")
    tasks[0]["annotations"][0]["result"][0]["to_name"] = ["text"]
    tables = convert_and_write(ls.write_export(tmp_path / "to.json", tasks), tmp_path)
    assert "to_name is a list of 1 item, not the name of an object" in tables.skipped["reason"].iloc[0]


def test_a_choice_given_as_text_never_becomes_letters(tmp_path):
    """Old main read `"choices": "favor"` as the labels f, a, v, o, r and made the question multiple-choice."""
    tasks = good_tasks()
    first_result(tasks)["value"]["choices"] = "favor"
    tables = convert_and_write(ls.write_export(tmp_path / "letters.json", tasks), tmp_path)
    assert tables.questions["stance_us_government"].kind == "single"
    assert tables.questions["stance_us_government"].labels == ("against", "favor")


# -- passages read with two texts ----------------------------------------------------------------------------------


def test_one_passage_with_two_texts_is_never_merged(tmp_path):
    first = ls.write_export(tmp_path / "first.json", good_tasks())
    tasks = good_tasks()
    tasks[1]["data"]["text"] = "A different passage altogether."
    tasks[1]["annotations"][0]["result"] = [ls.choices("stance_us_government", ["favor"])]
    for annotation in tasks[1]["annotations"]:
        annotation["id"] += 100
        annotation["completed_by"] += 2
    second = ls.write_export(tmp_path / "second.json", tasks)
    tables = convert_and_write([first, second], tmp_path, codebook=CODEBOOK)
    assert "x:02" not in set(tables.annotations["passage_id"])
    assert "x:02" not in set(tables.predictions["passage_id"]) and "x:02" not in set(tables.spans["passage_id"])
    reasons = tables.skipped.set_index("annotation_id")["reason"]
    assert sorted(reasons.index) == [21, 22, 121, 122]
    assert set(reasons) == {
        "conflict: passage 'x:02' has different texts in first.json (task 2) and second.json (task 2)"
    }
    assert tables.problems == [
        "passage 'x:02' has different texts in first.json (task 2) and second.json (task 2): its annotations are "
        "skipped, not merged"
    ]
    assert tables.read == 12 and len(tables.annotations) == 8
    assert agreement(tables, CODEBOOK).set_index("question").loc["stance_us_government", "items"] == 2


def test_the_same_passage_exported_twice_still_merges(tmp_path):
    first = ls.write_export(tmp_path / "export.json", good_tasks())
    again = ls.write_export(tmp_path / "re-export.json", good_tasks())
    tables = convert_and_write([first, again], tmp_path, codebook=CODEBOOK)
    assert len(tables.annotations) == 12 and tables.skipped.empty and tables.problems == []


# -- predictions ---------------------------------------------------------------------------------------------------


def test_a_prediction_with_a_label_the_codebook_lacks_is_left_out(tmp_path):
    """Old main crashed convert and agreement with KeyError."""
    tasks = good_tasks()
    tasks[1]["predictions"][0]["result"] = [ls.choices("frames", ["weather"])]
    tasks[2]["predictions"][0]["result"] = "x"
    tables = convert_and_write(ls.write_export(tmp_path / "p.json", tasks), tmp_path, codebook=CODEBOOK)
    assert sorted(tables.predictions["prediction_id"]) == [1] and len(tables.annotations) == 6
    assert tables.problems == [
        "p.json: task 2, prediction 2: frames: label 'weather' is not in the codebook; the prediction is not kept",
        "p.json: task 3, prediction 3: result is the text 'x', not a list; the prediction is not kept",
    ]


@pytest.mark.shared
def test_the_real_export_with_a_codebook_of_ones_own(shared, tmp_path):
    own = tmp_path / "own.yaml"
    own.write_text(
        'name: own\nversion: "0.1"\ntargets:\n  - id: tariffs\n    name: Tariffs\n'
        "frames:\n  - id: morality\n    name: Morality\n  - id: health\n    name: Health\n",
        encoding="utf-8",
    )
    book = load_codebook(own)
    tables = convert_and_write(shared / "label-studio" / "export-full.json", tmp_path, codebook=book)
    assert tables.predictions.empty and any("label 'economic' is not in the codebook" in p for p in tables.problems)
    for command in ("convert", "agreement", "gold"):
        out = tmp_path / f"{command}.out"
        args = [command, str(shared / "label-studio" / "export-full.json"), "--codebook", str(own), "-o", str(out)]
        done = subprocess.run([FRAMESTANCE, *args], capture_output=True, text=True, timeout=120)
        assert "Traceback" not in done.stderr and done.returncode != 1, done.stderr


# -- the commands --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["convert", "agreement", "gold"])
def test_the_commands_survive_malformed_exports(tmp_path, command):
    tasks = good_tasks()
    tasks[1]["annotations"][0]["id"] = 10**30
    tasks[2]["data"]["text"] = 12345
    bad = ls.write_export(tmp_path / "bad.json", tasks)
    quote = write_csv_export(tmp_path / "quote.csv", [csv_row(7), csv_row(8, '"open'), csv_row(9)])
    out = tmp_path / ("tables" if command == "convert" else f"{command}.out")
    args = [command, str(bad), str(quote), "--codebook", str(shipped_codebooks()["soleimani_2020"]), "-o", str(out)]
    done = subprocess.run([FRAMESTANCE, *args], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr and done.returncode == 0, done.stderr
    assert "read 8 annotations = 5 kept + 3 skipped (3 malformed)" in done.stderr
    assert "bad.json: task 2, annotator 1: the annotation id is the number" in done.stderr
    assert "bad.json: record 3, task 3: the task's text is the number 12345, not text" in done.stderr
    assert "quote.csv: row 3: CSV line 3: unexpected end of data" in done.stderr


def test_a_csv_export_of_unlabeled_tasks_has_only_a_header(tmp_path):
    """The SDK writes just the annotation columns when no task has an annotation: nothing to read, no error."""
    path = tmp_path / "none.csv"
    path.write_text('"annotation_id","annotator","created_at","lead_time","updated_at"\n', encoding="utf-8")
    tables = convert_and_write(path, tmp_path)
    assert tables.read == 0 and tables.tasks.empty


def test_csv_rows_without_a_task_id_column_are_each_named(tmp_path):
    path = tmp_path / "no-id.csv"
    path.write_text("annotation_id,annotator,stance\n1,1,favor\n2,1,against\n", encoding="utf-8")
    tables = convert_and_write(path, tmp_path)
    assert tables.read == 2 and tables.problems == [
        "no-id.csv: row 2: the task id is missing",
        "no-id.csv: row 3: the task id is missing",
    ]


def test_relations_and_other_results_are_not_malformed(tmp_path):
    """A relation has no from_name and no value: without a schema it is left out, as before, not skipped."""
    tasks = good_tasks()
    relation = {"from_id": "r1", "to_id": "r2", "type": "relation", "direction": "right", "labels": []}
    tasks[1]["annotations"][0]["result"].append(relation)
    tables = convert_and_write(ls.write_export(tmp_path / "rel.json", tasks), tmp_path)
    assert len(tables.annotations) == 6 and tables.skipped.empty
    tasks[1]["annotations"][0]["result"][-1] = {**relation, "type": ["relation"]}
    tables = convert_and_write(ls.write_export(tmp_path / "rel.json", tasks), tmp_path)
    assert tables.skipped["reason"].tolist() == ["malformed: a result item's type is a list of 1 item, not text"]
