"""Gold labels from votes, ground truth and an adjudicator, and review tasks for what the vote left open."""

from __future__ import annotations

import json
import sys

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from table_factory import make_tables as build_tables

from annotation.codebook import load_codebook, shipped_codebooks
from annotation.gold import gold_labels, review_tasks
from annotation.label_config import build_label_config
from annotation.questions import MULTI, RATING, SINGLE, SPAN_CHOICE, SPANS, TEXT, Question, questions_from_codebook
from annotation.tables import indicator_column

FRAMES = ("legality", "morality", "economic")
QUESTIONS = {
    "cues": Question("cues", SPANS, ("frame_cue", "loaded_language")),
    "cue_frame": Question("cue_frame", SPAN_CHOICE, FRAMES),
    "stance": Question("stance", SINGLE, ("favor", "against", "neutral")),
    "frames": Question("frames", MULTI, FRAMES),
    "confidence": Question("confidence", RATING),
    "note": Question("note", TEXT),
}


def make_tables(rows: list[tuple], questions: dict[str, Question] = QUESTIONS):
    return build_tables(rows, questions)


def by_passage(gold: pd.DataFrame) -> pd.DataFrame:
    return gold.set_index("passage_id")


def test_majority():
    rows = [
        ("p1", "1", {"stance": "favor", "frames": ["legality"], "confidence": 3}),
        ("p1", "2", {"stance": "favor", "frames": ["legality", "morality"], "confidence": 4}),
        ("p1", "3", {"stance": "against", "frames": ["legality"], "confidence": 5, "note": "hm"}),
    ]
    gold = gold_labels(make_tables(rows))
    assert list(gold.columns[:6]) == ["passage_id", "task_id", "article_id", "annotators", "source", "unresolved"]
    assert "note" not in gold.columns
    p1 = by_passage(gold).loc["p1"]
    assert p1["stance"] == "favor" and p1["frames"] == ["legality"]
    assert (p1["frame_legality"], p1["frame_morality"], p1["frame_economic"]) == (1, 0, 0)
    assert p1["confidence"] == 4
    assert (p1["source"], p1["unresolved"], p1["annotators"], p1["task_id"]) == ("majority", [], 3, 1)
    assert list(gold["stance"].cat.categories) == ["favor", "against", "neutral"]


def test_ties_are_unresolved():
    rows = [
        ("p2", "1", {"stance": "favor", "frames": ["legality", "morality"]}),
        ("p2", "2", {"stance": "against", "frames": ["morality"]}),
        ("p1", "1", {"stance": "neutral"}),
    ]
    gold = by_passage(gold_labels(make_tables(rows)))
    assert list(gold.index) == ["p1", "p2"]
    p2 = gold.loc["p2"]
    assert pd.isna(p2["stance"]) and pd.isna(p2["frame_legality"])
    assert p2["frames"] == ["morality"] and p2["frame_economic"] == 0
    assert p2["unresolved"] == ["stance", "frame_legality"]
    # nobody answered frames for p1: nothing to settle, nothing left open
    assert gold.loc["p1", "frames"] is None and gold.loc["p1", "unresolved"] == []


def test_ground_truth_overrides_every_question_it_answers():
    rows = [
        ("p1", "1", {"stance": "favor", "frames": ["legality"]}),
        ("p1", "2", {"stance": "favor", "frames": ["legality"]}),
        ("p1", "3", {"stance": "against", "ground_truth": True}),  # did not answer frames
        ("p2", "1", {"stance": "favor"}),
    ]
    gold = by_passage(gold_labels(make_tables(rows)))
    assert gold.loc["p1", "stance"] == "against" and gold.loc["p1", "frames"] == ["legality"]
    assert gold.loc["p1", "source"] == "ground_truth" and gold.loc["p2", "source"] == "majority"


def test_adjudicator_overrides_and_ground_truth_wins_over_it():
    rows = [
        ("p1", "1", {"stance": "favor", "frames": ["legality"]}),
        ("p1", "2", {"stance": "against", "frames": ["morality"]}),
        ("p1", "judge", {"stance": "neutral", "frames": ["economic"]}),
        ("p2", "1", {"stance": "favor"}),
        ("p2", "judge", {"stance": "against"}),
        ("p2", "3", {"stance": "neutral", "ground_truth": True}),
        ("p3", "1", {"stance": "favor"}),
    ]
    gold = by_passage(gold_labels(make_tables(rows), adjudicator="judge"))
    assert gold.loc["p1", "stance"] == "neutral" and gold.loc["p1", "frames"] == ["economic"]
    assert gold.loc["p1", "source"] == "adjudicator" and gold.loc["p1", "unresolved"] == []
    assert gold.loc["p2", "stance"] == "neutral" and gold.loc["p2", "source"] == "ground_truth"
    assert gold.loc["p3", "source"] == "majority"
    with pytest.raises(ValueError, match="adjudicator 'nobody' made no annotation"):
        gold_labels(make_tables(rows), adjudicator="nobody")


def test_unknown_rule():
    with pytest.raises(ValueError, match="unknown rule 'mean'"):
        gold_labels(make_tables([("p1", "1", {"stance": "favor"})]), rule="mean")


def test_dawid_skene_labels_every_passage_and_agrees_with_a_clear_majority():
    answers = {
        "p1": ["favor"] * 4 + ["against"],
        "p2": ["against"] * 5,
        "p3": ["neutral"] * 4 + ["favor"],
        "p4": ["favor", "against"],  # a tie the model settles
    }
    rows = [
        (passage, str(i), {"stance": stance, "frames": ["legality"] if i < 3 else []})
        for passage, stances in answers.items()
        for i, stance in enumerate(stances)
    ]
    tables = make_tables(rows)
    skene, majority = gold_labels(tables, rule="dawid-skene"), gold_labels(tables)
    assert skene["stance"].notna().all() and skene["frame_legality"].notna().all()
    assert (skene["source"] == "dawid-skene").all() and skene["unresolved"].map(len).eq(0).all()
    clear = ["p1", "p2", "p3"]
    assert list(by_passage(skene).loc[clear, "stance"]) == list(by_passage(majority).loc[clear, "stance"])
    assert list(by_passage(skene).loc[clear, "frame_legality"]) == list(
        by_passage(majority).loc[clear, "frame_legality"]
    )


def test_dawid_skene_without_crowd_kit_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "crowdkit", None)
    monkeypatch.setitem(sys.modules, "crowdkit.aggregation", None)
    with pytest.raises(ImportError, match=r"pip install 'framestance\[crowd\]'"):
        gold_labels(make_tables([("p1", "1", {"stance": "favor"})]), rule="dawid-skene")


def review_rows() -> list[tuple]:
    return [
        ("p1", "1", {"stance": "favor", "frames": ["legality"], "cues": [(0, 4, "frame_cue", "legality")]}),
        ("p1", "2", {"stance": "favor", "frames": ["legality", "morality"]}),
        ("p1", "3", {"stance": "favor", "frames": ["legality", "morality"]}),
        ("p1", "4", {"stance": "favor", "frames": ["legality"]}),
        ("p1", "5", {"stance": "favor"}),  # did not answer frames
        ("p2", "1", {"stance": "favor"}),
        ("p2", "2", {"stance": "against"}),
        ("p3", "1", {"stance": "neutral"}),
        ("p3", "2", {"stance": "neutral"}),
    ]


def test_review_tasks_only_for_unresolved_passages_one_prediction_per_annotator():
    tables = make_tables(review_rows())
    tasks = review_tasks(tables, gold_labels(tables))
    assert [t["data"]["text"] for t in tasks] == ["text p1", "text p2"]
    first, second = tasks
    assert first["data"]["review"] == "unresolved: frame_morality"
    assert second["data"]["review"] == "unresolved: stance"
    assert [p["model_version"] for p in first["predictions"]] == ["1", "2", "3", "4", "5"]
    assert [p["model_version"] for p in second["predictions"]] == ["1", "2"]
    # on frame_morality each of 1..4 agrees with one of the three others who answered; 5 did not answer
    assert [p["score"] for p in first["predictions"]] == pytest.approx([1 / 3, 1 / 3, 1 / 3, 1 / 3, 0.0])
    assert [p["score"] for p in second["predictions"]] == [0.0, 0.0]
    result = first["predictions"][0]["result"]
    assert result[0] == {
        "id": "1_stance",
        "from_name": "stance",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["favor"]},
    }
    assert result[1]["from_name"] == "frames" and result[1]["value"] == {"choices": ["legality"]}
    span = next(item for item in result if item["type"] == "labels")
    assert span["from_name"] == "cues"
    assert span["value"] == {"start": 0, "end": 4, "text": "xxxx", "labels": ["frame_cue"]}
    frame = next(item for item in result if item["from_name"] == "cue_frame")
    assert frame["id"] == span["id"] and frame["value"]["choices"] == ["legality"]
    json.dumps(tasks)  # ready to import


def test_review_tasks_built_with_the_labeling_config_match_plain_ones():
    codebook = load_codebook(shipped_codebooks()["starter"])
    questions = questions_from_codebook(codebook)
    rename = {"stance": "stance_the_government"}
    rows = [(p, a, {rename.get(k, k): v for k, v in answers.items()}) for p, a, answers in review_rows()]
    tables = make_tables(rows, questions)
    gold = gold_labels(tables, codebook)
    plain = review_tasks(tables, gold)
    built = review_tasks(tables, gold, build_label_config(codebook))
    assert built == plain and len(built) == 2


def test_review_tasks_reject_labels_the_config_lacks():
    codebook = load_codebook(shipped_codebooks()["starter"])
    questions = {
        **questions_from_codebook(codebook),
        "stance_the_government": Question("stance_the_government", SINGLE, ("maybe", "favor")),
    }
    rows = [("p1", "1", {"stance_the_government": "maybe"}), ("p1", "2", {"stance_the_government": "favor"})]
    tables = make_tables(rows, questions)
    with pytest.raises(ValueError, match="not defined in labeling config"):
        review_tasks(tables, gold_labels(tables), build_label_config(codebook))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(QUESTIONS["stance"].labels),
            st.lists(st.sampled_from(FRAMES), unique=True),
            st.integers(1, 5),
            st.integers(1, 4),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_when_everyone_agrees_gold_is_their_answer(passages):
    rows = [
        (f"p{i}", f"a{j}", {"stance": stance, "frames": frames, "confidence": rating})
        for i, (stance, frames, rating, annotators) in enumerate(passages, start=1)
        for j in range(annotators)
    ]
    gold = gold_labels(make_tables(rows))
    assert gold["unresolved"].map(len).eq(0).all()
    for (stance, frames, rating, annotators), (_, settled) in zip(passages, gold.iterrows(), strict=True):
        assert settled["stance"] == stance and settled["confidence"] == rating
        assert settled["frames"] == [f for f in FRAMES if f in frames]
        assert all(settled[indicator_column("frames", f)] == int(f in frames) for f in FRAMES)
        assert settled["annotators"] == annotators and settled["source"] == "majority"
