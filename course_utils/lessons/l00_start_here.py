"""Lesson 00: a warm-up exercise that shows check, hint, solution and progress."""

from __future__ import annotations

import numpy as np

from ..checking import Exercise, Mistake, WrongAnswer, as_array, call_learner

LESSON = "00_start_here"
TITLE = "Start here"
OBJECTIVES = [
    "find your way around the course: lectures, exercises, solutions;",
    "confirm that your environment is the one the course is tested on;",
    "use a graded check: `check()`, `hint()`, `solution()`, and see your `progress()`.",
]
PREREQUISITES = "Python and NumPy basics. No Keras knowledge yet."
MINUTES = 10
EXERCISE_MINUTES = 5

# (batch of token ids, pad_id): post- and pre-padding, an empty row, and a pad_id that is not 0.
_CASES = [
    (np.array([[5, 3, 8, 0, 0], [7, 0, 0, 0, 0], [1, 2, 3, 4, 6]]), 0),
    (np.array([[0, 0, 4, 9], [0, 2, 2, 7], [0, 0, 0, 0]]), 0),
    (np.array([[3, 1, 1, 9, 9, 9], [9, 9, 9, 9, 9, 9], [4, 4, 4, 4, 4, 2]]), 9),
]


def count_real_tokens(batch, pad_id=0):
    """How many real (non-padding) tokens each row of `batch` holds: shape (batch,)."""
    return np.sum(np.asarray(batch) != pad_id, axis=1)


def _counts_padding(batch, pad_id=0):
    return np.sum(np.asarray(batch) == pad_id, axis=1)


def _ignores_pad_id(batch, pad_id=0):
    return np.sum(np.asarray(batch) != 0, axis=1)


def _total_not_per_row(batch, pad_id=0):
    return int(np.sum(np.asarray(batch) != pad_id))


def _row_length(batch, pad_id=0):
    return np.full(len(batch), np.asarray(batch).shape[1])


def _grade(fn) -> str:
    for batch, pad_id in _CASES:
        expected = count_real_tokens(batch, pad_id)
        got = call_learner(fn, batch.copy(), pad_id=pad_id)
        if np.ndim(got) == 0 and got is not None and got is not Ellipsis:
            raise Mistake(
                "you returned one number for the whole batch; count the real tokens of each "
                "row separately (hint: `axis=1`)"
            )
        got = as_array(got, name="what your function returned", shape=(len(batch),), kind="number")
        if np.array_equal(got, expected):
            continue
        steps = batch.shape[1]
        if np.array_equal(got, steps - expected):
            raise Mistake("you counted the padding positions, not the real tokens")
        if pad_id != 0 and np.array_equal(got, np.sum(batch != 0, axis=1)):
            raise Mistake(
                "your function treats 0 as padding even when `pad_id` says otherwise; "
                "compare against `pad_id`"
            )
        if np.all(got == steps):
            raise Mistake("every row got its full length; padding must not be counted")
        raise Mistake(
            "some rows get the wrong count; check rows that are padded at the front, "
            "and a row that is all padding"
        )
    return "you count real tokens per row, whatever the padding side or `pad_id`."


EXERCISES = [
    Exercise(
        lesson=LESSON,
        name="count_real_tokens",
        answer_name="count_real_tokens",
        title="Count the real tokens in each padded row",
        grader=_grade,
        hints=[
            "A token is real when it is not equal to `pad_id`; that comparison gives a boolean array.",
            "Booleans sum as 0 and 1. Sum along the time axis so each row gets its own count.",
            "`np.sum(np.asarray(batch) != pad_id, axis=1)` is one line that does it.",
        ],
        reference=count_real_tokens,
        wrong_answers=[
            WrongAnswer("counts padding", _counts_padding, "counted the padding"),
            WrongAnswer("ignores pad_id", _ignores_pad_id, "treats 0 as padding"),
            WrongAnswer("one total", _total_not_per_row, "one number for the whole batch"),
            WrongAnswer("row length", _row_length, "full length"),
        ],
    )
]
