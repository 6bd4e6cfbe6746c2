"""Label the bundled sample on a real Label Studio server and save what the server exports.

Starts a server (as the test suite does), creates the project from the example codebook, imports the
sample's tasks, signs up the three annotators of `annotation/sample/labels.yaml`, posts each one's
annotations with their own API token, and writes the server's full JSON export (a snapshot with full
predictions) to `annotation/sample/export.json`. Run it again whenever the sample, the codebook or the
passage splitter changes:

    .venv/bin/python scripts/label_sample.py
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path

from annotation.bounded_yaml import read_yaml
from annotation.codebook import load_codebook, shipped_codebooks
from annotation.label_config import build_instructions, build_label_config
from annotation.sample import EXAMPLE_CODEBOOK, sample_file, sample_tasks
from annotation.studio import sign_up
from annotation.studio_server import start_server

ROOT = Path(__file__).resolve().parents[1]


def annotator_answers(passage: dict, email: str) -> dict:
    """What one annotator answered for a passage: the gold reading with their own differences merged in."""
    gold, own = passage["gold"], passage["by"][email] or {}
    answer = {key: value for key, value in gold.items() if key != "confidence"}
    answer["stance"] = {**gold["stance"], **own.get("stance", {})}
    answer.update({key: value for key, value in own.items() if key != "stance"})
    return answer


def result_items(interface, text: str, answer: dict) -> list[dict]:
    """Label Studio result items for an answer, built with the SDK's `LabelInterface`."""
    items = []

    def add(control: str, *args, **kwargs) -> dict:
        item = json.loads(interface.get_control(control).label(*args, **kwargs).to_json())
        items.append(item)
        return item

    for target, stance in answer["stance"].items():
        add(f"stance_{target}", [stance])
    add("frames", answer["frames"])
    if answer.get("primary_frame"):
        add("primary_frame", [answer["primary_frame"]])
    for cue in answer.get("cues", []):
        start = text.find(cue["text"])
        if start < 0:
            raise ValueError(f"cue {cue['text']!r} is not in the passage")
        where = {"start": start, "end": start + len(cue["text"]), "text": cue["text"]}
        span = add("cues", [cue["label"]], **where)
        span["value"].update(where)  # the editor stores the covered text with the offsets
        if cue.get("frame"):
            # A per-region choice is its own item with the span's id and offsets, as the editor writes it.
            choice = add("cue_frame", [cue["frame"]])
            choice["id"] = span["id"]
            choice["value"].update(where)
    if answer.get("confidence"):
        add("confidence", rating=answer["confidence"])
    if answer.get("note"):
        add("note", text=[answer["note"]])
    return items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", type=Path, default=ROOT / "annotation" / "sample" / "export.json")
    parser.add_argument("--env", type=Path, default=ROOT / ".cache" / "label-studio" / "venv")
    args = parser.parse_args()

    from label_studio_sdk import LabelStudio
    from label_studio_sdk.label_interface import LabelInterface

    codebook = load_codebook(shipped_codebooks()[EXAMPLE_CODEBOOK])
    config = build_label_config(codebook)
    interface = LabelInterface(config)
    run = sample_tasks(codebook)
    labels = read_yaml(sample_file("labels.yaml"))
    passages = labels["passages"]
    missing = {t["data"]["passage_id"] for t in run.tasks} ^ set(passages)
    if missing:
        raise SystemExit(f"labels.yaml and the sample's passages differ: {sorted(missing)}")

    with tempfile.TemporaryDirectory(prefix="framestance-sample-") as data_dir:
        server = start_server(args.env, Path(data_dir))
        try:
            admin = server.client()
            project = admin.projects.create(
                title="framestance sample (illustrative)",
                label_config=config,
                expert_instruction=build_instructions(codebook),
                show_instruction=True,
            )
            imported = admin.projects.import_tasks(id=project.id, request=run.tasks, return_task_ids=True)
            task_ids = dict(zip((t["data"]["passage_id"] for t in run.tasks), imported.task_ids, strict=True))
            tokens = {
                p["email"]: sign_up(server.url, p["email"], secrets.token_hex(12), p["first_name"], p["last_name"])
                for p in labels["annotators"]
            }
            texts = {t["data"]["passage_id"]: t["data"]["text"] for t in run.tasks}
            count = 0
            for passage_id, passage in passages.items():
                for email in passage["by"]:
                    client = LabelStudio(base_url=server.url, api_key=tokens[email])
                    answer = annotator_answers(passage, email)
                    if answer.get("skip"):
                        client.annotations.create(id=task_ids[passage_id], result=[], was_cancelled=True)
                    else:
                        result = result_items(interface, texts[passage_id], answer)
                        client.annotations.create(id=task_ids[passage_id], result=result, lead_time=30.0)
                    count += 1
            snapshot = admin.projects.exports.create(
                id=project.id, title="sample", serialization_options={"predictions": {"only_id": False}}
            )
            while admin.projects.exports.get(id=project.id, export_pk=snapshot.id).status != "completed":
                time.sleep(0.5)
            data = b"".join(admin.projects.exports.download(id=project.id, export_pk=snapshot.id, export_type="JSON"))
        finally:
            server.stop()
    args.out.write_bytes(data)
    print(f"{len(run.tasks)} tasks, {count} annotations by {len(tokens)} annotators → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
