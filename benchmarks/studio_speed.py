"""How long `framestance studio push`, `pull` and `suggest` take for N tasks against a local Label Studio server.

Starts a fresh local server (as the test suite does: label-studio 1.23.2 in its own environment, loopback,
SQLite in a temporary data dir), writes N synthetic tasks (articles recombined from the bundled sample's
sentences, split into passages by `framestance tasks`' own code), and times in one run, one after the other:

- `framestance studio push CODEBOOK TASKS --project P`, then the same push again (every task already there);
- peer: the plain SDK, `projects.create` and one `projects.import_tasks` call with all N tasks;
- `framestance studio suggest MODEL --project P` (the demo model, on all N unlabeled tasks);
- `framestance studio pull --project L -o DIR` on two annotator copies whose N tasks each carry one
  annotation (imported with the tasks, not timed): snapshot exports, conversion, merging, agreement;
- peer: the SDK's synchronous JSON export (`projects.exports.download_sync`) of the same two projects, parsed
  with `json.loads`; it converts nothing.

The framestance commands run as child processes, so their times include start-up: what a user waits for.

    .venv/bin/python benchmarks/studio_speed.py [--tasks 10000] [--env .cache/label-studio/venv]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from suggest_speed import synthetic_tasks

from annotation.articles import Article
from annotation.codebook import load_codebook, shipped_codebooks
from annotation.convert import read_export
from annotation.label_config import build_label_config
from annotation.sample import EXAMPLE_CODEBOOK, sample_file
from annotation.studio import find_projects, push
from annotation.studio_server import start_server
from annotation.tasks import build_tasks
from models.persistence import save_model
from models.training import train

ROOT = Path(__file__).resolve().parents[1]
FRAMESTANCE = str(Path(sys.executable).parent / "framestance")
PASSAGES_PER_ARTICLE = 10


def bench_tasks(count: int, codebook) -> list[dict]:
    """`count` tasks made the way `framestance tasks` makes them, from synthetic articles."""
    passages = [t["data"]["text"] for t in synthetic_tasks(count + count // 4)]
    articles = [
        Article(
            id=f"bench-{n}",
            text="\n\n".join(passages[start : start + PASSAGES_PER_ARTICLE]),
            title=f"Synthetic article {n}",
            source=f"Outlet {n % 7}",
            date="2020-01-03",
        )
        for n, start in enumerate(range(0, len(passages), PASSAGES_PER_ARTICLE))
    ]
    tasks = build_tasks(articles, codebook)
    if len(tasks) < count:
        raise SystemExit(f"made only {len(tasks)} tasks; ask for fewer")
    return tasks[:count]


def labeled(tasks: list[dict], codebook, seed: int) -> list[dict]:
    """The tasks, each with one annotation: a stance per target and one or two frames."""
    chooser = random.Random(seed)
    stances = [label.id for label in codebook.stance]
    frames = [frame.id for frame in codebook.frames]
    out = []
    for task in tasks:
        result = [
            {"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": [chooser.choice(stances)]}}
            for name in codebook.stance_controls
        ]
        chosen = chooser.sample(frames, chooser.randint(1, 2))
        result.append({"from_name": "frames", "to_name": "text", "type": "choices", "value": {"choices": chosen}})
        out.append({**task, "annotations": [{"result": result}]})
    return out


def timed(command: list[str], env: dict) -> float:
    """Seconds a framestance command takes; prints the last line it printed."""
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed:\n{done.stderr[-2000:]}")
    print("   ", done.stderr.strip().splitlines()[-1][:150], flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10000)
    parser.add_argument("--env", type=Path, default=ROOT / ".cache" / "label-studio" / "venv")
    args = parser.parse_args()
    codebook_path = shipped_codebooks()[EXAMPLE_CODEBOOK]
    codebook = load_codebook(codebook_path)
    rows = []
    with tempfile.TemporaryDirectory(prefix="studio-speed-") as scratch:
        work = Path(scratch)
        tasks = bench_tasks(args.tasks, codebook)
        task_file = work / "tasks.json"
        task_file.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
        tables = read_export(sample_file("export.json"), codebook=codebook)
        model_file = save_model(train(tables, codebook, codebook_path.read_text())[0], work / "model.skops")

        start = time.perf_counter()
        server = start_server(args.env, work / "data")
        print(f"server up in {time.perf_counter() - start:.1f} s at {server.url}", flush=True)
        try:
            client = server.client()
            env = {**os.environ, "LABEL_STUDIO_URL": server.url, "LABEL_STUDIO_API_KEY": server.token}
            push_command = [FRAMESTANCE, "studio", "push", str(codebook_path), str(task_file), "--project", "bench"]
            first = timed(push_command, env)
            again = timed(push_command, env)

            start = time.perf_counter()
            project = client.projects.create(title="peer", label_config=build_label_config(codebook))
            client.projects.import_tasks(id=project.id, request=tasks, return_task_ids=True)
            peer_push = time.perf_counter() - start
            rows.append((f"push {len(tasks):,} new tasks", first, peer_push))
            rows.append((f"push again ({len(tasks):,} already there)", again, None))

            suggest = timed([FRAMESTANCE, "studio", "suggest", str(model_file), "--project", "bench"], env)
            rows.append((f"suggest on {len(tasks):,} unlabeled tasks", suggest, None))

            start = time.perf_counter()
            for copy in (1, 2):
                push(client, codebook, labeled(tasks, codebook, seed=copy), f"labeled (annotator {copy})")
            print(f"    set up 2 labeled copies in {time.perf_counter() - start:.1f} s (not timed below)", flush=True)
            out = work / "pulled"
            pull = timed([FRAMESTANCE, "studio", "pull", "--project", "labeled", "-o", str(out)], env)
            start = time.perf_counter()
            for project in find_projects(client, "labeled"):
                json.loads(b"".join(client.projects.exports.download_sync(id=project.id, export_type="JSON")))
            peer_pull = time.perf_counter() - start
            rows.append((f"pull 2 copies × {len(tasks):,} labeled tasks", pull, peer_pull))
        finally:
            server.stop()

    print(f"\n{args.tasks:,} tasks, one run, local Label Studio 1.23.2 (SQLite) on this machine\n")
    print(f"{'what':42} {'framestance s':>14} {'peer s':>8} {'ratio':>6}")
    for name, ours, peer in rows:
        peer_text, ratio = (f"{peer:8.1f}", f"{ours / peer:6.2f}") if peer else (f"{'—':>8}", f"{'':>6}")
        print(f"{name:42} {ours:14.1f} {peer_text} {ratio}")
    print(
        "\npeers: push = the SDK's one import_tasks call (no project setup from a codebook, no check for tasks "
        "already there, no batches); pull = the SDK's synchronous JSON export parsed (no snapshot, no conversion)"
    )


if __name__ == "__main__":
    main()
