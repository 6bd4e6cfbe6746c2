"""The Label Studio labeling config and annotator instructions built from a codebook."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET

from annotation.codebook import Codebook, Label

TEXT = "text"  # the object tag every question points at: the passage itself
CUE_COLOURS = ("#1f77b4", "#d95f02", "#7570b3", "#1b9e77", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")


class ConfigCheckError(ValueError):
    """A generated labeling config that Label Studio would not accept, or that lost a label."""


def expected_controls(codebook: Codebook) -> dict[str, tuple[str, tuple[Label, ...]]]:
    """Control name → (Label Studio tag, labels), for every question the codebook asks."""
    controls: dict[str, tuple[str, tuple[Label, ...]]] = {}
    if codebook.cue_labels:
        controls["cues"] = ("Labels", codebook.cue_labels)
        if codebook.cue_frame:
            controls["cue_frame"] = ("Choices", codebook.frames)
    for control, _target in codebook.stance_controls.items():
        controls[control] = ("Choices", codebook.stance)
    controls["frames"] = ("Choices", codebook.frames)
    if codebook.primary_frame:
        controls["primary_frame"] = ("Choices", codebook.frames)
    if codebook.confidence:
        controls["confidence"] = ("Rating", ())
    if codebook.note:
        controls["note"] = ("TextArea", ())
    return controls


def build_label_config(codebook: Codebook) -> str:
    """The labeling config XML for a codebook, checked with Label Studio's own parser."""
    xml = _render(codebook)
    check_label_config(xml, codebook)
    return xml


def _render(codebook: Codebook) -> str:
    view = ET.Element("View")
    head = ET.SubElement(view, "View", style="margin-bottom: 8px")
    ET.SubElement(head, "Header", value="$title", size="4")
    ET.SubElement(head, "Text", name="source_line", value="$source_line")
    _context(view, "context_before")
    passage = ET.SubElement(view, "View", style="border-left: 4px solid #1f77b4; padding-left: 10px")
    ET.SubElement(passage, "Text", name=TEXT, value="$text")
    if any(target.aliases for target in codebook.targets):
        # Which targets the passage names, from the codebook's aliases (`annotation.mentions`).
        line = ET.SubElement(passage, "View", style="color: #555; font-size: 85%; margin-top: 4px")
        ET.SubElement(line, "Text", name="mentions_line", value="$mentions_line")
    _context(view, "context_after")

    if codebook.cue_labels:
        ET.SubElement(view, "Header", value="Highlight the words that cue a frame", size="5")
        labels = ET.SubElement(view, "Labels", name="cues", toName=TEXT)
        for i, label in enumerate(codebook.cue_labels):
            _option(labels, "Label", label, background=CUE_COLOURS[i % len(CUE_COLOURS)])
        if codebook.cue_frame:
            region = ET.SubElement(view, "View", visibleWhen="region-selected", whenTagName="cues")
            ET.SubElement(region, "Header", value="Frame this highlighted cue evokes", size="6")
            _choices(region, "cue_frame", codebook.frames, "single", perRegion="true")

    for control, target in codebook.stance_controls.items():
        ET.SubElement(view, "Header", value=f"Stance toward {target.name}", size="5")
        _choices(view, control, codebook.stance, "single-radio", required="true")

    ET.SubElement(view, "Header", value="Frames the passage uses (all that apply)", size="5")
    _choices(view, "frames", codebook.frames, "multiple")
    if codebook.primary_frame:
        ET.SubElement(view, "Header", value="Primary frame (the one that dominates)", size="5")
        _choices(view, "primary_frame", codebook.frames, "single-radio")
    if codebook.confidence:
        ET.SubElement(view, "Header", value="How sure are you of these labels?", size="5")
        ET.SubElement(view, "Rating", name="confidence", toName=TEXT, maxRating="5")
    if codebook.note:
        ET.SubElement(view, "Header", value="Note (optional)", size="5")
        ET.SubElement(view, "TextArea", name="note", toName=TEXT, rows="2", maxSubmissions="1", editable="true")

    ET.indent(view, space="  ")
    return ET.tostring(view, encoding="unicode") + "\n"


def _context(parent: ET.Element, field: str) -> None:
    box = ET.SubElement(parent, "View", style="color: #555; font-size: 90%; margin: 6px 0")
    ET.SubElement(box, "Text", name=field, value=f"${field}")


def _choices(parent: ET.Element, name: str, labels: tuple[Label, ...], choice: str, **attrs: str) -> None:
    node = ET.SubElement(parent, "Choices", name=name, toName=TEXT, choice=choice, showInline="true", **attrs)
    for label in labels:
        _option(node, "Choice", label)


def _option(parent: ET.Element, tag: str, label: Label, **attrs: str) -> None:
    # The annotator sees `value`; the result stores `alias`, our id.
    node = ET.SubElement(parent, tag, value=label.name, alias=label.id, **attrs)
    if label.description:
        node.set("hint", label.description)


def check_label_config(xml: str, codebook: Codebook) -> None:
    """Raise `ConfigCheckError` unless Label Studio's parser accepts `xml` and finds the codebook's labels in it."""
    from label_studio_sdk.label_interface import LabelInterface

    try:
        interface = LabelInterface(xml)
        interface.validate()
    except Exception as err:  # the SDK raises several unrelated exception types
        raise ConfigCheckError(f"Label Studio rejects the config for {codebook.ref}: {err}") from err
    found = {c.name: c for c in interface.controls}
    expected = expected_controls(codebook)
    if set(found) != set(expected):
        raise ConfigCheckError(f"controls {sorted(found)} differ from the codebook's {sorted(expected)}")
    for name, (tag, labels) in expected.items():
        control = found[name]
        if control.tag != tag:
            raise ConfigCheckError(f"control {name!r} is a {control.tag}, expected {tag}")
        # The parser keys labels by what a result stores: the alias, our id.
        got = [(stored, attrs.attr.get("value")) for stored, attrs in control.labels_attrs.items()]
        want = [(label.id, label.name) for label in labels]
        if got != want:
            raise ConfigCheckError(f"control {name!r} has labels {got}, expected {want}")


def build_instructions(codebook: Codebook) -> str:
    """HTML instructions for annotators: the codebook's guidance and every label's description."""
    esc = html.escape
    parts = [f"<h2>{esc(codebook.name)} <small>version {esc(codebook.version)}</small></h2>"]
    for text in (codebook.description, codebook.instructions):
        if text:
            parts.append(f"<p>{esc(text)}</p>")

    def section(title: str, labels: tuple[Label, ...]) -> None:
        parts.append(f"<h3>{esc(title)}</h3><dl>")
        for label in labels:
            parts.append(f"<dt><b>{esc(label.name)}</b> <code>{esc(label.id)}</code></dt>")
            parts.append(f"<dd>{esc(label.description)}</dd>")
        parts.append("</dl>")

    section("Targets", codebook.targets)
    section("Stance", codebook.stance)
    section("Frames", codebook.frames)
    if codebook.cue_labels:
        section("Cue spans", codebook.cue_labels)
    return "\n".join(parts) + "\n"
