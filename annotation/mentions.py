"""Where each target is mentioned in a text: its codebook aliases, found on word boundaries.

An alias is a name that stands for a target in text ("Pompeo", "the White House", "MEK"). It matches as a
whole word or phrase: case-insensitively, unless every letter of it is a capital (an acronym such as MEK or
U.S., which must not match "us"); any run of spaces in it matches any run of whitespace, any apostrophe
matches a straight or a curly one, and a possessive after it does not hide it ("MEK’s" and "Iran's" name MEK
and Iran; the span is the name). An alias that starts with `re:` is a regular expression, matched on word
boundaries too and case-insensitively (`(?-i:...)` makes a part of it case-sensitive).
Where aliases of two targets overlap, the longer match wins ("National Council of Resistance of Iran" is one
mention of the opposition, not also one of "Iran").
"""

from __future__ import annotations

import re
from functools import lru_cache

from annotation.codebook import Codebook, Label

REGEX_PREFIX = "re:"
APOSTROPHES = "'’‘ʼ`"
Spans = list[list[int]]


class AliasError(ValueError):
    """An alias that cannot be matched: empty, or a regular expression that does not compile or matches nothing."""


def is_acronym(alias: str) -> bool:
    """Whether every letter of `alias` is a capital (and it has at least two): such aliases match case-sensitively."""
    letters = [c for c in alias if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def alias_pattern(alias: str) -> re.Pattern:
    """The compiled pattern of one alias (see the module's docstring for the rules)."""
    if alias.startswith(REGEX_PREFIX):
        body, flags = alias[len(REGEX_PREFIX) :], re.IGNORECASE
        if not body.strip():
            raise AliasError("the regular expression after 're:' is empty")
        try:
            re.compile(body)
        except re.error as err:
            raise AliasError(f"{body!r} is not a valid regular expression ({err})") from None
    else:
        if not alias.strip():
            raise AliasError("an alias must not be empty")
        body = "".join(_literal(c) for c in re.sub(r"\s+", " ", alias.strip()))
        flags = 0 if is_acronym(alias) else re.IGNORECASE
    pattern = re.compile(rf"(?<!\w)(?:{body})(?!\w)", flags)
    if pattern.fullmatch(""):
        raise AliasError(f"{alias!r} matches the empty text; it would find a mention everywhere")
    return pattern


def _literal(c: str) -> str:
    if c == " ":
        return r"\s+"
    if c in APOSTROPHES:
        return f"[{re.escape(APOSTROPHES)}]"
    return re.escape(c)


@lru_cache(maxsize=64)
def _patterns(targets: tuple[Label, ...]) -> tuple[tuple[int, re.Pattern], ...]:
    return tuple((i, alias_pattern(alias)) for i, target in enumerate(targets) for alias in target.aliases)


def find_mentions(text: str, codebook: Codebook) -> dict[str, Spans]:
    """Target id → the `[start, end]` character spans where the target is named in `text`, in order."""
    found = [
        (match.start(), match.end(), i)
        for i, pattern in _patterns(codebook.targets)
        for match in pattern.finditer(text)
        if match.end() > match.start()
    ]
    # Leftmost-longest: a match inside or across a longer one that starts earlier, or at the same place, drops.
    found.sort(key=lambda m: (m[0], m[0] - m[1]))
    mentions: dict[str, Spans] = {target.id: [] for target in codebook.targets}
    reached = 0
    for start, end, i in found:
        if start >= reached:
            mentions[codebook.targets[i].id].append([start, end])
            reached = end
    return mentions


def mentions_line(mentions: dict[str, Spans], codebook: Codebook) -> str:
    """What the labeling page shows under a passage, e.g. "mentions: The MEK ×2, The U.S. government ×1"."""
    named = [f"{t.name} ×{len(mentions[t.id])}" for t in codebook.targets if mentions.get(t.id)]
    return "mentions: " + (", ".join(named) if named else "none of the targets by name")
