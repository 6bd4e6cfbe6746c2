"""The questions of a labeling project, from a codebook, a labeling config, or the results themselves."""

from __future__ import annotations

from dataclasses import dataclass

from annotation.codebook import Codebook

SINGLE, MULTI, SPANS, SPAN_CHOICE, RATING, TEXT = "single", "multi", "spans", "span_choice", "rating", "text"


@dataclass(frozen=True)
class Question:
    """One control of the labeling config: its name, what kind of answer it takes, and its labels in order.

    `labels` is empty for ratings and text, and for choice questions whose labels were not declared
    (inferred from results); `open` says the labels were inferred and may grow.
    """

    name: str
    kind: str
    labels: tuple[str, ...] = ()
    open: bool = False


def questions_from_codebook(codebook: Codebook) -> dict[str, Question]:
    """The questions a codebook's labeling config asks, by control name."""
    questions = {}
    if codebook.cue_labels:
        questions["cues"] = Question("cues", SPANS, tuple(c.id for c in codebook.cue_labels))
        if codebook.cue_frame:
            questions["cue_frame"] = Question("cue_frame", SPAN_CHOICE, tuple(f.id for f in codebook.frames))
    stance = tuple(s.id for s in codebook.stance)
    for control in codebook.stance_controls:
        questions[control] = Question(control, SINGLE, stance)
    frames = tuple(f.id for f in codebook.frames)
    questions["frames"] = Question("frames", MULTI, frames)
    if codebook.primary_frame:
        questions["primary_frame"] = Question("primary_frame", SINGLE, frames)
    if codebook.confidence:
        questions["confidence"] = Question("confidence", RATING)
    if codebook.note:
        questions["note"] = Question("note", TEXT)
    return questions


def questions_from_config(xml: str) -> dict[str, Question]:
    """The questions of any Label Studio labeling config, by control name."""
    from label_studio_sdk.label_interface import LabelInterface

    questions = {}
    for control in LabelInterface(xml).controls:
        attrs = control.attr
        labels = tuple(control.labels_attrs) if getattr(control, "labels_attrs", None) else ()
        if control.tag == "Choices":
            if str(attrs.get("perRegion", "")).lower() == "true":
                kind = SPAN_CHOICE
            else:
                kind = MULTI if attrs.get("choice") == "multiple" else SINGLE
        elif control.tag in ("Labels", "HyperTextLabels", "ParagraphLabels"):
            kind = SPANS
        elif control.tag == "Rating":
            kind = RATING
        elif control.tag == "TextArea":
            kind = TEXT
        else:
            continue  # image, audio and other controls have no place in text tables
        questions[control.name] = Question(control.name, kind, labels)
    return questions


@dataclass(frozen=True)
class Layout:
    """What each control labels: `targets` maps a control to the object names its results may give as
    `to_name`, and `fields` maps an object to the task data key whose text it shows."""

    targets: dict[str, frozenset[str]]
    fields: dict[str, str]


def layout_from_codebook(codebook: Codebook) -> Layout:
    """The layout of a codebook's labeling config: every control labels the passage, `text`."""
    return Layout({name: frozenset({"text"}) for name in questions_from_codebook(codebook)}, {"text": "text"})


def layout_from_config(xml: str) -> Layout:
    """The layout of any Label Studio labeling config."""
    from label_studio_sdk.label_interface import LabelInterface

    interface = LabelInterface(xml)
    targets = {control.name: frozenset(control.to_name or ()) for control in interface.controls}
    fields = {
        obj.name: obj.value[1:]
        for obj in interface.objects
        if isinstance(getattr(obj, "value", None), str) and obj.value.startswith("$")
    }
    return Layout(targets, fields)
