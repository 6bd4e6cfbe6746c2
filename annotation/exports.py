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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

FULL, MIN, CSV = "json", "json-min", "csv"
# Keys JSON_MIN and CSV add to each row besides the task's data and the answers.
MIN_META = ("id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time", "agreement")
CHUNK = 1 << 22  # characters decoded at a time
FAST_CHUNK = 1 << 24  # bytes parsed at a time by the fast path
JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')  # a string (perhaps cut by the buffer's end), or a bracket
TASK_ID = re.compile(r'\{\s*"id"\s*:\s*(\d{1,19})\b')
LONE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")  # half of a surrogate pair, or a lone one
# Where one object of a list ends and the next, starting with an "id" key, begins: between two tasks
# (or two annotations; a cut there does not parse, and an earlier one is tried).
NEXT_OBJECT = re.compile(rb"\}\s*,\s*(?=\{\s*\"id\"\s*:)")
# The same, where the object goes on with a task's "annotations" or "data" (the server's key order): tried first.
NEXT_TASK = re.compile(rb"\}\s*,\s*(?=\{\s*\"id\"\s*:\s*\d+\s*,\s*\"(?:annotations|data)\")")


@dataclass(frozen=True)
class Unreadable:
    """A record that cannot be decoded (nested too deep, not text, a CSV row that does not parse), standing in for
    it so the rest of the file can be read: what is wrong, and the task id when it could be seen."""

    problem: str
    task_id: int | None = None


TOO_DEEP = "nested too deep to read (over about 1,000 levels)"
HALF_CHARACTER = "holds a \\u escape that is half of a character (a lone surrogate)"
TRUNCATED = "the file ends inside a record (truncated?)"


class ExportError(ValueError):
    """A file that is not a readable Label Studio export, with where the trouble is."""

    def __init__(self, file: str, problem: str, where: str = ""):
        self.file, self.problem, self.where = file, problem, where
        super().__init__(f"{file}{', ' + where if where else ''}: {problem}")

    def __reduce__(self):  # so that the error survives the trip back from a child process
        return type(self), (self.file, self.problem, self.where)


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
    """The first element of the array: a file whose first element is not a task object is not an export."""
    for _, record in iter_json_array(path):
        if isinstance(record, Unreadable):
            continue  # this record is skipped; the format is told by the next one
        if not isinstance(record, dict):
            raise ExportError(str(path), f"expected a task object, found {type(record).__name__}", "record 1")
        return record
    return None


def iter_json_array(path: str | Path) -> Iterator[tuple[int, object]]:
    """Each element of the JSON array in `path`, with its 1-based position, decoded one at a time.

    An element that cannot be decoded although the array goes on (nested too deep, or text that is not
    Unicode) comes as an `Unreadable`; a file that is not a JSON array, or breaks off, raises `ExportError`.
    """
    decoder = json.JSONDecoder()
    name = str(path)
    with _decoding(name), open(path, encoding="utf-8-sig") as stream:
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
                buffer, lines_before, at_eof = _read_on(stream, buffer, pos, lines_before)
                pos = 0
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
            except RecursionError:
                end = _value_end(buffer, pos)
                if end is None and not at_eof:
                    buffer, lines_before, at_eof = _read_on(stream, buffer, pos, lines_before)
                    pos = 0
                    continue
                if end is None:
                    raise ExportError(name, TRUNCATED, f"record {count + 1}") from None
                record = Unreadable(TOO_DEEP, _task_id_at(buffer, pos))
            except json.JSONDecodeError as err:
                if not at_eof:  # perhaps the record runs past the buffer: read on and try again
                    buffer, lines_before, at_eof = _read_on(stream, buffer, pos, lines_before)
                    pos = 0
                    continue
                line = lines_before + buffer.count("\n", 0, err.pos) + 1
                if err.pos >= len(buffer.rstrip()):
                    raise ExportError(name, TRUNCATED, f"record {count + 1}") from None
                raise ExportError(name, f"invalid JSON ({err.msg})", f"record {count + 1}, line {line}") from None
            count += 1
            if not isinstance(record, Unreadable) and LONE_SURROGATE.search(buffer, pos, end) and not _is_text(record):
                record = Unreadable(HALF_CHARACTER, _task_id_at(buffer, pos))
            yield count, record
            pos, expect_value = end, False


def _read_on(stream, buffer: str, pos: int, lines_before: int) -> tuple[str, int, bool]:
    """The buffer from `pos` on with the next chunk of the file, the count of lines dropped before it, and whether
    the file has ended."""
    more = stream.read(CHUNK)
    return buffer[pos:] + more, lines_before + buffer.count("\n", 0, pos), not more


@contextmanager
def _decoding(name: str) -> Iterator[None]:
    """Bytes that are not UTF-8 past the first chunk become an `ExportError` naming the file."""
    try:
        yield
    except UnicodeDecodeError as err:
        raise ExportError(name, f"not UTF-8 text ({err.reason})") from None


def _value_end(text: str, pos: int) -> int | None:
    """Where the JSON value starting at `pos` ends, found without recursion; None if `text` ends first."""
    depth = 0
    for match in JSON_TOKEN.finditer(text, pos):
        token = match.group()
        if token[0] == '"':
            if match.end() == len(text):
                return None  # the text ends inside this string
            if depth == 0:
                return match.end()
        elif token in "[{":
            depth += 1
        else:
            depth -= 1
            if depth <= 0:
                return match.end()
    return None


def _task_id_at(text: str, pos: int) -> int | None:
    """The task id at the start of the record at `pos`, when it is written first (as the server writes it)."""
    match = TASK_ID.match(text, pos)
    return int(match.group(1)) if match and int(match.group(1)) < 2**63 else None


def _is_text(record: object) -> bool:
    """Whether every string in `record` is valid Unicode (a lone surrogate escape is not)."""
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        return False
    return True


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def iter_csv_rows(path: str | Path) -> Iterator[tuple[int, dict | Unreadable]]:
    """Each row of a CSV export as a dict, with its spreadsheet row number (the header is row 1).

    A row that does not parse, or whose number of fields is not the header's, comes as an `Unreadable` naming
    its line; a quote left open there never swallows the rows after it: reading goes on at the next line.
    """
    name = str(path)
    with _decoding(name), open(path, encoding="utf-8-sig", newline="") as stream:
        lines = _Lines(stream)
        header = next(csv.reader(lines), [])
        reader = csv.reader(lines, strict=True)
        number = 1
        while True:
            first = lines.start_record()
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                problem = f"line {first}: {err}"
            else:
                if not fields:
                    continue  # a blank line
                if len(fields) == len(header):
                    number += 1
                    yield number, dict(zip(header, fields, strict=True))
                    continue
                problem = f"line {first}: {len(fields)} fields where the header has {len(header)}"
            number += 1
            if lines.record_lines() > 1:
                problem += (
                    f" (a quote opened there would swallow lines {first + 1} to {first + lines.record_lines() - 1})"
                )
                lines.read_again_after_first()
                reader = csv.reader(lines, strict=True)
            yield number, Unreadable(f"CSV {problem}")


class _Lines:
    """The physical lines of a file for `csv.reader`, keeping those of the current record to read them again."""

    def __init__(self, stream):
        self.stream = stream
        self.again: list[str] = []  # lines to give again, last first
        self.taken: list[str] = []
        self.line = 0  # the number of the last line given

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        text = self.again.pop() if self.again else next(self.stream)
        self.taken.append(text)
        self.line += 1
        return text

    def start_record(self) -> int:
        """Forget the lines given so far; the number of the line the next record starts on."""
        self.taken = []
        return self.line + 1

    def record_lines(self) -> int:
        """How many lines the current record has taken."""
        return len(self.taken)

    def read_again_after_first(self) -> None:
        """Give again every line of the current record but its first."""
        self.again.extend(reversed(self.taken[1:]))
        self.line -= len(self.taken) - 1
        self.taken = self.taken[:1]


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
                if not isinstance(element, simdjson.Object):
                    yield count, element.as_list() if isinstance(element, simdjson.Array) else element, b""
                    continue
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


def iter_json_array_with_data(path: str | Path) -> Iterator[tuple[int, object, bytes]]:
    """`iter_json_array` with each task's data as JSON text, as `iter_tasks` gives it (empty for a record that is
    not a task object)."""
    for number, task in iter_json_array(path):
        if not isinstance(task, dict):
            yield number, task, b""
            continue
        try:
            data = json.dumps(task.get("data"), ensure_ascii=False).encode("utf-8")
        except RecursionError:
            yield number, Unreadable(TOO_DEEP), b""
            continue
        yield number, task, data
