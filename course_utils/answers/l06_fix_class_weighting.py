"""Answers of lesson 06's exercises: the references, right answers written differently, and each
named mistake (see `course_utils.lessons.l06_fix_class_weighting`)."""

from __future__ import annotations

from collections import Counter

import numpy as np

# --------------------------------------------------------------------------- exercise 1


def end_token_ratio(y_true, end_id):
    """Mean count of the other classes present in `y_true` (batch, time) over the end-token
    count, counted over all timesteps of all sequences."""
    classes, counts = np.unique(np.asarray(y_true), return_counts=True)
    return float(counts[classes != end_id].mean() / counts[classes == end_id].sum())


def ratio_with_bincount(y_true, end_id):
    counts = np.bincount(np.asarray(y_true).ravel())
    others = [n for c, n in enumerate(counts) if n > 0 and c != end_id]
    return sum(others) / len(others) / counts[end_id]


def ratio_with_counter(y_true, end_id):
    counts = Counter(int(t) for row in y_true for t in row)
    end_count = counts.pop(end_id)
    return np.mean(list(counts.values())) / end_count


def ratio_inverted(y_true, end_id):
    return 1.0 / end_token_ratio(y_true, end_id)


def ratio_per_sequence(y_true, end_id):
    return float(np.mean([end_token_ratio(row[None, :], end_id) for row in np.asarray(y_true)]))


def ratio_with_absent_classes(y_true, end_id):
    counts = np.bincount(np.asarray(y_true).ravel())
    others = np.delete(counts, end_id)
    return float(others.mean() / counts[end_id])


# --------------------------------------------------------------------------- exercise 2


def class_weights(y_true, end_id, vocab_size):
    """`{class id: weight}` for every id below `vocab_size`: 1.0, and the end-token ratio for
    `end_id` (counted over all timesteps of `y_true`, (batch, time))."""
    classes, counts = np.unique(np.asarray(y_true), return_counts=True)
    ratio = counts[classes != end_id].mean() / counts[classes == end_id].sum()
    weights = {c: 1.0 for c in range(vocab_size)}
    weights[end_id] = float(ratio)
    return weights


def weights_from_the_ratio(y_true, end_id, vocab_size):
    weights = dict.fromkeys(range(vocab_size), 1.0)
    weights[end_id] = ratio_with_counter(y_true, end_id)
    return weights


def weights_with_a_comprehension(y_true, end_id, vocab_size):
    ratio = ratio_with_bincount(y_true, end_id)
    return {c: ratio if c == end_id else 1 for c in range(vocab_size)}


def weights_inverted(y_true, end_id, vocab_size):
    weights = class_weights(y_true, end_id, vocab_size)
    weights[end_id] = 1.0 / weights[end_id]
    return weights


def weights_per_sequence(y_true, end_id, vocab_size):
    weights = {c: 1.0 for c in range(vocab_size)}
    weights[end_id] = ratio_per_sequence(y_true, end_id)
    return weights


def weights_end_only(y_true, end_id, vocab_size):
    return {end_id: class_weights(y_true, end_id, vocab_size)[end_id]}


def weights_balanced(y_true, end_id, vocab_size):
    """sklearn's `compute_class_weight("balanced", classes=np.unique(y), y=y)`, the other ids
    left at 1.0."""
    y = np.asarray(y_true).ravel()
    classes, counts = np.unique(y, return_counts=True)
    weights = {c: 1.0 for c in range(vocab_size)}
    for c, n in zip(classes, counts, strict=True):
        weights[int(c)] = y.size / (len(classes) * n)
    return weights


def weights_balanced_over_the_vocabulary(y_true, end_id, vocab_size):
    """The "balanced" weights over every id: a class that never occurs divides by a zero count."""
    y = np.asarray(y_true).ravel()
    counts = np.bincount(y, minlength=vocab_size).astype(float)
    with np.errstate(divide="ignore"):
        weights = y.size / (vocab_size * counts)
    return {c: float(weights[c]) for c in range(vocab_size)}


def weights_summing_to_one(y_true, end_id, vocab_size):
    weights = class_weights(y_true, end_id, vocab_size)
    total = sum(weights.values())
    return {c: w / total for c, w in weights.items()}


# --------------------------------------------------------------------------- exercise 3


def timestep_sample_weight(y_true, class_weight):
    """(batch, time) float32: the weight of each target position's class; a class missing from
    `class_weight` gets 1.0 (as in Keras)."""
    y_true = np.asarray(y_true)
    weights = np.ones(y_true.shape, dtype="float32")
    for cls, weight in class_weight.items():
        weights[y_true == cls] = weight
    return weights


def sample_weight_by_lookup(y_true, class_weight):
    y_true = np.asarray(y_true)
    table = np.ones(max(y_true.max(), *class_weight) + 1)
    for cls, weight in class_weight.items():
        table[cls] = weight
    return table[y_true]


def sample_weight_with_get(y_true, class_weight):
    return np.array([[class_weight.get(int(t), 1.0) for t in row] for row in y_true])


def sample_weight_per_sequence_row(y_true, class_weight):
    return timestep_sample_weight(y_true, class_weight).mean(axis=1)


def sample_weight_first_token(y_true, class_weight):
    y_true = np.asarray(y_true)
    return np.array([class_weight.get(int(row[0]), 1.0) for row in y_true], dtype="float32")


def sample_weight_missing_zero(y_true, class_weight):
    y_true = np.asarray(y_true)
    weights = np.zeros(y_true.shape, dtype="float32")
    for cls, weight in class_weight.items():
        weights[y_true == cls] = weight
    return weights


def sample_weight_missing_nan(y_true, class_weight):
    """`dict.get` without a default: a class missing from the dict gives None, read as NaN."""
    return np.array([[class_weight.get(int(t)) for t in row] for row in y_true], dtype="float32")


def sample_weight_divided_by_count(y_true, class_weight):
    """Each class's weight shared among its positions (divided by the class's count): a class
    of the dict that never occurs in `y_true` divides by a zero count."""
    y_true = np.asarray(y_true)
    weights = np.ones(y_true.shape, dtype="float32")
    for cls, weight in class_weight.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            weights[y_true == cls] = np.float32(weight) / np.sum(y_true == cls)
    return weights
