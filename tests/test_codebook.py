"""Codebooks: the shipped ones load, defaults apply, and every mistake gets one clear message."""

from __future__ import annotations

import pytest

from annotation.codebook import (
    DEFAULT_CUES,
    DEFAULT_FRAMES,
    DEFAULT_STANCE,
    CodebookError,
    load_codebook,
    parse_codebook,
    shipped_codebooks,
    starter_codebook_text,
)

MINIMAL = "name: study\nversion: '1.0'\ntargets:\n  - {id: gov, name: The government}\n"


def test_shipped_codebooks_load():
    assert set(shipped_codebooks()) == {"starter", "soleimani_2020"}
    example = load_codebook(shipped_codebooks()["soleimani_2020"])
    assert example.ref == "soleimani_2020@1.1"
    assert [t.id for t in example.targets] == ["us_government", "iranian_government", "iranian_opposition"]
    assert all(t.description for t in example.targets)
    assert "MEK" in example.targets[2].name
    assert all(t.aliases for t in example.targets) and "Pompeo" in example.targets[0].aliases


def test_starter_is_commented_and_valid():
    text = starter_codebook_text()
    assert text.count("\n#") > 10
    starter = parse_codebook(text, "starter.yaml")
    assert starter.instructions and starter.targets


def test_defaults():
    book = parse_codebook(MINIMAL)
    assert book.stance == DEFAULT_STANCE
    assert [s.id for s in book.stance] == ["favor", "against", "neutral", "not_addressed"]
    assert book.frames == DEFAULT_FRAMES and len(book.frames) == 15
    assert book.cue_labels == DEFAULT_CUES and [c.id for c in DEFAULT_CUES] == [
        "frame_cue",
        "loaded_language",
    ]
    assert book.primary_frame and book.cue_frame and book.confidence and book.note
    assert list(book.stance_controls) == ["stance_gov"]
    assert all(label.description for label in (*DEFAULT_STANCE, *DEFAULT_FRAMES, *DEFAULT_CUES))


def test_own_lists_and_bare_ids():
    book = parse_codebook(
        MINIMAL + "frames: [security, law]\nstance: [pro, con]\ncues: {labels: [hot_word], frame: false}\n"
    )
    assert [f.id for f in book.frames] == ["security", "law"] and book.frames[0].name == "security"
    assert [s.id for s in book.stance] == ["pro", "con"]
    assert [c.id for c in book.cue_labels] == ["hot_word"] and not book.cue_frame


@pytest.mark.parametrize(
    ("extra", "key", "words"),
    [
        ("frames:\n  - {id: law}\n  - {id: law}\n", "frames[1].id", "duplicate id 'law'"),
        ("frames:\n  - {id: a, name: Law}\n  - {id: b, name: Law}\n", "frames[1].name", "duplicate name"),
        ("frames:\n  - {id: 2nd_frame}\n", "frames[0].id", "not a valid id"),
        ("frames:\n  - {id: law and order}\n", "frames[0].id", "letters, digits and underscores"),
        ("frames: []\n", "frames", "the list is empty"),
        ("stance: []\n", "stance", "the list is empty"),
        ("tagets: []\n", "tagets", "unknown key"),
        ("frames:\n  - {id: law, label: Law}\n", "frames[0].label", "unknown key"),
        ("cues: {labels: [a], frames: true}\n", "cues.frames", "unknown key"),
        ("primary_frame: maybe\n", "primary_frame", "true or false"),
        ("frames: security\n", "frames", "expected a list"),
    ],
)
def test_mistakes_name_file_key_and_remedy(extra, key, words):
    with pytest.raises(CodebookError) as caught:
        parse_codebook(MINIMAL + extra, "study.yaml")
    assert caught.value.file == "study.yaml"
    assert caught.value.key == key
    assert words in caught.value.problem
    assert str(caught.value).startswith(f"study.yaml: {key}: ")


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("version: '1'\ntargets: [a]\n", "name", "missing"),
        ("name: x\ntargets: [a]\n", "version", "missing"),
        ("name: x\nversion: '1'\n", "targets", "missing"),
        ("name: x\nversion: '1'\ntargets: []\n", "targets", "the list is empty"),
        ("name: x\nversion: 1.10\ntargets: [a]\n", "version", "quoted string"),
        ("name: x\nname: y\nversion: '1'\ntargets: [a]\n", "line 2", "appears twice"),
        ("name: [unclosed\n", "line 2", "not valid YAML"),
        ("- just\n- a list\n", "", "YAML mapping"),
    ],
)
def test_structure_mistakes(text, key, words):
    with pytest.raises(CodebookError) as caught:
        parse_codebook(text, "c.yaml")
    assert caught.value.key == key and words in caught.value.problem


def test_load_reports_missing_and_undecodable_files(tmp_path):
    with pytest.raises(CodebookError, match="no such file"):
        load_codebook(tmp_path / "absent.yaml")
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(CodebookError, match=r"latin1\.yaml: not UTF-8"):
        load_codebook(bad)
