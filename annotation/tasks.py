"""Label Studio tasks: one per passage, with the article's details and the neighbouring passages."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from annotation.articles import Article, Skipped, read_articles
from annotation.codebook import Codebook
from annotation.mentions import find_mentions, mentions_line
from annotation.passages import MAX_WORDS, MIN_WORDS, split_passages

DATA_KEYS = (
    "text",
    "title",
    "source",
    "url",
    "date",
    "source_line",
    "mentions",
    "mentions_line",
    "article_id",
    "passage_id",
    "passage_hash",
    "position",
    "start",
    "end",
    "context_before",
    "context_after",
    "file",
    "row",
)


def passage_hash(text: str) -> str:
    """A short fingerprint of a passage's text, so an edited passage is noticed on re-import."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def passage_id(article_id: str, position: int) -> str:
    """The stable id of the passage at `position` in an article."""
    return f"{article_id}:{position:02d}"


def source_line(article: Article) -> str:
    """The outlet and date as the labeling page shows them under the title.

    The page cannot show `source` itself: Label Studio's editor puts the whole task in `$source`.
    """
    return " · ".join(part for part in (article.source, article.date) if part)


def build_tasks(
    articles: Iterable[Article],
    codebook: Codebook | None = None,
    min_words: int = MIN_WORDS,
    max_words: int = MAX_WORDS,
) -> list[dict]:
    """Label Studio tasks (`{"data": {...}}`) for every passage of every article.

    With a codebook, each task carries where its targets are named (`mentions`: target id → `[start, end]`
    spans in `text`) and the line the labeling page shows about them (`mentions_line`).
    """
    tasks = []
    for article in articles:
        passages = split_passages(article.text, min_words, max_words)
        for i, passage in enumerate(passages):
            mentions = find_mentions(passage.text, codebook) if codebook is not None else {}
            data = {
                "text": passage.text,
                "title": article.title,
                "source": article.source,
                "url": article.url,
                "date": article.date,
                "source_line": source_line(article),
                "mentions": mentions,
                "mentions_line": mentions_line(mentions, codebook) if codebook is not None else "",
                "article_id": article.id,
                "passage_id": passage_id(article.id, passage.position),
                "passage_hash": passage_hash(passage.text),
                "position": passage.position,
                "start": passage.start,
                "end": passage.end,
                "context_before": passages[i - 1].text if i > 0 else "",
                "context_after": passages[i + 1].text if i + 1 < len(passages) else "",
                "file": article.file,
                "row": article.row,
            }
            if codebook is not None:
                data["codebook"] = codebook.ref
            tasks.append({"data": data})
    return tasks


@dataclass
class TaskRun:
    """Tasks made from a set of files, with the articles they came from and what was skipped."""

    tasks: list[dict]
    articles: list[Article]
    skipped: list[Skipped]

    def summary(self) -> list[str]:
        """Lines that say what was read, made and skipped."""
        lines = [f"{len(self.articles)} articles → {len(self.tasks)} passages"]
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)}:")
            lines += [f"  {item}" for item in self.skipped]
        return lines


def tasks_from_files(
    paths: Iterable[str | Path],
    codebook: Codebook | None = None,
    min_words: int = MIN_WORDS,
    max_words: int = MAX_WORDS,
    relative_to: str | Path | None = None,
) -> TaskRun:
    """Read the articles in `paths` and cut them into tasks (see `read_articles` for `relative_to`)."""
    articles, skipped = read_articles(paths, relative_to)
    return TaskRun(build_tasks(articles, codebook, min_words, max_words), articles, skipped)


def write_tasks(tasks: list[dict], path: str | Path) -> None:
    """Write tasks as a Label Studio import file (a JSON list, UTF-8)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
