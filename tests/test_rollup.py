"""Roll-up of scored passages to articles and sources: shares, counts and credible intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import beta

from annotation.codebook import load_codebook, shipped_codebooks
from models.rollup import group_sums, rolled_questions, rollup, with_group

CODEBOOK = load_codebook(shipped_codebooks()["soleimani_2020"])
STANCE = ["favor", "against", "neutral", "not_addressed"]


def scored(rows: list[tuple[str, str, list[float], list[str]]]) -> pd.DataFrame:
    """A suggestion table: article, source, US-government stance probabilities, and the frames chosen."""
    table = pd.DataFrame(
        {
            "passage_id": [f"{a}:{i:02d}" for i, (a, *_) in enumerate(rows)],
            "article_id": [r[0] for r in rows],
            "source": [r[1] for r in rows],
            "title": [f"Title of {r[0]}" for r in rows],
        }
    )
    probabilities = np.array([r[2] for r in rows], dtype=float)
    table["stance_us_government"] = [STANCE[i] for i in probabilities.argmax(axis=1)]
    for j, label in enumerate(STANCE):
        table[f"stance_us_government__{label}"] = probabilities[:, j]
    table["frames"] = [r[3] for r in rows]
    table["frames__security_defense"] = [0.9 if "security_defense" in r[3] else 0.2 for r in rows]
    table["frames__morality"] = [0.7 if "morality" in r[3] else 0.1 for r in rows]
    return table


ROWS = [
    ("a", "Ledger", [0.7, 0.1, 0.1, 0.1], ["security_defense"]),
    ("a", "Ledger", [0.5, 0.3, 0.1, 0.1], ["security_defense", "morality"]),
    ("a", "Ledger", [0.1, 0.6, 0.2, 0.1], []),
    ("b", "Review", [0.1, 0.8, 0.05, 0.05], ["morality"]),
]


def test_shares_are_expected_counts_over_passages_with_jeffreys_intervals():
    shares = rollup(scored(ROWS), CODEBOOK, level=0.9)
    favor_a = shares[(shares.article_id == "a") & (shares.label == "favor")].iloc[0]
    assert favor_a["question"] == "stance_us_government" and favor_a["target"] == "us_government"
    assert favor_a["passages"] == 3 and favor_a["count"] == 2
    assert favor_a["expected"] == pytest.approx(1.3)
    assert favor_a["share"] == pytest.approx(1.3 / 3)
    assert favor_a["low"] == pytest.approx(beta.ppf(0.05, 1.8, 2.2))
    assert favor_a["high"] == pytest.approx(beta.ppf(0.95, 1.8, 2.2))
    assert favor_a["label_name"] == "Favor"
    # The shares of a single-choice question add up to one per article.
    stance = shares[shares.question == "stance_us_government"].groupby("article_id")["share"].sum()
    assert stance.to_numpy() == pytest.approx([1.0, 1.0])
    assert (shares["low"] <= shares["share"]).all() and (shares["share"] <= shares["high"]).all()


def test_frames_count_each_passage_that_uses_the_frame():
    shares = rollup(scored(ROWS), CODEBOOK).set_index(["article_id", "question", "label"])
    assert shares.loc[("a", "frames", "security_defense"), "count"] == 2
    assert shares.loc[("a", "frames", "morality"), "count"] == 1
    assert shares.loc[("a", "frames", "security_defense"), "expected"] == pytest.approx(0.9 + 0.9 + 0.2)
    assert shares.loc[("b", "frames", "morality"), "share"] == pytest.approx(0.7)
    # Only the labels the table has columns for: no primary frame, two frames, one target.
    assert set(shares.index.get_level_values("question")) == {"stance_us_government", "frames"}


def test_an_interval_is_wide_on_few_passages_and_narrow_on_many():
    few = rollup(scored(ROWS[:1]), CODEBOOK)
    many = rollup(scored(ROWS[:1] * 400), CODEBOOK)
    width = [(f["high"] - f["low"]).iloc[0] for f in (few, many)]
    assert width[0] > 0.5 and width[1] < 0.1
    # A share of exactly 0 or 1 keeps 0 or 1 as its bound.
    certain = rollup(scored([("c", "X", [1.0, 0.0, 0.0, 0.0], [])]), CODEBOOK)
    favor = certain[certain.label == "favor"].iloc[0]
    against = certain[certain.label == "against"].iloc[0]
    assert favor["high"] == 1.0 and against["low"] == 0.0


def test_by_source_and_by_several_columns():
    by_source = rollup(scored(ROWS), CODEBOOK, by="source")
    assert set(by_source["source"]) == {"Ledger", "Review"}
    both = rollup(scored(ROWS), CODEBOOK, by=["source", "article_id"])
    assert list(both.columns[:2]) == ["source", "article_id"]
    with pytest.raises(ValueError, match=r"cannot roll up by \['outlet'\]"):
        rollup(scored(ROWS), CODEBOOK, by="outlet")
    with pytest.raises(ValueError, match="nothing to roll up"):
        rollup(scored(ROWS)[["passage_id", "article_id"]], CODEBOOK)


def test_a_missing_source_falls_back_to_the_title():
    table = scored(ROWS).assign(source=["Ledger", "", None, "Review"])
    grouped = with_group(table)
    assert list(grouped["group"]) == ["Ledger", "Title of a", "Title of a", "Review"]
    # Grouping on a column with empty values keeps those rows as their own group.
    shares = rollup(table, CODEBOOK, by="source")
    assert shares.groupby("source")["passages"].first().to_dict() == {"": 2, "Ledger": 1, "Review": 1}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, len(ROWS) - 1), min_size=2, max_size=30), st.integers(1, 29))
def test_sums_of_parts_equal_the_sums_of_the_whole(picks, cut):
    """What lets the roll-up run partition by partition (Dask): group sums add up across any split."""
    table = scored([ROWS[i] for i in picks])
    cut = min(cut, len(table) - 1)
    questions = rolled_questions(table.columns, CODEBOOK)
    whole = group_sums(table, questions, ["article_id"]).groupby("article_id").sum()
    parts = pd.concat([group_sums(p, questions, ["article_id"]) for p in (table[:cut], table[cut:])])
    pd.testing.assert_frame_equal(parts.groupby("article_id").sum(), whole)
