"""`framestance score`: archives scored in chunks, locally and on a Dask cluster, resumable after a kill."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from annotation.tasks import tasks_from_files
from models.archive import ArchiveError, score_archive
from models.rollup import rollup
from models.suggest import suggestion_table

FRAMESTANCE = str(Path(sys.executable).parent / "framestance")
WORDS = [
    "the",
    "strike",
    "regime",
    "deterrence",
    "assassination",
    "elimination",
    "martyr",
    "government",
    "sanctions",
    "escalation",
    "drone",
    "airport",
    "commander",
    "militia",
    "parliament",
    "protest",
    "war",
    "peace",
    "law",
    "illegal",
    "decisive",
    "blow",
    "revenge",
    "missiles",
    "base",
]


def archive_rows(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    return [
        {
            "id": f"art-{i:05d}",
            "source": rng.choice(["Ledger", "Review", "Courier"]),
            "title": f"Title {i}",
            "date": "2020-01-03",
            "text": " ".join(rng.choices(WORDS, k=rng.randint(35, 90))) + ".",
        }
        for i in range(n)
    ]


def write_jsonl(path: Path, rows: list[dict], bad: dict[int, str] | None = None) -> Path:
    """Rows as JSON lines; `bad` puts a raw line before the row with that index."""
    with path.open("w", encoding="utf-8") as out:
        for i, row in enumerate(rows):
            if bad and i in bad:
                out.write(bad[i] + "\n")
            out.write(json.dumps(row) + "\n")
    return path


def dataset(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder).sort_values("passage_id").reset_index(drop=True)


def test_local_output_is_the_suggestion_table_and_dask_gives_the_same(tmp_path, sample_model):
    from dask.distributed import LocalCluster

    source = write_jsonl(tmp_path / "archive.jsonl", archive_rows(900), bad={300: "{not json", 600: "[1, 2]"})
    local = score_archive(sample_model, source, tmp_path / "local", size=128)
    assert local.chunks == 8 and local.resumed == 0
    assert local.skipped == [
        f"{source}, row 301: not valid JSON (Expecting property name enclosed in double quotes at column 2)",
        f"{source}, row 602: not a JSON object",
    ]
    scored = dataset(tmp_path / "local")
    # The same code path as `framestance suggest` on the same articles.
    run = tasks_from_files([source], sample_model.codebook)
    expected = suggestion_table(sample_model, run.tasks).sort_values("passage_id").reset_index(drop=True)
    assert len(scored) == len(expected) == local.passages and local.articles == 900
    pd.testing.assert_frame_equal(scored, expected, check_dtype=False)
    assert pq.read_schema(tmp_path / "local" / "part-000000.parquet").field("frames").type == pa.list_(pa.string())

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = score_archive(
            sample_model, source, tmp_path / "dask", size=128, engine="dask", scheduler=cluster.scheduler_address
        )
    assert (remote.chunks, remote.passages, remote.articles) == (local.chunks, local.passages, local.articles)
    assert sorted(remote.skipped) == sorted(local.skipped)
    pd.testing.assert_frame_equal(dataset(tmp_path / "dask"), scored)

    # The roll-up reads the scored output with pandas or Dask alike.
    import dask.dataframe as dd

    by_pandas = rollup(scored, sample_model.codebook, by="source")
    by_dask = rollup(dd.read_parquet(tmp_path / "dask"), sample_model.codebook, by="source")
    pd.testing.assert_frame_equal(by_dask, by_pandas)
    assert set(by_pandas["source"]) == {"Ledger", "Review", "Courier"}


def test_a_run_killed_midway_resumes_to_the_same_output(tmp_path, sample_model_file):
    source = write_jsonl(tmp_path / "archive.jsonl", archive_rows(3000, seed=1))
    command = [FRAMESTANCE, "score", str(sample_model_file), str(source), "--chunk-rows", "100"]
    whole = subprocess.run([*command, "-o", str(tmp_path / "whole")], capture_output=True, text=True, timeout=600)
    assert whole.returncode == 0, whole.stderr
    killed = tmp_path / "killed"
    process = subprocess.Popen([*command, "-o", str(killed)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while len(list(killed.glob("part-*.parquet"))) < 5:
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    finished = len(list(killed.glob("part-*.parquet")))
    assert 5 <= finished < 30
    resumed = subprocess.run([*command, "-o", str(killed)], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"({finished} chunks were already there)" in resumed.stderr
    assert "Scored 3000 passages of 3000 articles in 30 chunks" in resumed.stderr
    again, first = dataset(killed), dataset(tmp_path / "whole")
    assert again["passage_id"].is_unique
    pd.testing.assert_frame_equal(again, first)
    assert not list(killed.glob(".*partial"))


def test_csv_and_parquet_inputs_report_bad_rows_by_number(tmp_path, sample_model_file):
    rows = archive_rows(40, seed=2)
    with (tmp_path / "archive.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([*rows[:10], {**rows[10], "text": ""}, *rows[11:]])
    result = subprocess.run(
        [FRAMESTANCE, "score", str(sample_model_file), str(tmp_path / "archive.csv"), "-o", str(tmp_path / "c")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    # The header is row 1, so the eleventh record is row 12.
    assert f"skipped {tmp_path / 'archive.csv'}, row 12: no text" in result.stderr
    assert "Scored 39 passages of 39 articles in 1 chunks" in result.stderr

    folder = tmp_path / "parquet"
    folder.mkdir()
    pq.write_table(pa.Table.from_pylist(rows[:25]), folder / "a.parquet")
    pq.write_table(pa.Table.from_pylist([*rows[25:30], {**rows[30], "text": None}]), folder / "b.parquet")
    result = subprocess.run(
        [FRAMESTANCE, "score", str(sample_model_file), str(folder), "-o", str(tmp_path / "p"), "--chunk-rows", "10"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert f"skipped {folder / 'b.parquet'}, row 6: no text" in result.stderr
    assert "Scored 30 passages of 30 articles in 4 chunks" in result.stderr
    assert len(pd.read_parquet(tmp_path / "p")) == 30


def test_refusals_name_the_problem(tmp_path, sample_model):
    source = write_jsonl(tmp_path / "archive.jsonl", archive_rows(20))
    score_archive(sample_model, source, tmp_path / "out", size=10)
    with pytest.raises(ArchiveError, match="holds a run with another chunk_rows"):
        score_archive(sample_model, source, tmp_path / "out", size=5)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "mine.txt").write_text("keep me")
    with pytest.raises(ArchiveError, match="is not empty and holds no scoring run"):
        score_archive(sample_model, source, tmp_path / "busy")
    with pytest.raises(ArchiveError, match=r"score reads \.jsonl, \.csv, \.parquet files"):
        score_archive(sample_model, tmp_path / "busy" / "mine.txt", tmp_path / "x")
    with pytest.raises(ArchiveError, match="no such file or folder"):
        score_archive(sample_model, tmp_path / "absent.jsonl", tmp_path / "y")
    with pytest.raises(ArchiveError, match="unknown engine 'spark'"):
        score_archive(sample_model, source, tmp_path / "z", engine="spark")
    # A rerun of a finished run scores nothing again.
    rerun = score_archive(sample_model, source, tmp_path / "out", size=10)
    assert (rerun.resumed, rerun.chunks, rerun.passages) == (2, 2, 20)


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_holds_it(tmp_path, sample_model_file):
    source = write_jsonl(tmp_path / "archive.jsonl", archive_rows(400, seed=3))
    out, lock = tmp_path / "out", tmp_path / "out" / "_score.lock"
    command = [FRAMESTANCE, "score", str(sample_model_file), str(source), "-o", str(out), "--chunk-rows", "20"]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not (lock.exists() and f'"pid": {first.pid},' in lock.read_text(encoding="utf-8")):
        assert first.poll() is None, "the first run ended before it held the folder"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(first.pid, signal.SIGSTOP)  # it keeps the folder while it is stopped, so the second run meets it there
    try:
        second = subprocess.run(command, capture_output=True, text=True, timeout=300)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert second.returncode == 2
    message = " ".join(second.stderr.split())
    assert f"{out} is being scored by another run (pid {first.pid} on " in message and "started 20" in message
    assert first.wait(timeout=300) == 0, first.stderr.read()
    assert len(dataset(out)) == 400 and not list(out.glob(".*partial"))
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)  # the lock ended with its run
    assert again.returncode == 0 and "(20 chunks were already there)" in again.stderr
