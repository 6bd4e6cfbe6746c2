"""An evaluation printed as a table, or written as Markdown with plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _figure(value) -> str:
    return "—" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.3f}"


def format_evaluation(evaluation: dict) -> str:
    """One line per question: examples, macro-F1, F_avg or micro-F1, and the human agreement beside them."""
    lines = [f"{'question':30} {'n':>5} {'macro-F1':>9} {'F_avg':>7} {'micro-F1':>9} {'human α':>8}", "-" * 72]
    for name, scores in evaluation["questions"].items():
        lines.append(
            f"{name:30} {scores.get('n', 0):>5} {_figure(scores.get('macro_f1')):>9} {_figure(scores.get('f_avg')):>7} "
            f"{_figure(scores.get('micro_f1')):>9} {_figure(scores.get('human_alpha')):>8}"
        )
    for name, reason in evaluation["skipped"].items():
        lines.append(f"{name:30} skipped: {reason}")
    return "\n".join(lines)


def write_report(evaluation: dict, path: str | Path, card: dict | None = None) -> Path:
    """Markdown with the figures per question, per class, and a confusion matrix plot per question."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    images = path.with_suffix("")
    images.mkdir(parents=True, exist_ok=True)
    parts = ["# Model evaluation", ""]
    if card:
        parts += [
            f"Model `{card['model_version']}`, codebook `{card['codebook']['ref']}`, features `{card['features']}`, "
            f"seed {card['seed']}, {card['training_data']['passages']} passages.",
            "",
        ]
    parts += ["```", format_evaluation(evaluation), "```", ""]
    for name, scores in evaluation["questions"].items():
        if "per_class" not in scores:
            continue
        parts += [f"## {name}", "", "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        for label, figures in scores["per_class"].items():
            parts.append(
                f"| {label} | {figures['precision']:.3f} | {figures['recall']:.3f} | {figures['f1']:.3f} "
                f"| {figures['support']} |"
            )
        parts.append("")
        if "confusion" in scores:
            image = images / f"{name.replace(' ', '_').replace('(', '').replace(')', '')}.png"
            _confusion_plot(plt, scores, name, image)
            parts += [f"![confusion matrix of {name}]({images.name}/{image.name})", ""]
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _confusion_plot(plt, scores: dict, name: str, image: Path) -> None:
    labels, matrix = scores["labels"], np.asarray(scores["confusion"])
    figure, axes = plt.subplots(figsize=(1.2 + 0.6 * len(labels), 1 + 0.6 * len(labels)))
    shown = axes.imshow(matrix, cmap="cividis")
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold label")
    axes.set_title(f"{name}: confusion matrix")
    for (i, j), count in np.ndenumerate(matrix):
        axes.text(j, i, str(count), ha="center", va="center", color="white" if count < matrix.max() / 2 else "black")
    figure.colorbar(shown, ax=axes, label="passages")
    figure.tight_layout()
    figure.savefig(image, dpi=110)
    plt.close(figure)
