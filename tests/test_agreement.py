"""Agreement per question, checked against a published example and small cases worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from table_factory import make_tables as build_tables

from annotation.agreement import agreement, format_agreement, plot_agreement, span_f1
from annotation.codebook import load_codebook, shipped_codebooks
from annotation.questions import MULTI, SINGLE, SPANS, Question

QUESTIONS = {
    "cues": Question("cues", SPANS, ("frame_cue", "loaded_language")),
    "stance": Question("stance", SINGLE, ("favor", "against", "neutral")),
    "frames": Question("frames", MULTI, ("legality", "morality", "economic")),
}


def make_tables(rows: list[tuple], questions: dict[str, Question] = QUESTIONS):
    return build_tables(rows, questions)


def choices(table: dict[str, str], question: str = "stance") -> list[tuple]:
    """Rows from `{annotator: "value value . value"}`, one value per item (`.` for missing)."""
    return [
        (f"p{item}", annotator, {question: value})
        for annotator, values in table.items()
        for item, value in enumerate(values.split(), start=1)
        if value != "."
    ]


def row(frame: pd.DataFrame, question: str) -> pd.Series:
    return frame.set_index("question").loc[question]


def test_krippendorff_nominal_example():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the nominal example: alpha = 0.743.
    table = {
        "A": "1 2 3 3 2 1 4 1 2 . . .",
        "B": "1 2 3 3 2 2 4 1 2 5 . 3",
        "C": ". 3 3 3 2 3 4 2 2 5 1 .",
        "D": "1 2 3 3 2 4 4 1 2 5 1 .",
    }
    questions = {"value": Question("value", SINGLE, ("1", "2", "3", "4", "5"))}
    frame = agreement(make_tables(choices(table, "value"), questions))
    result = row(frame, "value")
    assert result["alpha"] == pytest.approx(0.7434, abs=1e-3)
    assert result["kind"] == "nominal"
    assert result["items"] == 11  # the last unit has one value only
    assert result["annotators"] == 4


def test_percent_agreement_and_kappa_by_hand():
    # Items p2..p4 have annotators 1 and 2; p1 also has annotator 3.
    table = {"1": "favor favor against against", "2": "favor against against against", "3": "against . . ."}
    result = row(agreement(make_tables(choices(table))), "stance")
    # agreeing pairs per item: p1 1 of 3, p2 0 of 1, p3 1 of 1, p4 1 of 1
    assert result["percent_agreement"] == pytest.approx((1 / 3 + 0 + 1 + 1) / 4)
    # 1 vs 2: observed 3/4; expected 1/2·1/4 + 1/2·3/4 = 1/2; kappa = (3/4 − 1/2) / (1 − 1/2)
    assert result["kappa_1_2"] == pytest.approx(0.5)
    assert math.isnan(result["kappa_1_3"])  # one shared item only
    assert result["items"] == 4 and result["annotators"] == 3


def test_vs_majority_by_hand():
    table = {"1": "favor against neutral favor", "2": "favor favor neutral against", "3": "against favor neutral ."}
    result = row(agreement(make_tables(choices(table))), "stance")
    # 1: p1 others split (left out), p2 misses, p3 hits, p4 misses the lone other
    assert result["vs_majority_1"] == pytest.approx(1 / 3)
    # 2: p1 and p2 others split, p3 hits, p4 misses
    assert result["vs_majority_2"] == pytest.approx(1 / 2)
    # 3: p1 misses, p2 others split, p3 hits
    assert result["vs_majority_3"] == pytest.approx(1 / 2)


def test_vs_majority_is_nan_without_a_strict_majority():
    table = {"1": "favor", "2": "against", "3": "neutral"}
    result = row(agreement(make_tables(choices(table))), "stance")
    assert all(math.isnan(result[f"vs_majority_{a}"]) for a in "123")


def test_span_f1_exact_and_overlap_by_hand():
    rows = [
        ("p1", "1", {"cues": [(0, 10, "frame_cue"), (20, 30, "loaded_language")]}),
        ("p1", "2", {"cues": [(0, 10, "frame_cue"), (22, 35, "loaded_language")]}),
        ("p2", "1", {"cues": [(5, 15, "frame_cue")]}),
        ("p2", "2", {"cues": [(10, 20, "loaded_language"), (40, 50, "frame_cue")]}),
        ("p3", "3", {"cues": [(0, 5, "frame_cue")]}),  # alone on its item: left out
    ]
    result = row(agreement(make_tables(rows)), "cues")
    # 7 spans over the shared items; 1 exact match, 2 overlapping same-label matches
    assert result["span_f1_exact"] == pytest.approx(2 * 1 / 7)
    assert result["span_f1_overlap"] == pytest.approx(2 * 2 / 7)
    assert result["kind"] == "spans" and result["items"] == 2 and result["annotators"] == 2
    assert math.isnan(result["alpha"]) and math.isnan(result["percent_agreement"])


def test_overlap_matches_each_span_once():
    first = [[(0, 10, "x"), (12, 20, "x")]]
    second = [[(0, 20, "x")]]
    assert span_f1(first, second, overlap=True) == pytest.approx(2 * 1 / 3)
    assert span_f1(first, second) == 0
    assert math.isnan(span_f1([[]], [[]]))


def test_frames_as_binary_items_in_label_order_with_spans_last():
    rows = [
        ("p1", "A", {"stance": "favor", "frames": ["legality"], "cues": [(0, 4, "frame_cue")]}),
        ("p1", "B", {"stance": "favor", "frames": ["legality", "morality"], "cues": [(0, 4, "frame_cue")]}),
        ("p1", "C", {"stance": "against", "frames": None}),  # did not answer frames: not counted there
        ("p2", "A", {"stance": "favor", "frames": []}),  # an empty list answers "no" to every frame
        ("p2", "B", {"stance": "neutral", "frames": ["economic"]}),
    ]
    frame = agreement(make_tables(rows))
    assert list(frame["question"]) == ["stance", "frame_legality", "frame_morality", "frame_economic", "cues"]
    assert list(frame["kind"]) == ["nominal", "binary", "binary", "binary", "spans"]
    legality, morality = row(frame, "frame_legality"), row(frame, "frame_morality")
    assert legality["annotators"] == 2 and legality["items"] == 2
    assert legality["percent_agreement"] == 1.0 and legality["alpha"] == pytest.approx(1.0)
    assert morality["percent_agreement"] == 0.5
    assert row(frame, "stance")["annotators"] == 3


def test_alpha_is_nan_when_everyone_gives_one_value():
    table = {"1": "favor favor", "2": "favor favor"}
    result = row(agreement(make_tables(choices(table))), "stance")
    assert math.isnan(result["alpha"])
    assert result["percent_agreement"] == 1.0


def test_questions_without_shared_items_get_no_row():
    assert agreement(make_tables(choices({"1": "favor against"}))).empty


def test_a_codebook_the_tables_do_not_match_is_named():
    codebook = load_codebook(shipped_codebooks()["starter"])
    with pytest.raises(ValueError, match="no column 'stance_the_government'"):
        agreement(make_tables(choices({"1": "favor", "2": "favor"})), codebook)


def test_only_the_latest_annotation_of_an_annotator_counts():
    rows = [("p1", "1", {"stance": "against"}), ("p1", "2", {"stance": "favor"}), ("p1", "1", {"stance": "favor"})]
    assert row(agreement(make_tables(rows)), "stance")["percent_agreement"] == 1.0


def test_format_and_plot(tmp_path):
    rows = choices({"1": ". favor against", "2": ". against against"})
    rows += [("p1", "1", {"cues": [(0, 4, "frame_cue")]}), ("p1", "2", {"cues": [(1, 4, "frame_cue")]})]
    frame = agreement(make_tables(rows))
    text = format_agreement(frame)
    assert "stance" in text and "cues: span F1" in text
    path = tmp_path / "agreement.png"
    plot_agreement(frame, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="no agreement to plot"):
        plot_agreement(frame.iloc[0:0], path)
