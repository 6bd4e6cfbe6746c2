"""The values of an export record, checked one by one before they reach a table.

Each function returns the value in the type its column holds, or raises `Malformed` saying which field is wrong
and what it holds, so the record can be skipped with that reason while the rest of the export is read.
"""

from __future__ import annotations

import math
import re
import reprlib

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INTEGER_TEXT = re.compile(r"\s*-?\d+\s*")
_SHOW = reprlib.Repr()
_SHOW.maxstring = _SHOW.maxother = 40
_SHOW.maxlevel, _SHOW.maxlist, _SHOW.maxdict = 2, 3, 3
MISSING = object()


class Malformed(ValueError):
    """A record field of an impossible type or value: the record is skipped with this message as its reason."""


def show(value: object) -> str:
    """A short description of a JSON value for a message: its type, and the value itself when it is short."""
    if value is MISSING:
        return "missing"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{'true' if value else 'false'} (a boolean)"
    if isinstance(value, str):
        return f"the text {_SHOW.repr(value)}"
    if isinstance(value, (int, float)):
        return f"the number {_SHOW.repr(value)}"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def integer(value: object, what: str, optional: bool = True) -> int | None:
    """An id or an offset: a whole number (digits in text count) that fits in 64 bits; None when absent."""
    if type(value) is int and INT64_MIN <= value <= INT64_MAX:
        return value
    if value is None or value == "":
        if optional:
            return None
        raise Malformed(f"{what} is missing")
    number = value
    if isinstance(value, str) and INTEGER_TEXT.fullmatch(value):
        number = int(value) if len(value) < 40 else INT64_MAX + 1
    if isinstance(number, bool) or not isinstance(number, int):
        raise Malformed(f"{what} is {show(value)}, not a whole number")
    if not INT64_MIN <= number <= INT64_MAX:
        raise Malformed(f"{what} is {show(value)}, too large: ids and offsets must fit in 64 bits")
    return number


def text(value: object, what: str) -> str | None:
    """Text, or None when absent."""
    if value is None or isinstance(value, str):
        return value
    raise Malformed(f"{what} is {show(value)}, not text")


def identifier(value: object, what: str) -> str | None:
    """A name such as a passage id: text, or a whole number read as text; None when absent or empty."""
    if isinstance(value, str):
        return value or None
    if type(value) is int:
        return str(value)
    if value is None:
        return None
    raise Malformed(f"{what} is {show(value)}, not text")


def real(value: object, what: str) -> float | None:
    """A number such as a lead time or a score (numbers in text count); None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise Malformed(f"{what} is {show(value)}, not a number")


def flag(value: object, what: str) -> bool:
    """A true/false field; absent is false."""
    if value is None or isinstance(value, bool):
        return bool(value)
    raise Malformed(f"{what} is {show(value)}, not true or false")


def labels(value: dict, key: str, control: str) -> list[str]:
    """The list of labels (`choices`, `labels`) in a result's value."""
    chosen = value.get(key, MISSING)
    if not isinstance(chosen, list):
        raise Malformed(f"{control}: {key} is {show(chosen)}, not a list of labels")
    for label in chosen:
        if not isinstance(label, str):
            raise Malformed(f"{control}: a label is {show(label)}, not text")
    return chosen


def rating(value: object, control: str) -> int:
    """A rating: a whole number from 0."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if type(value) is not int or not 0 <= value <= INT64_MAX:
        raise Malformed(f"{control}: the rating is {show(value)}, not a whole number from 0")
    return value


def note(value: object, control: str) -> str:
    """A text area's answer: text, or a list of texts (one per line)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(line, str) for line in value):
        return "\n".join(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return str(value)
    raise Malformed(f"{control}: the text is {show(value)}, not text")


def offsets(value: dict, control: str, limit: int | None) -> tuple[int, int]:
    """A span's start and end: whole numbers with 0 <= start <= end, and end within the text when its
    length `limit` is known."""
    start = integer(value.get("start"), f"{control}: the span's start", optional=False)
    end = integer(value.get("end"), f"{control}: the span's end", optional=False)
    if start < 0:
        raise Malformed(f"{control}: the span starts at {start}, before the text")
    if end < start:
        raise Malformed(f"{control}: the span {start}–{end} ends before it starts")
    if limit is not None and end > limit:
        raise Malformed(f"{control}: the span {start}–{end} runs past the end of the text ({limit} characters)")
    return start, end


def text_length(passage: object) -> int | None:
    """The length of a task's text as the labeling page counts characters (UTF-16 code units, so a span on
    text with emoji is never taken for running past the end); None when there is no text."""
    if not isinstance(passage, str):
        return None
    return len(passage) if passage.isascii() else len(passage.encode("utf-16-le")) // 2
