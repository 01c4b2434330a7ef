"""Lesson 06, fix 2: weight the end token down with a per-timestep `sample_weight`.

The exercises are data (see AUTHORING.md): cases, the default probe (call the answer, observe
what it returns) and named misconceptions. The answers live in
`course_utils.answers.l06_fix_class_weighting`.
"""

from __future__ import annotations

import numpy as np

from ..checking import Exercise
from ..judging import Misconception
from ..probing import Case

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

# Every row holds at least one other class and one end token; some ids below end_id are missing.
_NAIVE_TARGETS = [
    (np.array([[1, 1, 2, 7, 7, 7, 7, 7], [3, 7, 7, 7, 7, 7, 7, 7]]), 7),
    (np.array([[0, 4, 4, 4, 9, 9], [2, 9, 9, 9, 9, 9], [4, 0, 9, 9, 9, 9]]), 9),
    (np.array([[5, 6, 5, 6, 5, 12, 12, 12], [8, 12, 12, 12, 12, 12, 12, 12]]), 12),
]


def _naive_targets(rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Targets padded the naive way (with the end token, the largest id), drawn from a few of the
    ids below it, so that some ids never occur."""
    end_id = int(rng.integers(4, 20))
    symbols = rng.choice(end_id, size=int(rng.integers(2, end_id)), replace=False)
    rows, steps = int(rng.integers(2, 6)), int(rng.integers(3, 10))
    y = np.full((rows, steps), end_id)
    for r in range(rows):
        n = int(rng.integers(1, steps))
        y[r, :n] = rng.choice(symbols, size=n)
    return y, end_id


def _ratio_cases(rng: np.random.Generator) -> list[Case]:
    fixed = [Case((y, end_id), note="naive targets") for y, end_id in _NAIVE_TARGETS]
    return fixed + [Case(_naive_targets(rng), note="generated naive targets") for _ in range(2)]


def _weight_cases(rng: np.random.Generator) -> list[Case]:
    """The same targets; the vocabulary reaches past the end token, so some ids never occur."""
    fixed = [Case((y, end_id, end_id + 2), note="naive targets") for y, end_id in _NAIVE_TARGETS]
    generated = []
    for _ in range(2):
        y, end_id = _naive_targets(rng)
        vocab_size = end_id + 1 + int(rng.integers(1, 4))
        generated.append(Case((y, end_id, vocab_size), note="generated naive targets"))
    return fixed + generated


def _sample_weight_cases(rng: np.random.Generator) -> list[Case]:
    """A dict for every class; a dict that leaves classes out; a dict with a class that never
    occurs in `y_true` (and a class missing from it); two generated ones."""
    fixed = [
        Case(
            (
                np.array([[1, 2, 5, 5, 5], [3, 5, 5, 5, 5]]),
                {0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0, 5: 0.25},
            ),
            note="a dict for every class",
        ),
        Case(
            (np.array([[4, 0, 8, 8], [2, 2, 2, 8], [8, 8, 8, 8]]), {0: 2.0, 2: 0.5, 8: 0.1}),
            note="a dict that leaves classes out",
        ),
        Case(
            (np.array([[2, 3, 6, 6], [3, 3, 2, 6]]), {2: 0.5, 4: 3.0, 6: 0.2}),
            note="a class of the dict that never occurs in `y_true`",
        ),
    ]
    generated = []
    for _ in range(2):
        classes = int(rng.integers(4, 12))
        y = rng.integers(0, classes, size=(int(rng.integers(2, 6)), int(rng.integers(3, 9))))
        present = np.unique(y)
        keys = [c for c in range(classes + 2) if c != present[0] and rng.random() < 0.7]
        weights = {int(c): float(np.round(rng.uniform(0.1, 3.0), 2)) for c in keys}
        generated.append(Case((y, weights), note="a generated batch"))
    return fixed + generated


_SUM_TO_ONE = (
    "your weights are normalised to sum to 1: the end token's weight relative to the others is "
    "right, but Keras does not normalise sample weights (it divides the weighted loss by the "
    "number of steps) and gives a class missing from the dict 1.0, so 1.0 must mean "
    "'as much as an unweighted step'; keep 1.0 for every class but the end token"
)

EXERCISES = [
    Exercise(
        lesson=LESSON,
        name="end_token_ratio",
        answer_name="end_token_ratio",
        title="The end-token ratio",
        cases=_ratio_cases,
        reference="end_token_ratio",
        alternatives=["ratio_with_bincount", "ratio_with_counter"],
        misconceptions=[
            Misconception(
                "inverted",
                "ratio_inverted",
                "your ratio is upside down: the end-token count goes in the denominator, so the "
                "ratio is small when end tokens dominate",
            ),
            Misconception(
                "per sequence",
                "ratio_per_sequence",
                "you computed a ratio per sequence and averaged them; count the classes over "
                "all timesteps of all sequences at once",
            ),
            Misconception(
                "absent classes counted",
                "ratio_with_absent_classes",
                "your mean includes classes that never occur in `y_true` (a count of 0, as "
                "`np.bincount` gives for missing ids); average over the classes present",
            ),
        ],
        judge={
            "what": "your ratio",
            "success": "counted over all timesteps, classes present only: the end token's weight.",
            "fallback": "the ratio is off: count each class over all timesteps, average the "
            "counts of the classes other than `end_id`, divide by the count of `end_id`",
        },
        hints=[
            "Count every class over the whole `y_true` array, not row by row: "
            "`np.unique(y_true, return_counts=True)` gives the classes present and their counts.",
            "Average the counts of the classes other than `end_id`, then divide by the count of "
            "`end_id`. The result is small when end tokens dominate.",
            "`classes, counts = np.unique(y_true, return_counts=True)`, then "
            "`counts[classes != end_id].mean() / counts[classes == end_id].sum()`.",
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="class_weights",
        answer_name="class_weights",
        title="A class-weight dict for the end token",
        cases=_weight_cases,
        reference="class_weights",
        alternatives=["weights_from_the_ratio", "weights_with_a_comprehension"],
        misconceptions=[
            Misconception(
                "end token weighted up",
                "weights_inverted",
                "your dict weights the end token up; it is the dominant class, so its weight is "
                "the small ratio (the other classes over the end token)",
            ),
            Misconception(
                "ratio per sequence",
                "weights_per_sequence",
                "your end-token weight comes from ratios per sequence; count over all timesteps "
                "of all sequences",
            ),
            Misconception(
                "only the end token",
                "weights_end_only",
                "give a weight to every class id from 0 to `vocab_size - 1`, and no other key",
            ),
            Misconception(
                "sklearn balanced weights",
                "weights_balanced",
                "you computed sklearn-style 'balanced' weights, n_samples / (n_classes * "
                "count): a scheme of its own that moves every class's weight (rare symbols up, "
                "frequent ones down); this lesson measures the thread's weighting, which keeps "
                "every other class at 1.0 and weights only the end token down by the end-token "
                "ratio",
            ),
            Misconception(
                "balanced weights over the vocabulary",
                "weights_balanced_over_the_vocabulary",
                "you computed 'balanced' weights, n_samples / (n_classes * count), over every "
                "id of the vocabulary: an id that never occurs in `y_true` has count 0, so its "
                "weight divides by zero; and the thread's weighting keeps every class but the "
                "end token at 1.0",
            ),
            Misconception("weights summing to 1", "weights_summing_to_one", _SUM_TO_ONE),
        ],
        judge={
            "what": "your dict",
            "success": "every class 1.0, the end token its small ratio.",
            "fallback": "some weights are off: every class keeps 1.0, and the end token gets the "
            "mean count of the other classes present over the end-token count",
        },
        hints=[
            "Every class id from 0 to `vocab_size - 1` gets a key; all weights are 1.0 but one.",
            "The end token is the class to weight *down*: its weight is the end-token ratio of "
            "exercise 1, counted over all timesteps.",
            "`weights = {c: 1.0 for c in range(vocab_size)}; weights[end_id] = "
            "end_token_ratio(y_true, end_id)`.",
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="timestep_sample_weight",
        answer_name="timestep_sample_weight",
        title="A per-timestep sample_weight from a class-weight dict",
        cases=_sample_weight_cases,
        reference="timestep_sample_weight",
        alternatives=["sample_weight_by_lookup", "sample_weight_with_get"],
        misconceptions=[
            Misconception(
                "one weight per sequence",
                "sample_weight_per_sequence_row",
                "you return one weight per sequence, shape (batch,); for sequence targets each "
                "timestep needs its own weight, shape (batch, time)",
            ),
            Misconception(
                "first token's weight",
                "sample_weight_first_token",
                "you return the weight of each sequence's first target, shape (batch,): one class "
                "per sequence, the assumption that makes `fit(class_weight=...)` fail for "
                "sequence targets; each timestep needs the weight of its own target, shape "
                "(batch, time)",
            ),
            Misconception(
                "missing classes weigh 0",
                "sample_weight_missing_zero",
                "classes missing from `class_weight` get weight 0 in your array; Keras gives "
                "them 1.0, so they keep counting",
            ),
            Misconception(
                "missing classes give NaN",
                "sample_weight_missing_nan",
                "classes missing from `class_weight` come out as NaN in your array "
                "(`class_weight.get(c)` without a default gives None); Keras gives them 1.0: "
                "`class_weight.get(c, 1.0)`",
            ),
            Misconception(
                "divided by the class count",
                "sample_weight_divided_by_count",
                "you divided each class's weight by how often the class occurs in `y_true`; "
                "the dict already holds the weight of one position (Keras multiplies each "
                "step's loss by it), and a class of the dict that never occurs would divide "
                "by a zero count; look the weight up as it is",
            ),
        ],
        judge={
            "what": "your sample_weight",
            "success": "one weight per timestep, looked up from the target's class.",
            "fallback": "some positions get the wrong weight: each position takes the weight "
            "of its own target class",
        },
        hints=[
            "The result has the shape of `y_true`, (batch, time): one weight per target "
            "position, not one per sequence.",
            "Start from ones (missing classes keep weight 1.0, as in Keras), then set the "
            "positions of each class in the dict to its weight.",
            "`w = np.ones(y_true.shape, 'float32')`; `for c, v in class_weight.items(): "
            "w[y_true == c] = v`.",
        ],
    ),
]
