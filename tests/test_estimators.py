"""The classifiers behave as scikit-learn estimators do, on text."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score
from sklearn.utils.estimator_checks import check_estimator, estimator_checks_generator

from models.estimators import FrameClassifier, StanceClassifier

# scikit-learn's checks that apply to an estimator over raw text: all the others feed numeric matrices,
# which these estimators do not take; the tests below check the same properties on text.
TEXT_CHECKS = {
    "check_estimator_cloneable",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_estimators_unfitted",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_decision_proba_consistency",
    "check_estimators_partial_fit_n_features",
    "check_classifiers_one_label_sample_weights",
}
NUMERIC = "feeds a numeric matrix; these estimators take raw text (the property is tested on text in this file)"

FAVOR = ["we back the {t} and praise its courage", "the {t} was right and deserves support", "well done {t}"]
AGAINST = ["the {t} lied and must be stopped", "shame on the {t} for this reckless crime", "the {t} failed again"]
NEUTRAL = ["the {t} met on tuesday", "officials of the {t} spoke to reporters", "the {t} issued a statement"]


def stance_data(targets=("government", "opposition"), repeats=4) -> tuple[pd.DataFrame, list[str]]:
    rows, labels = [], []
    for target in targets:
        for label, templates in (("favor", FAVOR), ("against", AGAINST), ("neutral", NEUTRAL)):
            for i in range(repeats):
                for template in templates:
                    rows.append({"text": f"{template.format(t=target)} ({i})", "target": target})
                    labels.append(label)
    return pd.DataFrame(rows), labels


def check_name(check) -> str:
    return getattr(check, "func", check).__name__


@pytest.mark.parametrize(
    "estimator", [StanceClassifier(), FrameClassifier(), FrameClassifier(multi_label=False)], ids=repr
)
def test_scikit_learn_checks_that_apply_to_text(estimator):
    names = {check_name(check) for _, check in estimator_checks_generator(estimator, legacy=True)}
    assert names >= TEXT_CHECKS
    skipped = {name: NUMERIC for name in names - TEXT_CHECKS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, expected_failed_checks=skipped, on_fail=None, on_skip=None)
    outcome = {r["check_name"]: r["status"] for r in results if r["check_name"] in TEXT_CHECKS}
    assert outcome == dict.fromkeys(TEXT_CHECKS, "passed")


def test_stance_api_on_text():
    X, y = stance_data()
    model = StanceClassifier(random_state=0)
    assert model.fit(X, y) is model
    assert list(model.classes_) == ["against", "favor", "neutral"]
    probabilities = model.predict_proba(X)
    assert probabilities.shape == (len(X), 3) and np.allclose(probabilities.sum(axis=1), 1)
    assert (model.predict(X) == np.asarray(y)).mean() > 0.9
    new = pd.DataFrame({"text": ["shame on the government for this crime", "well done opposition"]})
    assert list(model.predict(new.assign(target=["government", "opposition"]))) == ["against", "favor"]
    assert model.get_params()["C"] == 2.0 and clone(model).get_params() == model.get_params()
    plain = StanceClassifier(random_state=0).fit(list(X["text"]), y)  # a plain list of texts works too
    assert plain.predict(["we back the government and praise its courage"])[0] == "favor"


def test_same_seed_same_model():
    X, y = stance_data()
    first = StanceClassifier(random_state=3).fit(X, y).predict_proba(X)
    second = StanceClassifier(random_state=3).fit(X, y).predict_proba(X)
    assert np.array_equal(first, second)


def test_a_target_with_one_class_or_few_rows_does_not_break_it():
    X, y = stance_data(("government",))
    X = pd.concat(
        [X, pd.DataFrame({"text": ["the militia marched", "the militia marched again"], "target": "militia"})]
    )
    y = [*y, "neutral", "neutral"]  # one class, two rows
    model = StanceClassifier(random_state=0).fit(X, y)
    assert model.targets_ == ["government"]  # two rows are too few for n-grams of its own
    assert model.predict(pd.DataFrame({"text": ["the militia marched"], "target": ["militia"]}))[0] == "neutral"
    assert StanceClassifier(random_state=0, min_target_rows=2).fit(X, y).targets_ == ["government", "militia"]
    unseen = pd.DataFrame({"text": ["shame on the council for this reckless crime"], "target": ["council"]})
    assert model.predict(unseen)[0] == "against"  # an unseen target falls back on what holds across targets


def test_target_mention_offsets_are_used():
    texts, targets, starts, ends, labels = [], [], [], [], []
    for i in range(12):
        for good, bad in (("Ada", "Ben"), ("Cy", "Dee")):
            text = f"{good} saved the town, while {bad} ruined it ({i})."
            for name, label in ((good, "positive"), (bad, "negative")):
                texts.append(text)
                targets.append(name)
                starts.append(text.index(name))
                ends.append(text.index(name) + len(name))
                labels.append(label)
    X = pd.DataFrame({"text": texts, "target": targets, "target_from": starts, "target_to": ends})
    model = StanceClassifier(random_state=0).fit(X, labels)
    assert model.local_vectorizer_ is not None
    text = "Eve saved the town, while Fay ruined it."
    new = pd.DataFrame({"text": [text, text], "target": ["Eve", "Fay"], "target_from": [0, 26], "target_to": [3, 29]})
    assert list(model.predict(new)) == ["positive", "negative"]


def test_mentions_teach_not_addressed_and_the_words_around_them():
    texts, mentions, labels = [], [], []
    for i in range(15):
        for name, verb, label in (("Ada", "saved", "favor"), ("Ada", "ruined", "against")):
            text = f"Yesterday {name} {verb} the town, people said ({i})."
            texts.append(text)
            mentions.append([[text.index(name), text.index(name) + len(name)]])
            labels.append(label)
        texts.append(f"The town held a fair and the weather was fine ({i}).")
        mentions.append([])
        labels.append("not_addressed")
    X = pd.DataFrame({"text": texts, "target": "ada", "mentions": mentions})
    model = StanceClassifier(random_state=0).fit(X, labels)
    new = ["Then Ada saved the bridge.", "Then Ada ruined the bridge.", "Then the bridge was painted."]
    found = [[[5, 8]], [[5, 8]], []]
    assert list(model.predict(pd.DataFrame({"text": new, "target": "ada", "mentions": found}))) == [
        "favor",
        "against",
        "not_addressed",
    ]
    with pytest.raises(ValueError, match="reads where each target is mentioned"):
        model.predict(pd.DataFrame({"text": new, "target": "ada"}))


def test_in_cross_validation_and_grid_search():
    X, y = stance_data()
    groups = np.arange(len(X)) % 4
    scores = cross_val_score(StanceClassifier(random_state=0), X, y, groups=groups, cv=GroupKFold(4))
    assert scores.shape == (4,) and scores.mean() > 0.8
    search = GridSearchCV(StanceClassifier(random_state=0), {"C": [0.5, 4.0]}, cv=3).fit(X, y)
    assert search.best_params_["C"] in (0.5, 4.0)


def test_frames_multi_label():
    texts = [f"troops and missiles threaten the border {i}" for i in range(8)]
    texts += [f"the court ruled the strike illegal {i}" for i in range(8)]
    texts += [f"troops crossed in breach of the law and the court {i}" for i in range(8)]
    Y = [["security_defense"]] * 8 + [["legality"]] * 8 + [["legality", "security_defense"]] * 8
    model = FrameClassifier(random_state=0).fit(texts, Y)
    assert list(model.classes_) == ["legality", "security_defense"]
    indicators = model.predict(["missiles threaten the border", "the court ruled it illegal"])
    assert indicators.tolist() == [[0, 1], [1, 0]]
    assert model.predict_labels(["the court ruled it illegal"]) == [["legality"]]
    assert model.predict_proba(texts).shape == (24, 2)
    with pytest.raises(ValueError, match="list of label lists"):
        FrameClassifier().fit(texts, ["legality"] * 24)


def test_frames_single_label():
    texts = [f"troops and missiles {i}" for i in range(6)] + [f"the court ruled {i}" for i in range(6)]
    model = FrameClassifier(multi_label=False, random_state=0).fit(texts, ["security"] * 6 + ["legality"] * 6)
    assert list(model.predict(["missiles and troops", "a court ruling"])) == ["security", "legality"]
    assert np.allclose(model.predict_proba(texts).sum(axis=1), 1)


@pytest.mark.parametrize(
    ("make", "X", "y", "words"),
    [
        (StanceClassifier, ["a", "b"], ["favor", "favor"], "at least two stance classes"),
        (StanceClassifier, ["a", "b"], ["favor"], "2 rows but y has 1"),
        (StanceClassifier, "one text", ["favor"], "not one string"),
        (lambda: StanceClassifier(features="bert"), ["a", "b"], ["x", "y"], "features='bert'"),
        (FrameClassifier, ["a", "b"], [[], []], "no frame appears"),
        (StanceClassifier, pd.DataFrame({"body": ["a"]}), ["x"], "'text' column"),
    ],
)
def test_bad_input_gets_a_clear_error(make, X, y, words):
    with pytest.raises(ValueError, match=words):
        make().fit(X, y)
