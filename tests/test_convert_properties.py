"""Random exports convert to exactly what was generated, in the full JSON format and, through the SDK's own
converter, in JSON_MIN and CSV."""

from __future__ import annotations

import tempfile
from pathlib import Path

import export_factory as ls
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotation.codebook import load_codebook, shipped_codebooks
from annotation.convert import read_export
from annotation.label_config import build_label_config

CODEBOOK = load_codebook(shipped_codebooks()["soleimani_2020"])
STANCE = [s.id for s in CODEBOOK.stance]
FRAMES = [f.id for f in CODEBOOK.frames]
CUES = [c.id for c in CODEBOOK.cue_labels]
TEXT = "Officials called the strike an assassination, and the other side called it an elimination of a terrorist."
WORDS = [
    (i, i + len(w)) for i, w in ((TEXT.index(w), w) for w in ("Officials", "strike", "assassination", "terrorist"))
]
NOTE = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=30).filter(str.strip)


@st.composite
def answers(draw):
    """One annotator's answers: which questions they answered, and how."""
    answer = {}
    for target in CODEBOOK.targets:
        if draw(st.booleans()):
            answer[f"stance_{target.id}"] = draw(st.sampled_from(STANCE))
    if draw(st.booleans()):
        answer["frames"] = sorted(draw(st.sets(st.sampled_from(FRAMES), min_size=1, max_size=4)), key=FRAMES.index)
    if draw(st.booleans()):
        answer["primary_frame"] = draw(st.sampled_from(FRAMES))
    spans = draw(
        st.lists(
            st.tuples(st.sampled_from(WORDS), st.sampled_from(CUES), st.none() | st.sampled_from(FRAMES)), max_size=3
        )
    )
    answer["spans"] = [(start, end, label, frame) for (start, end), label, frame in spans]
    if draw(st.booleans()):
        answer["confidence"] = draw(st.integers(1, 5))
    if draw(st.booleans()):
        answer["note"] = draw(NOTE)
    return answer


def result_of(answer: dict) -> list[dict]:
    result = []
    for control in ("stance_us_government", "stance_iranian_government", "stance_iranian_opposition", "primary_frame"):
        if control in answer:
            result.append(ls.choices(control, [answer[control]]))
    if "frames" in answer:
        result.append(ls.choices("frames", answer["frames"]))
    for start, end, label, frame in answer["spans"]:
        item = ls.span("cues", TEXT, start, end, label)
        result.append(item)
        if frame:
            result.append(ls.span_choice("cue_frame", item, frame))
    if "confidence" in answer:
        result.append(ls.rating("confidence", answer["confidence"]))
    if "note" in answer:
        result.append(ls.textarea("note", answer["note"]))
    return result


@st.composite
def exports(draw):
    """Tasks with annotations by up to four annotators, some cancelled, as the server exports them."""
    tasks, expected, ann_id = [], {}, 100
    for task_id in range(1, draw(st.integers(1, 5)) + 1):
        annotations = []
        for user in draw(st.sets(st.integers(1, 4), max_size=4)):
            ann_id += 1
            answer, cancelled = draw(answers()), draw(st.booleans()) and draw(st.booleans())
            result = [] if cancelled else result_of(answer)
            annotations.append(
                ls.annotation(ann_id, user, result, cancelled=cancelled, ground_truth=draw(st.booleans()))
            )
            expected[ann_id] = (task_id, str(user), "cancelled" if cancelled else ("empty" if not result else answer))
        data = {"text": TEXT, "passage_id": f"p:{task_id:02d}", "article_id": "p", "codebook": CODEBOOK.ref}
        tasks.append(ls.task(task_id, data, annotations))
    return tasks, expected


def plain(value):
    """A cell as a plain Python value: None for any missing marker."""
    if isinstance(value, list) or value is None:
        return value
    if pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def check(tables, expected: dict, linked_frames: bool) -> None:
    """The tables hold every generated annotation, with exactly the generated answers."""
    rows = tables.annotations.set_index("annotation_id")
    kept = {k: v for k, v in expected.items() if isinstance(v[2], dict)}
    assert sorted(rows.index) == sorted(kept)
    assert tables.read == len(rows) + len(tables.skipped)
    for ann_id, (task_id, user, answer) in kept.items():
        row = {k: plain(v) for k, v in rows.loc[ann_id].items()}
        assert (row["task_id"], row["annotator"], row["passage_id"]) == (task_id, user, f"p:{task_id:02d}")
        for control in ("stance_us_government", "stance_iranian_government", "stance_iranian_opposition"):
            assert row[control] == answer.get(control)
        assert row["primary_frame"] == answer.get("primary_frame")
        assert row["frames"] == answer.get("frames")
        for frame in FRAMES:
            want = None if "frames" not in answer else int(frame in answer["frames"])
            assert row[f"frame_{frame}"] == want
        assert row["confidence"] == answer.get("confidence")
        assert row["note"] == answer.get("note")
        spans = tables.spans[tables.spans["annotation_id"] == ann_id]
        got = sorted(
            (
                (plain(s), plain(e), str(label), plain(f))
                for s, e, label, f in zip(spans["start"], spans["end"], spans["label"], spans["frame"], strict=True)
            ),
            key=str,
        )
        want = sorted(
            ((s, e, label, frame if linked_frames else None) for s, e, label, frame in answer["spans"]), key=str
        )
        assert got == want
        assert row["cues"] == len(answer["spans"])
        assert sorted(row["cue_frame"] or []) == sorted(f for *_, f in answer["spans"] if f)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exports())
def test_random_full_exports_convert_exactly(export):
    tasks, expected = export
    with tempfile.TemporaryDirectory() as folder:
        path = ls.write_export(Path(folder) / "export.json", tasks)
        tables = read_export(path, codebook=CODEBOOK)
    check(tables, expected, linked_frames=True)
    reasons = dict(zip(tables.skipped["annotation_id"], tables.skipped["reason"].str.split(":").str[0], strict=True))
    assert reasons == {k: v[2] for k, v in expected.items() if not isinstance(v[2], dict)}
    truth = tables.annotations.set_index("annotation_id")["ground_truth"].to_dict()
    assert truth == {k: a["ground_truth"] for t in tasks for a in t["annotations"] if (k := a["id"]) in truth}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exports())
def test_random_exports_through_the_sdk_converter_to_json_min_and_csv(export):
    """The SDK's converter (the code the server runs) writes JSON_MIN and CSV; we read back what was generated."""
    from label_studio_sdk.converter import Converter

    tasks, expected = export
    flat = {k: v for k, v in expected.items() if v[2] != "cancelled"}  # these formats drop cancelled work
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        path = ls.write_export(folder / "export.json", tasks)
        converter = Converter(config=build_label_config(CODEBOOK), project_dir=str(folder), download_resources=False)
        converter.convert_to_json_min(str(path), str(folder / "min"), is_dir=False)
        converter.convert_to_csv(str(path), str(folder / "csv"), is_dir=False, sep=",")
        for name in ("min/result.json", "csv/result.csv"):
            tables = read_export(folder / name, codebook=CODEBOOK)
            check(tables, {k: v for k, v in flat.items() if v[2] != "empty"}, linked_frames=False)
