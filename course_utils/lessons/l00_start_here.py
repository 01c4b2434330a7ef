"""Lesson 00: a warm-up exercise that shows check, hint, solution and progress.

The exercise is data (see AUTHORING.md): cases, the default probe (call the answer, observe what
it returns) and named misconceptions. The answers live in `course_utils.answers.l00_start_here`.
"""

from __future__ import annotations

import numpy as np

from ..checking import Exercise
from ..judging import Misconception
from ..probing import Case

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


def _cases(rng: np.random.Generator) -> list[Case]:
    """Post- and pre-padding, an empty row, a pad_id that is not 0, and two generated batches
    (random lengths, side and pad_id) drawn from the seed."""
    fixed = [
        Case(
            (np.array([[5, 3, 8, 0, 0], [7, 0, 0, 0, 0], [1, 2, 3, 4, 6]]), 0), note="post-padding"
        ),
        Case(
            (np.array([[0, 0, 4, 9], [0, 2, 2, 7], [0, 0, 0, 0]]), 0),
            note="pre-padding and an all-padding row",
        ),
        Case(
            (np.array([[3, 1, 1, 9, 9, 9], [9, 9, 9, 9, 9, 9], [4, 4, 4, 4, 4, 2]]), 9),
            note="a `pad_id` that is not 0",
        ),
    ]
    generated = []
    for side in ("post", "pre"):
        pad_id = int(rng.integers(0, 4))
        rows, steps = int(rng.integers(2, 6)), int(rng.integers(3, 9))
        lengths = rng.integers(0, steps + 1, size=rows)
        batch = np.full((rows, steps), pad_id)
        for r, n in enumerate(lengths):
            tokens = rng.choice([t for t in range(1, 20) if t != pad_id], size=n)
            if side == "post":
                batch[r, :n] = tokens
            else:
                batch[r, steps - n :] = tokens
        generated.append(Case((batch, pad_id), note=f"a {side}-padded batch"))
    return fixed + generated


EXERCISES = [
    Exercise(
        lesson=LESSON,
        name="count_real_tokens",
        answer_name="count_real_tokens",
        title="Count the real tokens in each padded row",
        cases=_cases,
        reference="count_real_tokens",
        alternatives=["count_with_a_loop", "count_by_subtracting_padding"],
        misconceptions=[
            Misconception(
                "one total",
                "one_total",
                "you returned one number for the whole batch; count the real tokens of each "
                "row separately (hint: `axis=1`)",
            ),
            Misconception(
                "counts padding",
                "counts_padding",
                "you counted the padding positions, not the real tokens",
            ),
            Misconception(
                "ignores pad_id",
                "ignores_pad_id",
                "your function treats 0 as padding even when `pad_id` says otherwise; compare "
                "against `pad_id`",
            ),
            Misconception(
                "row length",
                "row_length",
                "every row got its full length; padding must not be counted",
            ),
            Misconception(
                "stops at the first padding token",
                "trailing_padding_only",
                "you stop counting at the first padding token, which is right only when padding "
                "comes after the tokens; a pre-padded row starts with padding",
            ),
        ],
        judge={
            "what": "what your function returned",
            "success": "you count real tokens per row, whatever the padding side or `pad_id`.",
            "fallback": "some rows get the wrong count",
        },
        hints=[
            "A token is real when it is not equal to `pad_id`; that comparison gives a boolean array.",
            "Booleans sum as 0 and 1. Sum along the time axis so each row gets its own count.",
            "`np.sum(np.asarray(batch) != pad_id, axis=1)` is one line that does it.",
        ],
    )
]
