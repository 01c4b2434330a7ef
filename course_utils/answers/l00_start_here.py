"""Answers of lesson 00's exercise: the reference, right answers written differently, and each
named mistake (see `course_utils.lessons.l00_start_here`)."""

from __future__ import annotations

import numpy as np


def count_real_tokens(batch, pad_id=0):
    """How many real (non-padding) tokens each row of `batch` holds: shape (batch,)."""
    return np.sum(np.asarray(batch) != pad_id, axis=1)


# ----------------------------------------------------------------- written differently


def count_with_a_loop(batch, pad_id=0):
    return [sum(1 for token in row if token != pad_id) for row in batch]


def count_by_subtracting_padding(batch, pad_id=0):
    batch = np.asarray(batch)
    return batch.shape[1] - np.count_nonzero(batch == pad_id, axis=-1)


# ----------------------------------------------------------------- misconceptions


def counts_padding(batch, pad_id=0):
    return np.sum(np.asarray(batch) == pad_id, axis=1)


def ignores_pad_id(batch, pad_id=0):
    return np.sum(np.asarray(batch) != 0, axis=1)


def one_total(batch, pad_id=0):
    return int(np.sum(np.asarray(batch) != pad_id))


def row_length(batch, pad_id=0):
    return np.full(len(batch), np.asarray(batch).shape[1])


def trailing_padding_only(batch, pad_id=0):
    """Counts up to the first padding token: right for post-padding, wrong for pre-padding."""
    counts = []
    for row in np.asarray(batch):
        n = 0
        while n < len(row) and row[n] != pad_id:
            n += 1
        counts.append(n)
    return np.array(counts)
