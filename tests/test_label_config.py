"""Codebook → labeling config: Label Studio's parser and a real server accept it and keep every label."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from annotation.codebook import load_codebook, parse_codebook, shipped_codebooks
from annotation.label_config import (
    ConfigCheckError,
    build_instructions,
    build_label_config,
    check_label_config,
    expected_controls,
)

HOSTILE = """
name: "Ärger & <Streit>"
version: "2.0-β"
description: 'Quotes " and '' and <b>tags</b> & ampersands'
targets:
  - id: tom_jerry
    name: 'Tom & Jerry <cartoon> "quoted" and ''single'''
    description: "A & B < C > D \\" E ' F"
  - id: beijing
    name: 北京政府
    description: 中华人民共和国中央人民政府
  - id: tehran
    name: دولت ایران
  - id: cafe
    name: Café Société — l’État
stance:
  - {id: pro, name: "Pro (+) & yes"}
  - {id: con, name: "Contra <−>"}
  - {id: none_, name: "«neither»"}
frames:
  - {id: law, name: "Law & order", description: "<script>alert(1)</script>"}
  - {id: money, name: "Money \\"talks\\""}
  - {id: faith, name: "Вера и мораль"}
cues:
  labels:
    - {id: loaded, name: "Loaded ‘word’ & phrase"}
"""


def codebooks():
    found = {stem: load_codebook(path) for stem, path in sorted(shipped_codebooks().items())}
    found["hostile"] = parse_codebook(HOSTILE, "hostile.yaml")
    return found


@pytest.mark.parametrize("stem", sorted(codebooks()))
def test_config_has_every_label_of_the_codebook(stem):
    codebook = codebooks()[stem]
    xml = build_label_config(codebook)
    root = ET.fromstring(xml)
    for name, (tag, labels) in expected_controls(codebook).items():
        (node,) = [n for n in root.iter(tag) if n.get("name") == name]
        options = [(o.get("alias"), o.get("value"), o.get("hint") or "") for o in node]
        assert options == [(label.id, label.name, label.description) for label in labels]


def test_config_questions_follow_the_codebook():
    codebook = codebooks()["soleimani_2020"]
    root = ET.fromstring(build_label_config(codebook))
    choices = {n.get("name"): n for n in root.iter("Choices")}
    stances = ["stance_us_government", "stance_iranian_government", "stance_iranian_opposition"]
    assert sorted(choices) == sorted([*stances, "frames", "primary_frame", "cue_frame"])
    assert choices["frames"].get("choice") == "multiple"
    assert choices["stance_us_government"].get("choice") == "single-radio"
    assert choices["stance_us_government"].get("required") == "true"
    assert choices["cue_frame"].get("perRegion") == "true"
    texts = {n.get("name"): n.get("value") for n in root.iter("Text")}
    assert texts == {
        "source_line": "$source_line",
        "context_before": "$context_before",
        "text": "$text",
        "mentions_line": "$mentions_line",
        "context_after": "$context_after",
    }


def test_optional_questions_can_be_left_out():
    codebook = parse_codebook(
        "name: lean\nversion: '1'\ntargets: [a, b]\nprimary_frame: false\ncues: false\nconfidence: false\nnote: false\n"
    )
    assert sorted(expected_controls(codebook)) == ["frames", "stance_a", "stance_b"]
    root = ET.fromstring(build_label_config(codebook))
    assert not list(root.iter("Labels")) and not list(root.iter("Rating")) and not list(root.iter("TextArea"))


def test_check_notices_a_lost_label():
    codebook = codebooks()["soleimani_2020"]
    xml = build_label_config(codebook).replace('alias="legality"', 'alias="law"')
    with pytest.raises(ConfigCheckError, match="has labels"):
        check_label_config(xml, codebook)


def test_check_reports_what_label_studio_rejects():
    codebook = codebooks()["soleimani_2020"]
    xml = build_label_config(codebook).replace('toName="text"', 'toName="passage"', 1)
    with pytest.raises(ConfigCheckError, match="rejects"):
        check_label_config(xml, codebook)


def test_instructions_escape_every_string():
    html = build_instructions(codebooks()["hostile"])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Tom &amp; Jerry &lt;cartoon&gt; &quot;quoted&quot;" in html
    assert "北京政府" in html and "دولت ایران" in html


@pytest.mark.studio
@pytest.mark.parametrize("stem", sorted(codebooks()))
def test_real_server_accepts_config_and_keeps_labels(studio, stem):
    codebook = codebooks()[stem]
    project = studio.projects.create(
        title=f"config check {stem}",
        label_config=build_label_config(codebook),
        expert_instruction=build_instructions(codebook),
        show_instruction=True,
    )
    stored = studio.projects.get(id=project.id)
    parsed = stored.parsed_label_config
    expected = expected_controls(codebook)
    assert sorted(parsed) == sorted(expected)
    for name, (tag, labels) in expected.items():
        assert parsed[name]["type"] == tag
        assert parsed[name]["to_name"] == ["text"]
        if labels:
            # The server keys labels by what a result stores (the id) and keeps the shown name beside it.
            assert parsed[name]["labels"] == [label.id for label in labels]
            shown = [parsed[name]["labels_attrs"][label.id]["value"] for label in labels]
            assert shown == [label.name for label in labels]
    assert stored.expert_instruction == build_instructions(codebook)
