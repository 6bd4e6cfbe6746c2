"""How fast `framestance convert` turns a large Label Studio export into tables, next to peers run on the same file.

The script writes a synthetic export in the shape of a real Label Studio 1.23.2 snapshot export (one-line JSON
array, `json.dumps` default separators, non-ASCII written raw): N tasks, three annotations each, every annotation
with a stance for four targets, one to three frames and two cue spans. The passages are made from a small invented
vocabulary at run time. It also writes the matching labeling config. Then, one after the other, it runs:

- `framestance convert EXPORT --config CONFIG -o OUTDIR` (parquet tables);
- the Label Studio SDK's CSV conversion (`label_studio_sdk.converter.Converter.convert_to_csv`);
- a naive loader for context: `json.load` of the whole file and `pandas.json_normalize` of the annotation results.

Each command runs in its own child process, started by a fresh wrapper process (this script with `--measure`) that
times the child and reads its peak resident memory from `getrusage(RUSAGE_CHILDREN).ru_maxrss` once it has exited.
The wrapper is small, so the peak is the child's own, not inherited from the process that generated the file.
Times include interpreter start-up and imports: it is what a user waits for.

Goals: framestance at least 10x faster than the SDK converter, and a peak memory under 3x the export's size.
Reference (earlier measurement, 10,000 tasks, 58 MB): SDK converter 8.4 s and 188 MB; `json.load` plus a DataFrame
2.2 s and 377 MB.

    .venv/bin/python benchmarks/convert_speed.py --tasks 100000 [--workdir DIR] [--keep] [--skip-sdk]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import shutil
import string
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

PYTHON = sys.executable
FRAMESTANCE = str(Path(PYTHON).parent / "framestance")
SPEEDUP_GOAL = 10.0
MEMORY_GOAL = 3.0  # peak RSS as a multiple of the export's size
MB = 1_000_000

STANCE_TARGETS = ("stance_t1", "stance_t2", "stance_t3", "stance_t4")
STANCES = ("favor", "against", "neutral", "not_addressed")
FRAMES = (
    "economic", "capacity_resources", "morality", "fairness_equality", "legality", "policy_prescription",
    "crime_punishment", "security_defense", "health_safety", "quality_of_life", "cultural_identity",
    "public_opinion", "political", "external_reputation", "other",
)  # fmt: skip
CUE_LABELS = ("frame_cue", "loaded_language")
ANNOTATORS = (1, 2, 3)

# An invented vocabulary; two words carry a curly apostrophe so offsets are character, not byte, offsets.
VOCABULARY = (
    "council harbor budget minister plan river market ruling court tariff border crowd report vote reform "
    "union district agency envoy treaty strike levy statement committee island province ferry clinic school "
    "bridge grain fleet mayor senate charter quota panel audit pension rally decree summit "
    "the a of to and in on for with against after before under over new old quiet sharp bold late early "
    "said warned claimed argued promised denied nation’s city’s"
)
WORDS = VOCABULARY.split()
ID_CHARS = string.ascii_letters + string.digits + "_-"


def label_config() -> str:
    """The labeling config both converters read: the passage, four stance questions, frames and cue spans."""
    stance_choices = "".join(f'<Choice value="{s}"/>' for s in STANCES)
    stances = "".join(
        f'<Choices name="{t}" toName="text" choice="single-radio">{stance_choices}</Choices>' for t in STANCE_TARGETS
    )
    frames = "".join(f'<Choice value="{f}"/>' for f in FRAMES)
    cues = "".join(f'<Label value="{c}"/>' for c in CUE_LABELS)
    return (
        '<View><Text name="text" value="$text"/>'
        f"{stances}"
        f'<Choices name="frames" toName="text" choice="multiple">{frames}</Choices>'
        f'<Labels name="cues" toName="text">{cues}</Labels>'
        "</View>\n"
    )


def passage(rng: random.Random) -> str:
    """60 to 120 words of invented prose in sentences."""
    words = [rng.choice(WORDS) for _ in range(rng.randint(60, 120))]
    sentences, i = [], 0
    while i < len(words):
        n = rng.randint(6, 16)
        sentence = " ".join(words[i : i + n])
        sentences.append(sentence[0].upper() + sentence[1:] + ".")
        i += n
    return " ".join(sentences)


def timestamp(moment: datetime) -> str:
    """A time the way Label Studio writes it: `2026-11-21T19:35:43.730499Z`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def region_id(rng: random.Random) -> str:
    """A 10-character region id like the ones the Label Studio editor makes."""
    return "".join(rng.choices(ID_CHARS, k=10))


def choice_item(rng: random.Random, control: str, choices: list[str]) -> dict:
    return {
        "value": {"choices": choices},
        "id": region_id(rng),
        "from_name": control,
        "to_name": "text",
        "type": "choices",
        "origin": "manual",
    }


def span_item(rng: random.Random, text: str) -> dict:
    """A cue span over one to four whole words of `text`, with `value.text == text[start:end]`."""
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == " "]
    first = rng.randrange(len(starts) - 4)
    start = starts[first]
    end = starts[first + rng.randint(1, 4)] - 1
    end -= text[end - 1] == "."  # stop before a full stop, as annotators do
    return {
        "value": {"start": start, "end": end, "text": text[start:end], "labels": [rng.choice(CUE_LABELS)]},
        "id": region_id(rng),
        "from_name": "cues",
        "to_name": "text",
        "type": "labels",
        "origin": "manual",
    }


def annotation(rng: random.Random, ann_id: int, task_id: int, user: int, text: str, moment: datetime) -> dict:
    frames = sorted(rng.sample(range(len(FRAMES)), rng.randint(1, 3)))  # Label Studio keeps config order
    result = [choice_item(rng, t, [rng.choice(STANCES)]) for t in STANCE_TARGETS]
    result.append(choice_item(rng, "frames", [FRAMES[i] for i in frames]))
    result += [span_item(rng, text), span_item(rng, text)]
    return {
        "id": ann_id,
        "completed_by": user,
        "result": result,
        "was_cancelled": False,
        "ground_truth": False,
        "created_at": timestamp(moment),
        "updated_at": timestamp(moment + timedelta(microseconds=31)),
        "draft_created_at": None,
        "lead_time": round(rng.uniform(10, 240), 3),
        "prediction": {},
        "result_count": len(result),
        "unique_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "import_id": None,
        "last_action": None,
        "bulk_created": False,
        "task": task_id,
        "project": 1,
        "updated_by": user,
        "parent_prediction": None,
        "parent_annotation": None,
        "last_created_by": None,
    }


def tasks(n: int, seed: int = 0) -> Iterator[dict]:
    """`n` exported tasks, made article by article (5 to 14 passages each) so neighbours give the context."""
    rng = random.Random(seed)
    moment = datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc)
    task_id = ann_id = article = 0
    while task_id < n:
        article += 1
        article_id = f"a{article:05d}"
        date = (datetime(2020, 1, 1) + timedelta(days=article % 700)).strftime("%Y-%m-%d")
        title = " ".join(rng.choices(WORDS, k=8)).capitalize()
        texts = [passage(rng) for _ in range(rng.randint(5, 14))]
        offset = 0
        for position, text in enumerate(texts):
            if task_id == n:
                return
            task_id += 1
            created = moment + timedelta(seconds=task_id)
            annotations = []
            for user in ANNOTATORS:
                ann_id += 1
                made = created + timedelta(minutes=ann_id % 500, microseconds=ann_id)
                annotations.append(annotation(rng, ann_id, task_id, user, text, made))
            data = {
                "text": text,
                "title": title,
                "source": "Bench Wire",
                "url": f"https://news.example/{date}/{article_id}",
                "date": date,
                "article_id": article_id,
                "passage_id": f"{article_id}:{position:02d}",
                "passage_hash": hashlib.sha256(text.encode("utf-8")).hexdigest()[:16],
                "position": position,
                "start": offset,
                "end": offset + len(text),
                "context_before": texts[position - 1] if position > 0 else "",
                "context_after": texts[position + 1] if position + 1 < len(texts) else "",
                "file": "bench/articles.jsonl",
                "row": article,
                "codebook": "bench@1.0",
            }
            offset += len(text) + 2  # passages are separated by a blank line in the article
            yield {
                "id": task_id,
                "annotations": annotations,
                "drafts": [],
                "predictions": [],
                "data": data,
                "meta": {},
                "created_at": timestamp(created),
                "updated_at": annotations[-1]["updated_at"],
                "allow_skip": True,
                "inner_id": task_id,
                "total_annotations": len(annotations),
                "cancelled_annotations": 0,
                "total_predictions": 0,
                "comment_count": 0,
                "unresolved_comment_count": 0,
                "last_comment_updated_at": None,
                "project": 1,
                "updated_by": ANNOTATORS[-1],
                "comment_authors": [],
            }


def write_export(path: Path, n: int) -> None:
    """Write the export one task at a time, as one line like Label Studio's snapshot export."""
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        for i, task in enumerate(tasks(n)):
            if i:
                out.write(", ")
            out.write(json.dumps(task, ensure_ascii=False))
        out.write("]")


def run_peer(name: str, export: str, config: str, out: str) -> None:
    """The peers' work, run inside a measured child process."""
    if name == "sdk":
        from label_studio_sdk.converter import Converter

        converter = Converter(config=Path(config).read_text(), project_dir=out, download_resources=False)
        # convert_to_csv leaves the separator to its caller (Converter.convert passes "," for CSV)
        converter.convert_to_csv(export, out, is_dir=False, sep=",")
    elif name == "naive":
        import pandas as pd

        with open(export, encoding="utf-8") as f:
            data = json.load(f)
        frame = pd.json_normalize(
            data,
            record_path=["annotations", "result"],
            meta=["id", ["annotations", "id"], ["annotations", "completed_by"]],
            record_prefix="result.",  # result items have an `id` of their own
        )
        print(f"{len(frame)} result rows")
    else:
        raise SystemExit(f"unknown peer: {name}")


def peer(name: str, export: Path, config: Path, out: Path) -> list[str]:
    """The command line that runs peer `name` in a child process of its own."""
    return [PYTHON, __file__, "--run-peer", name, str(export), str(config), str(out)]


def measure(command: list[str]) -> None:
    """Run `command` and print, as JSON, its wall time and peak RSS; its output goes to stderr."""
    start = time.perf_counter()
    code = subprocess.run(command, stdout=sys.stderr).returncode
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    print(json.dumps({"returncode": code, "seconds": seconds, "peak_bytes": peak_kib * 1024}))


def measured(command: list[str]) -> dict | None:
    """`command`'s time and peak memory, taken by a fresh wrapper process; None (and its output) if it failed."""
    wrapper = subprocess.run([PYTHON, __file__, "--measure", *command], capture_output=True, text=True)
    lines = wrapper.stdout.strip().splitlines()
    figures = json.loads(lines[-1]) if wrapper.returncode == 0 and lines else None
    if figures is None or figures["returncode"] != 0:
        print(f"failed: {' '.join(command)}\n{wrapper.stderr[-2000:]}", file=sys.stderr)
        return None
    return figures


def framestance_available() -> bool:
    try:
        return subprocess.run([FRAMESTANCE, "convert", "--help"], capture_output=True).returncode == 0
    except OSError:
        return False


def report(results: dict[str, dict | None], file_bytes: int, n: int) -> None:
    """Print the table, the ratio to the SDK converter and the goals."""
    ours = results.get("framestance convert")
    print(f"\n{n:,} tasks, export {file_bytes / MB:,.1f} MB")
    print(f"{'command':<34} {'seconds':>9} {'peak MB':>9} {'mem/file':>9} {'framestance speedup':>20}")
    for name, figures in results.items():
        if figures is None:
            print(f"{name:<34} {'not available' if name == 'framestance convert' else 'failed':>9}")
            continue
        speedup = f"{figures['seconds'] / ours['seconds']:.1f}x" if ours else "-"
        print(
            f"{name:<34} {figures['seconds']:>9.2f} {figures['peak_bytes'] / MB:>9.0f} "
            f"{figures['peak_bytes'] / file_bytes:>8.2f}x {speedup:>20}"
        )
    print("\npeak MB: the child's peak RSS from getrusage(RUSAGE_CHILDREN) in a fresh wrapper process")
    print("reference, 10,000 tasks / 58 MB: SDK converter 8.4 s, 188 MB; json.load + DataFrame 2.2 s, 377 MB")
    if ours is None:
        print("goals: not measured (framestance convert: not available)")
        return
    sdk = results.get("SDK convert_to_csv")
    if sdk:
        ratio = sdk["seconds"] / ours["seconds"]
        verdict = "met" if ratio >= SPEEDUP_GOAL else "missed"
        print(f"goal: framestance >= {SPEEDUP_GOAL:.0f}x faster than the SDK converter: {ratio:.1f}x, {verdict}")
    else:
        print("goal: framestance >= 10x faster than the SDK converter: not measured")
    multiple = ours["peak_bytes"] / file_bytes
    verdict = "met" if multiple < MEMORY_GOAL else "missed"
    print(f"goal: framestance peak memory < {MEMORY_GOAL:.0f}x the file size: {multiple:.2f}x, {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="tasks in the synthetic export")
    parser.add_argument("--workdir", type=Path, help="where to make the scratch folder (default: the system temp)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder with the export and outputs")
    parser.add_argument("--skip-sdk", action="store_true", help="leave out the (slow) SDK converter")
    # internal: the measuring wrapper and the peers' child processes
    parser.add_argument("--measure", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    parser.add_argument("--run-peer", nargs=4, metavar=("NAME", "EXPORT", "CONFIG", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return
    if args.run_peer:
        run_peer(*args.run_peer)
        return

    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="convert_speed-", dir=args.workdir))
    try:
        export, config = scratch / "export.json", scratch / "label_config.xml"
        config.write_text(label_config(), encoding="utf-8")
        start = time.perf_counter()
        write_export(export, args.tasks)
        file_bytes = export.stat().st_size
        print(
            f"wrote {export} ({args.tasks:,} tasks, {file_bytes / MB:,.1f} MB) in {time.perf_counter() - start:.1f} s"
        )

        ours = [FRAMESTANCE, "convert", str(export), "--config", str(config), "-o", str(scratch / "framestance")]
        commands: dict[str, list[str] | None] = {"framestance convert": ours if framestance_available() else None}
        if not args.skip_sdk:
            commands["SDK convert_to_csv"] = peer("sdk", export, config, scratch / "sdk")
        commands["json.load + json_normalize"] = peer("naive", export, config, scratch / "naive")

        results: dict[str, dict | None] = {}
        for name, command in commands.items():
            if command is None:
                print(f"{name}: not available")
                results[name] = None
                continue
            print(f"running {name} ...", flush=True)
            results[name] = measured(command)
        report(results, file_bytes, args.tasks)
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
