"""The gate: a question is pre-filled only when the model beats the baselines, and the reason says so."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from annotation.codebook import load_codebook, shipped_codebooks
from annotation.convert import read_export
from annotation.sample import EXAMPLE_CODEBOOK, sample_file
from models.evaluation import compare_answers, multi_label_scores, single_label_scores
from models.training import evaluate, prefill_questions, train

CODEBOOK_PATH = shipped_codebooks()[EXAMPLE_CODEBOOK]
CODEBOOK = load_codebook(CODEBOOK_PATH)
CODEBOOK_TEXT = CODEBOOK_PATH.read_text(encoding="utf-8")
RANDOM_STANCE = "stance_iranian_opposition"
FRAME_COLUMNS = ["frames", *(f"frame_{frame.id}" for frame in CODEBOOK.frames)]


def relabeled(tables, columns: list[str], seed: int = 3):
    """The tables with the answers in `columns` moved to other passages at random: labels that say nothing
    about the text, in the same proportions, given alike by every annotator of a passage."""
    annotations = tables.annotations.copy()
    first = annotations.drop_duplicates("passage_id").set_index("passage_id")[columns]
    shuffled = first.iloc[np.random.default_rng(seed).permutation(len(first))].set_axis(first.index)
    rows = annotations["passage_id"]
    for column in columns:
        annotations[column] = rows.map(shuffled[column]).to_numpy()
    return dataclasses.replace(tables, annotations=annotations)


@pytest.fixture(scope="module")
def tables():
    return read_export(sample_file("export.json"), codebook=CODEBOOK)


@pytest.fixture(scope="module")
def at_chance(tables):
    """A model trained where one target's stance and the frames are random with respect to the text."""
    noisy = relabeled(relabeled(tables, [RANDOM_STANCE]), FRAME_COLUMNS, seed=4)
    return train(noisy, CODEBOOK, CODEBOOK_TEXT, seed=1)


def test_a_question_at_chance_is_not_prefilled_and_the_reason_names_the_baseline(at_chance):
    model, _ = at_chance
    counts = model.card["training_data"]["label_counts"]["stance"]["per_target"]["iranian_opposition"]
    common = max(counts, key=counts.get)
    name = next(label.name for label in CODEBOOK.stance if label.id == common)
    passed, reason = prefill_questions(model)[RANDOM_STANCE]
    assert not passed
    assert reason.startswith(f"not better than always answering '{name}' (the most common stance")
    assert "difference" in reason
    decision = model.card["gate"][RANDOM_STANCE]
    assert decision["prefill"] is False and decision["difference"][1] <= 0
    assert decision["metric"] in ("accuracy", "macro_f1")


def test_frames_at_chance_are_not_prefilled(at_chance):
    model, _ = at_chance
    passed, reason = prefill_questions(model)["frames"]
    assert not passed
    assert "always choosing the frame '" in reason and "the most common frame" in reason


def test_a_learnable_question_is_prefilled_with_its_figures(at_chance):
    model, evaluation = at_chance
    for question in ("stance_iranian_government", "primary_frame"):
        passed, reason = prefill_questions(model)[question]
        assert passed, reason
        decision = model.card["gate"][question]
        assert reason.startswith("macro-F1 ") and " vs " in reason and ": difference +" in reason
        assert all(check["difference"][1] > 0 for check in decision["checks"].values())
        assert set(decision["checks"]) == {"accuracy", "macro_f1"}
    assert evaluation["gate"] == model.card["gate"]
    assert set(model.card["gate"]) == {*CODEBOOK.stance_controls, "frames", "primary_frame"}


def test_baselines_stand_beside_the_model_with_intervals(at_chance):
    _, evaluation = at_chance
    scores = evaluation["questions"]["stance_iranian_government"]
    assert set(scores["baselines"]) == {"most_common", "most_common_per_target"}
    assert scores["baselines"]["most_common_per_target"]["description"] == "the most common stance for this target"
    for who in ("model", "most_common", "most_common_per_target"):
        for metric in ("accuracy", "macro_f1", "f_avg"):
            low, high = scores["intervals"][who][metric]
            point = scores[metric] if who == "model" else scores["baselines"][who][metric]
            assert low <= point <= high
    difference = scores["difference"]["accuracy"]
    better = difference["baseline"]
    assert difference["value"] == pytest.approx(scores["accuracy"] - scores["baselines"][better]["accuracy"])
    assert scores["bootstrap"]["replicates"] == 1000 and scores["bootstrap"]["articles"] > 10
    frames = evaluation["questions"]["frames"]
    assert set(frames["baselines"]) == {"most_common"} and "per target" in frames["baseline_note"]
    assert set(frames["difference"]) == {"micro_f1", "macro_f1"}


def test_held_out_baselines_come_from_the_training_label_counts(at_chance, tables):
    model, _ = at_chance
    evaluation = evaluate(model, tables)
    counts = model.card["training_data"]["label_counts"]["stance"]["per_target"]["iranian_government"]
    baseline = evaluation["questions"]["stance_iranian_government"]["baselines"]["most_common_per_target"]
    assert baseline["answer"] == max(counts, key=counts.get)
    assert evaluation["method"] == "held-out labels" and set(evaluation["gate"]) == set(model.card["gate"])


def test_a_model_from_before_the_gate_prefills_nothing(at_chance):
    model, _ = at_chance
    old = dataclasses.replace(model, card={k: v for k, v in model.card.items() if k != "gate"})
    decisions = prefill_questions(old)
    assert set(decisions) == {*CODEBOOK.stance_controls, "frames", "primary_frame"}
    assert all(not passed and "retrain to evaluate" in reason for passed, reason in decisions.values())


def test_skipped_and_single_article_questions_do_not_pass(tables):
    one = tables.annotations["article_id"] == tables.annotations["article_id"].iloc[0]
    model, evaluation = train(dataclasses.replace(tables, annotations=tables.annotations[one]), CODEBOOK, CODEBOOK_TEXT)
    decisions = prefill_questions(model)
    assert not any(passed for passed, _ in decisions.values())
    for control in CODEBOOK.stance_controls:
        assert "single article" in decisions[control][1]
    for question in ("frames", "primary_frame"):
        if question in evaluation["skipped"]:
            assert decisions[question][1].startswith("not trained: only")


def test_bootstrap_figures_are_the_same_as_the_scores():
    rng = np.random.default_rng(0)
    labels = ["favor", "against", "neutral", "not_addressed"]
    truth = list(rng.choice(labels, 500))
    predicted = [t if rng.random() < 0.6 else rng.choice(labels) for t in truth]
    groups = list(rng.integers(0, 60, 500))
    compared = compare_answers(truth, {"model": predicted, "constant": ["neutral"] * 500}, groups, labels, False, 0)
    expected = single_label_scores(truth, predicted, labels)
    for metric in ("accuracy", "macro_f1", "f_avg"):
        assert compared["scores"]["model"][metric] == pytest.approx(expected[metric])
    frames = ["a", "b", "c"]
    gold = [list(rng.choice(frames, rng.integers(0, 3), replace=False)) for _ in range(500)]
    chosen = [list(rng.choice(frames, rng.integers(0, 3), replace=False)) for _ in range(500)]
    compared = compare_answers(gold, {"model": chosen, "one": [["a"]] * 500}, groups, frames, True, 0)
    expected = multi_label_scores(
        np.array([[f in row for f in frames] for row in gold], dtype=int),
        np.array([[f in row for f in frames] for row in chosen], dtype=int),
        frames,
    )
    assert compared["scores"]["model"]["micro_f1"] == pytest.approx(expected["micro_f1"])
    assert compared["scores"]["model"]["macro_f1"] == pytest.approx(expected["macro_f1"])
