"""Lesson 06, fix 2: weight the end token down with a per-timestep `sample_weight`."""

from __future__ import annotations

import numpy as np

from ..checking import Exercise, Mistake, WrongAnswer, as_array, as_number, call_learner, close

LESSON = "06_fix_class_weighting"
TITLE = "Fix 2: class weighting with a per-timestep `sample_weight`"
OBJECTIVES = [
    "count the classes of padded sequence targets and compute the end-token ratio: the mean "
    "count of the other classes over the end-token count;",
    "see the real errors `fit(class_weight=...)` raises for sequence targets in Keras 3, and why;",
    "say what Keras 2 (`tf_keras`) did with the same call: per-step weights for one-hot targets, "
    "a silent no-op for sparse ones;",
    "build the working equivalent, a `(batch, time)` `sample_weight` from a class-weight dict;",
    "measure, on five seeds, what class weighting repairs and what it breaks.",
]
PREREQUISITES = "Lesson 05: the toy seq2seq task and the metrics that ignore padding."
MINUTES = 30
EXERCISE_MINUTES = 20


# --------------------------------------------------------------------------- exercise 1


def end_token_ratio(y_true, end_id):
    """Mean count of the other classes present in `y_true` (batch, time) over the end-token
    count, counted over all timesteps of all sequences."""
    classes, counts = np.unique(np.asarray(y_true), return_counts=True)
    return float(counts[classes != end_id].mean() / counts[classes == end_id].sum())


def _ratio_inverted(y_true, end_id):
    return 1.0 / end_token_ratio(y_true, end_id)


def _ratio_per_sequence(y_true, end_id):
    return float(np.mean([end_token_ratio(row[None, :], end_id) for row in np.asarray(y_true)]))


def _ratio_with_absent_classes(y_true, end_id):
    counts = np.bincount(np.asarray(y_true).ravel())
    others = np.delete(counts, end_id)
    return float(others.mean() / counts[end_id])


# Every row holds at least one other class and one end token; ids below end_id are missing.
_RATIO_CASES = [
    (np.array([[1, 1, 2, 7, 7, 7, 7, 7], [3, 7, 7, 7, 7, 7, 7, 7]]), 7),
    (np.array([[0, 4, 4, 4, 9, 9], [2, 9, 9, 9, 9, 9], [4, 0, 9, 9, 9, 9]]), 9),
    (np.array([[5, 6, 5, 6, 5, 12, 12, 12], [8, 12, 12, 12, 12, 12, 12, 12]]), 12),
]


def _grade_ratio(fn) -> str:
    for y_true, end_id in _RATIO_CASES:
        expected = end_token_ratio(y_true, end_id)
        got = as_number(call_learner(fn, y_true.copy(), end_id), name="your ratio")
        if close(got, expected):
            continue
        if close(got, _ratio_inverted(y_true, end_id)):
            raise Mistake(
                "your ratio is upside down: the end-token count goes in the denominator, so the "
                "ratio is small when end tokens dominate"
            )
        if close(got, _ratio_per_sequence(y_true, end_id)):
            raise Mistake(
                "you computed a ratio per sequence and averaged them; count the classes over "
                "all timesteps of all sequences at once"
            )
        if close(got, _ratio_with_absent_classes(y_true, end_id)):
            raise Mistake(
                "your mean includes classes that never occur in `y_true` (a count of 0, as "
                "`np.bincount` gives for missing ids); average over the classes present"
            )
        raise Mistake(
            "the ratio is off: count each class over all timesteps, average the counts of the "
            "classes other than `end_id`, divide by the count of `end_id`"
        )
    return "counted over all timesteps, classes present only: the end token's weight."


# --------------------------------------------------------------------------- exercise 2


def class_weights(y_true, end_id, vocab_size):
    """`{class id: weight}` for every id below `vocab_size`: 1.0, and the end-token ratio for
    `end_id` (counted over all timesteps of `y_true`, (batch, time))."""
    classes, counts = np.unique(np.asarray(y_true), return_counts=True)
    ratio = counts[classes != end_id].mean() / counts[classes == end_id].sum()
    weights = {c: 1.0 for c in range(vocab_size)}
    weights[end_id] = float(ratio)
    return weights


def _weights_inverted(y_true, end_id, vocab_size):
    weights = class_weights(y_true, end_id, vocab_size)
    weights[end_id] = 1.0 / weights[end_id]
    return weights


def _weights_per_sequence(y_true, end_id, vocab_size):
    weights = {c: 1.0 for c in range(vocab_size)}
    weights[end_id] = _ratio_per_sequence(y_true, end_id)
    return weights


def _weights_end_only(y_true, end_id, vocab_size):
    return {end_id: class_weights(y_true, end_id, vocab_size)[end_id]}


def _grade_weights(fn) -> str:
    for y_true, end_id in _RATIO_CASES:
        vocab_size = end_id + 2
        expected = class_weights(y_true, end_id, vocab_size)
        got = call_learner(fn, y_true.copy(), end_id, vocab_size)
        if got is None:
            raise Mistake("your function returned None; did you forget a `return`?")
        if not isinstance(got, dict):
            raise Mistake(
                f"your function returned a {type(got).__name__}; return a dict "
                "`{class id: weight}`"
            )
        try:
            got = {int(k): as_number(v, name="a weight") for k, v in got.items()}
        except (TypeError, ValueError):
            raise Mistake("the keys must be integer class ids and the values numbers") from None
        if set(got) != set(expected):
            raise Mistake(
                "give a weight to every class id from 0 to `vocab_size - 1`, and no other key"
            )
        end = got[end_id]
        if end > 1 and close(end, 1.0 / expected[end_id]):
            raise Mistake(
                "your dict weights the end token up; it is the dominant class, so its weight is "
                "the small ratio (the other classes over the end token)"
            )
        if close(end, _ratio_per_sequence(y_true, end_id)):
            raise Mistake(
                "your end-token weight comes from ratios per sequence; count over all timesteps "
                "of all sequences"
            )
        if not close(end, expected[end_id]):
            raise Mistake(
                "the end token's weight should be the mean count of the other classes present "
                "over the end-token count"
            )
        others = [c for c in got if c != end_id]
        if not all(close(got[c], 1.0) for c in others):
            raise Mistake("every class other than the end token keeps weight 1.0")
    return "every class 1.0, the end token its small ratio."


# --------------------------------------------------------------------------- exercise 3


def timestep_sample_weight(y_true, class_weight):
    """(batch, time) float32: the weight of each target position's class; a class missing from
    `class_weight` gets 1.0 (as in Keras)."""
    y_true = np.asarray(y_true)
    weights = np.ones(y_true.shape, dtype="float32")
    for cls, weight in class_weight.items():
        weights[y_true == cls] = weight
    return weights


def _weights_per_sequence_row(y_true, class_weight):
    full = timestep_sample_weight(y_true, class_weight)
    return full.mean(axis=1)


def _weights_first_token(y_true, class_weight):
    y_true = np.asarray(y_true)
    return np.array([class_weight.get(int(row[0]), 1.0) for row in y_true], dtype="float32")


def _weights_missing_zero(y_true, class_weight):
    y_true = np.asarray(y_true)
    weights = np.zeros(y_true.shape, dtype="float32")
    for cls, weight in class_weight.items():
        weights[y_true == cls] = weight
    return weights


_SAMPLE_CASES = [
    (
        np.array([[1, 2, 5, 5, 5], [3, 5, 5, 5, 5]]),
        {0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0, 5: 0.25},
    ),
    (np.array([[4, 0, 8, 8], [2, 2, 2, 8], [8, 8, 8, 8]]), {0: 2.0, 2: 0.5, 8: 0.1}),
]


def _grade_sample_weight(fn) -> str:
    for y_true, class_weight in _SAMPLE_CASES:
        expected = timestep_sample_weight(y_true, class_weight)
        got = call_learner(fn, y_true.copy(), dict(class_weight))
        arr = as_array(got, name="your sample_weight", kind="number")
        if arr.shape == (y_true.shape[0],):
            raise Mistake(
                "you return one weight per sequence, shape (batch,); for sequence targets each "
                "timestep needs its own weight, shape (batch, time)"
            )
        arr = as_array(got, name="your sample_weight", shape=y_true.shape, kind="number")
        if close(arr, expected):
            continue
        if close(arr, _weights_missing_zero(y_true, class_weight)):
            raise Mistake(
                "classes missing from `class_weight` get weight 0 in your array; Keras gives "
                "them 1.0, so they keep counting"
            )
        raise Mistake(
            "some positions get the wrong weight: each position takes the weight of its own "
            "target class"
        )
    return "one weight per timestep, looked up from the target's class."


EXERCISES = [
    Exercise(
        lesson=LESSON,
        name="end_token_ratio",
        answer_name="end_token_ratio",
        title="The end-token ratio",
        grader=_grade_ratio,
        hints=[
            "Count every class over the whole `y_true` array, not row by row: "
            "`np.unique(y_true, return_counts=True)` gives the classes present and their counts.",
            "Average the counts of the classes other than `end_id`, then divide by the count of "
            "`end_id`. The result is small when end tokens dominate.",
            "`classes, counts = np.unique(y_true, return_counts=True)`, then "
            "`counts[classes != end_id].mean() / counts[classes == end_id].sum()`.",
        ],
        reference=end_token_ratio,
        legacy_wrong_answers=[
            WrongAnswer("inverted", _ratio_inverted, "upside down"),
            WrongAnswer("per sequence", _ratio_per_sequence, "per sequence"),
            WrongAnswer("absent classes counted", _ratio_with_absent_classes, "never occur"),
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="class_weights",
        answer_name="class_weights",
        title="A class-weight dict for the end token",
        grader=_grade_weights,
        hints=[
            "Every class id from 0 to `vocab_size - 1` gets a key; all weights are 1.0 but one.",
            "The end token is the class to weight *down*: its weight is the end-token ratio of "
            "exercise 1, counted over all timesteps.",
            "`weights = {c: 1.0 for c in range(vocab_size)}; weights[end_id] = "
            "end_token_ratio(y_true, end_id)`.",
        ],
        reference=class_weights,
        legacy_wrong_answers=[
            WrongAnswer("end token weighted up", _weights_inverted, "weights the end token up"),
            WrongAnswer("ratio per sequence", _weights_per_sequence, "ratios per sequence"),
            WrongAnswer("only the end token", _weights_end_only, "every class id"),
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="timestep_sample_weight",
        answer_name="timestep_sample_weight",
        title="A per-timestep sample_weight from a class-weight dict",
        grader=_grade_sample_weight,
        hints=[
            "The result has the shape of `y_true`, (batch, time): one weight per target "
            "position, not one per sequence.",
            "Start from ones (missing classes keep weight 1.0, as in Keras), then set the "
            "positions of each class in the dict to its weight.",
            "`w = np.ones(y_true.shape, 'float32')`; `for c, v in class_weight.items(): "
            "w[y_true == c] = v`.",
        ],
        reference=timestep_sample_weight,
        legacy_wrong_answers=[
            WrongAnswer("one weight per sequence", _weights_per_sequence_row, "per sequence"),
            WrongAnswer("first token's weight", _weights_first_token, "per sequence"),
            WrongAnswer("missing classes weigh 0", _weights_missing_zero, "missing from"),
        ],
    ),
]
