"""The shared plots: every mark a lesson's prose points at is drawn, and legends explain them."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import PathCollection

from course_utils.plots import PAD_COLOUR, REAL_COLOUR, mask_heatmap, timestep_losses


def _legend_labels(fig) -> list[str]:
    legend = fig.axes[0].get_legend()
    return [] if legend is None else [text.get_text() for text in legend.get_texts()]


def test_padded_steps_with_zero_loss_are_still_marked():
    mask = np.array([[True, True, False], [True, False, False]])
    losses = np.where(mask, 0.7, 0.0)  # padded steps cost exactly 0: zero-height bars
    fig = timestep_losses(losses, mask)
    ax = fig.axes[0]
    markers = [c for c in ax.collections if isinstance(c, PathCollection)]
    offsets = np.concatenate([c.get_offsets() for c in markers])
    assert len(offsets) == (~mask).sum()  # one x per padded step
    np.testing.assert_allclose(offsets[:, 1], 0.0)
    assert ax.get_ylim()[0] < 0  # the x at height 0 is inside the axes, not on their edge
    assert _legend_labels(fig) == ["real step", "padded step", "padded step's loss"]


def test_timestep_bars_are_coloured_by_the_mask():
    mask = np.array([[True, False]])
    fig = timestep_losses(np.array([[0.5, 0.2]]), mask)
    colours = [bar.get_facecolor() for bar in fig.axes[0].patches]
    import matplotlib.colors as mcolors

    assert mcolors.to_hex(colours[0]) == REAL_COLOUR and mcolors.to_hex(colours[1]) == PAD_COLOUR


def test_mask_heatmap_legend_is_opt_in():
    batch = np.array([[3, 1, 0]])
    mask = batch != 0
    assert _legend_labels(mask_heatmap(batch, mask)) == []
    assert _legend_labels(mask_heatmap(batch, mask, legend=True)) == [
        "real token (mask True)",
        "padding (mask False)",
    ]


def test_banded_panels_keep_one_style_per_series_and_stagger_markers_of_coinciding_lines():
    from course_utils.plots import banded_panels

    flat = np.ones((3, 12))  # two series that coincide at 1.0 over 12 epochs
    rising = np.linspace(0, 1, 12)[None, :] * np.array([[0.9], [1.0], [1.1]])
    fig = banded_panels(
        {"left": {"a": flat, "b": flat.copy()}, "right": {"b": rising, "c": rising}},
        xlabel="epoch",
        ylabel="accuracy",
        vline=6,
        vline_label="budget",
    )
    left, right = fig.axes
    lines = {line.get_label(): line for line in left.get_lines() if line.get_label() in "ab"}
    every_a, every_b = lines["a"].get_markevery(), lines["b"].get_markevery()
    assert every_a != every_b  # the two flat lines show their markers on different epochs
    b_right = next(line for line in right.get_lines() if line.get_label() == "b")
    assert b_right.get_color() == lines["b"].get_color()  # one style per name, in every panel
    assert b_right.get_marker() == lines["b"].get_marker()
    legend = [text.get_text() for text in fig.legends[0].get_texts()]
    assert legend == ["a", "b", "c", "budget"]
    band = left.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == band.max() == 1.0  # no spread over seeds: a flat band
