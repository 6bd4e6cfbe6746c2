"""Figures for reading scored articles: stance shares per target, frame profiles, a passage-by-passage strip
of one article, and the log-odds scatter of the words that separate sources.

Every function returns a matplotlib `Figure` (shown by Jupyter, saved with `figure.savefig`), with a title,
labeled axes and a legend, in colours from the Okabe–Ito palette and the cividis map, which stay distinct
under the common forms of colour blindness.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from annotation.codebook import Codebook
from models.rollup import MULTI_LABEL

OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")
STANCE_COLOURS = {"favor": "#0072B2", "against": "#D55E00", "neutral": "#999999", "not_addressed": "#DDDDDD"}
SIGNIFICANT = 1.96  # |z| above this: the word's difference is unlikely under the prior (two-sided 5%)


def stance_colours(labels) -> dict[str, str]:
    """A colour per stance label: the default scale's own, then the palette's in turn."""
    spare = iter(c for c in OKABE_ITO if c not in STANCE_COLOURS.values())
    return {label: STANCE_COLOURS.get(label) or next(spare, "#444444") for label in labels}


def _names(values, names: dict | None, width: int = 50) -> list[str]:
    return [textwrap.shorten(str((names or {}).get(value, value)) or "(none)", width) for value in values]


def plot_stance(shares: pd.DataFrame, by: str = "article_id", names: dict | None = None) -> Figure:
    """Share of passages per stance label toward each target (one panel per target), per group of `by`,
    with the roll-up's credible intervals as whiskers."""
    stance = shares[shares["target"] != ""]
    if stance.empty:
        raise ValueError("no stance shares to plot")
    groups = list(dict.fromkeys(stance[by]))
    targets = list(dict.fromkeys(stance["target"]))
    labels = list(dict.fromkeys(stance["label"]))
    label_names = dict(zip(stance["label"], stance["label_name"], strict=False))
    colours = stance_colours(labels)
    figure = Figure(figsize=(4.2 * len(targets) + 2.5, 1.2 + 0.55 * len(groups) * max(1, len(labels) / 3)))
    figure.set_layout_engine("constrained")
    axes = figure.subplots(1, len(targets), sharey=True, squeeze=False)[0]
    height = 0.8 / len(labels)
    y = np.arange(len(groups))[::-1]
    for ax, target in zip(axes, targets, strict=True):
        for k, label in enumerate(labels):
            rows = stance[(stance["target"] == target) & (stance["label"] == label)].set_index(by).reindex(groups)
            share = rows["share"].to_numpy(dtype=float)
            whiskers = np.vstack([share - rows["low"].to_numpy(float), rows["high"].to_numpy(float) - share])
            ax.barh(
                y + 0.4 - height * (k + 0.5),
                share,
                height=height,
                color=colours[label],
                edgecolor="#555555",
                linewidth=0.4,
                xerr=whiskers,
                error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "#333333"},
                label=label_names.get(label, label),
            )
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of passages")
        ax.set_title(f"toward {target.replace('_', ' ')}", fontsize="medium")
        ax.grid(axis="x", color="#EEEEEE")
    axes[0].set_yticks(y, _names(groups, names))
    axes[0].set_ylabel(by.replace("_", " "))
    handles, texts = axes[0].get_legend_handles_labels()
    figure.legend(handles, texts, loc="outside lower center", ncols=len(labels), frameon=False, fontsize="small")
    figure.suptitle("Stance toward each target: share of passages (whiskers: 90% credible interval)")
    return figure


def plot_frames(shares: pd.DataFrame, by: str = "article_id", names: dict | None = None, min_share=0.05) -> Figure:
    """The frame profile: per group of `by`, the share of passages using each frame, as a heat map.

    Frames under `min_share` in every group are left out to keep the map readable."""
    frames = shares[shares["question"] == MULTI_LABEL]
    if frames.empty:
        raise ValueError("no frame shares to plot")
    grid = frames.pivot_table(index=by, columns="label", values="share", sort=False)
    grid = grid.loc[:, grid.max(axis=0) >= min_share]
    if grid.empty:
        raise ValueError(f"no frame reaches a share of {min_share} in any group")
    label_names = dict(zip(frames["label"], frames["label_name"], strict=False))
    figure = Figure(figsize=(2.8 + 0.75 * grid.shape[1], 1.8 + 0.42 * grid.shape[0]), layout="constrained")
    ax = figure.add_subplot()
    image = ax.imshow(grid.to_numpy(float), cmap="cividis", vmin=0, vmax=1, aspect="auto")
    for (i, j), value in np.ndenumerate(grid.to_numpy(float)):
        ax.text(
            j,
            i,
            f"{value:.0%}",
            ha="center",
            va="center",
            fontsize="x-small",
            color="white" if value < 0.6 else "black",
        )
    ax.set_xticks(range(grid.shape[1]), _names(grid.columns.map(label_names), None, 24), rotation=40, ha="right")
    ax.set_yticks(range(grid.shape[0]), _names(grid.index, names))
    ax.set_xlabel("frame")
    ax.set_ylabel(by.replace("_", " "))
    figure.colorbar(image, ax=ax, label="share of passages using the frame", shrink=0.9)
    ax.set_title("Frame profile: share of passages using each frame")
    return figure


def plot_strip(scored: pd.DataFrame, codebook: Codebook, article_id: str) -> Figure:
    """One article passage by passage: the suggested stance toward each target (colour; paler when the model
    is less sure) and the most probable frame, against the passage's position in the article."""
    rows = scored[scored["article_id"] == article_id].sort_values("position")
    if rows.empty:
        raise ValueError(f"no passages of article {article_id!r} in the table")
    controls = [c for c in codebook.stance_controls if c in rows]
    labels = [s.id for s in codebook.stance]
    colours = stance_colours(labels)
    positions = rows["position"].to_numpy()
    figure = Figure(figsize=(max(8.0, 0.32 * len(rows) + 4), 2.2 + 0.45 * len(controls)), layout="constrained")
    ax = figure.add_subplot()
    for i, control in enumerate(controls):
        y = len(controls) - i
        chosen = rows[control].to_numpy()
        sure = np.array([row[f"{control}__{label}"] for (_, row), label in zip(rows.iterrows(), chosen, strict=True)])
        for label in labels:
            mask = chosen == label
            if mask.any():
                ax.scatter(
                    positions[mask],
                    np.full(mask.sum(), y),
                    s=160,
                    marker="s",
                    color=colours[label],
                    alpha=np.clip(sure[mask], 0.25, 1.0),
                    edgecolors="#555555",
                    linewidths=0.4,
                )
    frame_names = {f.id: f.name for f in codebook.frames}
    frame_columns = [c for c in rows if c.startswith("frames__")]
    if frame_columns:
        top = rows[frame_columns].idxmax(axis=1).str.removeprefix("frames__")
        for x, frame in zip(positions, top, strict=True):
            ax.text(
                x,
                0,
                textwrap.shorten(frame_names.get(frame, frame), 22),
                rotation=90,
                ha="center",
                va="top",
                fontsize="x-small",
            )
    stance_names = {s.id: s.name for s in codebook.stance}
    for label in labels:
        ax.scatter(
            [],
            [],
            s=80,
            marker="s",
            color=colours[label],
            edgecolors="#555555",
            linewidths=0.4,
            label=stance_names[label],
        )
    ax.set_yticks(
        [*range(len(controls), 0, -1), 0], [*(codebook.stance_controls[c].name for c in controls), "top frame"]
    )
    ax.set_ylim(-2.6, len(controls) + 0.7)
    ax.set_xticks(positions)
    ax.set_xlabel("passage (position in the article)")
    ax.set_ylabel("stance toward …")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize="small", title="stance")
    first = rows.iloc[0]
    source = f"{first['source']}: " if isinstance(first.get("source"), str) and first["source"] else ""
    ax.set_title(textwrap.fill(f"{source}{first.get('title') or article_id}", 70), fontsize="medium")
    return figure


def plot_log_odds(scores: pd.DataFrame, top: int = 10, groups: list[str] | None = None) -> Figure:
    """The words that separate groups: frequency against the z-score of the weighted log-odds ratio, one panel
    per group against the rest (a single panel for two groups), the `top` words each way labeled."""
    names = groups or list(dict.fromkeys(scores["group"]))
    panels = names[:1] if len(names) == 2 else names
    figure = Figure(figsize=(8.5, 4.8 * len(panels)), layout="constrained")
    axes = figure.subplots(len(panels), 1, squeeze=False)[:, 0]
    for ax, name in zip(axes, panels, strict=True):
        rows = scores[scores["group"] == name]
        other = names[1] if len(names) == 2 else "the others"
        z = rows["z"].to_numpy(float)
        plain = np.abs(z) < SIGNIFICANT
        ax.scatter(rows["frequency"][plain], z[plain], s=8, color="#BBBBBB", label=f"|z| < {SIGNIFICANT}")
        ax.scatter(
            rows["frequency"][z >= SIGNIFICANT],
            z[z >= SIGNIFICANT],
            s=14,
            color=OKABE_ITO[0],
            label=f"more used by {name}",
        )
        ax.scatter(
            rows["frequency"][z <= -SIGNIFICANT],
            z[z <= -SIGNIFICANT],
            s=14,
            color=OKABE_ITO[1],
            label=f"more used by {other}",
        )
        labeled = pd.concat([rows.nlargest(top, "z"), rows.nsmallest(top, "z")]).drop_duplicates("word")
        # Words at the same point (same counts) share one label instead of overprinting each other.
        for (frequency, score), words in labeled.groupby(["frequency", labeled["z"].round(6)], sort=False)["word"]:
            ax.annotate(
                textwrap.shorten(", ".join(words), 60),
                (frequency, score),
                xytext=(4, 0),
                textcoords="offset points",
                fontsize="x-small",
                va="center",
                color=OKABE_ITO[0] if score > 0 else OKABE_ITO[1],
            )
        for bound in (SIGNIFICANT, -SIGNIFICANT):
            ax.axhline(bound, color="#777777", linestyle=":", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("word frequency in all texts (log scale)")
        ax.set_ylabel(f"z-score (← {textwrap.shorten(other, 24)} · {textwrap.shorten(name, 24)} →)")
        ax.set_title(textwrap.shorten(f"Words that separate {name} from {other}", 90))
        ax.legend(loc="best", fontsize="small", frameon=False)
    figure.suptitle("Weighted log-odds ratio with an informative Dirichlet prior")
    return figure
