"""How fast `framestance serve` answers Label Studio's `/predict`, next to the same work done in-process.

Trains the demo model (tfidf) on the bundled sample, starts `framestance serve` on a free loopback port as a
child process, and measures in one run:
- latency of `/predict` for one task and for a batch of 20 (median and 95th percentile over N requests, each
  request with passages not sent before, so no cache helps), from a client in this process;
- throughput: passages a second with 4 clients sending batches of 20 for a fixed time;
- peer: the same predictions made in-process (`suggestion_table` then `predictions`), without HTTP, so the
  ratio shows what the server adds;
- contention: the 95th percentile of one-task requests alone, then while one 16 MB `/predict` (1,000 tasks of
  16,000 characters, minutes of scoring) is in flight; the large request is dropped once they are measured.
The server wants HTTP Basic auth, as `make studio` runs it. Goals: median under 50 ms for one task; p95 of
one-task requests under 1 s with the 16 MB request in flight.

    .venv/bin/python benchmarks/backend_latency.py [--requests 200] [--seconds 15]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
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
GOAL_CONTENDED_MS = 1000
FRAMESTANCE = str(Path(sys.executable).parent / "framestance")
AUTH = ("benchmark", "benchmark-password")


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
            env={**os.environ, "FRAMESTANCE_BACKEND_AUTH": ":".join(AUTH)},
        )
        try:
            wait_until_up(url, server, 120, "framestance serve")
            with httpx.Client(timeout=60, auth=AUTH) as client:
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
            alone, contended, big = contention(url, texts, project, config, args.requests)
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
    print(f"\none-task /predict, p95 of {args.requests} requests: {percentile(alone, 0.95):.1f} ms alone, "
          f"{percentile(contended, 0.95):.1f} ms with one {big / 1e6:.1f} MB /predict in flight "
          f"(median {statistics.median(alone):.1f} / {statistics.median(contended):.1f} ms, "
          f"max {max(alone):.1f} / {max(contended):.1f} ms)")  # fmt: skip
    one = statistics.median(rows[0][1])
    print(f"goal: median under {GOAL_MS} ms for one task: {'met' if one < GOAL_MS else 'missed'} ({one:.1f} ms)")
    worst = percentile(contended, 0.95)
    print(f"goal: p95 under {GOAL_CONTENDED_MS} ms for one task beside a 16 MB request: "
          f"{'met' if worst < GOAL_CONTENDED_MS else 'missed'} ({worst:.1f} ms)")  # fmt: skip


def body(texts: list[str], project: str, config: str) -> dict:
    return {"tasks": [{"id": i, "data": {"text": t}} for i, t in enumerate(texts)], "project": project,
            "label_config": config}  # fmt: skip


def throughput(url: str, texts: list[str], project: str, config: str, seconds: float) -> float:
    """Passages a second that 4 clients get scored, each sending batches of 20 until time is up."""
    done = []
    deadline = time.monotonic() + seconds

    def client_loop(offset: int) -> None:
        with httpx.Client(timeout=60, auth=AUTH) as client:
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


def contention(url: str, texts: list[str], project: str, config: str, count: int) -> tuple[list, list, int]:
    """Milliseconds of `count` one-task requests alone, then of `count` more while a 16 MB /predict is in flight
    (sent on a socket of its own, closed once they are measured), and that request's size in bytes."""
    long_text = " ".join(texts)[:16_000]
    tasks = [{"id": i, "data": {"text": long_text[i:] + long_text[:i]}} for i in range(1000)]
    big = json.dumps(body([t["data"]["text"] for t in tasks], project, config)).encode()
    token = base64.b64encode(":".join(AUTH).encode()).decode()
    host, port = url.removeprefix("http://").split(":")
    with httpx.Client(timeout=60, auth=AUTH) as client:
        alone = timed(client, url, texts[:count], project, config)
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(
                f"POST /predict HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(big)}\r\n\r\n".encode()
                + big
            )
            time.sleep(1)  # the server reads and checks the body, then scores it slice by slice
            contended = timed(client, url, texts[count : 2 * count], project, config)
            sock.settimeout(0)
            try:
                sock.recv(1)
                raise AssertionError("the 16 MB request was answered before the small ones were measured")
            except BlockingIOError:
                pass  # still being scored, as it should be
    return alone, contended, len(big)


def timed(client: httpx.Client, url: str, texts: list[str], project: str, config: str) -> list[float]:
    """Milliseconds each one-task request takes, one after the other."""
    waits = []
    for text in texts:
        start = time.perf_counter()
        answer = client.post(f"{url}/predict", json=body([text], project, config))
        waits.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, answer.text
    return waits


if __name__ == "__main__":
    main()
