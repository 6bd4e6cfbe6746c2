"""The gate: which questions suggestions may pre-fill.

A pre-filled answer anchors the annotator, so a question passes only when the model is shown to be better
than the baselines (the most common label overall, and per target for stance): the lower end of the 90%
bootstrap interval over articles of the model's difference from the better baseline is above zero, for
accuracy and macro-F1 on a single-label question (right more often than the constant answer, and not only by
giving the common label), for micro- and macro-F1 on frames.
"""

from __future__ import annotations

from annotation.codebook import Codebook

CHECKED = {False: ("accuracy", "macro_f1"), True: ("micro_f1", "macro_f1")}  # by multi-label or not
DECIDING = "macro_f1"  # the figure a passing question's reason leads with
NAMES = {"accuracy": "accuracy", "macro_f1": "macro-F1", "micro_f1": "micro-F1"}
FRAMES = "frames"


def gate_questions(codebook: Codebook) -> list[str]:
    """The control names that suggestions answer: `stance_<target id>` per target, `frames`, `primary_frame`."""
    return [*codebook.stance_controls, FRAMES, *(["primary_frame"] if codebook.primary_frame else [])]


def gate(evaluation: dict, codebook: Codebook) -> dict[str, dict]:
    """Per question that suggestions answer: whether to pre-fill it, one sentence that says why, and the figures."""
    decisions = {}
    for question in gate_questions(codebook):
        kind = "stance" if question in codebook.stance_controls else question
        scores = evaluation["questions"].get(question)
        if kind in evaluation["skipped"]:
            decisions[question] = _closed(f"not trained: {evaluation['skipped'][kind]}")
        elif not scores or not scores.get("n"):
            decisions[question] = _closed((scores or {}).get("note", "not evaluated"))
        elif "difference" not in scores:
            decisions[question] = _closed(
                "no baselines to compare with: the model card has no training label counts (retrain to evaluate)"
            )
        elif any(scores["difference"][m]["interval"] is None for m in CHECKED[question == FRAMES]):
            decisions[question] = _closed(
                "not evaluated: its labels come from one article, too few to resample"
                if scores["bootstrap"]["articles"] < 2
                else "not evaluated: no interval, as no resampled set of articles has a label to score"
            )
        else:
            names = {label.id: label.name for label in (codebook.stance if kind == "stance" else codebook.frames)}
            decisions[question] = _decision(scores, question == FRAMES, names)
    return decisions


def _closed(reason: str) -> dict:
    return {"prefill": False, "reason": reason, "metric": None}


def _decision(scores: dict, multi_label: bool, names: dict[str, str]) -> dict:
    """Pass or fail on the differences from the better baseline, with the figures behind it."""
    checked = CHECKED[multi_label]
    failing = [m for m in checked if scores["difference"][m]["interval"][0] <= 0]
    metric = failing[0] if failing else DECIDING
    difference = scores["difference"][metric]
    baseline = difference["baseline"]
    phrase = _phrase(scores["baselines"][baseline], multi_label, names)
    others = [m for m in (failing or checked) if m != metric]
    extra = "".join(f"; {_difference(scores, m, baseline, multi_label, names)}" for m in others)
    if failing:
        reason = f"not better than {phrase}: {_difference(scores, metric, baseline, multi_label, names)}{extra}"
    else:
        low, high = scores["intervals"]["model"][metric]
        reason = (
            f"{NAMES[metric]} {scores[metric]:.2f} [{low:.2f}, {high:.2f}] vs "
            f"{scores['baselines'][baseline][metric]:.2f} for {phrase}: difference "
            f"{_signed(difference['value'])} {_range(difference['interval'])}{extra}"
        )
    return {
        "prefill": not failing,
        "reason": reason,
        "metric": metric,
        "baseline": baseline,
        "model": [scores[metric], *scores["intervals"]["model"][metric]],
        "baseline_score": scores["baselines"][baseline][metric],
        "difference": _triple(difference),
        "checks": {
            m: {"baseline": scores["difference"][m]["baseline"], "difference": _triple(scores["difference"][m])}
            for m in checked
        },
    }


def _triple(difference: dict) -> list[float]:
    return [difference["value"], *difference["interval"]]


def _difference(scores: dict, metric: str, baseline: str, multi_label: bool, names: dict[str, str]) -> str:
    """One figure's difference, as: accuracy difference −0.02 [−0.08, 0.04], naming its baseline if not `baseline`."""
    difference = scores["difference"][metric]
    text = f"{NAMES[metric]} difference {_signed(difference['value'])} {_range(difference['interval'])}"
    if difference["baseline"] != baseline:
        text += f" from {_phrase(scores['baselines'][difference['baseline']], multi_label, names)}"
    return text


def _phrase(baseline: dict, multi_label: bool, names: dict[str, str]) -> str:
    """What a baseline does, in words: "always answering 'Neutral' (the most common stance for this target)"."""
    if baseline.get("answer") is None:
        return baseline["description"]
    name = names.get(baseline["answer"], baseline["answer"])
    action = f"always choosing the frame '{name}' alone" if multi_label else f"always answering '{name}'"
    return f"{action} ({baseline['description']})"


def _signed(value: float) -> str:
    return f"{round(value, 2) + 0.0:+.2f}".replace("-", "−")  # + 0.0: no "−0.00"


def _range(interval: list[float]) -> str:
    return "[" + ", ".join(f"{round(v, 2) + 0.0:.2f}".replace("-", "−") for v in interval) + "]"
