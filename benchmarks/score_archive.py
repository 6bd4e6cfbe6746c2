"""How fast `framestance score` goes through synthetic archives, and how much memory it holds, next to the
model's raw scoring speed on passages held in memory, all measured in one run.

Each configuration runs in a child process of its own and reports passages per second and its peak resident
memory (for Dask, the driver's and the largest worker's, sampled). The peer is `suggestion_table` (the model's
`predict_proba` for every question) on passages already cut and held in memory: the speed with no reading,
cutting or writing. Goals: the local engine at least 80% of the peer's speed; its peak memory within 20%
between the smallest and the largest archive.

The archives are JSONL, one passage-sized article per row, drawn from a small vocabulary; they are written
to a temporary folder and deleted afterwards. The demo model is trained first (about 20 s).

    .venv/bin/python benchmarks/score_archive.py [--local 100000 1000000] [--dask 200000] [--peer 20000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

WORDS = (
    "the a of to and in that was for on with as by at from it his its their who said after before government "
    "regime strike drone airport commander general militia parliament protest war peace law illegal decisive "
    "blow revenge missiles base oil markets allies congress sanctions escalation deterrence assassination "
    "elimination martyr resistance security defense diplomacy president minister leader people nation region"
)
VOCABULARY = WORDS.split()
SOURCES = ("Ledger", "Review", "Courier", "Monitor", "Wire")


def write_archive(path: Path, rows: int, seed: int = 0) -> None:
    """`rows` articles of 40 to 120 words each, as JSON lines."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for i in range(rows):
            words = rng.choices(VOCABULARY, k=rng.randint(40, 120))
            for end in range(11, len(words), 12):  # sentences of 12 words
                words[end] += "."
            words[-1] += "."
            row = {
                "id": f"a{i:07d}",
                "source": SOURCES[i % len(SOURCES)],
                "title": f"Article {i}",
                "text": " ".join(words),
            }
            out.write(json.dumps(row) + "\n")


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


class WorkerPeak(threading.Thread):
    """The largest resident memory seen in any child process (a Dask worker), sampled every 0.2 s."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self.done.wait(0.2):
            for process in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    self.peak = max(self.peak, process.memory_info().rss / 2**20)


def child(args: argparse.Namespace) -> None:
    """One configuration, in this process: print a JSON line with its figures."""
    from models.persistence import load_model

    model = load_model(args.model)
    if args.kind == "peer":
        from annotation.articles import Skipped, articles_from_rows, jsonl_rows
        from annotation.tasks import build_tasks
        from models.suggest import suggestion_table

        with open(args.source, encoding="utf-8") as stream:
            found = articles_from_rows(args.source, jsonl_rows(stream))
            tasks = build_tasks([a for a in found if not isinstance(a, Skipped)], model.codebook)
        start = time.perf_counter()
        for at in range(0, len(tasks), 2000):  # the same batch size as the archive's chunks
            suggestion_table(model, tasks[at : at + 2000])
        seconds = time.perf_counter() - start
        figures = {"passages": len(tasks)}
    else:
        from models.archive import score_archive

        workers = WorkerPeak()
        workers.start()
        start = time.perf_counter()
        run = score_archive(model, Path(args.source), Path(args.out), engine=args.kind, workers=args.workers)
        seconds = time.perf_counter() - start
        workers.done.set()
        figures = {"passages": run.passages, "worker_mb": workers.peak}
    figures.update(seconds=seconds, driver_mb=peak_mb())
    print(json.dumps(figures))


def measure(model: Path, kind: str, source: Path, out: Path, workers: int = 1) -> dict:
    command = [sys.executable, __file__, "--child", kind, "--model", str(model), "--source", str(source)]
    command += ["--out", str(out), "--workers", str(workers)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{kind} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--dask", type=int, nargs="*", default=[200_000])
    parser.add_argument("--peer", type=int, default=20_000)
    parser.add_argument("--child", choices=["peer", "local", "dask"])
    parser.add_argument("--model")
    parser.add_argument("--source")
    parser.add_argument("--out")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if args.child:
        args.kind = args.child
        child(args)
        return
    from models.demo import demo_model

    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="framestance-score-bench-") as work:
        work = Path(work)
        demo_model(work / "demo")
        model = work / "demo" / "model.skops"
        archives = {}
        for rows in sorted({args.peer, *args.local, *args.dask}):
            archives[rows] = work / f"archive-{rows}.jsonl"
            write_archive(archives[rows], rows)
        results = [
            ("raw predict, in memory (peer)", args.peer, measure(model, "peer", archives[args.peer], work / "p"))
        ]
        for rows in args.local:
            results.append(("score, local", rows, measure(model, "local", archives[rows], work / f"local-{rows}")))
        for rows in args.dask:
            for workers in (1, 2):
                label = f"score, dask {workers} worker{'s' * (workers > 1)}"
                results.append(
                    (label, rows, measure(model, "dask", archives[rows], work / f"dask-{rows}-{workers}", workers))
                )
    peer = results[0][2]["passages"] / results[0][2]["seconds"]
    print(f"{'configuration':32} {'passages':>10} {'seconds':>8} {'passages/s':>11} {'vs peer':>8}", end=" ")
    print(f"{'peak MB':>8} {'worker MB':>10}")
    for label, _, figures in results:
        rate = figures["passages"] / figures["seconds"]
        worker = f"{figures['worker_mb']:.0f}" if "dask" in label else "—"
        print(
            f"{label:32} {figures['passages']:>10,} {figures['seconds']:>8.1f} {rate:>11.0f} {rate / peer:>8.2f} "
            f"{figures['driver_mb']:>8.0f} {worker:>10}"
        )
    local = [figures for label, _, figures in results if label == "score, local"]
    if local:
        speed = min(f["passages"] / f["seconds"] for f in local) / peer
        print(f"goal: local throughput >= 80% of the peer: {speed:.0%} ({'met' if speed >= 0.8 else 'MISSED'})")
    if len(local) > 1:
        growth = local[-1]["driver_mb"] / local[0]["driver_mb"] - 1
        print(
            f"goal: peak memory within 20% from the smallest to the largest archive: {growth:+.0%} "
            f"({'met' if abs(growth) <= 0.2 else 'MISSED'})"
        )
    print(f"whole run: {(time.perf_counter() - began) / 60:.1f} min")


if __name__ == "__main__":
    main()
