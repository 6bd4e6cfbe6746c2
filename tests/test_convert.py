"""Exports → tables: real server exports in every format, merged exports, checks, and nothing lost."""

from __future__ import annotations

import json

import export_factory as ls
import pandas as pd
import pytest

from annotation.codebook import load_codebook, shipped_codebooks
from annotation.convert import CheckError, read_export
from annotation.exports import ExportError, iter_json_array
from annotation.sample import sample_file
from annotation.tables import read_tables

CODEBOOK = load_codebook(shipped_codebooks()["soleimani_2020"])
MULTI = "label-studio/multi-annotator"
FORMATS = ["export-full.json", "export-sync.json", "export-min.json", "export.csv"]


def schema(shared, how):
    if how == "codebook":
        return {"codebook": CODEBOOK}
    if how == "config":
        return {"config": (shared / MULTI / "config.xml").read_text(encoding="utf-8")}
    return {}


def submitted_spans(tables):
    return tables.spans[tables.spans["prediction_id"].isna()]


@pytest.mark.shared
@pytest.mark.parametrize("how", ["codebook", "config"])
@pytest.mark.parametrize("name", FORMATS)
def test_multi_annotator_fixture_counts(shared, name, how):
    """The counts of FACTS.md, from each format, as far as the format carries them."""
    tables = read_export(shared / MULTI / name, **schema(shared, how))
    ann = tables.annotations
    full = name in ("export-full.json", "export-sync.json")
    assert len(tables.tasks) == 24
    assert len(ann) == 47
    assert ann.groupby("annotator").size().to_dict() == {"1": 16, "2": 16, "3": 15}
    assert ann["passage_id"].nunique() == 16
    reasons = tables.skipped["reason"].str.split(":").str[0].tolist()
    assert sorted(reasons) == (["cancelled", "draft"] if full else [])
    if full:
        cancelled = tables.skipped[tables.skipped["reason"].str.startswith("cancelled")].iloc[0]
        assert (cancelled["task_id"], cancelled["annotation_id"], cancelled["annotator"]) == (8, 23, "3")
        assert int(ann["ground_truth"].sum()) == 1
        assert ann.loc[ann["ground_truth"].astype(bool), "annotation_id"].tolist() == [1]
    else:
        assert ann["ground_truth"].isna().all()
    spans = submitted_spans(tables)
    assert len(spans) == 26
    assert spans["label"].value_counts().to_dict() == {"frame_cue": 13, "loaded_language": 13}
    assert (spans["text"].notna()).all()
    linked = spans.dropna(subset=["frame"])
    if full:
        assert sorted(zip(linked["text"], linked["frame"], strict=True)) == sorted(
            [
                ("illegally assassinate", "legality"),
                ("Iranians hate the MEK more than the current Islamic Republic", "public_opinion"),
                ("false-flag operation", "crime_punishment"),
            ]
        )
    else:
        assert linked.empty  # these formats lose the link between a span and its frame
    assert int(ann["cue_frame"].map(lambda v: len(v) if isinstance(v, list) else 0).sum()) == 3
    assert int(ann["confidence"].notna().sum()) == 8
    assert int(ann["note"].notna().sum()) == 5
    assert int(ann["frames"].map(lambda v: isinstance(v, list) and len(v) == 1).sum()) == 8
    assert int(ann["cues"].sum()) == 26
    preds = tables.predictions
    if name == "export-full.json":
        assert sorted(preds["task_id"]) == [1, 5, 14, 18, 22]
        assert preds.set_index("task_id")["score"].to_dict() == {1: 0.81, 5: 0.64, 14: 0.72, 18: 0.58, 22: 0.69}
        assert set(preds["model_version"]) == {"demo-0.1"}
        assert len(tables.spans) - len(spans) == 3  # the predictions' spans
    else:
        assert preds.empty
    if name == "export-sync.json":
        assert any("5 predictions are listed by id only" in p for p in tables.problems)
    assert tables.read == len(ann) + len(tables.skipped)


@pytest.mark.shared
def test_answers_agree_across_formats(shared):
    """Each annotation's answers are the same whichever format they were read from."""
    frames = {name: read_export(shared / MULTI / name, codebook=CODEBOOK).annotations for name in FORMATS}
    columns = ["stance_us_government", "stance_iranian_government", "stance_iranian_opposition", "primary_frame"]
    columns += ["frame_legality", "frame_political", "confidence", "note", "cues"]
    reference = frames["export-full.json"].set_index("annotation_id")[columns].sort_index()
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(frame.set_index("annotation_id")[columns].sort_index(), reference, obj=name)
        lists = frame.set_index("annotation_id")["frames"].sort_index()
        assert lists.tolist() == frames["export-full.json"].set_index("annotation_id")["frames"].sort_index().tolist()


@pytest.mark.shared
@pytest.mark.parametrize("how", ["config", "none"])
def test_every_fixture_reconciles(shared, how):
    """read = kept + skipped, on every export file in ../shared, with the config or with nothing."""
    files = sorted(p for p in (shared / "label-studio").rglob("export*.*") if p.suffix in (".json", ".csv"))
    assert len(files) >= 7
    for path in files:
        config = path.parent / ("config.xml" if path.parent.name == "multi-annotator" else "export-config.xml")
        kwargs = {"config": config.read_text(encoding="utf-8")} if how == "config" else {}
        tables = read_export(path, **kwargs)
        assert tables.read == len(tables.annotations) + len(tables.skipped), path
        assert not tables.skipped["reason"].str.startswith("failed check").any(), (path, tables.problems)
        assert f"read {tables.read} annotations = {len(tables.annotations)} kept" in tables.reconciliation()


@pytest.mark.shared
def test_without_codebook_or_config_the_results_give_the_structure(shared):
    tables = read_export(shared / MULTI / "export-full.json")
    kinds = {name: q.kind for name, q in tables.questions.items()}
    assert kinds["frames"] == "multi" and kinds["stance_us_government"] == "single"
    assert kinds["cues"] == "spans" and kinds["cue_frame"] == "span_choice"
    assert kinds["confidence"] == "rating" and kinds["note"] == "text"
    assert len(tables.annotations) == 47 and len(submitted_spans(tables)) == 26


def test_conversions_are_repeatable_and_survive_parquet(tmp_path):
    first = read_export(sample_file("export.json"), codebook=CODEBOOK)
    second = read_export(sample_file("export.json"), codebook=CODEBOOK)
    for name in ("annotations", "spans", "predictions", "skipped", "tasks"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))
    first.write(tmp_path / "tables")
    back = read_tables(tmp_path / "tables")
    assert back.questions == first.questions
    for name in ("annotations", "spans", "skipped", "tasks"):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(first, name), check_dtype=False, obj=name)
    assert list(back.annotations["stance_us_government"].cat.categories) == [s.id for s in CODEBOOK.stance]


def test_sample_export_converts_completely():
    tables = read_export(sample_file("export.json"), codebook=CODEBOOK)
    assert len(tables.annotations) == 875 and len(tables.skipped) == 7 and tables.problems == []
    assert tables.annotations["passage_id"].nunique() == 321
    spans = tables.spans
    assert (spans["frame"].notna().sum(), len(spans)) == (1575, 1994)
    texts = tables.tasks.set_index("passage_id")["text"]
    assert all(
        texts[p][s:e] == t
        for p, s, e, t in zip(spans["passage_id"], spans["start"], spans["end"], spans["text"], strict=False)
    )


def test_several_projects_merge_by_passage(tmp_path):
    """The free edition's way to several annotators: one project each; their exports merge by passage_id."""
    tasks = json.loads(sample_file("export.json").read_text(encoding="utf-8"))
    files = []
    for user in sorted({a["completed_by"] for t in tasks for a in t["annotations"]}):
        project = [
            {
                **t,
                "id": t["id"] + 1000 * user,
                "annotations": [a for a in t["annotations"] if a["completed_by"] == user],
            }
            for t in tasks
        ]
        files.append(ls.write_export(tmp_path / f"annotator-{user}.json", project))
    merged = read_export(files, codebook=CODEBOOK)
    single = read_export(sample_file("export.json"), codebook=CODEBOOK)
    columns = ["passage_id", "annotator", "annotation_id", "stance_us_government", "primary_frame"]
    key = ["passage_id", "annotator"]
    pd.testing.assert_frame_equal(
        merged.annotations[columns].sort_values(key).reset_index(drop=True),
        single.annotations[columns].sort_values(key).reset_index(drop=True),
    )
    assert merged.annotations["export"].nunique() == 3
    assert merged.annotations.groupby("passage_id")["annotator"].nunique().max() == 3


def checked_export(tmp_path):
    text = "Officials called the strike an assassination and a crime."
    data = {"text": text, "passage_id": "x:00", "article_id": "x", "codebook": CODEBOOK.ref}
    good = [ls.choices("stance_us_government", ["against"]), ls.choices("frames", ["legality"])]
    tasks = [
        ls.task(1, data, [ls.annotation(11, 5, good)]),
        ls.task(2, {**data, "passage_id": "x:01", "codebook": "soleimani_2020@0.9"}, [ls.annotation(12, 5, good)]),
        ls.task(3, {**data, "passage_id": "x:02"}, [ls.annotation(13, 6, [*good, ls.choices("mood", ["grim"])])]),
        ls.task(4, {**data, "passage_id": "x:03"}, [ls.annotation(14, 6, [ls.choices("frames", ["weather"])])]),
        ls.task(
            5,
            {**data, "passage_id": "x:04"},
            [ls.annotation(15, 7, [ls.choices("stance_us_government", ["favor", "against"])])],
        ),
        ls.task(6, {**data, "passage_id": "x:05"}, [ls.annotation(16, 7, [])]),
    ]
    return ls.write_export(tmp_path / "checked.json", tasks)


def test_checks_against_the_codebook(tmp_path):
    tables = read_export(checked_export(tmp_path), codebook=CODEBOOK)
    assert tables.annotations["annotation_id"].tolist() == [11]
    skipped = tables.skipped.set_index("annotation_id")["reason"].to_dict()
    assert skipped == {
        12: "failed check: task labeled with codebook soleimani_2020@0.9, not soleimani_2020@1.1",
        13: "failed check: unknown control 'mood'",
        14: "failed check: frames: label 'weather' is not in the codebook",
        15: "failed check: stance_us_government: 2 choices on a single-choice question",
        16: "empty: no answers",
    }
    assert tables.problems[1] == "checked.json: task 3, annotation 13, annotator 6: unknown control 'mood'"
    assert tables.read == 6
    with pytest.raises(CheckError) as caught:
        read_export(checked_export(tmp_path), codebook=CODEBOOK, strict=True)
    assert str(caught.value).count("\n") == 3 and "annotation 15, annotator 7" in str(caught.value)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty file"),
        (b'{"tasks": []}', "a JSON object, not a Label Studio export"),
        (
            b'[{"id": 1, "data": {"text": "a"}, "annotations": []}, {"id": 2, "data"',
            "ends inside a record (truncated?)",
        ),
        (
            b'[{"id": 1, "data": {"text": "a"}, "annotations": []},\n {"id": 2, "data": {"text": b}}]',
            "record 2, line 2",
        ),
        (b"[1, 2, 3]", "expected a task object, found int"),
        (b'[{"id": 1, "text": "a"} {"id": 2}]', "expected ',' or ']' after record 1"),
        (b"name,score\nada,3\n", "not a Label Studio export"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary file"),
        (b'[{"id": 1, "foo": 2, "annotations": []}]', "a task without 'data' or 'annotations'"),
    ],
)
def test_bad_files_get_one_clear_error(tmp_path, content, words):
    path = tmp_path / "export.json"
    path.write_bytes(content)
    with pytest.raises(ExportError) as caught:
        read_export(path)
    assert str(caught.value).startswith(str(path)) and words in str(caught.value)


def test_json_arrays_are_read_task_by_task_across_buffer_edges(tmp_path, monkeypatch):
    import annotation.exports

    monkeypatch.setattr(annotation.exports, "CHUNK", 7)
    records = [{"id": i, "data": {"text": "é" * i, "n": [i, {"x": "]},["}]}, "annotations": []} for i in range(40)]
    path = tmp_path / "tiny-buffer.json"
    path.write_text(" [\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n]\n", encoding="utf-8")
    assert [record for _, record in iter_json_array(path)] == records
    path.write_text("[]", encoding="utf-8")
    assert list(iter_json_array(path)) == []


def test_an_array_that_never_closes(tmp_path):
    path = tmp_path / "cut.json"
    path.write_text('[{"id": 1, "data": {"text": "a"}, "annotations": []},', encoding="utf-8")
    with pytest.raises(ExportError, match="ends before the JSON array closes"):
        read_export(path)


def test_empty_export(tmp_path):
    path = tmp_path / "none.json"
    path.write_text("[]", encoding="utf-8")
    tables = read_export(path)
    assert tables.read == 0 and tables.annotations.empty and tables.tasks.empty
