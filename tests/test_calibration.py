"""Calibration: maps fitted on out-of-fold probabilities, judged cross-fitted, and shown in the report."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, cross_val_predict

from models.calibration import (
    apply_calibration,
    cross_fitted,
    expected_calibration_error,
    fit_calibration,
    reliability,
)
from models.report import DPI, confusion_figure, reliability_figure, write_report


def ece(probabilities, truth, multi_label: bool) -> float:
    return expected_calibration_error(reliability(probabilities, truth, multi_label))


@pytest.fixture(scope="module")
def over_confident():
    """Out-of-fold probabilities of a barely regularised classifier on noisy labels, and the labels: with 40
    features for 400 rows and C=1e4, the fitted weights are far too large for the rows held out."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 40))
    y = (X[:, :3] + rng.normal(scale=1.5, size=(400, 3))).argmax(axis=1)
    model = LogisticRegression(C=1e4, max_iter=5000)
    return cross_val_predict(model, X, y, cv=KFold(5), method="predict_proba"), y


def test_temperature_above_one_for_an_over_confident_model(over_confident):
    raw, y = over_confident
    calibration = fit_calibration(raw, y, multi_label=False)
    assert calibration["kind"] == "temperature" and calibration["temperature"] > 1.5
    after = cross_fitted(raw, y, np.arange(len(y)) % 5, multi_label=False)
    assert ece(after, y, False) < ece(raw, y, False) - 0.05
    # Temperature scaling never changes which class is most likely.
    assert (after.argmax(axis=1) == raw.argmax(axis=1)).all()


def test_calibrated_rows_sum_to_one_and_none_leaves_them_as_they_are(over_confident):
    raw, _ = over_confident
    calibrated = apply_calibration({"kind": "temperature", "temperature": 2.5}, raw)
    assert np.allclose(calibrated.sum(axis=1), 1) and (calibrated > 0).all()
    assert apply_calibration(None, raw) is raw
    assert np.allclose(
        apply_calibration({"kind": "temperature", "temperature": 1.0}, raw), np.clip(raw, 1e-6, 1), atol=1e-5
    )


def multi_label_data(rng, rows: int, rates: list[float], push: float = 3.0):
    """Per label a true probability and a 0/1 outcome drawn from it, and a raw probability pushed toward 0 and 1."""
    logits = rng.normal(scale=1.5, size=(rows, len(rates))) + np.log(np.array(rates) / (1 - np.array(rates)))
    truth = (rng.random((rows, len(rates))) < 1 / (1 + np.exp(-logits))).astype(int)
    return 1 / (1 + np.exp(-push * logits)), truth


def test_platt_per_label_for_over_confident_frames():
    raw, truth = multi_label_data(np.random.default_rng(1), 3000, [0.5, 0.3, 0.15])
    calibration = fit_calibration(raw, truth, multi_label=True)
    assert calibration["kind"] == "platt" and len(calibration["slope"]) == 3
    assert all(0.2 < slope < 0.6 for slope in calibration["slope"])  # the truth is 1/3
    after = cross_fitted(raw, truth, np.arange(len(raw)) % 5, multi_label=True)
    assert ece(after, truth, True) < ece(raw, truth, True) / 2
    assert after.shape == raw.shape and ((after > 0) & (after < 1)).all()


def test_a_frame_with_few_positives_stays_near_the_identity():
    raw, truth = multi_label_data(np.random.default_rng(2), 300, [0.4, 0.008])
    assert truth[:, 1].sum() <= 5
    calibration = fit_calibration(raw, truth, multi_label=True)
    frequent, rare = calibration["slope"]
    assert frequent < 0.6  # both are over-confident alike, but only the frequent frame has the rows to show it
    assert abs(rare - 1) < 0.3 and abs(calibration["intercept"][1]) < 0.3


def test_training_calibrates_the_final_models_and_reports_both_errors(sample_model):
    assert sample_model.stance.calibration_["kind"] == "temperature"
    assert sample_model.primary.calibration_["kind"] == "temperature"
    frames = sample_model.frames.calibration_
    assert frames["kind"] == "platt" and len(frames["slope"]) == len(sample_model.frames.classes_)
    texts = ["The strike was an illegal assassination.", "Europe urged restraint on all sides."]
    assert np.allclose(sample_model.primary.predict_proba(texts).sum(axis=1), 1)
    for name, scores in sample_model.card["evaluation"]["questions"].items():
        calibration = scores["calibration"]
        assert {"ece_before", "ece_after", "reliability_before", "reliability_after"} <= set(calibration), name
        assert calibration["bins"] == 15
        counted = sum(n for _, _, n in calibration["reliability_before"])
        assert counted == scores["n"] * (len(sample_model.frames.classes_) if name == "frames" else 1)


def outside(figure) -> list[str]:
    """The texts drawn wholly or partly outside the figure: every text artist drawn, by its window extent."""
    figure.set_dpi(DPI)
    canvas = FigureCanvasAgg(figure)
    drawn, draw = [], Text.draw

    def record(text, renderer):
        drawn.append(text)
        return draw(text, renderer)

    Text.draw = record
    try:
        canvas.draw()
    finally:
        Text.draw = draw
    renderer, width, height = canvas.get_renderer(), figure.bbox.width, figure.bbox.height
    shown = [text for text in drawn if text.get_visible() and text.get_text()]
    assert shown
    return [
        text.get_text()
        for text in shown
        if (box := text.get_window_extent(renderer)).x0 < 0 or box.y0 < 0 or box.x1 > width or box.y1 > height
    ]


def test_the_report_shows_calibration_and_the_gate_with_whole_figures(sample_model, tmp_path):
    evaluation = sample_model.card["evaluation"]
    report = write_report(evaluation, tmp_path / "report.md", sample_model.card).read_text(encoding="utf-8")
    assert "## What suggestions pre-fill" in report and "Expected calibration error over 15 bins" in report
    assert "cross-fitted" in report and "most common stance for this target" in report
    for name, scores in evaluation["questions"].items():
        stem = name.replace(" ", "_").replace("(", "").replace(")", "")
        assert f"report/{stem}_reliability.png" in report
        assert outside(reliability_figure(scores, name)) == [], name
        if "confusion" in scores:
            assert outside(confusion_figure(scores, name)) == [], name
    assert (tmp_path / "report" / "frames_reliability.png").stat().st_size > 10_000
    scores = evaluation["questions"]["stance_us_government"]
    held_out = {**scores, "calibration": {"bins": 15, "ece_after": 0.1, "reliability_after": [[0.7, 0.8, 5]]}}
    assert outside(reliability_figure(held_out, "stance_" + "a_target_with_a_long_name_" * 3)) == []
