"""From scored passages to articles or sources: the share of passages taking each stance toward each target,
using each frame, and with each primary frame, each with a credible interval.

A share is the expected number of passages with a label (the sum of the model's probabilities) over the
number of passages, so the model's doubt about a passage counts. Its interval is the Jeffreys interval for a
proportion, taken on those expected counts: it says how far a share resting on a handful of passages can be
trusted. The roll-up only adds columns per group, so it works the same on a pandas table and on a Dask one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import beta

from annotation.codebook import Codebook

COLUMNS = (
    "question",
    "target",
    "label",
    "label_name",
    "passages",
    "count",
    "expected",
    "share",
    "low",
    "high",
)
MULTI_LABEL = "frames"


@dataclass(frozen=True)
class RolledQuestion:
    """A question of the suggestion table: its column, target (stance only) and labels with their names."""

    name: str
    target: str
    labels: tuple[tuple[str, str], ...]
    multi: bool = False


def with_group(table: pd.DataFrame, by: str = "source", fallback: str = "title", name: str = "group") -> pd.DataFrame:
    """The table with a `name` column: the `by` column, or `fallback` where `by` is empty (a plain-text article
    names no outlet, so it stands for itself by its title)."""
    chosen = table[by].where(table[by].fillna("").astype(str).str.strip() != "", table[fallback])
    return table.assign(**{name: chosen.fillna("").astype(str)})


def rolled_questions(columns, codebook: Codebook) -> list[RolledQuestion]:
    """The questions of a suggestion table with these columns, in codebook order."""
    columns = set(columns)
    found = []
    stance = tuple((s.id, s.name) for s in codebook.stance)
    for control, target in codebook.stance_controls.items():
        found.append(RolledQuestion(control, target.id, stance))
    frames = tuple((f.id, f.name) for f in codebook.frames)
    found.append(RolledQuestion(MULTI_LABEL, "", frames, multi=True))
    found.append(RolledQuestion("primary_frame", "", frames))
    kept = []
    for question in found:
        labels = tuple(pair for pair in question.labels if f"{question.name}__{pair[0]}" in columns)
        if labels:
            kept.append(RolledQuestion(question.name, question.target, labels, question.multi))
    return kept


def rollup(table, codebook: Codebook, by: str | list[str] = "article_id", level: float = 0.9) -> pd.DataFrame:
    """Shares per group (`by`: `article_id`, `source`, or several columns), one row per group, question and label.

    `table` is a suggestion table (pandas or Dask). Columns: the `by` columns, then `question`, `target`
    (stance questions), `label`, `label_name`, `passages` (in the group), `count` (passages whose suggested
    label it is), `expected` (sum of its probabilities), `share` (`expected / passages`), and `low`/`high`,
    the central `level` credible interval of the share.
    """
    by = [by] if isinstance(by, str) else list(by)
    missing = [column for column in by if column not in table.columns]
    if missing:
        raise ValueError(f"cannot roll up by {missing}: the table has no such column")
    questions = rolled_questions(table.columns, codebook)
    if not questions:
        raise ValueError("nothing to roll up: the table has no probability columns of the codebook's questions")
    if hasattr(table, "map_partitions"):  # a Dask table: sums per partition, then per group across partitions
        meta = group_sums(table._meta, questions, by)
        sums = table.map_partitions(group_sums, questions, by, meta=meta).groupby(by).sum().compute()
    else:
        sums = group_sums(table, questions, by).groupby(by).sum()
    return shares(sums.sort_index(), questions, level)


def group_sums(table: pd.DataFrame, questions: list[RolledQuestion], by: list[str]) -> pd.DataFrame:
    """Per group: passages, and per label its expected and suggested count (`<question>__<label>`, `#…`)."""
    keys = {column: table[column].fillna("").astype(str) for column in by}
    columns = {"passages": np.ones(len(table), dtype=np.int64)}
    for question in questions:
        for label, _ in question.labels:
            column = f"{question.name}__{label}"
            columns[column] = table[column].to_numpy(dtype=float)
            if question.multi:
                chosen = table[question.name].map(
                    lambda labels, label=label: labels is not None and label in list(labels)
                )
            else:
                chosen = table[question.name] == label
            columns[f"#{column}"] = chosen.to_numpy(dtype=np.int64)
    frame = pd.DataFrame({**keys, **columns}, index=table.index)
    return frame.groupby(by, sort=False).sum().reset_index()


def shares(sums: pd.DataFrame, questions: list[RolledQuestion], level: float) -> pd.DataFrame:
    """The long table of shares and intervals from per-group sums."""
    tail = (1 - level) / 2
    passages = sums["passages"].to_numpy(dtype=float)
    parts = []
    for question in questions:
        for label, name in question.labels:
            column = f"{question.name}__{label}"
            expected = sums[column].to_numpy(dtype=float)
            part = sums.index.to_frame(index=False)
            part["question"] = question.name
            part["target"] = question.target
            part["label"] = label
            part["label_name"] = name
            part["passages"] = passages.astype(np.int64)
            part["count"] = sums[f"#{column}"].to_numpy(dtype=np.int64)
            part["expected"] = expected
            part["share"] = expected / passages
            part["low"] = np.where(expected > 0, beta.ppf(tail, expected + 0.5, passages - expected + 0.5), 0.0)
            part["high"] = np.where(
                expected < passages, beta.ppf(1 - tail, expected + 0.5, passages - expected + 0.5), 1.0
            )
            parts.append(part)
    return pd.concat(parts, ignore_index=True)
