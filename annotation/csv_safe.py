"""CSV files that a spreadsheet opens without running anything in them.

A spreadsheet reads a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as a formula, so a
passage, a note or an id written as it is could run when the file is opened (CSV injection). Every CSV the
project writes goes through `write_csv`, which follows OWASP's advice: such a text cell gets a leading single
quote, which the spreadsheet shows but does not evaluate. Numbers stay numbers, and so does text that is
just a number (`-3`, `+0.5`), which a spreadsheet reads as that number. Parquet files are written exactly.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def escape_cell(value: object) -> object:
    """`value` with a leading single quote if it is text a spreadsheet would take for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells and column names are escaped for spreadsheets."""
    safe = frame.rename(columns=escape_cell)
    for position in range(safe.shape[1]):
        column = safe.iloc[:, position]
        if _may_hold_text(column.dtype):
            safe.isetitem(position, column.astype(object).map(escape_cell))
    return safe


def _may_hold_text(dtype) -> bool:
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(dtype)
        or isinstance(dtype, pd.StringDtype)
    )


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write `frame` (without its index) as CSV, with text that could run as a formula escaped.

    Rows end in CRLF (RFC 4180, as Label Studio writes CSV), so a cell holding a lone carriage return is quoted
    like one holding a newline and cannot cut its row in two.
    """
    csv_safe(frame).to_csv(path, index=False, lineterminator="\r\n")
