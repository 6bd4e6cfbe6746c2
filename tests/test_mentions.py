"""Targets found in passages by their codebook aliases: word boundaries, acronyms, possessives, regular
expressions, overlapping aliases of two targets; and the codebook's checks of aliases."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotation.codebook import CodebookError, load_codebook, parse_codebook, shipped_codebooks
from annotation.label_config import build_label_config
from annotation.mentions import find_mentions, is_acronym, mentions_line
from annotation.tasks import build_tasks

BOOK = """
name: study
version: "1"
targets:
  - id: gov
    name: The government
    aliases: [Tehran, Iran, the regime, IRGC, U.S. Treasury, "re:Khamen[ea]i"]
  - id: mek
    name: The MEK
    aliases: [MEK, People's Mojahedin, National Council of Resistance of Iran, Rajavi]
"""


@pytest.fixture(scope="module")
def book():
    return parse_codebook(BOOK, "book.yaml")


def spans(text: str, book, target: str) -> list[str]:
    return [text[a:b] for a, b in find_mentions(text, book)[target]]


def test_words_match_whole_and_in_any_case(book):
    text = "TEHRAN said; tehran denied. Tehranis and the Tehran-based regime's envoy spoke."
    assert spans(text, book, "gov") == ["TEHRAN", "tehran", "Tehran"]
    assert spans("Iranian officials met in Iran.", book, "gov") == ["Iran"]


def test_acronyms_match_only_in_capitals(book):
    assert is_acronym("MEK") and is_acronym("U.S.") and not is_acronym("Rajavi") and not is_acronym("A")
    assert spans("The MEK and the mek and Mek and MEKs.", book, "mek") == ["MEK"]
    assert spans("IRGC units; the irgc.", book, "gov") == ["IRGC"]


def test_possessives_and_curly_apostrophes(book):
    assert spans("MEK’s rally and the MEK's statement", book, "mek") == ["MEK", "MEK"]
    assert spans("Iran's reply, Iran’s reply", book, "gov") == ["Iran", "Iran"]
    assert spans("the regime’s envoy", book, "gov") == ["the regime"]
    # An apostrophe inside an alias matches either kind; spaces match any whitespace.
    assert spans("People’s   Mojahedin and People's\nMojahedin", book, "mek") == [
        "People’s   Mojahedin",
        "People's\nMojahedin",
    ]


def test_aliases_ending_in_punctuation_keep_their_boundaries(book):
    assert spans("The U.S. Treasury said. U.S. Treasury-backed. US Treasury", book, "gov") == ["U.S. Treasury"] * 2


def test_regular_expressions_match_on_word_boundaries(book):
    assert spans("Khamenei, Khamenai and KHAMENEI; Khameneiism", book, "gov") == ["Khamenei", "Khamenai", "KHAMENEI"]


def test_overlapping_aliases_of_two_targets_go_to_the_longest(book):
    text = "The National Council of Resistance of Iran denied it; Iran did not."
    found = find_mentions(text, book)
    assert [text[a:b] for a, b in found["mek"]] == ["National Council of Resistance of Iran"]
    assert [text[a:b] for a, b in found["gov"]] == ["Iran"]
    assert found["gov"][0][0] > found["mek"][0][1]


def test_mentions_line_names_targets_with_counts(book):
    found = find_mentions("Rajavi and the MEK answered Tehran.", book)
    assert mentions_line(found, book) == "mentions: The government ×1, The MEK ×2"
    assert mentions_line(find_mentions("Nothing here.", book), book) == "mentions: none of the targets by name"


@given(st.text(alphabet="MEK Iran’s'. -\nabx", max_size=60))
def test_mentions_are_in_order_inside_the_text_and_never_overlap(text):
    book = parse_codebook(BOOK, "book.yaml")
    found = find_mentions(text, book)
    every = sorted(span for spans in found.values() for span in spans)
    assert all(0 <= a < b <= len(text) for a, b in every)
    assert all(first[1] <= second[0] for first, second in itertools.pairwise(every))
    assert all(target_spans == sorted(target_spans) for target_spans in found.values())


@pytest.mark.parametrize(
    ("aliases", "problem"),
    [
        ("[MEK, MEK]", "listed twice"),
        ('["re:(unclosed"]', "not a valid regular expression"),
        ('["re:x*"]', "matches the empty text"),
        ('["re:"]', "is empty"),
        ("['  ']", "must not be empty"),
        ("MEK", "expected a list of names"),
        ("[[MEK]]", "expected a name, found list"),
    ],
)
def test_bad_aliases_are_refused_naming_the_key(aliases, problem):
    text = f"name: s\nversion: '1'\ntargets:\n  - id: mek\n    aliases: {aliases}\n"
    with pytest.raises(CodebookError, match=problem) as err:
        parse_codebook(text, "bad.yaml")
    assert str(err.value).startswith("bad.yaml: targets[0].aliases")


def test_one_alias_for_two_targets_is_refused():
    text = "name: s\nversion: '1'\ntargets:\n  - {id: a, aliases: [Rajavi]}\n  - {id: b, aliases: [rajavi]}\n"
    with pytest.raises(CodebookError, match=r"targets\[1\]\.aliases: 'rajavi' is also an alias of targets\[0\]"):
        parse_codebook(text, "bad.yaml")


def test_tasks_carry_mentions_and_the_page_shows_them(book):
    from annotation.articles import Article

    text = "Rajavi spoke in Paris. " * 8 + "\n\n" + "Tehran replied at length and with care. " * 6
    article = Article(id="a", text=text, title="t", source="s", url="", date="", file="f.txt", row=None)
    tasks = build_tasks([article], book)
    first, second = (task["data"] for task in tasks)
    assert [first["text"][a:b] for a, b in first["mentions"]["mek"]] == ["Rajavi"] * 8
    assert first["mentions"]["gov"] == [] and len(second["mentions"]["gov"]) == 6
    assert first["mentions_line"] == "mentions: The MEK ×8"
    assert 'value="$mentions_line"' in build_label_config(book)


def test_the_example_codebook_finds_each_target_by_its_names():
    example = load_codebook(shipped_codebooks()["soleimani_2020"])
    text = (
        "When Pompeo retweets MEK propaganda, the White House sides with the PMOI against Khamenei and the IRGC; "
        "Rajavi’s NCRI thanked Washington."
    )
    found = {target: [text[a:b] for a, b in spans] for target, spans in find_mentions(text, example).items()}
    assert found == {
        "us_government": ["Pompeo", "the White House", "Washington"],
        "iranian_government": ["Khamenei", "IRGC"],
        "iranian_opposition": ["MEK", "PMOI", "Rajavi", "NCRI"],
    }
