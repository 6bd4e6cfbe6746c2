"""The demo model on two real articles: stance figures beside the two baselines, and what it would pre-fill.

The model is the demo's (trained on the bundled sample's labels, nothing else). The check set is the 16
passages of `../shared/label-studio/multi-annotator` that three annotators labeled, each question's label
settled as `framestance gold` settles it (ground truth first, then the majority; no majority, no label).
Those passages are a check, never training data. Printed, per target and pooled over targets:

- accuracy, macro-F1 over the four stance labels, and F_avg (mean F1 of favor and against), for the model and
  for the two baselines learned from the training labels: the most common label overall and the most common
  label per target;
- for each target, how many passages name it (by the codebook's aliases) and how many of those the model
  calls "not addressed";
- the per-article shares of the 23 passages cut from `../shared/articles`, which take opposite sides;
- the pre-fill gate's decision per question, from the model card.

    .venv/bin/python benchmarks/shared_articles.py [--model demo-output/model.skops]

Goals: pooled F_avg at least 0.70 and macro-F1 at least 0.60.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

from annotation.convert import read_export
from annotation.gold import gold_labels
from annotation.mentions import find_mentions
from annotation.tasks import tasks_from_files
from models.suggest import suggestion_table
from models.training import Model, training_data

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CHECK = SHARED / "label-studio" / "multi-annotator"
ARTICLES = SHARED / "articles"
GOALS = {"f_avg": 0.70, "macro_f1": 0.60}


def figures(truth: list[str], predicted: list[str], labels: list[str]) -> dict[str, float]:
    """Accuracy, macro-F1 over `labels` and F_avg."""
    return {
        "accuracy": accuracy_score(truth, predicted),
        "macro_f1": f1_score(truth, predicted, labels=labels, average="macro", zero_division=0),
        "f_avg": float(np.mean(f1_score(truth, predicted, labels=["favor", "against"], average=None, zero_division=0))),
    }


def check_rows(model: Model) -> pd.DataFrame:
    """One row per (labeled check passage, target): text, target, settled label, the model's label."""
    tables = read_export(CHECK / "export-full.json", config=(CHECK / "config.xml").read_text(encoding="utf-8"))
    gold = gold_labels(tables)
    texts = tables.tasks.drop_duplicates("passage_id").set_index("passage_id")["text"]
    gold = gold[gold["passage_id"].isin(texts.index)].reset_index(drop=True)
    table = suggestion_table(model, [{"text": texts[p], "passage_id": p} for p in gold["passage_id"]])
    rows = []
    for control, target in model.codebook.stance_controls.items():
        for i, passage in enumerate(gold["passage_id"]):
            label = gold.loc[i, control]
            if pd.isna(label):
                continue
            text = texts[passage]
            rows.append(
                {
                    "passage_id": passage,
                    "target": target.id,
                    "label": str(label),
                    "predicted": table.loc[i, control],
                    "named": bool(find_mentions(text, model.codebook)[target.id]),
                }
            )
    return pd.DataFrame(rows)


def baselines(model: Model, sample_export: Path) -> tuple[str, dict[str, str]]:
    """The most common stance label of the training labels, overall and per target."""
    data = training_data(read_export(sample_export, codebook=model.codebook), model.codebook)
    overall = data.stance["label"].value_counts().idxmax()
    per_target = data.stance.groupby("target")["label"].agg(lambda labels: labels.value_counts().idxmax())
    return overall, per_target.to_dict()


def print_check(rows: pd.DataFrame, overall: str, per_target: dict[str, str], labels: list[str]) -> bool:
    print(f"Check set: {rows['passage_id'].nunique()} passages of {CHECK.relative_to(SHARED.parent)}, settled labels")
    print(f"{'target':22} {'n':>3}  {'':26} {'accuracy':>8} {'macro-F1':>8} {'F_avg':>6}")
    met = True
    for target in [*per_target, "pooled"]:
        mine = rows if target == "pooled" else rows[rows["target"] == target]
        truth = list(mine["label"])
        answers = {
            "model": list(mine["predicted"]),
            f"most common overall ({overall})": [overall] * len(mine),
            "most common per target": [per_target[t] for t in mine["target"]],
        }
        for i, (name, predicted) in enumerate(answers.items()):
            scores = figures(truth, predicted, labels)
            head = f"{target:22} {len(mine):>3}" if i == 0 else " " * 26
            print(f"{head}  {name:26} {scores['accuracy']:>8.3f} {scores['macro_f1']:>8.3f} {scores['f_avg']:>6.3f}")
            if target == "pooled" and name == "model":
                met = all(scores[k] >= goal for k, goal in GOALS.items())
    print(f"Goals (pooled): F_avg ≥ {GOALS['f_avg']}, macro-F1 ≥ {GOALS['macro_f1']}: {'met' if met else 'NOT met'}")
    print()
    print("Passages that name the target, and how many of them the model calls 'not addressed':")
    for target, mine in rows.groupby("target", sort=False):
        named = mine[mine["named"]]
        missed = int((named["predicted"] == "not_addressed").sum())
        print(f"  {target:22} named in {len(named):>2} of {len(mine):>2}; called not addressed in {missed}")
    print()
    print("Confusion (pooled; rows: settled label, columns: the model's):")
    print(pd.crosstab(rows["label"], rows["predicted"]).reindex(index=labels, columns=labels, fill_value=0))
    return met


def print_articles(model: Model) -> None:
    run = tasks_from_files(sorted(ARTICLES.glob("*.txt")), model.codebook)
    table = suggestion_table(model, run.tasks)
    print()
    print(f"The {len(table)} passages of {ARTICLES.relative_to(SHARED.parent)}: share of passages per label")
    for control, target in model.codebook.stance_controls.items():
        shares = pd.crosstab(table["article_id"], table[control], normalize="index").round(2)
        print(f"  {target.id}:")
        print("    " + shares.to_string().replace("\n", "\n    "))


def print_gate(model: Model) -> None:
    from models.prefill import prefill_plan

    print()
    print("The pre-fill gate (model card):")
    for line in prefill_plan(model).lines:
        print(f"  {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a model file (default: the demo model, trained afresh)")
    args = parser.parse_args()
    if not CHECK.exists() or not ARTICLES.exists():
        print(f"skipped: {CHECK} or {ARTICLES} is absent")
        return 0
    from annotation.sample import sample_file
    from models.demo import demo_model
    from models.persistence import load_model

    with tempfile.TemporaryDirectory() as folder:
        model = load_model(args.model) if args.model else demo_model(folder)[0]
    print(f"Model {model.version} ({model.card['training_data']['passages']} training passages)")
    labels = [label.id for label in model.codebook.stance]
    overall, per_target = baselines(model, sample_file("export.json"))
    print_check(check_rows(model), overall, per_target, labels)
    print_articles(model)
    print_gate(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
