"""Scoring whole archives: a large JSONL, CSV or Parquet file (or a folder of Parquet files), one article or
passage per row, scored chunk by chunk into a Parquet dataset of suggestion tables.

Each chunk of rows is cut into passages and scored by the same code as `framestance suggest`, then written as
one part file, atomically, so a run that is stopped can be resumed: finished chunks are skipped and every
passage is written once. Memory holds one chunk at a time (a few per worker with Dask), whatever the size of
the input. With Dask, the chunks are read here and scored on the cluster's workers, which get the model once.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from annotation.articles import Skipped, articles_from_rows, csv_rows, jsonl_rows
from models.suggest import suggestion_table
from models.training import Model

CHUNK_ROWS = 2000
MANIFEST = "_score.json"
LOCK = "_score.lock"
SKIPPED = "_skipped"
FORMATS = (".jsonl", ".csv", ".parquet")
INTEGER_COLUMNS = ("position", "start", "end")

Rows = list[tuple[int, dict | str]]


class ArchiveError(ValueError):
    """An input or output folder that cannot be scored or resumed."""


@dataclass
class ScoreRun:
    """What a scoring run did: chunks scored now and before, passages and articles written, rows skipped."""

    out: Path
    chunks: int = 0
    resumed: int = 0
    passages: int = 0
    articles: int = 0
    skipped: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        head = (
            f"Scored {self.passages} passages of {self.articles} articles in {self.chunks} chunks into {self.out}/"
            + (f" ({self.resumed} chunks were already there)" if self.resumed else "")
        )
        tail = [f"skipped {line}" for line in self.skipped[:20]]
        if len(self.skipped) > 20:
            tail.append(f"… and {len(self.skipped) - 20} more; all in {self.out}/{SKIPPED}/")
        return [head, *tail]


def input_files(path: Path) -> list[Path]:
    """The files of an input: the file itself, or the Parquet files of a folder in name order."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".parquet")
        if not files:
            raise ArchiveError(f"{path}: a folder to score holds Parquet files; there are none")
        return files
    if not path.is_file():
        raise ArchiveError(f"{path}: no such file or folder")
    if path.suffix.lower() not in FORMATS:
        raise ArchiveError(f"{path}: score reads {', '.join(FORMATS)} files or a folder of Parquet files")
    return [path]


def count_rows(path: Path) -> int:
    """How many rows the input has (for the progress bar)."""
    total = 0
    for file in input_files(path):
        suffix = file.suffix.lower()
        if suffix == ".parquet":
            total += pq.ParquetFile(file).metadata.num_rows
        elif suffix == ".jsonl":
            with file.open("rb") as stream:
                total += sum(block.count(b"\n") for block in iter(lambda: stream.read(1 << 20), b""))
        else:
            with file.open(encoding="utf-8-sig", newline="") as stream:
                total += max(sum(1 for _ in csv.reader(stream)) - 1, 0)
    return total


def read_chunks(path: Path, size: int = CHUNK_ROWS) -> Iterator[tuple[str, Rows]]:
    """The input's rows in chunks of `size` (the last of each file may be smaller): each chunk's file name
    and its rows, each row's number (JSONL: its line; CSV: as a spreadsheet shows it; Parquet: from 1) with
    its record or the reason it could not be read."""
    for file in input_files(path):
        suffix = file.suffix.lower()
        if suffix == ".parquet":
            number = 0
            for batch in pq.ParquetFile(file).iter_batches(batch_size=size):
                records = batch.to_pylist()
                yield str(file), [(number + i + 1, record) for i, record in enumerate(records)]
                number += len(records)
            continue
        with file.open(encoding="utf-8-sig", newline="", errors="replace") as stream:
            rows = jsonl_rows(stream) if suffix == ".jsonl" else csv_rows(stream)
            chunk: Rows = []
            try:
                for row in rows:
                    chunk.append(row)
                    if len(chunk) == size:
                        yield str(file), chunk
                        chunk = []
            except ValueError as err:  # a CSV header without a text column
                raise ArchiveError(f"{file}: {err}") from None
            if chunk:
                yield str(file), chunk


def score_rows(model: Model, file: str, rows: Rows, schema: pa.Schema | None = None) -> tuple[pa.Table, list[str]]:
    """Score one chunk: its articles cut into passages and suggested as `framestance suggest` does; the table
    in the archive's schema (`archive_schema`) and the rows skipped, each with its file, row number and reason."""
    from annotation.tasks import build_tasks

    articles, skipped = [], []
    for item in articles_from_rows(file, rows):
        (skipped if isinstance(item, Skipped) else articles).append(item)
    tasks = build_tasks(articles)  # without the codebook: the mentions are found once, by suggestion_table
    schema = schema or archive_schema(model)
    if not tasks:
        return schema.empty_table(), [str(s) for s in skipped]
    table = pa.Table.from_pandas(suggestion_table(model, tasks), schema=schema, preserve_index=False)
    return table, [str(s) for s in skipped]


def archive_schema(model: Model) -> pa.Schema:
    """The Arrow schema of the model's suggestion table: strings for ids and labels, integers for offsets, a
    list of strings for the frames, doubles for probabilities and the score."""
    sample = suggestion_table(model, [{"text": "schema"}])
    fields = []
    for column in sample.columns:
        if column in INTEGER_COLUMNS:
            kind = pa.int64()
        elif column == "frames":
            kind = pa.list_(pa.string())
        elif sample[column].dtype.kind == "f":
            kind = pa.float64()
        else:
            kind = pa.string()
        fields.append(pa.field(column, kind))
    return pa.schema(fields)


def score_archive(
    model: Model,
    source: Path,
    out: Path,
    size: int = CHUNK_ROWS,
    engine: str = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    advance: Callable[[int], None] = lambda rows: None,
) -> ScoreRun:
    """Score every row of `source` into the Parquet dataset `out` (`part-NNNNNN.parquet`, one per chunk),
    skipping chunks a previous run of the same model, input and chunk size finished."""
    source, out = Path(source), Path(out)
    input_files(source)
    with _lock(out):
        return _score(model, source, out, size, engine, scheduler, workers, advance)


def _score(
    model: Model,
    source: Path,
    out: Path,
    size: int,
    engine: str,
    scheduler: str | None,
    workers: int | None,
    advance: Callable[[int], None],
) -> ScoreRun:
    """`score_archive` once the folder is this run's alone."""
    _claim(out, model, source, size)
    run = ScoreRun(out)
    todo = _pending(read_chunks(source, size), out, run, advance)
    schema = archive_schema(model)
    if engine == "local":
        scored = ((number, len(rows), score_rows(model, file, rows, schema)) for number, file, rows in todo)
    elif engine == "dask":
        from models.archive_dask import score_on_dask

        scored = score_on_dask(model, todo, schema, scheduler, workers)
    else:
        raise ArchiveError(f"unknown engine {engine!r}: use local or dask")
    for number, rows, (table, skipped) in scored:
        _write(out, number, table, skipped, run)
        advance(rows)
    _finish(out, run)
    return run


def _pending(chunks, out: Path, run: ScoreRun, advance) -> Iterator[tuple[int, str, Rows]]:
    """The chunks not yet written, numbered; finished ones are counted into `run` and the progress."""
    for number, (file, rows) in enumerate(chunks):
        run.chunks += 1
        if (out / _part(number)).exists():
            run.resumed += 1
            _count(out, number, run)
            advance(len(rows))
            continue
        yield number, file, rows


def _part(number: int) -> str:
    return f"part-{number:06d}.parquet"


def _write(out: Path, number: int, table: pa.Table, skipped: list[str], run: ScoreRun) -> None:
    """Write a chunk's skipped rows, then its part file, each by renaming a finished temporary file."""
    _replace(out / SKIPPED / f"{number:06d}.json", lambda p: p.write_text(json.dumps(skipped), "utf-8"))
    _replace(out / _part(number), lambda p: pq.write_table(table, p))
    _tally(run, table.column("article_id").to_pylist(), skipped)


def _count(out: Path, number: int, run: ScoreRun) -> None:
    """Count a chunk written by an earlier run."""
    ids = pq.read_table(out / _part(number), columns=["article_id"]).column("article_id").to_pylist()
    reported = out / SKIPPED / f"{number:06d}.json"
    _tally(run, ids, json.loads(reported.read_text("utf-8")) if reported.exists() else [])


def _tally(run: ScoreRun, article_ids: list[str], skipped: list[str]) -> None:
    run.passages += len(article_ids)
    run.articles += len(set(article_ids))
    run.skipped.extend(skipped)


def _replace(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    write(partial)
    os.replace(partial, path)


def _identity(model: Model, source: Path, size: int) -> dict:
    files = input_files(source)
    return {
        "model_version": model.version,
        "input": [str(f.resolve()) for f in files],
        "input_bytes": [f.stat().st_size for f in files],
        "input_modified": [f.stat().st_mtime_ns for f in files],
        "chunk_rows": size,
    }


def _claim(out: Path, model: Model, source: Path, size: int) -> None:
    """Start a run in `out`, or resume one of the same model, input and chunk size; refuse anything else."""
    if size < 1:
        raise ArchiveError(f"the chunk size must be at least 1 row, not {size}")
    identity = _identity(model, source, size)
    manifest = out / MANIFEST
    if manifest.exists():
        before = json.loads(manifest.read_text("utf-8"))
        differs = [key for key, value in identity.items() if before.get(key) != value]
        if differs:
            raise ArchiveError(
                f"{out} holds a run with another {', '.join(differs)}: score into a new folder, or delete it"
            )
        return
    if any(p.name != LOCK for p in out.iterdir()):
        raise ArchiveError(f"{out} is not empty and holds no scoring run: score into a new folder")
    _replace(manifest, lambda p: p.write_text(json.dumps({**identity, "complete": False}, indent=1), "utf-8"))


@contextmanager
def _lock(out: Path) -> Iterator[None]:
    """Hold `OUT/_score.lock` (an exclusive `flock`, with this run's pid, host and start) while scoring into
    `out`; a run that finds it held is refused, naming the run that holds it. The lock ends with the process."""
    if out.exists() and not out.is_dir():
        raise ArchiveError(f"{out} is a file; score into a folder")
    out.mkdir(parents=True, exist_ok=True)
    with (out / LOCK).open("a+", encoding="utf-8") as held:
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held.seek(0)
            raise ArchiveError(
                f"{out} is being scored by another run ({_holder(held.read())}); wait for it to end, "
                "or score into another folder"
            ) from None
        held.seek(0)
        held.truncate()
        held.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": _now()}))
        held.flush()
        yield


def _holder(text: str) -> str:
    """Who holds the lock, as the lock file says."""
    try:
        who = json.loads(text)
        return f"pid {who['pid']} on {who['host']}, started {who['started']}"
    except (ValueError, TypeError, KeyError):
        return "it has not said which yet"


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def _finish(out: Path, run: ScoreRun) -> None:
    manifest = out / MANIFEST
    state = json.loads(manifest.read_text("utf-8"))
    state.update(complete=True, chunks=run.chunks, passages=run.passages, skipped=len(run.skipped))
    _replace(manifest, lambda p: p.write_text(json.dumps(state, indent=1), "utf-8"))
