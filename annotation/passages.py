"""Passages: the units annotators label, cut from an article's paragraphs.

A paragraph is a passage. A very short one (a one-line paragraph, a subheading) joins the paragraph after
it, or the one before when it is the last; a very long one is cut at sentence ends into pieces of
similar length. Offsets always point into the article text the passages were cut from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from annotation.cleaning import words

MIN_WORDS = 30
MAX_WORDS = 200

PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# A sentence ends at . ! ? or … (perhaps followed by closing quotes) before a space and a capital or digit.
SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)\]]*(?=\s+[\"“‘(\[]?[A-Z0-9])")
# Abbreviations whose full stop does not end a sentence.
ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Gen|Col|Lt|Sgt|Capt|Gov|Sen|Rep|Rev|St|Jr|Sr|No|vs|etc|e\.g|i\.e|Jan|Feb|Mar"
    r"|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)|\b[A-Z]|(?:\b[A-Z]\.)+[A-Z])\.$"
)


@dataclass(frozen=True)
class Passage:
    """A stretch of an article: its text and where it stands."""

    text: str
    start: int
    end: int
    position: int


def split_passages(text: str, min_words: int = MIN_WORDS, max_words: int = MAX_WORDS) -> list[Passage]:
    """Cut an article into passages of `min_words` to `max_words` words where its paragraphs allow."""
    if min_words < 1 or max_words < min_words:
        raise ValueError(f"need 1 <= min_words <= max_words, got {min_words} and {max_words}")
    spans = _merge_short(_paragraph_spans(text), text, min_words)
    pieces = [piece for span in spans for piece in _split_long(span, text, min_words, max_words)]
    return [Passage(text[start:end], start, end, i) for i, (start, end) in enumerate(pieces)]


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for gap in [*PARAGRAPH_BREAK.finditer(text), None]:
        end = gap.start() if gap else len(text)
        chunk = text[start:end]
        if chunk.strip():
            lead = len(chunk) - len(chunk.lstrip())
            spans.append((start + lead, start + len(chunk.rstrip())))
        if gap:
            start = gap.end()
    return spans


def _count(text: str, span: tuple[int, int]) -> int:
    return len(words(text[span[0] : span[1]]))


def _merge_short(spans: list[tuple[int, int]], text: str, min_words: int) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    pending: tuple[int, int] | None = None  # short paragraphs waiting for the next one
    for span in spans:
        if pending:
            span = (pending[0], span[1])
            pending = None
        if _count(text, span) < min_words:
            pending = span
        else:
            merged.append(span)
    if pending:
        if merged:
            merged[-1] = (merged[-1][0], pending[1])
        else:
            merged.append(pending)
    return merged


def _sentence_ends(chunk: str) -> list[int]:
    return [m.end() for m in SENTENCE_END.finditer(chunk) if not ABBREVIATION.search(chunk[: m.start()][-12:])]


def _split_long(span: tuple[int, int], text: str, min_words: int, max_words: int) -> list[tuple[int, int]]:
    total = _count(text, span)
    if total <= max_words:
        return [span]
    chunk = text[span[0] : span[1]]
    ends = _sentence_ends(chunk)
    if not ends:
        return [span]
    parts = -(-total // max_words)  # as few pieces as the bound allows, of similar length
    target = max(total / parts, min_words)
    pieces, start = [], 0
    for end in ends:
        if len(pieces) == parts - 1:
            break
        # Cut here if the piece is long enough and what remains is not too short to stand alone.
        if len(words(chunk[start:end])) >= target and len(words(chunk[end:])) >= min_words:
            pieces.append((start, end))
            start = end
    pieces.append((start, len(chunk)))
    out = []
    for a, b in pieces:
        piece = chunk[a:b]
        lead = len(piece) - len(piece.lstrip())
        out.append((span[0] + a + lead, span[0] + a + len(piece.rstrip())))
    return out
