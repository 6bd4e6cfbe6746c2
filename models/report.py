"""An evaluation printed as a table, or written as Markdown with plots."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from models.training import CROSS_VALIDATION, HELD_OUT

FIGURES = {"accuracy": "accuracy", "macro_f1": "macro-F1", "f_avg": "F_avg", "micro_f1": "micro-F1"}
SHORT = {"most_common": "most common overall", "most_common_per_target": "most common per target"}  # baselines
SIDES = {"before": "raw", "after": "calibrated"}  # of the probabilities a reliability curve is drawn for
COLOURS = {"before": "#D55E00", "after": "#0072B2"}  # Okabe–Ito
RULE = (
    "The gate: suggestions pre-fill a question only when the model beats the better baseline, the 5th percentile "
    "of the difference being above zero for accuracy and macro-F1 (frames: micro- and macro-F1)."
)
DPI = 110
CHARACTERS_PER_INCH = 8  # of a title at matplotlib's default size, with room to spare
INTERVALS = "[90% bootstrap interval over articles]"


def _figure(value) -> str:
    return "—" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.3f}"


def _number(value: float) -> str:
    return f"{round(value, 2) + 0.0:.2f}".replace("-", "−")  # + 0.0: no "−0.00"


def _with_interval(value, interval, signed: bool = False) -> str:
    """A figure and its interval, as 0.41 [0.33, 0.49], or +0.19 [0.11, 0.27] for a difference; "—" without one."""
    if value is None:
        return "—"
    shown = f"{round(value, 2) + 0.0:+.2f}".replace("-", "−") if signed else _number(value)
    return shown + (f" [{_number(interval[0])}, {_number(interval[1])}]" if interval else "")


def _rows(scores: dict, short: bool = False) -> list[tuple[str, dict]]:
    """The answers a question's figures are given for, with their figures as cell texts: the model, each
    baseline (by its short name if `short`) and the model's difference from the better baseline."""
    metrics = [m for m in FIGURES if m in scores]
    intervals = scores.get("intervals", {})
    rows = [("model", {m: _with_interval(scores[m], intervals.get("model", {}).get(m)) for m in metrics})]
    for name, baseline in scores.get("baselines", {}).items():
        answer = f": {baseline['answer']}" if baseline.get("answer") else ""
        cells = {m: _with_interval(baseline[m], intervals.get(name, {}).get(m)) for m in metrics}
        rows.append((f"{SHORT[name] if short else baseline['description']}{answer}", cells))
    if "difference" in scores:
        cells = {m: _with_interval(d["value"], d["interval"], signed=True) for m, d in scores["difference"].items()}
        rows.append(("model − better baseline", cells))
    return rows


def _sides(calibration: dict) -> list[str]:
    """Which probabilities a calibration summary measures: before calibration, after it, or both."""
    return [side for side in SIDES if f"ece_{side}" in calibration]


def _errors(calibration: dict, crossed: str = "cross-fitted") -> str:
    """The expected calibration errors, as "raw 0.075 → calibrated 0.071 (cross-fitted)" or "calibrated 0.071"."""
    sides = _sides(calibration)
    if len(sides) == 2:
        return f"raw {calibration['ece_before']:.3f} → calibrated {calibration['ece_after']:.3f} ({crossed})"
    return ", ".join(f"{SIDES[side]} {calibration[f'ece_{side}']:.3f}" for side in sides)


def _calibration_line(scores: dict) -> str | None:
    calibration = scores.get("calibration", {})
    return f"calibration error (ECE): {_errors(calibration)}" if _sides(calibration) else None


def _gate_word(evaluation: dict, name: str) -> str:
    decision = evaluation.get("gate", {}).get(name)
    if decision is None:
        return ""
    return "; passes the gate" if decision["prefill"] else "; fails the gate"


def format_evaluation(evaluation: dict) -> str:
    """Per question: its examples, human agreement and gate decision, then the model's figures, the baselines'
    and the model's difference from the better one, each with its interval, and the calibration error."""
    width = 42
    header = f"{'question / answers':{width}}" + "".join(f" {name:>21}" for name in FIGURES.values())
    lines = [header, "-" * len(header)]
    for name, scores in evaluation["questions"].items():
        if not scores.get("n"):
            lines.append(f"{name}: {scores.get('note', 'not evaluated')}")
            continue
        lines.append(
            f"{name} (n {scores['n']}, human α {_figure(scores.get('human_alpha'))}{_gate_word(evaluation, name)})"
        )
        for label, cells in _rows(scores, short=True):
            label = label if len(label) <= width - 2 else label[: width - 3] + "…"
            lines.append(f"  {label:{width - 2}}" + "".join(f" {cells.get(m, '—'):>21}" for m in FIGURES))
        if line := _calibration_line(scores):
            lines.append(f"  {line}")
    for name, reason in evaluation["skipped"].items():
        lines.append(f"{name}: skipped: {reason}")
    lines += [f"{INTERVALS}; baselines learned from the training labels ({_baseline_source(evaluation)})", RULE]
    return "\n".join(lines)


def _baseline_source(evaluation: dict) -> str:
    if evaluation.get("method") == HELD_OUT:
        return "the counts in the model card"
    return "each fold's training rows only"


def write_report(evaluation: dict, path: str | Path, card: dict | None = None) -> Path:
    """Markdown with the figures per question, per class, the gate, and per question a confusion matrix plot
    and a reliability diagram."""
    path = Path(path)
    images = path.with_suffix("")
    images.mkdir(parents=True, exist_ok=True)
    parts = ["# Model evaluation", ""]
    if card:
        parts += [
            f"Model `{card['model_version']}`, codebook `{card['codebook']['ref']}`, features `{card['features']}`, "
            f"seed {card['seed']}, {card['training_data']['passages']} passages. Evaluation: "
            f"{evaluation.get('method', CROSS_VALIDATION)}.",
            "",
        ]
    parts += ["```", format_evaluation(evaluation), "```", ""]
    parts += _gate_section(evaluation)
    for name, scores in evaluation["questions"].items():
        if "per_class" not in scores:
            continue
        parts += [f"## {name}", "", *_figures_table(scores)]
        parts += ["| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        for label, figures in scores["per_class"].items():
            parts.append(
                f"| {label} | {figures['precision']:.3f} | {figures['recall']:.3f} | {figures['f1']:.3f} "
                f"| {figures['support']} |"
            )
        parts.append("")
        stem = name.replace(" ", "_").replace("(", "").replace(")", "")
        if "confusion" in scores:
            image = images / f"{stem}.png"
            confusion_figure(scores, name).savefig(image, dpi=DPI)
            parts += [f"![confusion matrix of {name}]({images.name}/{image.name})", ""]
        if _sides(scores.get("calibration", {})):
            image = images / f"{stem}_reliability.png"
            reliability_figure(scores, name).savefig(image, dpi=DPI)
            parts += [*_calibration_text(scores), f"![reliability diagram of {name}]({images.name}/{image.name})", ""]
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _gate_section(evaluation: dict) -> list[str]:
    if not evaluation.get("gate"):
        return []
    title, note = "## What suggestions pre-fill", RULE
    if evaluation.get("method") == HELD_OUT:
        title = "## The gate on these held-out labels"
        note += " Suggestions follow the gate in the model card, decided at training by cross-validation."
    parts = [title, "", note, "", "| question | passes the gate | why |", "|---|---|---|"]
    for question, decision in evaluation["gate"].items():
        parts.append(f"| {question} | {'yes' if decision['prefill'] else 'no'} | {decision['reason']} |")
    return [*parts, ""]


def _figures_table(scores: dict) -> list[str]:
    """The model's figures beside the baselines' and the difference, each with its bootstrap interval."""
    metrics = [m for m in FIGURES if m in scores]
    parts = [
        f"{scores['n']} examples; human agreement (Krippendorff's α) {_figure(scores.get('human_alpha'))}.",
        "",
        "| answers | " + " | ".join(FIGURES[m] for m in metrics) + " |",
        "|---" * (len(metrics) + 1) + "|",
    ]
    parts += [f"| {label} | " + " | ".join(cells[m] for m in metrics) + " |" for label, cells in _rows(scores)]
    notes = [INTERVALS]
    if "bootstrap" in scores:
        notes.append(f"{scores['bootstrap']['replicates']} resamplings of {scores['bootstrap']['articles']} articles")
    if "difference" in scores:
        better = {m: scores["baselines"][d["baseline"]]["description"] for m, d in scores["difference"].items()}
        if len(set(better.values())) == 1:
            notes.append(f"the better baseline: {next(iter(better.values()))}")
        else:
            notes.append("the better baseline: " + ", ".join(f"{d} for {FIGURES[m]}" for m, d in better.items()))
    if "baseline_note" in scores:
        notes.append(scores["baseline_note"])
    return [*parts, "", "; ".join(notes) + ".", ""]


def _calibration_text(scores: dict) -> list[str]:
    calibration = scores["calibration"]
    what = "each label's probability" if "micro_f1" in scores else "the top class's probability"
    errors = _errors(
        calibration, "cross-fitted: each fold's probabilities calibrated by a map fitted on the other folds"
    )
    return [f"Expected calibration error over {calibration['bins']} bins of {what}: {errors}.", ""]


def confusion_figure(scores: dict, name: str) -> Figure:
    """A question's confusion matrix, gold labels down, predictions across."""
    labels, matrix = scores["labels"], np.asarray(scores["confusion"])
    figure = Figure(figsize=(2.2 + 0.6 * len(labels), 1.6 + 0.6 * len(labels)), layout="constrained")
    figure.suptitle(_fitted(f"{name}: confusion matrix", figure))
    axes = figure.subplots()
    shown = axes.imshow(matrix, cmap="cividis")
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold label")
    for (i, j), count in np.ndenumerate(matrix):
        axes.text(j, i, str(count), ha="center", va="center", color="white" if count < matrix.max() / 2 else "black")
    figure.colorbar(shown, ax=axes, label="passages")
    return figure


def reliability_figure(scores: dict, name: str) -> Figure:
    """A question's reliability diagram: per bin, the mean probability against how often it came true, for the
    raw and the calibrated probabilities side by side; dots sized by the bin's rows."""
    calibration = scores["calibration"]
    sides = _sides(calibration)
    figure = Figure(figsize=(3.6 * len(sides) + 0.4, 4.2), layout="constrained")
    panels = np.atleast_1d(figure.subplots(1, len(sides), sharey=True))
    what = "each label's probability" if "micro_f1" in scores else "top class's probability"
    for axes, side in zip(panels, sides, strict=True):
        curve = np.asarray(calibration[f"reliability_{side}"], dtype=float).reshape(-1, 3)
        axes.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1, label="perfect calibration")
        axes.plot(curve[:, 0], curve[:, 1], color=COLOURS[side], linewidth=1)
        axes.scatter(curve[:, 0], curve[:, 1], s=10 + 190 * curve[:, 2] / curve[:, 2].max(), color=COLOURS[side])
        axes.set_xlim(-0.03, 1.03)
        axes.set_ylim(-0.03, 1.03)
        axes.set_xlabel(what)
        crossed = " (cross-fitted)" if side == "after" and len(sides) == 2 else ""
        axes.set_title(f"{SIDES[side]}{crossed}: ECE {calibration[f'ece_{side}']:.3f}")
    panels[0].set_ylabel("how often it was right" if "micro_f1" not in scores else "how often the label applies")
    panels[0].legend(loc="upper left", fontsize="small", frameon=False)
    figure.suptitle(_fitted(f"{name}: reliability ({calibration['bins']} bins)", figure))
    return figure


def _fitted(title: str, figure: Figure) -> str:
    """A title wrapped to lines that fit the figure's width."""
    return textwrap.fill(title, int(figure.get_figwidth() * CHARACTERS_PER_INCH))
