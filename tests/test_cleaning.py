"""The cleaner keeps every body paragraph of a copied page, in order, and drops the page's debris."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import DATA
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from annotation.articles import read_articles
from annotation.bounded_yaml import read_yaml
from annotation.cleaning import clean_page, is_date_line, parse_date, words
from annotation.sample import sample_file

PAGES = DATA / "pages"


def expectations(name: str) -> dict:
    return read_yaml(PAGES / f"{name}.expected.yaml")


def check(paragraphs: list[str], expected: dict) -> None:
    either = expected.get("either") or []
    body = [p for p in paragraphs if p in expected["keep"]]
    assert body == expected["keep"], "a body paragraph is missing or out of order"
    extra = [p for p in paragraphs if p not in expected["keep"] and not any(e in p for e in either)]
    assert extra == [], "debris was kept"
    kept = "\n".join(paragraphs)
    assert [d for d in expected["drop"] if d in kept] == []


@pytest.mark.parametrize("name", ["newswire", "blog", "magazine"])
def test_copied_pages_of_other_layouts(name):
    expected = expectations(name)
    page = clean_page((PAGES / f"{name}.txt").read_text(encoding="utf-8"))
    check(page.paragraphs, expected)
    assert page.title == expected["title"]


def test_html_page_through_trafilatura():
    expected = expectations("opinion")
    (article,), skipped = read_articles([PAGES / "opinion.html"])
    assert skipped == []
    check(article.text.split("\n\n"), expected)
    assert article.title == expected["title"] and article.id == "opinion"


@pytest.mark.shared
def test_the_two_sample_articles_keep_their_bodies_and_nothing_else(shared):
    """The passages of the real Label Studio fixture, cut from these files by hand, are the bodies."""
    export = json.loads((shared / "label-studio/multi-annotator/export-full.json").read_text(encoding="utf-8"))
    bodies = defaultdict(list)
    for task in sorted(export, key=lambda t: t["data"]["passage_id"]):
        bodies[task["data"]["source"]].append(task["data"]["text"])
    files = sorted((shared / "articles").glob("*.txt"))
    assert sorted(bodies) == [f.name for f in files]
    for file in files:
        page = clean_page(file.read_text(encoding="utf-8"))
        # Every hand-cut passage is in the body, in order; the body holds nothing else.
        joined = "\n\n".join(page.paragraphs)
        at = 0
        for passage in bodies[file.name]:
            found = joined.find(passage, at)
            assert found >= 0, f"{file.name}: body text lost: {passage[:60]!r}"
            at = found + len(passage)
        rest = joined
        for passage in bodies[file.name]:
            rest = rest.replace(passage, "", 1)
        assert rest.split() == [], f"{file.name}: debris kept: {rest.strip()[:200]!r}"
        for debris in (
            "Takaichi",
            "NATO",
            "Sudan",
            "google cta",
            "Follow us",
            "Newsletter",
            "Home",
            "LATEST",
        ):
            assert debris not in joined
        assert page.title and page.title not in joined


def test_clean_text_passes_unchanged():
    for line in sample_file("articles.jsonl").read_text(encoding="utf-8").splitlines():
        text = json.loads(line)["text"]
        assert clean_page(text).text == text


def test_nothing_readable():
    assert clean_page("Home\nNews\nSport\n\n© 2024").paragraphs == []
    assert clean_page("").paragraphs == []


WORDS = st.sampled_from(
    [
        "the",
        "a",
        "of",
        "to",
        "in",
        "and",
        "that",
        "government",
        "said",
        "on",
        "for",
        "with",
        "minister",
        "was",
        "its",
        "by",
        "as",
        "people",
        "would",
        "strike",
        "week",
        "talks",
        "new",
        "city",
        "officials",
        "after",
        "which",
        "budget",
        "council",
        "state",
        "report",
    ]
)
SENTENCE = st.lists(WORDS, min_size=6, max_size=18).map(lambda w: " ".join(w).capitalize() + ".")
PARAGRAPH = st.lists(SENTENCE, min_size=1, max_size=4).map(" ".join)
NAV = st.lists(st.sampled_from(["World", "Business", "Opinion", "Sport", "Culture", "Sign In"]), max_size=6)


@settings(max_examples=60, deadline=None)
@given(st.lists(PARAGRAPH, min_size=1, max_size=8), NAV, NAV)
def test_any_prose_between_menus_is_kept_whole(paragraphs, top, bottom):
    # A paragraph whose words stand inside another is dropped as a repeat (a pull-quote): keep them distinct.
    flat = [" ".join(words(p.lower())) for p in paragraphs]
    assume(not any(a in b for i, a in enumerate(flat) for j, b in enumerate(flat) if i != j))
    page = "\n".join(top) + "\n\n" + "\n\n".join(paragraphs) + "\n\n" + "\n".join(bottom)
    assert clean_page(page).paragraphs == paragraphs


@pytest.mark.parametrize(
    ("line", "date"),
    [
        ("Sunday, December 3, 2023", "2023-12-03"),
        ("March 3, 2024 4:12 PM GMT Updated 2 hours ago", "2024-03-03"),
        ("21 Nov 2026", "2026-11-21"),
        ("2020-01-03", "2020-01-03"),
        ("Published Sept. 4, 2019", "2019-09-04"),
    ],
)
def test_date_lines(line, date):
    assert is_date_line(line)
    assert parse_date(line) == date


def test_a_sentence_with_a_date_is_not_a_date_line():
    assert not is_date_line("On January 3, 2020, a drone strike killed the general near the airport.")


def test_pages_are_data_files_we_wrote():
    assert sorted(p.name for p in PAGES.glob("*.expected.yaml")) == [
        f"{n}.expected.yaml" for n in ("blog", "magazine", "newswire", "opinion")
    ]
    assert all(Path(PAGES / f"{n}").exists() for n in ("blog.txt", "magazine.txt", "newswire.txt", "opinion.html"))


@pytest.mark.parametrize(
    "line",
    [
        "By Tuesday, officials said the strike would be over and the port open again.",
        "By the end of the week the union had agreed to return to the table with the operators.",
        "The city is a reporter’s dream and a planner’s nightmare, as anyone who lives here will tell you.",
    ],
)
def test_sentences_that_look_like_bylines_or_bios_are_kept(line):
    body = ["Officials met on Monday to discuss the closure of the port and the fate of its workers.", line]
    assert clean_page("Menu\n\n" + "\n\n".join(body)).paragraphs == body
