"""Pictures the lessons share. Each function takes data and returns a closed matplotlib Figure
(so a notebook shows it exactly once, as the cell's result); none computes anything new."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

PAD_COLOUR = "#d9d9d9"
REAL_COLOUR = "#4c72b0"


def mask_heatmap(batch, mask, *, title: str = "padded batch and its mask"):
    """Token ids `(batch, time)` written in cells coloured by `mask` (True = real token)."""
    batch = np.asarray(batch)
    mask = np.asarray(mask, dtype=bool)
    fig, ax = plt.subplots(figsize=(0.6 * batch.shape[1] + 1.5, 0.5 * batch.shape[0] + 1))
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
    ax.set_title(title + "\n(blue = real token, grey = padding)")
    fig.tight_layout()
    plt.close(fig)
    return fig


def timestep_losses(losses, mask, *, title: str = "loss per time step"):
    """Per-timestep losses `(batch, time)` as grouped bars; padded steps drawn in grey."""
    losses = np.asarray(losses, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    n, steps = losses.shape
    width = 0.8 / n
    fig, ax = plt.subplots(figsize=(max(5, 0.9 * steps + 2), 3))
    for i in range(n):
        x = np.arange(steps) + (i - (n - 1) / 2) * width
        colours = [REAL_COLOUR if m else PAD_COLOUR for m in mask[i]]
        ax.bar(x, losses[i], width=width, color=colours, edgecolor="black", linewidth=0.3)
    ax.set_xticks(range(steps))
    ax.set_xlabel("time step")
    ax.set_ylabel("loss")
    ax.set_title(title + " (grey = padded step)")
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
