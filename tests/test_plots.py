"""The figures the notebooks draw, checked on the demo model's scores of the bundled sample."""

from __future__ import annotations

import pytest
from matplotlib.colors import to_hex

from annotation.sample import sample_tasks
from models.logodds import log_odds
from models.plots import OKABE_ITO, STANCE_COLOURS, plot_frames, plot_log_odds, plot_stance, plot_strip, stance_colours
from models.rollup import rollup
from models.suggest import scored_passages


@pytest.fixture(scope="module")
def scored(sample_model):
    return scored_passages(sample_model, sample_tasks(sample_model.codebook).tasks)


def texts_of(figure) -> set[str]:
    return {t.get_text() for ax in figure.axes for t in ax.texts}


def test_stance_has_a_panel_per_target_a_bar_per_label_and_a_legend(scored, sample_model, tmp_path):
    shares = rollup(scored, sample_model.codebook, by="source")
    figure = plot_stance(shares, by="source")
    axes = figure.axes
    assert [ax.get_title() for ax in axes] == [
        "toward us government",
        "toward iranian government",
        "toward iranian opposition",
    ]
    assert all(ax.get_xlabel() == "share of passages" for ax in axes)
    assert [t.get_text() for t in axes[0].get_yticklabels()] == sorted(set(scored["source"]))
    assert figure.get_suptitle().startswith("Stance toward each target")
    (legend,) = figure.legends
    assert [t.get_text() for t in legend.get_texts()] == ["Favor", "Against", "Neutral", "Not addressed"]
    # One bar per source and label, coloured by label; bar lengths are the shares.
    bars = axes[0].patches
    sources = scored["source"].nunique()
    assert len(bars) == sources * 4
    assert {to_hex(b.get_facecolor()) for b in bars} == {c.lower() for c in STANCE_COLOURS.values()}
    favor = shares[(shares.target == "us_government") & (shares.label == "favor")]["share"]
    assert sorted(b.get_width() for b in bars[:sources]) == pytest.approx(sorted(favor))
    figure.savefig(tmp_path / "stance.png")
    assert (tmp_path / "stance.png").stat().st_size > 10_000


def test_frames_map_shows_every_share_as_a_percentage(scored, sample_model):
    shares = rollup(scored, sample_model.codebook)
    figure = plot_frames(shares, names={"ledger-01": "The Harbor Ledger: Soleimani Eliminated"}, min_share=0.3)
    ax, colourbar = figure.axes
    assert ax.get_title().startswith("Frame profile") and ax.get_xlabel() == "frame"
    assert colourbar.get_ylabel() == "share of passages using the frame"
    frames = shares[shares.question == "frames"]
    kept = frames.groupby("label")["share"].max()
    assert len(ax.get_xticklabels()) == (kept >= 0.3).sum() < 15
    assert "The Harbor Ledger: Soleimani Eliminated" in {t.get_text() for t in ax.get_yticklabels()}
    assert len(ax.texts) == scored["article_id"].nunique() * (kept >= 0.3).sum()
    with pytest.raises(ValueError, match=r"no frame reaches a share of 1\.1"):
        plot_frames(shares, min_share=1.1)


def test_strip_marks_each_passage_and_its_top_frame(scored, sample_model):
    figure = plot_strip(scored, sample_model.codebook, "ledger-01")
    (ax,) = figure.axes
    passages = scored[scored.article_id == "ledger-01"]
    assert sum(len(c.get_offsets()) for c in ax.collections) == 3 * len(passages)
    assert len(ax.texts) == len(passages)
    assert ax.get_xlabel() == "passage (position in the article)"
    assert "Soleimani Eliminated" in ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Favor", "Against", "Neutral", "Not addressed"]
    with pytest.raises(ValueError, match="no passages of article 'nope'"):
        plot_strip(scored, sample_model.codebook, "nope")


def test_log_odds_scatter_labels_the_top_words_on_each_side(scored):
    two = scored[scored.source.isin(["The Harbor Ledger", "The Alborz Courier"])]
    scores = log_odds(two["text"], two["source"])
    figure = plot_log_odds(scores, top=5)
    (ax,) = figure.axes
    assert ax.get_xscale() == "log" and ax.get_xlabel().startswith("word frequency")
    assert "z-score" in ax.get_ylabel()
    first = scores.group.iloc[0]
    mine = scores[scores.group == first]
    labeled = ", ".join(texts_of(figure))
    for word in [*mine.nlargest(5, "z")["word"], *mine.nsmallest(5, "z")["word"]]:
        assert word in labeled
    assert sum(len(c.get_offsets()) for c in ax.collections) == len(mine)
    many = plot_log_odds(log_odds(scored["text"], scored["source"]), top=3)
    assert len(many.axes) == scored["source"].nunique()


def test_other_stance_scales_get_palette_colours():
    colours = stance_colours(["favor", "support", "oppose"])
    assert colours["favor"] == STANCE_COLOURS["favor"]
    assert {colours["support"], colours["oppose"]} <= set(OKABE_ITO)
    assert len(set(colours.values())) == 3
