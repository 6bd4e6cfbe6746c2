"""Label Studio export files, read record by record whatever their format.

A server writes four formats: the full JSON export (a snapshot with full predictions, or the synchronous
export whose `predictions` are ids), JSON_MIN and CSV (one flat row per task and annotation). The full
JSON export can be gigabytes, so JSON arrays are decoded one task at a time from a bounded buffer.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

FULL, MIN, CSV = "json", "json-min", "csv"
# Keys JSON_MIN and CSV add to each row besides the task's data and the answers.
MIN_META = ("id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time", "agreement")
CHUNK = 1 << 22  # characters decoded at a time
FAST_CHUNK = 1 << 24  # bytes parsed at a time by the fast path
# Where one object of a list ends and the next, starting with an "id" key, begins: between two tasks
# (or two annotations; a cut there does not parse, and an earlier one is tried).
NEXT_OBJECT = re.compile(rb"\}\s*,\s*(?=\{\s*\"id\"\s*:)")
# The same, where the object goes on with a task's "annotations" or "data" (the server's key order): tried first.
NEXT_TASK = re.compile(rb"\}\s*,\s*(?=\{\s*\"id\"\s*:\s*\d+\s*,\s*\"(?:annotations|data)\")")


class ExportError(ValueError):
    """A file that is not a readable Label Studio export, with where the trouble is."""

    def __init__(self, file: str, problem: str, where: str = ""):
        self.file, self.problem, self.where = file, problem, where
        super().__init__(f"{file}{', ' + where if where else ''}: {problem}")


@dataclass(frozen=True)
class ExportFile:
    """An export file and the format it was found to have."""

    path: Path
    format: str

    @property
    def name(self) -> str:
        return self.path.name


def open_export(path: str | Path) -> ExportFile:
    """The export at `path` with its format, told from its content; `ExportError` if it is not an export."""
    path = Path(path)
    try:
        with open(path, "rb") as raw:
            head = raw.read(CHUNK)
    except FileNotFoundError:
        raise ExportError(str(path), "no such file") from None
    except IsADirectoryError:
        raise ExportError(str(path), "is a folder, not an export file") from None
    if b"\x00" in head[:4096]:
        raise ExportError(str(path), "binary file, not a Label Studio export")
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        if err.start < len(head) - 4:  # not just a character cut by the chunk's end
            raise ExportError(
                str(path), f"not UTF-8 text (byte 0x{head[err.start]:02x} at offset {err.start})"
            ) from None
        text = head[: err.start].decode("utf-8-sig")
    start = text.lstrip()[:1]
    if not start:
        raise ExportError(str(path), "empty file")
    if start == "{":
        raise ExportError(str(path), "a JSON object, not a Label Studio export (exports are JSON arrays of tasks)")
    if start == "[":
        first = _first_record(path)
        if first is None or "annotations" in first or "data" in first:
            return ExportFile(path, FULL)
        return ExportFile(path, MIN)
    header = next(csv.reader(io.StringIO(text.split("\n", 1)[0])), [])
    if "annotation_id" in header and "annotator" in header:
        return ExportFile(path, CSV)
    raise ExportError(
        str(path),
        "not a Label Studio export: neither a JSON array of tasks nor a CSV export with "
        f"'annotator' and 'annotation_id' columns (header: {', '.join(header[:8])})",
    )


def _first_record(path: Path) -> dict | None:
    for _, record in iter_json_array(path):
        return record
    return None


def iter_json_array(path: str | Path) -> Iterator[tuple[int, dict]]:
    """Each element of the JSON array in `path`, with its 1-based position, decoded one at a time."""
    decoder = json.JSONDecoder()
    name = str(path)
    with open(path, encoding="utf-8-sig") as stream:
        buffer = stream.read(CHUNK)
        lines_before = 0  # newlines in text already dropped from the buffer, for error messages
        pos = _skip_space(buffer, 0)
        if buffer[pos : pos + 1] != "[":
            raise ExportError(name, "not a JSON array")
        pos += 1
        count = 0
        at_eof = False
        expect_value = True
        while True:
            pos = _skip_space(buffer, pos)
            if pos >= len(buffer) - 1 and not at_eof:
                more = stream.read(CHUNK)
                at_eof = not more
                lines_before += buffer.count("\n", 0, pos)
                buffer, pos = buffer[pos:] + more, 0
                continue
            if pos >= len(buffer):
                raise ExportError(
                    name, "the file ends before the JSON array closes (truncated?)", f"after record {count}"
                )
            char = buffer[pos]
            if char == "]" and (count == 0 or not expect_value):
                return
            if char == "," and not expect_value:
                pos, expect_value = pos + 1, True
                continue
            if not expect_value:
                line = lines_before + buffer.count("\n", 0, pos) + 1
                raise ExportError(name, f"expected ',' or ']' after record {count}", f"line {line}")
            try:
                record, end = decoder.raw_decode(buffer, pos)
            except json.JSONDecodeError as err:
                if not at_eof:  # perhaps the record runs past the buffer: read on and try again
                    more = stream.read(CHUNK)
                    at_eof = not more
                    lines_before += buffer.count("\n", 0, pos)
                    buffer, pos = buffer[pos:] + more, 0
                    continue
                line = lines_before + buffer.count("\n", 0, err.pos) + 1
                if err.pos >= len(buffer.rstrip()):
                    raise ExportError(
                        name, "the file ends inside a record (truncated?)", f"record {count + 1}"
                    ) from None
                raise ExportError(name, f"invalid JSON ({err.msg})", f"record {count + 1}, line {line}") from None
            count += 1
            if not isinstance(record, dict):
                raise ExportError(name, f"expected a task object, found {type(record).__name__}", f"record {count}")
            yield count, record
            pos, expect_value = end, False


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def iter_csv_rows(path: str | Path) -> Iterator[tuple[int, dict]]:
    """Each row of a CSV export as a dict, with its spreadsheet row number (the header is row 1)."""
    with open(path, encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream)
        try:
            yield from enumerate(reader, start=2)
        except csv.Error as err:
            raise ExportError(str(path), f"malformed CSV ({err})", f"line {reader.line_num}") from None


def iter_tasks(path: str | Path) -> Iterator[tuple[int, dict, bytes]]:
    """Each task of a full JSON export, with its position and its `data` as JSON text (UTF-8 bytes).

    Many tasks at a time are cut from the file at a task boundary and parsed by simdjson; a file whose
    layout offers no such cut, or with an error, is read by `iter_json_array`, which also says where the
    error is.
    """
    import simdjson

    parser = simdjson.Parser()
    count = 0
    with open(path, "rb") as stream:
        pending = stream.read(FAST_CHUNK)
        at_eof = len(pending) < FAST_CHUNK
        pending = pending.removeprefix(b"\xef\xbb\xbf").lstrip()
        if not pending.startswith(b"["):
            yield from iter_json_array_with_data(path)  # says what is wrong
            return
        pending = pending[1:]
        while True:
            while not at_eof and len(pending) < FAST_CHUNK:
                more = stream.read(FAST_CHUNK)
                at_eof = not more
                pending += more
            block, rest = _cut(parser, pending, at_eof)
            if block is None:
                if at_eof or len(pending) > 8 * FAST_CHUNK:
                    break  # no cut parses: let the careful reader take over (and report any error)
                more = stream.read(FAST_CHUNK)
                at_eof = not more
                pending += more
                continue
            element = data = None
            for element in block:
                count += 1
                data = element.get("data")
                raw = data.mini if hasattr(data, "mini") else json.dumps(data, ensure_ascii=False).encode("utf-8")
                yield count, element.as_dict(), raw
            del block, element, data  # the parser is reused only once nothing refers to its last document
            if rest is None:
                return
            pending = rest
    for number, task, text in iter_json_array_with_data(path):
        if number > count:
            yield number, task, text


def _cut(parser, pending: bytes, at_eof: bool):
    """The longest run of whole tasks at the start of `pending`, parsed, and what follows it (None at the end)."""
    if at_eof:
        try:
            return parser.parse(b"[" + pending), None
        except (ValueError, RuntimeError):
            return None, None
    likely = list(NEXT_TASK.finditer(pending))[-2:]
    possible = list(NEXT_OBJECT.finditer(pending))[-6:]
    for match in [*reversed(likely), *reversed(possible)]:
        try:
            block = parser.parse(b"[" + pending[: match.start() + 1] + b"]")
        except (ValueError, RuntimeError):
            continue
        return block, pending[match.end() :]
    return None, None


def iter_json_array_with_data(path: str | Path) -> Iterator[tuple[int, dict, bytes]]:
    """`iter_json_array` with each task's data as JSON text, as `iter_tasks` gives it."""
    for number, task in iter_json_array(path):
        yield number, task, json.dumps(task.get("data"), ensure_ascii=False).encode("utf-8")
