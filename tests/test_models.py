"""From labels to a model file and back: training, the model card, evaluation, and refusing bad model files."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest

from annotation.codebook import load_codebook, parse_codebook, shipped_codebooks
from annotation.convert import read_export
from annotation.sample import sample_file
from models.persistence import FORMAT, ModelFileError, load_model, save_model
from models.training import codebook_hash, evaluate, train

CODEBOOK_PATH = shipped_codebooks()["soleimani_2020"]
CODEBOOK = load_codebook(CODEBOOK_PATH)
CODEBOOK_TEXT = CODEBOOK_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def tables():
    return read_export(sample_file("export.json"), codebook=CODEBOOK)


@pytest.fixture(scope="module")
def trained(tables):
    return train(tables, CODEBOOK, CODEBOOK_TEXT, seed=7)


@pytest.fixture(scope="module")
def model_file(trained, tmp_path_factory):
    return save_model(trained[0], tmp_path_factory.mktemp("model") / "model.skops")


def test_training_evaluates_every_question_beside_human_agreement(trained):
    model, evaluation = trained
    questions = evaluation["questions"]
    assert set(questions) == {
        "stance (all targets)",
        *CODEBOOK.stance_controls,
        "frames",
        "primary_frame",
    }
    for control in CODEBOOK.stance_controls:
        scores = questions[control]
        assert 0 <= scores["macro_f1"] <= 1 and 0 <= scores["f_avg"] <= 1
        assert scores["human_alpha"] is not None
        assert set(scores["per_class"]) <= {"favor", "against", "neutral", "not_addressed"}
        assert np.asarray(scores["confusion"]).sum() == scores["n"]
    assert 0 <= questions["frames"]["micro_f1"] <= 1 and questions["frames"]["human_alpha"] > 0.5
    assert evaluation["skipped"] == {}
    assert model.stance is not None and model.frames is not None and model.primary is not None


def test_model_card(trained):
    card = trained[0].card
    assert card["codebook"] == {
        "name": "soleimani_2020",
        "version": "1.1",
        "ref": "soleimani_2020@1.1",
        "sha256": codebook_hash(CODEBOOK_TEXT),
    }
    assert card["labels"]["targets"] == ["us_government", "iranian_government", "iranian_opposition"]
    assert card["training_data"]["passages"] == 321 and len(card["training_data"]["fingerprint"]) == 64
    assert {"scikit-learn", "numpy", "skops", "framestance"} <= set(card["libraries"])
    assert card["evaluation"]["questions"]["frames"]["n"] == 321
    assert card["model_version"].startswith("soleimani_2020@1.1+tfidf+")
    assert trained[0].codebook == CODEBOOK


def test_the_same_seed_gives_the_same_model(tables, trained):
    again, _ = train(tables, CODEBOOK, CODEBOOK_TEXT, seed=7)
    texts = ["The strike was an illegal assassination.", "Deterrence is restored after the decisive blow."]
    assert again.card == trained[0].card
    assert np.array_equal(again.frames.predict_proba(texts), trained[0].frames.predict_proba(texts))
    X = pd.DataFrame({"text": texts, "target": "us_government", "mentions": [[], []]})
    assert np.array_equal(again.stance.predict_proba(X), trained[0].stance.predict_proba(X))
    with pytest.raises(ValueError, match="reads where each target is mentioned"):
        again.stance.predict_proba(X.drop(columns="mentions"))


def test_questions_with_too_few_labels_are_skipped_not_crashed(tables):
    few = tables.annotations["passage_id"].isin(sorted(tables.annotations["passage_id"].unique())[:6])
    small = type(tables)(
        tables.annotations[few], tables.spans, tables.predictions, tables.skipped, tables.tasks, tables.questions
    )
    model, evaluation = train(small, CODEBOOK, CODEBOOK_TEXT)
    assert set(evaluation["skipped"]) == {"frames", "primary_frame"}
    assert "only 6 labeled examples" in evaluation["skipped"]["frames"]
    assert model.frames is None and model.primary is None and model.stance is not None


def test_round_trip_through_a_model_file(trained, model_file):
    model = load_model(model_file, CODEBOOK)
    texts = ["The mullahs’ regime was dealt a blow.", "Europe urged restraint on all sides."]
    assert np.array_equal(model.frames.predict_proba(texts), trained[0].frames.predict_proba(texts))
    assert model.card == trained[0].card and model.version == trained[0].version


def test_evaluate_on_held_out_labels(trained, tables):
    evaluation = evaluate(trained[0], tables)
    assert evaluation["questions"]["stance_us_government"]["n"] > 50
    # On its own training labels the model does far better than in cross-validation.
    assert evaluation["questions"]["frames"]["micro_f1"] > trained[1]["questions"]["frames"]["micro_f1"]


def test_a_model_for_another_codebook_is_refused(model_file):
    other = parse_codebook(CODEBOOK_TEXT.replace('version: "1.1"', 'version: "1.2"'), "other.yaml")
    with pytest.raises(ModelFileError, match=r"trained for codebook soleimani_2020@1\.1, not soleimani_2020@1\.2"):
        load_model(model_file, other)
    relabeled = parse_codebook(CODEBOOK_TEXT.replace("id: iranian_opposition", "id: mek"), "relabeled.yaml")
    with pytest.raises(ModelFileError, match="other labels"):
        load_model(model_file, relabeled)


def test_a_tampered_model_file_is_refused(trained, tmp_path):
    import skops.io

    state = {"format": FORMAT, "card": trained[0].card, "codebook": CODEBOOK_TEXT.replace("MEK", "XYZ")}
    changed = tmp_path / "changed.skops"
    skops.io.dump({**state, "stance": trained[0].stance, "frames": None, "primary": None}, changed)
    with pytest.raises(ModelFileError, match="does not match the hash in its card"):
        load_model(changed)


class Payload:
    """A type no framestance model holds: loading it could run anything its module does."""

    def __init__(self):
        self.command = "rm -rf ~"


def test_a_model_file_with_foreign_types_is_refused(trained, tmp_path):
    import skops.io

    foreign = tmp_path / "foreign.skops"
    skops.io.dump({"format": FORMAT, "card": trained[0].card, "payload": Payload()}, foreign)
    with pytest.raises(ModelFileError, match=r"refused: the file holds types a framestance model never has: .*Payload"):
        load_model(foreign)


@pytest.mark.parametrize("content", [b"", b"not a model", b"\x80\x04\x95 pickle bytes"])
def test_a_file_that_is_not_a_model_is_refused(tmp_path, content):
    path = tmp_path / "model.skops"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="not a framestance model file"):
        load_model(path)


def test_a_damaged_model_file_is_refused(model_file, tmp_path):
    damaged = tmp_path / "damaged.skops"
    with zipfile.ZipFile(model_file) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            if item.filename != "schema.json":
                target.writestr(item, source.read(item.filename))
    with pytest.raises(ModelFileError, match="not a readable model file"):
        load_model(damaged)


def test_too_few_labels_for_any_question_is_one_clear_error(tables):
    one = tables.annotations["passage_id"] == tables.annotations["passage_id"].iloc[0]
    tiny = type(tables)(
        tables.annotations[one], tables.spans, tables.predictions, tables.skipped, tables.tasks, tables.questions
    )
    with pytest.raises(ValueError, match="nothing to train: stance: only"):
        train(tiny, CODEBOOK, CODEBOOK_TEXT)


def test_a_model_file_of_an_older_format_is_refused_with_what_to_do(trained, tmp_path):
    import skops.io

    old = tmp_path / "old.skops"
    skops.io.dump({"format": "framestance-model/1", "card": trained[0].card, "codebook": CODEBOOK_TEXT}, old)
    with pytest.raises(
        ModelFileError, match=r"written by an older framestance \(framestance-model/1\); train it again"
    ):
        load_model(old)
