"""The weighted log-odds ratio with an informative Dirichlet prior."""

from __future__ import annotations

import math

import pytest

from models.logodds import log_odds


def test_the_estimate_follows_monroe_colaresi_and_quinn():
    texts = ["strike strike deterrence", "assassination strike"]
    scores = log_odds(texts, ["A", "B"]).set_index(["group", "word"])
    # Counts: A = strike 2, deterrence 1 (3 words); B = assassination 1, strike 1 (2 words). The prior is the
    # pooled counts: strike 3, deterrence 1, assassination 1; a0 = 5.
    y_a, y_b, alpha, n_a, n_b, a0 = 2, 1, 3, 3, 2, 5
    delta = math.log((y_a + alpha) / (n_a + a0 - y_a - alpha)) - math.log((y_b + alpha) / (n_b + a0 - y_b - alpha))
    se = math.sqrt(1 / (y_a + alpha) + 1 / (y_b + alpha))
    row = scores.loc[("A", "strike")]
    assert (row["count"], row["count_rest"], row["frequency"]) == (2, 1, 3)
    assert row["log_odds"] == pytest.approx(delta)
    assert row["se"] == pytest.approx(se)
    assert row["z"] == pytest.approx(delta / se)


def test_two_groups_mirror_each_other_and_a_group_owns_its_words():
    texts = [
        "The elimination of the commander was a decisive blow to the regime.",
        "The elimination showed deterrence works; the regime flinched.",
        "The assassination of the general was an illegal act of war.",
        "An assassination nobody voted for, an illegal war of choice.",
    ]
    scores = log_odds(texts, ["Ledger", "Ledger", "Review", "Review"])
    ledger = scores[scores.group == "Ledger"].set_index("word")
    review = scores[scores.group == "Review"].set_index("word")
    assert ledger["z"].to_dict() == pytest.approx((-review["z"]).to_dict())
    assert ledger.loc["elimination", "z"] > 0 > ledger.loc["assassination", "z"]
    # A word both use alike sits near zero; rows come largest z first.
    assert abs(ledger.loc["the", "z"]) < ledger.loc["elimination", "z"]
    assert list(scores[scores.group == "Ledger"]["z"]) == sorted(ledger["z"], reverse=True)


def test_more_evidence_gives_a_larger_z():
    small = log_odds(["drone strike", "protest"], ["A", "B"]).set_index(["group", "word"])
    large = log_odds(["drone strike " * 10, "protest " * 10], ["A", "B"]).set_index(["group", "word"])
    assert large.loc[("A", "drone"), "z"] > small.loc[("A", "drone"), "z"] > 0


def test_words_keep_abbreviations_hyphens_and_apostrophes():
    scores = log_odds(["The U.S. hit al-Muhandis and Iran's general in 2020.", "Quiet day."], ["A", "B"])
    words = set(scores["word"])
    assert {"u.s.", "al-muhandis", "iran's"} <= words
    assert "2020" not in words and "u" not in words


def test_three_groups_each_against_the_rest_and_a_background_prior():
    texts = ["war war war", "peace peace", "trade trade trade trade"]
    scores = log_odds(texts, ["A", "B", "C"], background=["war peace trade " * 50], prior_strength=30)
    assert list(dict.fromkeys(scores["group"])) == ["A", "B", "C"]
    for group, word in (("A", "war"), ("B", "peace"), ("C", "trade")):
        assert scores[scores.group == group].iloc[0]["word"] == word
    rare = log_odds(["war war", "peace"], ["A", "B"], min_count=2)
    assert set(rare["word"]) == {"war"}


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="two or more groups"):
        log_odds(["a text", "another"], ["A", "A"])
    with pytest.raises(ValueError, match="one group per text: 2 texts, 1 groups"):
        log_odds(["a text", "another"], ["A"])
    with pytest.raises(ValueError, match="no words"):
        log_odds(["123", "456"], ["A", "B"])
    with pytest.raises(ValueError, match="prior_strength must be positive"):
        log_odds(["war", "peace"], ["A", "B"], prior_strength=0)
