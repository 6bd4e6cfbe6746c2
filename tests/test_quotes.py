"""Passages quoted beside the figures."""

from __future__ import annotations

import pandas as pd
import pytest

from annotation.codebook import load_codebook, shipped_codebooks
from models.quotes import confident_passages, passages_with

CODEBOOK = load_codebook(shipped_codebooks()["soleimani_2020"])


def test_passages_with_matches_whole_words_and_quotes_around_them():
    passages = pd.DataFrame(
        {
            "passage_id": ["a:00", "a:01", "b:00", "b:01"],
            "source": ["Ledger", "Ledger", "Review", "Review"],
            "text": [
                "Officials called the elimination a decisive blow.",
                "Eliminations of this kind are rare.",
                "word " * 40 + "An Assassination nobody voted for " + "tail " * 40,
                None,
            ],
        }
    )
    found = passages_with(passages, ["elimination", "assassination", "absent"], group="source")
    assert list(found["passage_id"]) == ["a:00", "b:00"]
    assert list(found.columns) == ["word", "source", "passage_id", "quote"]
    assert found.iloc[0]["quote"] == "Officials called the **elimination** a decisive blow."
    long = found.iloc[1]["quote"]
    assert long.startswith("…") and long.endswith("…") and "**Assassination**" in long
    assert len(long) < 2 * 90 + 30


def test_confident_passages_pick_the_surest_side_per_article_and_target():
    table = pd.DataFrame(
        {
            "article_id": ["a", "a", "b"],
            "title": ["A", "A", "B"],
            "position": [0, 1, 0],
            "passage_id": ["a:00", "a:01", "b:00"],
            "text": ["one", "two", "three"],
            "stance_us_government__favor": [0.2, 0.7, 0.1],
            "stance_us_government__against": [0.6, 0.1, 0.3],
            "stance_us_government__neutral": [0.2, 0.2, 0.6],
        }
    )
    top = confident_passages(table, CODEBOOK)
    assert list(zip(top.article_id, top.passage_id, top.label, strict=True)) == [
        ("a", "a:01", "favor"),
        ("b", "b:00", "against"),
    ]
    assert top.iloc[0]["probability"] == pytest.approx(0.7)
    assert len(confident_passages(table, CODEBOOK, per_article=2)) == 3
    with pytest.raises(ValueError, match="no stance probabilities"):
        confident_passages(table.drop(columns=[c for c in table if "__" in c]), CODEBOOK)
