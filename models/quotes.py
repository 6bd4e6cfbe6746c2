"""Passages to read beside the figures: the ones the model is surest take a side, and the ones where a word
occurs, quoted around it."""

from __future__ import annotations

import re

import pandas as pd

from annotation.codebook import Codebook

WIDTH = 90


def confident_passages(
    scored: pd.DataFrame, codebook: Codebook, per_article: int = 1, labels: tuple[str, ...] = ("favor", "against")
) -> pd.DataFrame:
    """Per article and target, the passages most probably taking a side (`labels`), surest first.

    `scored` is a suggestion table with a `text` column. Columns: `article_id`, `title`, `target`, `label`,
    `probability`, `position`, `passage_id`, `text`.
    """
    rows = []
    for control, target in codebook.stance_controls.items():
        columns = [f"{control}__{label}" for label in labels if f"{control}__{label}" in scored]
        if not columns:
            continue
        probabilities = scored[columns]
        best = probabilities.idxmax(axis=1)
        part = scored[["article_id", "title", "position", "passage_id", "text"]].assign(
            target=target.id,
            label=best.str.split("__").str[1],
            probability=probabilities.max(axis=1),
        )
        rows.append(part)
    if not rows:
        raise ValueError("no stance probabilities in the table: the model answers no stance question")
    found = pd.concat(rows, ignore_index=True).sort_values(
        ["article_id", "target", "probability"], ascending=[True, True, False]
    )
    top = found.groupby(["article_id", "target"], sort=False).head(per_article)
    return top[["article_id", "title", "target", "label", "probability", "position", "passage_id", "text"]].reset_index(
        drop=True
    )


def passages_with(
    passages: pd.DataFrame, words, group: str | None = None, per_word: int = 2, width: int = WIDTH
) -> pd.DataFrame:
    """Up to `per_word` passages per word (and per `group` value, when given) that use the word, quoted
    `width` characters either side of its first use, the word in **bold**.

    Columns: `word`, the group column when given, `passage_id`, `quote`. Words are matched whole, ignoring case.
    """
    rows = []
    for word in words:
        pattern = re.compile(rf"(?<![\w'’-]){re.escape(word)}(?![\w'’-])", re.IGNORECASE)
        found = passages[passages["text"].fillna("").str.contains(pattern)]
        chosen = found.groupby(group, sort=False).head(per_word) if group else found.head(per_word)
        for _, row in chosen.iterrows():
            match = pattern.search(row["text"])
            rows.append(
                {
                    "word": word,
                    **({group: row[group]} if group else {}),
                    "passage_id": row["passage_id"],
                    "quote": _quote(row["text"], match.start(), match.end(), width),
                }
            )
    return pd.DataFrame(rows, columns=["word", *([group] if group else []), "passage_id", "quote"])


def _quote(text: str, start: int, end: int, width: int) -> str:
    """The text around [start, end), cut at word boundaries, the match in bold."""
    left = text[max(0, start - width) : start]
    right = text[end : end + width]
    if start > width:
        left = "…" + left.split(" ", 1)[-1]
    if end + width < len(text):
        right = right.rsplit(" ", 1)[0] + "…"
    return f"{left}**{text[start:end]}**{right}".replace("\n", " ")
