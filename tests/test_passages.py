"""Passages: paragraphs, with short ones merged and long ones cut at sentence ends, offsets always exact."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotation.cleaning import words
from annotation.passages import split_passages


def sentence(n: int, word: str = "word") -> str:
    return " ".join([word.capitalize()] + [word] * (n - 1)) + "."


def test_each_paragraph_of_fitting_length_is_a_passage():
    paragraphs = [sentence(40), sentence(50), sentence(60)]
    text = "\n\n".join(paragraphs)
    passages = split_passages(text)
    assert [p.text for p in passages] == paragraphs
    assert [p.position for p in passages] == [0, 1, 2]
    assert passages[1].start == len(paragraphs[0]) + 2


def test_short_paragraph_joins_the_next_and_a_short_last_one_joins_the_previous():
    text = "\n\n".join(["A short heading.", sentence(40), sentence(40), "The end."])
    passages = split_passages(text)
    assert len(passages) == 2
    assert passages[0].text.startswith("A short heading.\n\n")
    assert passages[1].text.endswith("\n\nThe end.")


def test_long_paragraph_is_cut_at_sentence_ends_not_after_abbreviations():
    body = " ".join(
        [
            "The U.S. Secretary of State spoke in Washington on Jan. 3 about the strike.",
            *[sentence(25, "talk") for _ in range(12)],
            "Mr. Smith of the U.N. General Assembly disagreed with him.",
        ]
    )
    passages = split_passages(body, max_words=100)
    assert len(passages) == 4
    assert all(len(words(p.text)) <= 100 for p in passages)
    assert all(p.text.endswith(".") for p in passages)
    assert not any(p.text.startswith(("Secretary", "Smith", "General", "3 about")) for p in passages)


def test_one_sentence_longer_than_the_bound_stays_whole():
    text = sentence(300)
    assert [p.text for p in split_passages(text, max_words=100)] == [text]


def test_bounds_are_checked():
    with pytest.raises(ValueError, match="min_words"):
        split_passages("text", min_words=50, max_words=10)


PARAGRAPH = st.lists(st.integers(1, 60), min_size=1, max_size=12).map(
    lambda lengths: " ".join(sentence(n) for n in lengths)
)


@settings(max_examples=100, deadline=None)
@given(st.lists(PARAGRAPH, min_size=1, max_size=10), st.integers(1, 60), st.integers(60, 300))
def test_passages_cover_the_article_exactly(paragraphs, min_words, max_words):
    text = "\n\n".join(paragraphs)
    passages = split_passages(text, min_words, max_words)
    assert all(text[p.start : p.end] == p.text for p in passages)
    assert all(a.end <= b.start for a, b in itertools.pairwise(passages))
    assert [w for p in passages for w in words(p.text)] == words(text)
    if len(passages) > 1:
        assert all(len(words(p.text)) >= min_words for p in passages)
