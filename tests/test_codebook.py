"""Codebooks: the shipped ones load, defaults apply, and every mistake gets one clear message."""

from __future__ import annotations

import pytest

from annotation.codebook import (
    DEFAULT_CUES,
    DEFAULT_FRAMES,
    DEFAULT_STANCE,
    CodebookError,
    OtherCodebookError,
    load_codebook,
    look_alike_key,
    parse_codebook,
    require_codebook,
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


def alias_bomb(levels: int) -> str:
    """A codebook whose anchors each stand for nine of the one before: 9**levels values from a few hundred bytes."""
    lines = ["  - &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"  - &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return MINIMAL + "primary_frame:\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        # 9**5 values in 300 bytes: refused from the count, and the message never repeats them
        (alias_bomb(6), "line 10", "the aliases (*name) stand for more than 10,000 values"),
        (MINIMAL + "frames:\n  - ? {a: 1}\n    : b\n", "line 6", "a key must be a plain value"),
        (MINIMAL + "note:\n  ? [a]\n  : b\n", "line 6", "not a list"),
        (MINIMAL + "note: " + "[" * 20_000 + "]" * 20_000 + "\n", "line 5", "nested more than 50 levels deep"),
        (MINIMAL + "note: &loop [*loop]\n", "line 5", "an alias inside the very value its anchor names"),
    ],
)
def test_yaml_that_would_cost_too_much_is_refused_in_one_short_message(text, key, words):
    with pytest.raises(CodebookError) as caught:
        parse_codebook(text, "c.yaml")
    assert caught.value.key == key and words in caught.value.problem
    assert len(str(caught.value)) < 300


def test_a_few_aliases_still_work():
    text = "name: x\nversion: '1'\ndescription: &same Who is for or against whom.\ninstructions: *same\n"
    book = parse_codebook(text + "targets: [a]\nstance:\n  - {id: pro, description: *same}\n  - con\n")
    assert book.instructions == book.description == book.stance[0].description == "Who is for or against whom."


def test_size_and_id_length_are_bounded(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text(MINIMAL + "description: " + "x" * 1_100_000 + "\n", encoding="utf-8")
    with pytest.raises(CodebookError, match=r"big\.yaml: 1,100,\d+ bytes; a YAML file framestance reads is at most"):
        load_codebook(big)
    with pytest.raises(CodebookError, match=r"big\.yaml: 1,100,\d+ bytes"):
        parse_codebook(big.read_text(encoding="utf-8"), str(big))
    with pytest.raises(CodebookError) as caught:
        parse_codebook(MINIMAL.replace("id: gov", "id: " + "g" * 100_000), "c.yaml")
    assert caught.value.key == "targets[0].id" and "100,000 characters; an id has at most 64" in caught.value.problem
    assert len(str(caught.value)) < 300
    with pytest.raises(CodebookError, match="version: 70 characters"):
        parse_codebook(MINIMAL.replace("'1.0'", "v" * 70), "c.yaml")


@pytest.mark.parametrize("other", ["Fаvor", "Favor\u200b", "F\u00adavor", "FAVOR", "ｆａｖｏｒ", "Fav0r", " Favor  "])
def test_names_that_only_look_different_are_duplicates(other):
    stance = f'stance:\n  - {{id: pro, name: Favor}}\n  - {{id: pro2, name: "{other}"}}\n'
    with pytest.raises(CodebookError) as caught:
        parse_codebook(MINIMAL + stance, "c.yaml")
    assert caught.value.key == "stance[1].name"
    assert "duplicate name" in caught.value.problem and "stance[0]" in caught.value.problem


def test_look_alike_key_keeps_different_names_apart():
    names = ["Favor", "Flavor", "Against", "Neutral", "Not addressed", "Nicht angesprochen", "Против", "موافق"]
    assert len({look_alike_key(n) for n in names}) == len(names)
    assert look_alike_key("Fаvor") == look_alike_key("Favor\u2060") == look_alike_key("FAVOR")
    assert look_alike_key("Іran") == look_alike_key("Iran") != look_alike_key("Irán")
    assert look_alike_key("Not\taddressed") == look_alike_key("Not addressed") != look_alike_key("Notaddressed")
    for path in shipped_codebooks().values():
        load_codebook(path)


def test_require_codebook_names_both_codebooks():
    require_codebook("study@2", "study", "project 'P'")
    for ref, named in [("other@1", "other@1"), (None, "unknown"), ("studyx@1", "studyx@1")]:
        with pytest.raises(OtherCodebookError) as caught:
            require_codebook(ref, "study", "project 'P'")
        assert str(caught.value) == f"project 'P' was made from codebook {named}, the model from study"


def test_errors_with_their_fields_survive_pickling():
    """The backend trains in a child process, which sends its error back pickled: the fields must come back."""
    import pickle

    from annotation.bounded_yaml import YamlError
    from annotation.exports import ExportError

    for err in (
        CodebookError("book.yaml", "targets[0].id", "too long"),
        ExportError("export.json", "not JSON", "task 3"),
        YamlError("nested too deep", 7),
    ):
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err) and str(back) == str(err) and vars(back) == vars(err)
