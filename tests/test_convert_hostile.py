"""Hostile exports in all three formats: wrong types at every level, deep nesting, huge numbers, offsets off the
text, bad quoting. Each either converts with read = kept + skipped, or fails with one `ExportError`; nothing else
escapes, the tables write as Parquet and CSV, and agreement and gold labels run on them."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from annotation.agreement import agreement
from annotation.codebook import load_codebook, shipped_codebooks
from annotation.convert import read_export
from annotation.exports import ExportError
from annotation.gold import gold_labels
from annotation.label_config import build_label_config
from annotation.tables import read_tables

CODEBOOK = load_codebook(shipped_codebooks()["soleimani_2020"])
CONFIG = build_label_config(CODEBOOK)
TEXT = "Officials called the strike an assassination and a crime."
CONTROLS = ["stance_us_government", "frames", "primary_frame", "cues", "cue_frame", "confidence", "note", "mood"]
LABELS = ["favor", "against", "legality", "political", "frame_cue", "weather", "", "=1+1"]
DEEP = "__deep__"  # a placeholder replaced by a value nested deeper than Python's JSON parser goes
EXAMPLES = 75  # per format: about 45 s for the three on two busy cores

leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.sampled_from([0, -1, 2**63, 10**30, 10**40, 1.5, -0.0, 1e308])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec="utf-8"), max_size=6)
    | st.sampled_from([DEEP, "\ud800", "\U0001f600", "=cmd"])
)
anything = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)


def often(good: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly a well-formed value, one time in 25 anything at all (a task has some 20 fields, so about half the
    tasks have one or more wrong)."""
    return st.integers(0, 24).flatmap(lambda roll: anything if roll == 0 else good)


offsets = st.one_of(
    *[st.tuples(st.integers(0, len(TEXT)), st.integers(0, len(TEXT))).map(sorted)] * 5,
    st.tuples(st.integers(-3, 80), st.integers(-3, 80)),  # perhaps before, past or backwards
)
CONTROL_KINDS = [  # a control, its result type, and its value's keys, mostly as the codebook asks
    ("stance_us_government", "choices", ["choices"]),
    ("frames", "choices", ["choices"]),
    ("primary_frame", "choices", ["choices"]),
    ("cues", "labels", ["start", "end", "text", "labels"]),
    ("cue_frame", "choices", ["start", "end", "text", "choices"]),
    ("confidence", "rating", ["rating"]),
    ("note", "textarea", ["text"]),
    ("mood", "choices", ["choices"]),
    ("link", "relation", []),
]


@st.composite
def results(draw) -> list:
    items = []
    for _ in range(draw(st.integers(0, 4))):
        control, kind, keys = draw(st.sampled_from(CONTROL_KINDS))
        start, end = draw(offsets)
        values = {
            "choices": st.lists(st.sampled_from(LABELS), max_size=3),
            "labels": st.lists(st.sampled_from(LABELS), min_size=1, max_size=2),
            "start": st.just(start),
            "end": st.just(end),
            "text": st.just(TEXT[max(start, 0) : max(end, 0)] if "start" in keys else "a note"),
            "rating": st.integers(0, 6),
        }
        value = {key: draw(often(values[key])) for key in keys}
        item = {
            "id": draw(often(st.sampled_from(["r1", "r2", "r3"]))),
            "from_name": draw(often(st.just(control))),
            "to_name": draw(often(st.sampled_from(["text"] * 9 + ["image"]))),
            "type": draw(often(st.just(kind))),
            "value": draw(often(st.just(value))),
        }
        items.append(draw(often(st.just(item))))
    return items


@st.composite
def full_tasks(draw) -> list:
    tasks = []
    for number in range(1, draw(st.integers(1, 4)) + 1):
        annotations = [
            draw(
                often(
                    st.fixed_dictionaries(
                        {
                            "id": often(st.integers(1, 50)),
                            "completed_by": often(
                                st.integers(1, 3) | st.builds(lambda i: {"id": i}, st.integers(1, 3))
                            ),
                            "result": often(results()),
                            "was_cancelled": often(st.booleans()),
                            "ground_truth": often(st.booleans()),
                            "lead_time": often(st.floats(0, 100)),
                            "created_at": often(st.just("2026-11-21T10:00:00Z")),
                            "updated_at": often(st.just("2026-11-21T10:00:00Z")),
                        }
                    )
                )
            )
            for _ in range(draw(st.integers(0, 3)))
        ]
        data = {
            "text": draw(often(st.just(TEXT))),
            "passage_id": draw(often(st.sampled_from(["x:00", "x:01", "x:02"]))),
            "article_id": draw(often(st.just("x"))),
        }
        task = {
            "id": draw(often(st.just(number))),
            "data": draw(often(st.just(data))),
            "annotations": draw(often(st.just(annotations))),
            "predictions": draw(
                often(
                    st.lists(st.fixed_dictionaries({"id": often(st.integers(1, 9)), "result": results()}), max_size=2)
                )
            ),
            "drafts": draw(
                often(
                    st.lists(st.fixed_dictionaries({"result": results(), "user": often(st.just("a@b.c"))}), max_size=1)
                )
            ),
        }
        tasks.append(draw(often(st.just(task))))
    return tasks


@st.composite
def min_rows(draw) -> list:
    rows = []
    for number in range(1, draw(st.integers(1, 5)) + 1):
        row = {
            "id": draw(often(st.just(number))),
            "text": draw(often(st.just(TEXT))),
            "passage_id": draw(often(st.sampled_from(["x:00", "x:01"]))),
            "annotation_id": draw(often(st.integers(1, 20) | st.none())),
            "annotator": draw(often(st.integers(1, 3))),
            "lead_time": draw(often(st.floats(0, 9))),
            "stance_us_government": draw(often(st.sampled_from(LABELS))),
            "frames": draw(often(st.builds(lambda c: {"choices": c}, st.lists(st.sampled_from(LABELS), max_size=2)))),
            "cues": draw(
                often(
                    st.lists(
                        st.fixed_dictionaries(
                            {
                                "start": st.integers(-2, 70),
                                "end": st.integers(-2, 70),
                                "labels": often(st.lists(st.sampled_from(LABELS), max_size=1)),
                            }
                        ),
                        max_size=2,
                    )
                )
            ),
            "confidence": draw(
                often(st.lists(st.fixed_dictionaries({"rating": often(st.integers(0, 6))}), max_size=1))
            ),
        }
        rows.append(draw(often(st.just(row))))
    return rows


CSV_HEADER = ["annotation_id", "annotator", "id", "lead_time", "stance_us_government", "frames", "cues", "text"]
cell_text = st.text(st.sampled_from(list('ab1-,"\r\n{}[]:=')), max_size=8)
good_cells = [
    st.integers(1, 20).map(str),
    st.sampled_from(["1", "2"]),
    st.integers(1, 5).map(str),
    st.sampled_from(["4.2", ""]),
    st.sampled_from(LABELS),
    st.sampled_from(['{"choices": ["legality"]}', '{"choices": "x"}', "[]"]),
    st.sampled_from(['[{"start": 0, "end": 9, "labels": ["frame_cue"]}]', '[{"start": 9, "end": 0}]', "[1]"]),
    st.just(TEXT),
]


HOSTILE_CELL = cell_text | st.sampled_from([str(10**40), "-1", "", '"'])


@st.composite
def csv_text(draw) -> str:
    header = draw(st.sampled_from([CSV_HEADER, CSV_HEADER, CSV_HEADER, CSV_HEADER[1:], [*CSV_HEADER, "id"]]))
    lines = [",".join(header)]
    for _ in range(draw(st.integers(1, 5))):
        cells = [
            draw(st.integers(0, 5).flatmap(lambda roll, g=good: HOSTILE_CELL if roll == 0 else g))
            for good in good_cells
        ]
        cells += draw(st.sampled_from([[], [], [], ["extra"]]))  # sometimes a field too many
        quoted = ['"' + c.replace('"', '""') + '"' if draw(st.booleans()) else c for c in cells]
        lines.append(",".join(quoted[: len(quoted) - draw(st.sampled_from([0, 0, 0, 1]))]))
    return draw(st.sampled_from(["\r\n", "\n"])).join(lines) + "\n"


def as_json(value: object, depth: int, ascii_only: bool) -> str:
    """JSON text with each deep placeholder replaced by a list nested `depth` levels; a lone surrogate is an
    escape (`ascii_only`) or raw, which makes the file invalid UTF-8."""
    return json.dumps(value, ensure_ascii=ascii_only).replace(json.dumps(DEEP), "[" * depth + "]" * depth)


def check(text: str, suffix: str, schema: str) -> None:
    """Convert, write both ways, read back, measure agreement and settle gold: only `ExportError` may escape."""
    kwargs = {"codebook": {"codebook": CODEBOOK}, "config": {"config": CONFIG}, "none": {}}[schema]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export{suffix}"
        path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
        try:
            tables = read_export(path, **kwargs)
        except ExportError as err:
            assert str(err).startswith(str(path))
            event(f"ExportError: {err.problem.split(' (')[0][:40]}")
            return
        reasons = set(tables.skipped["reason"].str.split(":").str[0])
        event(f"converted: {'some' if len(tables.annotations) else 'no'} annotations kept, skipped {sorted(reasons)}")
        assert tables.read == len(tables.annotations) + len(tables.skipped)
        tables.write(Path(folder) / "parquet")
        tables.write(Path(folder) / "csv", "csv")
        back = read_tables(Path(folder) / "parquet")
        assert len(back.annotations) == len(tables.annotations)
        agreement(tables, kwargs.get("codebook"))
        gold_labels(tables, kwargs.get("codebook"))


SCHEMAS = st.sampled_from(["codebook", "config", "none"])
HOSTILE = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


@HOSTILE
@given(full_tasks(), st.sampled_from([5, 1500, 3000]), st.booleans(), SCHEMAS)
def test_hostile_full_exports(tasks, depth, ascii_only, schema):
    check(as_json(tasks, depth, ascii_only), ".json", schema)


@HOSTILE
@given(min_rows(), st.sampled_from([5, 1500]), st.booleans(), SCHEMAS)
def test_hostile_json_min_exports(rows, depth, ascii_only, schema):
    check(as_json(rows, depth, ascii_only), ".json", schema)


@HOSTILE
@given(csv_text(), SCHEMAS)
def test_hostile_csv_exports(text, schema):
    check(text, ".csv", schema)
