"""Articles read from files: copied page text, HTML pages, and JSONL or CSV collections.

Every input either becomes an `Article` or is listed in `Skipped` with the file, the row and the reason,
so one bad file or row never stops the others.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from annotation.cleaning import clean_page

SUFFIXES = (".txt", ".html", ".htm", ".jsonl", ".csv")
META_FIELDS = ("id", "title", "source", "url", "date")


@dataclass(frozen=True)
class Article:
    """One article's cleaned body and what is known about it."""

    id: str
    text: str  # paragraphs separated by one blank line
    title: str = ""
    source: str = ""
    url: str = ""
    date: str = ""
    file: str = ""
    row: int | None = None


@dataclass(frozen=True)
class Skipped:
    """An input that did not become an article, and why."""

    file: str
    row: int | None
    reason: str

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file}, row {self.row}"
        return f"{where}: {self.reason}"


class InputError(ValueError):
    """A file or row that cannot be read as an article."""


def read_articles(
    paths: Iterable[str | Path], relative_to: str | Path | None = None
) -> tuple[list[Article], list[Skipped]]:
    """Read every article in `paths`; return the articles and what was skipped, with reasons.

    A folder stands for the article files directly in it, in name order. Articles record the file they came
    from as given, or relative to `relative_to`.
    """
    articles: list[Article] = []
    skipped: list[Skipped] = []
    seen: dict[str, Article] = {}
    for path in _expand(paths):
        for item in _read_file(Path(path), relative_to):
            if isinstance(item, Skipped):
                skipped.append(item)
            elif item.id in seen:
                first = seen[item.id]
                where = first.file if first.row is None else f"{first.file}, row {first.row}"
                skipped.append(Skipped(item.file, item.row, f"duplicate article id {item.id!r} (first in {where})"))
            else:
                seen[item.id] = item
                articles.append(item)
    return articles, skipped


def _expand(paths: Iterable[str | Path]) -> Iterator[Path]:
    for path in map(Path, paths):
        if path.is_dir():
            yield from sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
        else:
            yield path


def _read_file(path: Path, relative_to: str | Path | None) -> Iterator[Article | Skipped]:
    name = str(path.relative_to(relative_to) if relative_to else path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        yield Skipped(name, None, f"unsupported file type {suffix or '(none)'}; use {', '.join(SUFFIXES)}")
        return
    try:
        text = _decode(path)
        if suffix == ".jsonl":
            yield from articles_from_rows(name, jsonl_rows(text.splitlines()))
        elif suffix == ".csv":
            yield from articles_from_rows(name, csv_rows(io.StringIO(text, newline="")))
        else:
            yield _page(path.stem, text, name, None, html=suffix in (".html", ".htm"))
    except InputError as err:
        yield Skipped(name, None, str(err))


def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file") from None
    except IsADirectoryError:
        raise InputError("is a folder; name the files in it") from None
    if not data.strip():
        raise InputError("empty file")
    if b"\x00" in data[:8192]:
        raise InputError("binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            f"not UTF-8 text: byte 0x{data[err.start]:02x} at offset {err.start} cannot be decoded; "
            "save the file as UTF-8"
        ) from None


def _page(article_id: str, text: str, file: str, row: int | None, html: bool, **meta: str) -> Article | Skipped:
    if html:
        title, date, body = _from_html(text)
    else:
        page = clean_page(text)
        title, date, body = page.title, page.date, page.text
    if not body:
        return Skipped(file, row, "no article body left after cleaning")
    return Article(
        id=article_id,
        text=body,
        title=meta.get("title") or title,
        source=meta.get("source", ""),
        url=meta.get("url", ""),
        date=meta.get("date") or date,
        file=file,
        row=row,
    )


def _from_html(html: str) -> tuple[str, str, str]:
    """Title, date and body of an HTML page: its main text found by trafilatura, then cleaned."""
    import trafilatura

    found = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False, include_tables=False)
    if not found:
        return "", "", ""
    # trafilatura keeps some header lines (section label, headline, reading time): clean them off too.
    page = clean_page(found.text or "")
    return found.title or page.title, found.date or page.date, page.text


def jsonl_rows(lines: Iterable[str]) -> Iterator[tuple[int, dict | str]]:
    """Each non-blank line's number and its JSON object, or why it is not one."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            yield number, f"not valid JSON ({err.msg} at column {err.colno})"
            continue
        yield number, record if isinstance(record, dict) else "not a JSON object"


def csv_rows(stream) -> Iterator[tuple[int, dict | str]]:
    """Each row's number and its fields, from a CSV text stream with a header naming a `text` or `html` column."""
    reader = csv.DictReader(stream)
    columns = reader.fieldnames or []
    if "text" not in columns and "html" not in columns:
        raise InputError(f"no 'text' or 'html' column (columns: {', '.join(columns) or 'none'})")
    # Rows are numbered as a spreadsheet shows them: the header is row 1.
    yield from enumerate(reader, start=2)


def articles_from_rows(file: str, rows: Iterable[tuple[int, dict | str]]) -> Iterator[Article | Skipped]:
    """An article per record of a collection, or what was skipped; `rows` pairs each row number with its record
    (a dict with `text` or `html` and optional metadata) or with the reason it could not be read."""
    stem = Path(file).stem
    for row, record in rows:
        if isinstance(record, str):
            yield Skipped(file, row, record)
            continue
        wrong = [key for key in ("text", "html") if record.get(key) is not None and not isinstance(record[key], str)]
        if wrong:
            yield Skipped(file, row, f"'{wrong[0]}' is a {type(record[wrong[0]]).__name__}, not a string")
            continue
        meta = {key: _field(record.get(key)) for key in META_FIELDS}
        text, html = _field(record.get("text")), _field(record.get("html"))
        if not text.strip() and not html.strip():
            yield Skipped(file, row, "no text: the 'text' and 'html' fields are both empty or missing")
            continue
        article_id = meta.pop("id") or f"{stem}-{row}"
        yield _page(article_id, text or html, file, row, html=not text.strip(), **meta)


def _field(value: object) -> str:
    return "" if value is None else str(value).strip()
