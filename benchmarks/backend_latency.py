"""How fast `framestance serve` answers Label Studio's `/predict`, next to the same work done in-process.

Trains the demo model (tfidf) on the bundled sample, starts `framestance serve` on a free loopback port as a
child process, and measures in one run:
- latency of `/predict` for one task and for a batch of 20 (median and 95th percentile over N requests, each
  request with passages not sent before, so no cache helps), from a client in this process;
- throughput: passages a second with 4 clients sending batches of 20 for a fixed time;
- peer: the same predictions made in-process (`suggestion_table` then `predictions`), without HTTP, so the
  ratio shows what the server adds.
Goal: median under 50 ms for one task.

    .venv/bin/python benchmarks/backend_latency.py [--requests 200] [--seconds 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from suggest_speed import synthetic_tasks

from annotation.codebook import load_codebook, shipped_codebooks
from annotation.convert import read_export
from annotation.label_config import build_label_config
from annotation.sample import EXAMPLE_CODEBOOK, sample_file
from annotation.studio_server import free_port, wait_until_up
from models.persistence import save_model
from models.suggest import predictions, suggestion_table
from models.training import train

GOAL_MS = 50
FRAMESTANCE = str(Path(sys.executable).parent / "framestance")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    path = shipped_codebooks()[EXAMPLE_CODEBOOK]
    codebook = load_codebook(path)
    config = build_label_config(codebook)
    model = train(read_export(sample_file("export.json"), codebook=codebook), codebook, path.read_text())[0]
    texts = [t["data"]["text"] for t in synthetic_tasks(args.requests * 21 + 20000, seed=3)]
    with tempfile.TemporaryDirectory(prefix="backend-latency-") as scratch:
        model_file = save_model(model, Path(scratch) / "model.skops")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [FRAMESTANCE, "serve", str(model_file), "--port", str(port), "--work", scratch],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_up(url, server, 120, "framestance serve")
            with httpx.Client(timeout=60) as client:
                project = "1.1700000000"
                rows, cursor = [], 0
                for size in (1, 20):
                    client.post(f"{url}/predict", json=body(texts[:size], project, config))  # warm up
                    http, local = [], []
                    for _ in range(args.requests):
                        batch = texts[cursor : cursor + size]
                        cursor += size
                        start = time.perf_counter()
                        answer = client.post(f"{url}/predict", json=body(batch, project, config))
                        http.append((time.perf_counter() - start) * 1000)
                        assert answer.status_code == 200, answer.text
                        start = time.perf_counter()
                        predictions(model, suggestion_table(model, [{"text": t} for t in batch]), config)
                        local.append((time.perf_counter() - start) * 1000)
                    rows.append((size, http, local))
            rate = throughput(url, texts[cursor:], project, config, args.seconds)
        finally:
            server.terminate()
            server.wait(timeout=30)

    print(f"/predict of framestance serve (tfidf demo model), {args.requests} requests each, one run\n")
    print(f"{'request':18} {'median ms':>10} {'p95 ms':>8} {'in-process median':>18} {'ratio':>6}")
    for size, http, local in rows:
        median, local_median = statistics.median(http), statistics.median(local)
        name = "1 task" if size == 1 else f"batch of {size}"
        print(
            f"{name:18} {median:10.1f} {percentile(http, 0.95):8.1f} {local_median:18.1f} {median / local_median:6.2f}"
        )
    print(f"\nthroughput, 4 clients, batches of 20, {args.seconds:.0f} s: {rate:,.0f} passages/s")
    one = statistics.median(rows[0][1])
    print(f"goal: median under {GOAL_MS} ms for one task: {'met' if one < GOAL_MS else 'missed'} ({one:.1f} ms)")


def body(texts: list[str], project: str, config: str) -> dict:
    return {"tasks": [{"id": i, "data": {"text": t}} for i, t in enumerate(texts)], "project": project,
            "label_config": config}  # fmt: skip


def throughput(url: str, texts: list[str], project: str, config: str, seconds: float) -> float:
    """Passages a second that 4 clients get scored, each sending batches of 20 until time is up."""
    done = []
    deadline = time.monotonic() + seconds

    def client_loop(offset: int) -> None:
        with httpx.Client(timeout=60) as client:
            position = offset
            while time.monotonic() < deadline:
                batch = texts[position % len(texts) : position % len(texts) + 20]
                position += 80
                if client.post(f"{url}/predict", json=body(batch, project, config)).status_code == 200:
                    done.append(len(batch))

    start = time.monotonic()
    threads = [threading.Thread(target=client_loop, args=(20 * i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - start)


if __name__ == "__main__":
    main()
