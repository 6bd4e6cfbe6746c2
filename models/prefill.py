"""Which questions suggestions pre-fill: those on which the model beat the baselines, unless told otherwise.

A pre-filled answer anchors the annotator, so a question is pre-filled only when the model's evaluation
(the gate in its card) showed it to be better than answering the most common label. `all_questions`
overrides that, and the plan says so for each question it forces.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.training import Model, prefill_questions


@dataclass(frozen=True)
class PrefillPlan:
    """The questions (control names) to pre-fill, and one line per question that says why or why not."""

    questions: frozenset[str]
    lines: tuple[str, ...]


def answered_questions(model: Model) -> list[str]:
    """The control names a model answers, in the order of the labeling page."""
    questions = list(model.codebook.stance_controls) if model.stance is not None else []
    if model.frames is not None:
        questions.append("frames")
    if model.primary is not None:
        questions.append("primary_frame")
    return questions


def prefill_plan(model: Model, all_questions: bool = False) -> PrefillPlan:
    """What to pre-fill for `model`: the questions that passed its gate, or every question with `all_questions`."""
    decisions = prefill_questions(model)
    chosen, lines = [], []
    for question in answered_questions(model):
        passed, reason = decisions.get(question, (False, "not evaluated"))
        if passed:
            chosen.append(question)
            lines.append(f"{question}: pre-filled: {reason}")
        elif all_questions:
            chosen.append(question)
            lines.append(f"{question}: pre-filled only because of --all-questions, not earned: {reason}")
        else:
            lines.append(f"{question}: left for the annotator: {reason}")
    return PrefillPlan(frozenset(chosen), tuple(lines))
