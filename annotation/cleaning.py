"""The article body of text copied from a web page, without the page's debris.

Text copied from a browser holds far more than the article: menus, breadcrumbs, share buttons, bylines,
photo credits, sign-up boxes, and teasers of other articles. The body is the longest stretch of prose
lines; inside it, lines that are page furniture (an advert marker, a caption, a newsletter prompt, a
pull-quote that repeats the text) are dropped, and the stretch ends where the page's end matter starts
(credits, "Related", comments, copyright). No rule is specific to one site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

WORD = re.compile(r"[^\W_](?:[\w’'.-]*[^\W_])?")
# A sentence ends with . ! ? or … perhaps followed by closing quotes or brackets.
SENTENCE_END = re.compile(r"[.!?…][\"”’'»)\]]*\Z")
SENTENCE_BREAK = re.compile(r"[.!?…][\"”’'»)\]]*\s+[\"“‘«(]?[A-Z0-9]")
SEPARATORS = re.compile(r"\s[|›»>/•·]\s|›|»")

MAX_GAP = 2  # furniture lines a body may hold in a row (an advert marker, a caption)
MIN_REPEAT_WORDS = 6  # a shorter line is not dropped as a repeat of another

MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
MONTH_NUMBER = {name: i + 1 for i, name in enumerate(MONTHS.split("|")[:12])}
DATE = re.compile(
    rf"(?P<iso>\b\d{{4}}-\d{{2}}-\d{{2}}\b)"
    rf"|(?P<md>\b(?P<m1>{MONTHS})\.?\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y1>\d{{4}})\b)"
    rf"|(?P<dm>\b(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m2>{MONTHS})\.?,?\s+(?P<y2>\d{{4}})\b)",
    re.IGNORECASE,
)
TIME_WORDS = re.compile(
    r"\b(\d{1,2}:\d{2}|am|pm|gmt|utc|[ecmp][sd]t|updated|published|posted|ago|minutes?|hours?|days?|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday)\b",
    re.IGNORECASE,
)

BYLINE = re.compile(r"^\s*(?i:by)\s+[A-Z][\w.’'-]+(?:\s+[A-Z][\w.’'-]+){0,3}(?:\s*(?:,|and|&|\|)\s*.*)?$")

# Lines where the article's end matter starts: nothing after them belongs to the body.
END_MATTER = re.compile(
    r"^\s*(?:"
    r"(?:share|like|print|email) this\b|related(?: (?:articles?|stories|posts|content|coverage|reading))?:?\s*$"
    r"|read (?:next|more)\b|more (?:from|on|in|stories|news|coverage)\b|most (?:popular|read|viewed|shared)\b"
    r"|recommended\b|you (?:may|might) (?:also )?like\b|keep reading|trending\b|(?:latest|top) stories\b"
    r"|comments?\b|\d+ (?:thoughts|comments|responses|replies) on\b|leave a (?:reply|comment)\b"
    r"|post navigation\b|filed under\b|tags?:|tagged\b|categories\s*:?$|about the authors?\b"
    r"|(?:additional )?(?:reporting|editing|writing) by\b|this (?:article|story) (?:appeared|was|first)\b"
    r"|our standards\b|copyright\b|©|all rights reserved"
    r")",
    re.IGNORECASE,
)

# Prose-looking lines that are page furniture wherever they stand.
FURNITURE = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^\s*advertisement\b|^\s*(?:sponsored|promoted|paid)\b(?: content| post| by)?",
        r"^\s*related\s*:|^\s*(?:see|read) also\s*:|^\s*(?:also read|read more|watch)\s*:",
        r"\b(?:photo(?:graph)?s?|image|picture|illustration|video)\s*(?:credit)?\s*(?:by|:)|\bcredit\s*:"
        r"|\bgetty images\b|\b(?:afp|ap|reuters|epa|shutterstock)\s*/",
        r"\b(?:sign[ -]?up|subscribe|newsletter|inbox|unsubscribe)\b",
        r"\bcookies?\b|\bprivacy (?:policy|settings|choices)\b|\bterms (?:of|and) (?:use|service|conditions)\b",
        r"\b(?:follow|like) us\b|\bshare (?:this|on)\b|\bclick here\b|\bdownload (?:the|our) app\b",
        # An author's biography: "Name Surname is a writer based in ..."
        r"^(?-i:[A-Z][\w.’'-]+(?:\s+[A-Z][\w.’'-]+){0,3})\s+(?:is|was)\s+(?:an?|the)\s+(?:[\w-]+\s+){0,4}"
        r"(?:writer|journalist|reporter|editor|correspondent|author|contributor|columnist|fellow|professor"
        r"|analyst|researcher)\b",
    )
]


@dataclass
class CleanedPage:
    """What is left of a copied page: its title, its date if one was found, and the body paragraphs."""

    paragraphs: list[str]
    title: str = ""
    date: str = ""
    dropped: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The body, paragraphs separated by one blank line."""
        return "\n\n".join(self.paragraphs)


def words(line: str) -> list[str]:
    """The words of a line."""
    return list(_words(line))


@lru_cache(maxsize=4096)  # cleaning and cutting count the words of the same lines several times
def _words(line: str) -> tuple[str, ...]:
    return tuple(WORD.findall(line))


@lru_cache(maxsize=4096)  # a page's lines are tested several times each
def is_prose(line: str) -> bool:
    """Whether a line reads as running text rather than a label, heading or menu item."""
    found = words(line)
    if len(found) < 4:
        return False
    if sum(w[0].isupper() for w in found) / len(found) > 0.6:
        return False  # Title Case: a headline or a name, not a sentence
    if SENTENCE_END.search(line):
        return True
    # Long text that breaks into sentences, even when the page cut its last full stop.
    return len(found) >= 20 and bool(SENTENCE_BREAK.search(line))


def is_byline(line: str) -> bool:
    """Whether a line is a byline: "By" and names, perhaps more credits, and no sentence."""
    return bool(BYLINE.match(line)) and len(words(line)) <= 15 and not SENTENCE_END.search(line)


@lru_cache(maxsize=4096)  # a page's lines are tested several times each
def is_furniture(line: str) -> bool:
    """Whether a line is page furniture (advert, caption, sign-up prompt, byline, bio) rather than text."""
    return len(words(line)) < 60 and (is_byline(line) or any(p.search(line) for p in FURNITURE))


# The longest stamp seen, "Wednesday, September 30, 2020 at 11:45 p.m. Eastern Daylight Time", is 66 characters.
MAX_DATE_LINE = 100


@lru_cache(maxsize=4096)  # a page's lines are tested several times each
def is_date_line(line: str) -> bool:
    """Whether a line is a date or time stamp and little else."""
    if len(line) > MAX_DATE_LINE:
        return False
    stripped = DATE.sub(" ", TIME_WORDS.sub(" ", line))
    rest = [w for w in words(stripped) if not w.isdigit() and w.lower() not in {"on", "at", "by", "and", "of"}]
    return bool(DATE.search(line) or TIME_WORDS.search(line)) and len(rest) <= 1


def parse_date(line: str) -> str:
    """The first date in a line as YYYY-MM-DD, or ''."""
    match = DATE.search(line)
    if not match:
        return ""
    if match["iso"]:
        return match["iso"]
    month, day, year = (
        (match["m1"], match["d1"], match["y1"]) if match["md"] else (match["m2"], match["d2"], match["y2"])
    )
    key = month.lower()[:3] if month.lower() not in MONTH_NUMBER else month.lower()
    number = MONTH_NUMBER.get(key) or next(n for name, n in MONTH_NUMBER.items() if name.startswith(key))
    return f"{int(year):04d}-{number:02d}-{int(day):02d}"


def _runs(lines: list[str]) -> list[tuple[int, int]]:
    """Stretches (first, last line index) that start and end with prose and hold little else."""
    runs: list[tuple[int, int]] = []
    start = last_prose = None
    gap = 0
    for i, line in enumerate(lines):
        if not line:
            continue
        prose = is_prose(line) and not is_furniture(line)
        if start is not None and END_MATTER.search(line) and not prose:
            runs.append((start, last_prose))
            start, gap = None, 0
            continue
        if prose:
            if start is None:
                start = i
            last_prose, gap = i, 0
        elif start is not None:
            gap += 1
            if gap > MAX_GAP:
                runs.append((start, last_prose))
                start, gap = None, 0
    if start is not None:
        runs.append((start, last_prose))
    return runs


def _weight(lines: list[str], run: tuple[int, int]) -> int:
    return sum(len(words(line)) for line in lines[run[0] : run[1] + 1] if is_prose(line))


def _repeats(line: str, others: list[str]) -> bool:
    """Whether the words of `line` stand, in order, inside a longer line (a pull-quote, a repeated standfirst)."""
    own = words(line.lower())
    if len(own) < MIN_REPEAT_WORDS:
        return False
    needle = f" {' '.join(own)} "
    return any(len(other) > len(line) and needle in f" {' '.join(words(other.lower()))} " for other in others)


def _could_be_title(line: str) -> bool:
    if not 3 <= len(words(line)) <= 25 or line.endswith(".") or SEPARATORS.search(line):
        return False
    return not (is_furniture(line) or is_date_line(line) or END_MATTER.search(line))


def _title(lines: list[str], before: int) -> str:
    """The headline: a heading-like line above the body, preferring one the page repeats, then the longest."""
    candidates = [line for line in lines[:before] if _could_be_title(line)]
    if not candidates:
        return ""
    repeated = [c for c in candidates if lines.count(c) > 1]
    return max(repeated or candidates, key=lambda c: len(words(c)))


def clean_page(text: str) -> CleanedPage:
    """The title, date and body paragraphs of text copied from a web page."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    runs = _runs(lines)
    if not runs:
        return CleanedPage([], dropped=[line for line in lines if line])
    first, last = max(runs, key=lambda run: _weight(lines, run))
    title = _title(lines, first)
    stamps = [line for line in lines[:first] if is_date_line(line) or re.match(r"(posted|published)\b", line, re.I)]
    date = next((parse_date(line) for line in stamps if parse_date(line)), "")
    body = [
        line
        for line in lines[first : last + 1]
        if line and is_prose(line) and not is_furniture(line) and line != title and not is_date_line(line)
    ]
    body = [line for line in body if not _repeats(line, body)]
    kept = set(body)
    return CleanedPage(body, title=title, date=date, dropped=[line for line in lines if line and line not in kept])
