"""Pictures the lessons share. Each function takes data and returns a closed matplotlib Figure
(so a notebook shows it exactly once, as the cell's result); none computes anything new."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

PAD_COLOUR = "#d9d9d9"
REAL_COLOUR = "#4c72b0"


def mask_heatmap(batch, mask, *, title: str = "padded batch and its mask", legend: bool = False):
    """Token ids `(batch, time)` written in cells coloured by `mask` (True = real token).

    With `legend=True` the colours are explained in a legend instead of in the title."""
    batch = np.asarray(batch)
    mask = np.asarray(mask, dtype=bool)
    extra = 2.6 if legend else 0.0  # room for the legend beside the grid
    fig, ax = plt.subplots(figsize=(0.6 * batch.shape[1] + 1.5 + extra, 0.5 * batch.shape[0] + 1))
    ax.imshow(
        mask, cmap=matplotlib.colors.ListedColormap([PAD_COLOUR, REAL_COLOUR]), vmin=0, vmax=1
    )
    for (i, t), value in np.ndenumerate(batch):
        ax.text(
            t, i, str(value), ha="center", va="center", color="white" if mask[i, t] else "black"
        )
    ax.set_xticks(range(batch.shape[1]))
    ax.set_yticks(range(batch.shape[0]))
    ax.set_xlabel("time step")
    ax.set_ylabel("sequence")
    if legend:
        ax.set_title(title)
        ax.legend(
            handles=[
                Patch(facecolor=REAL_COLOUR, label="real token (mask True)"),
                Patch(facecolor=PAD_COLOUR, label="padding (mask False)"),
            ],
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            frameon=False,
        )
    else:
        ax.set_title(title + "\n(blue = real token, grey = padding)")
    fig.tight_layout()
    plt.close(fig)
    return fig


def timestep_losses(losses, mask, *, title: str = "loss per time step"):
    """Per-timestep losses `(batch, time)` as grouped bars, one group per time step.

    Real steps are blue bars; padded steps are grey hatched bars with an x on top, so a padded
    step whose loss is exactly 0 (a zero-height bar) still shows. A legend explains both."""
    losses = np.asarray(losses, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    n, steps = losses.shape
    width = 0.8 / n
    fig, ax = plt.subplots(figsize=(max(5, 0.9 * steps + 2) + 2, 3))
    for i in range(n):
        x = np.arange(steps) + (i - (n - 1) / 2) * width
        colours = [REAL_COLOUR if m else PAD_COLOUR for m in mask[i]]
        hatches = ["" if m else "//" for m in mask[i]]
        bars = ax.bar(x, losses[i], width=width, color=colours, edgecolor="black", linewidth=0.3)
        for bar, hatch in zip(bars, hatches, strict=True):
            bar.set_hatch(hatch)
        ax.scatter(
            x[~mask[i]],
            losses[i][~mask[i]],
            marker="x",
            color="black",
            s=18,
            zorder=3,
            clip_on=False,
        )
    top = max(float(losses.max()), 1e-6)
    ax.set_ylim(-0.04 * top, 1.08 * top)
    ax.axhline(0.0, color="black", linewidth=0.5)
    ax.set_xticks(range(steps))
    ax.set_xlabel("time step (one bar per sequence)")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend(
        handles=[
            Patch(facecolor=REAL_COLOUR, edgecolor="black", linewidth=0.3, label="real step"),
            Patch(
                facecolor=PAD_COLOUR,
                edgecolor="black",
                linewidth=0.3,
                hatch="//",
                label="padded step",
            ),
            Line2D([], [], marker="x", color="black", linestyle="none", label="padded step's loss"),
        ],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        fontsize="small",
    )
    fig.tight_layout()
    plt.close(fig)
    return fig


def curves(histories: dict[str, list[float]], *, ylabel: str = "loss", title: str = ""):
    """One line per named series (e.g. training loss per epoch for several models)."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, values in histories.items():
        ax.plot(range(1, len(values) + 1), values, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    plt.close(fig)
    return fig


# Okabe-Ito colours (distinguishable with colour-blindness), each with its own marker and dash
# pattern so that lines stay apart in greyscale too.
SERIES_STYLES = (
    ("#000000", "o", "-"),
    ("#E69F00", "s", "--"),
    ("#56B4E9", "^", "-."),
    ("#009E73", "D", ":"),
    ("#CC79A7", "v", (0, (5, 1, 1, 1))),
    ("#D55E00", "P", (0, (3, 1, 1, 1, 1, 1))),
    ("#0072B2", "X", (0, (1, 1))),
    ("#999999", "*", (0, (8, 2))),
)


def banded_panels(
    panels: dict[str, dict[str, np.ndarray]],
    *,
    xlabel: str,
    ylabel: str,
    title: str = "",
    x=None,
    vline: float | None = None,
    vline_label: str = "",
    ylim: tuple[float, float] | None = None,
):
    """Small multiples, one panel per key of `panels`. In each panel, one line per named series
    of shape (runs, points): the mean over runs with markers, and a band from the lowest to the
    highest run, so that the spread over seeds is visible. A series name keeps one style (colour,
    marker, dash) in every panel, and on long series the lines put their markers on different
    points, so lines that coincide stay visible; the legend sits below the panels, clear of the
    data. `vline` marks one x value (e.g. the course's training budget)."""
    names: list[str] = []
    for series in panels.values():
        names += [name for name in series if name not in names]
    style = {name: SERIES_STYLES[i % len(SERIES_STYLES)] for i, name in enumerate(names)}
    fig, axes = plt.subplots(
        1, len(panels), figsize=(3.6 * len(panels) + 0.6, 3.6), sharey=True, squeeze=False
    )
    for ax, (panel, series) in zip(axes[0], panels.items(), strict=True):
        for name, runs in series.items():
            runs = np.atleast_2d(np.asarray(runs, dtype=float))
            xs = np.arange(1, runs.shape[1] + 1) if x is None else np.asarray(x)
            colour, marker, dash = style[name]
            # On long series, each line puts its markers on other points than the others, so
            # lines that coincide (e.g. two at 1.0) still show every marker.
            order = names.index(name)
            every = (order % len(names), len(names)) if len(xs) >= 10 else None
            with np.errstate(all="ignore"):
                mean = np.nanmean(runs, axis=0)
            ax.fill_between(
                xs, np.nanmin(runs, axis=0), np.nanmax(runs, axis=0), color=colour, alpha=0.15
            )
            ax.plot(
                xs,
                mean,
                color=colour,
                marker=marker,
                markevery=every,
                linestyle=dash,
                markersize=4,
                linewidth=1.4,
                label=name,
            )
        if vline is not None:
            ax.axvline(vline, color="#555555", linewidth=0.8, linestyle=":")
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel(xlabel)
        if ylim is not None:
            ax.set_ylim(*ylim)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(ylabel)
    handles = [
        plt.Line2D([], [], color=c, marker=m, linestyle=d, label=name)
        for name, (c, m, d) in style.items()
    ]
    if vline is not None and vline_label:
        handles.append(plt.Line2D([], [], color="#555555", linestyle=":", label=vline_label))
    fig.legend(
        handles=handles,
        loc="lower center",
        ncol=min(len(handles), 4),
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, 0.0),
    )
    if title:
        fig.suptitle(title, fontsize=11)
    rows = -(-len(handles) // 4)
    fig.tight_layout(rect=(0, 0.06 + 0.05 * rows, 1, 1))
    plt.close(fig)
    return fig
