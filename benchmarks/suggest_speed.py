"""How many passages a second `framestance suggest` scores, next to a plain scikit-learn pipeline.

Trains the demo model on the bundled sample (tfidf, and tfidf+embeddings when that extra is installed), makes
N distinct synthetic passages by recombining the sample's sentences, and times in one run:
- framestance: `suggestion_table` (three stance questions, frames, primary frame; labels, probabilities, score);
- peer: a scikit-learn Pipeline of the same word and character TF-IDF and a LogisticRegression, predicting
  probabilities for one question.
Goal: at least 2,000 passages a second with tfidf on two cores.

    .venv/bin/python benchmarks/suggest_speed.py [--passages 20000]
"""

from __future__ import annotations

import argparse
import random
import re
import time
import warnings

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from annotation.codebook import load_codebook, shipped_codebooks
from annotation.convert import read_export
from annotation.sample import sample_file, sample_tasks
from models.features import text_features
from models.suggest import suggestion_table
from models.training import train

GOAL = 2000


def synthetic_tasks(count: int, seed: int = 0) -> list[dict]:
    """Distinct passages of four to seven sentences drawn from the sample's passages."""
    sentences = [
        s for task in sample_tasks().tasks for s in re.split(r"(?<=[.!?”])\s+", task["data"]["text"]) if s.strip()
    ]
    chooser = random.Random(seed)
    return [
        {"data": {"text": " ".join(chooser.sample(sentences, chooser.randint(4, 7))), "passage_id": f"s:{i}"}}
        for i in range(count)
    ]


def rate(score, *args) -> float:
    """Passages a second of `score(*args)`, whose last argument holds the passages."""
    start = time.perf_counter()
    score(*args)
    return len(args[-1]) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=20000)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    path = shipped_codebooks()["soleimani_2020"]
    codebook = load_codebook(path)
    tables = read_export(sample_file("export.json"), codebook=codebook)
    tasks = synthetic_tasks(args.passages)
    texts = [t["data"]["text"] for t in tasks]
    rows = []
    for features in ("tfidf", "tfidf+embeddings"):
        try:
            model, _ = train(tables, codebook, path.read_text(encoding="utf-8"), features=features)
        except ImportError as err:
            print(f"{features}: not measured ({err})")
            continue
        count = args.passages if features == "tfidf" else min(args.passages, 1000)
        rows.append((f"framestance suggest, {features}", rate(suggestion_table, model, tasks[:count])))
    gold = tables.annotations.dropna(subset=["primary_frame"]).drop_duplicates("passage_id")
    known = tables.tasks.drop_duplicates("passage_id").set_index("passage_id")["text"]
    peer = make_pipeline(text_features("tfidf"), LogisticRegression(max_iter=2000))
    peer.fit(list(gold["passage_id"].map(known)), list(gold["primary_frame"].astype(str)))
    rows.append(("peer: TF-IDF + LogisticRegression, one question", rate(peer.predict_proba, texts)))
    ours = rows[0][1]
    print(f"{args.passages:,} distinct synthetic passages, one run, this machine\n")
    print(f"{'what':52} {'passages/s':>11} {'framestance tfidf / this':>25}")
    for name, speed in rows:
        print(f"{name:52} {speed:11,.0f} {ours / speed:25.2f}")
    print(
        f"\ngoal: at least {GOAL:,} passages a second with tfidf: {'met' if ours >= GOAL else 'missed'} ({ours:,.0f})"
    )


if __name__ == "__main__":
    main()
