"""Answers of lesson 02's exercises: the references, right answers written differently, and each
named mistake (see `course_utils.lessons.l02_masking_layer`)."""

from __future__ import annotations

import math

import numpy as np

from ..lessons.l02_masking_layer import EPSILON, predict_case


def masking_mask(x, mask_value=0.0):
    """What `Masking(mask_value).compute_mask(x)` returns: bool `(batch, time)`, False where
    every feature of the step equals `mask_value`."""
    return np.any(np.asarray(x) != mask_value, axis=-1)


def binary_crossentropy_steps(y_true, y_pred):
    """Per-step binary cross-entropy `(batch, time)` from `(batch, time, 1)` targets and
    probabilities, averaged over the last axis as `keras.losses.binary_crossentropy` does."""
    y_true = np.asarray(y_true, dtype="float64")
    p = np.clip(np.asarray(y_pred, dtype="float64"), EPSILON, 1 - EPSILON)
    return np.mean(-(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)), axis=-1)


# =========================================================================== 1. predicted_mask

_X, _MASK_VALUE = predict_case()
PREDICTED_MASK = masking_mask(_X, _MASK_VALUE).tolist()
PREDICTED_MASK_AS_ARRAY = np.asarray(PREDICTED_MASK)

# Wrong predictions, each from one misconception.
INVERTED = (~np.asarray(PREDICTED_MASK)).tolist()
ANY_FEATURE = (~np.any(_X == _MASK_VALUE, axis=-1)).tolist()
ZERO_ASSUMED = masking_mask(_X, 0.0).tolist()
ZERO_ALSO_PADDING = (masking_mask(_X, _MASK_VALUE) & masking_mask(_X, 0.0)).tolist()
AS_INTS = np.asarray(PREDICTED_MASK, dtype=int).tolist()


# =========================================================================== 2. evaluate_by_hand


def evaluate_by_hand(x, y_true, y_pred, mask_value=0.0):
    """The loss `evaluate` reports for `Masking(mask_value)` -> ... -> sigmoid outputs compiled
    with binary cross-entropy: the per-step loss averaged over the unmasked steps only."""
    mask = np.any(np.asarray(x) != mask_value, axis=-1)
    y_true = np.asarray(y_true, dtype="float64")
    p = np.clip(np.asarray(y_pred, dtype="float64"), 1e-7, 1 - 1e-7)
    losses = np.mean(-(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)), axis=-1)
    return float(np.sum(losses * mask) / np.sum(mask))


def evaluate_by_selecting_kept_steps(x, y_true, y_pred, mask_value=0.0):
    kept = ~np.all(np.asarray(x) == mask_value, axis=-1)
    return float(binary_crossentropy_steps(y_true, y_pred)[kept].mean())


def evaluate_with_loops(x, y_true, y_pred, mask_value=0.0):
    total, count = 0.0, 0
    for b in range(len(x)):
        for t in range(len(x[b])):
            if all(float(v) == mask_value for v in x[b][t]):
                continue
            y, p = float(y_true[b][t][0]), min(max(float(y_pred[b][t][0]), 1e-7), 1 - 1e-7)
            total += -(y * math.log(p) + (1 - y) * math.log(1 - p))
            count += 1
    return total / count


def eval_unmasked(x, y_true, y_pred, mask_value=0.0):
    return float(np.mean(binary_crossentropy_steps(y_true, y_pred)))


def eval_divides_by_all_steps(x, y_true, y_pred, mask_value=0.0):
    mask = masking_mask(x, mask_value)
    return float(np.mean(binary_crossentropy_steps(y_true, y_pred) * mask))


def eval_divides_by_batch_size(x, y_true, y_pred, mask_value=0.0):
    mask = masking_mask(x, mask_value)
    return float(np.sum(binary_crossentropy_steps(y_true, y_pred) * mask) / len(x))


def eval_mean_of_row_means(x, y_true, y_pred, mask_value=0.0):
    mask = masking_mask(x, mask_value)
    losses = binary_crossentropy_steps(y_true, y_pred) * mask
    return float(np.mean(losses.sum(axis=1) / mask.sum(axis=1)))


def eval_any_feature(x, y_true, y_pred, mask_value=0.0):
    mask = ~np.any(np.asarray(x) == mask_value, axis=-1)
    losses = binary_crossentropy_steps(y_true, y_pred)
    return float(np.sum(losses * mask) / np.sum(mask))


def eval_zero_assumed(x, y_true, y_pred, mask_value=0.0):
    return evaluate_by_hand(x, y_true, y_pred, 0.0)


def eval_mae(x, y_true, y_pred, mask_value=0.0):
    mask = masking_mask(x, mask_value)
    losses = np.mean(np.abs(np.asarray(y_true) - np.asarray(y_pred)), axis=-1)
    return float(np.sum(losses * mask) / np.sum(mask))


# =========================================================================== 3. wrongly_masked


def wrongly_masked(x, lengths, mask_value=0.0):
    """Bool `(batch, time)`: True on real steps (t < length, post-padded) that
    `Masking(mask_value)` masks anyway because every feature equals `mask_value`."""
    x = np.asarray(x)
    real = np.arange(x.shape[1])[None, :] < np.asarray(lengths)[:, None]
    return real & np.all(x == mask_value, axis=-1)


def real_and_not_kept(x, lengths, mask_value=0.0):
    x = np.asarray(x)
    real = np.arange(x.shape[1]) < np.asarray(lengths).reshape(-1, 1)
    return real & ~masking_mask(x, mask_value)


def flag_with_loops(x, lengths, mask_value=0.0):
    x = np.asarray(x)
    flags = np.zeros(x.shape[:2], dtype=bool)
    for b, n in enumerate(lengths):
        for t in range(int(n)):
            flags[b, t] = bool((x[b, t] == mask_value).all())
    return flags


def _real(x, lengths):
    return np.arange(np.asarray(x).shape[1])[None, :] < np.asarray(lengths)[:, None]


def flags_all_masked(x, lengths, mask_value=0.0):
    return np.all(np.asarray(x) == mask_value, axis=-1)


def returns_masking_mask(x, lengths, mask_value=0.0):
    return masking_mask(x, mask_value)


def flags_any_feature(x, lengths, mask_value=0.0):
    return _real(x, lengths) & np.any(np.asarray(x) == mask_value, axis=-1)


def flags_zero_steps(x, lengths, mask_value=0.0):
    return wrongly_masked(x, lengths, 0.0)


def flags_as_ints(x, lengths, mask_value=0.0):
    return wrongly_masked(x, lengths, mask_value).astype("int64")
