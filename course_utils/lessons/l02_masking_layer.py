"""Lesson 02: how `keras.layers.Masking` builds its mask, the loss `evaluate` reports, and the
pitfall of a real step that equals the mask value in every feature.

The graders compare the learner's answer with what each known misconception would give
("any feature" instead of "every feature", the mean over every step, a mask value of 0 assumed).
"""

from __future__ import annotations

import numpy as np

from ..checking import (
    Exercise,
    Mistake,
    WrongAnswer,
    as_array,
    as_number,
    call_learner,
    close,
)

LESSON = "02_masking_layer"
TITLE = "The Masking layer"
OBJECTIVES = [
    "predict the mask `keras.layers.Masking(mask_value)` computes (a step is masked only when "
    "EVERY feature equals `mask_value`) and read it with the public `compute_mask`;",
    "show that `model.evaluate` reports the loss averaged over the real timesteps only, on "
    "thread 000's model, in Keras 3 and in Keras 2 (`tf_keras`), and compute that number "
    "yourself;",
    "say where the loss gets its mask (it reads it off `y_pred` when called; `compile` does not "
    "call `compute_mask`) and predict what follows: a loss object vs a loss function in your own "
    "loop, a custom loss that returns one number, compiled metrics;",
    "tell the per-batch masked mean `evaluate` reports from the mean over a whole data set, and "
    "get the latter;",
    "spot a real timestep that `Masking` hides because it equals the mask value, and fix it "
    "with a mask value that cannot occur.",
]
PREREQUISITES = "Lesson 01 (padding, masks, the masked mean); building a small Keras model."
MINUTES = 40
EXERCISE_MINUTES = 25

# Installed source the lecture quotes (`source_excerpt`): dotted name -> a line it asserts.
# tests/test_lesson_02.py fails if one disappears or changes, before the notebook is run.
QUOTED_SOURCE = {
    "keras.src.layers.core.masking.Masking.compute_mask": (
        "return ops.any(ops.not_equal(inputs, self.mask_value), axis=-1)"
    ),
    "keras.src.backend.tensorflow.rnn._cudnn_lstm": "the cudnn kernel will fill zeros for",
    "keras.src.losses.loss.Loss.__call__": "in_mask = backend.get_keras_mask(y_pred)",
    "tf_keras.src.engine.compile_utils.LossesContainer.__call__": "losses_utils.get_mask(y_p)",
    "tf_keras.src.utils.losses_utils.get_mask": 'return getattr(y_p, "_keras_mask", None)',
    "keras.src.losses.loss.apply_mask": "mask_weight = ops.divide_no_nan(total, valid)",
}

# Binary cross-entropy as Keras computes it: predictions clipped to [EPSILON, 1 - EPSILON].
EPSILON = 1e-7


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


# --------------------------------------------------------------------------- 1. predict the mask


def predict_case():
    """The input of the 'predict the mask' exercise: `(x, mask_value)`, x `(2, 4, 3)`."""
    x = np.array(
        [
            [[1.0, 0.0, 2.0], [-1.0, -1.0, -1.0], [0.0, 0.0, 0.0], [-1.0, -1.0, -1.0]],
            [[-1.0, 0.0, -1.0], [-1.0, -1.0, -1.0], [-1.0, -1.0, -1.0], [3.0, -1.0, -1.0]],
        ],
        dtype="float32",
    )
    return x, -1.0


def _predicted_mask_reference():
    x, mask_value = predict_case()
    return masking_mask(x, mask_value).tolist()


_PREDICT_X, _PREDICT_MASK_VALUE = predict_case()
PREDICTED_MASK = _predicted_mask_reference()
# Wrong predictions, each from one misconception.
_ANY_FEATURE = (~np.any(_PREDICT_X == _PREDICT_MASK_VALUE, axis=-1)).tolist()
_ZERO_ASSUMED = masking_mask(_PREDICT_X, 0.0).tolist()
_ZERO_ALSO_PADDING = (
    masking_mask(_PREDICT_X, _PREDICT_MASK_VALUE) & masking_mask(_PREDICT_X, 0.0)
).tolist()
_INVERTED = (~np.asarray(PREDICTED_MASK)).tolist()
_AS_INTS = np.asarray(PREDICTED_MASK, dtype=int).tolist()


def _grade_predicted_mask(answer) -> str:
    if callable(answer):
        raise Mistake(
            "you passed a function; this exercise wants the mask itself, written as a nested "
            "list of True/False"
        )
    expected = np.asarray(PREDICTED_MASK)
    got = as_array(answer, name="your mask", shape=expected.shape)
    if got.dtype.kind != "b":
        raise Mistake("write the mask with True and False (a mask is boolean), not numbers")
    if np.array_equal(got, expected):
        return "that is exactly the mask `Masking` computes."
    diagnoses = [
        (
            _INVERTED,
            "your mask is inverted: True marks a step `Masking` keeps, False a step it masks",
        ),
        (
            _ANY_FEATURE,
            "you masked steps where ANY feature equals `mask_value`; `Masking` masks a step "
            "only when EVERY feature equals it",
        ),
        (
            _ZERO_ASSUMED,
            "you masked as if `mask_value` were zero; this layer's `mask_value` is printed "
            "above the exercise",
        ),
        (
            _ZERO_ALSO_PADDING,
            "you masked the all-zero step too; with this `mask_value` an all-zero step is an "
            "ordinary step",
        ),
    ]
    for wrong, message in diagnoses:
        if np.array_equal(got, np.asarray(wrong)):
            raise Mistake(message)
    wrong_steps = int(np.sum(got != expected))
    raise Mistake(
        f"{_count_words(wrong_steps)} wrong; for each step ask: does every feature equal "
        "`mask_value`?"
    )


def _count_words(n: int) -> str:
    words = {2: "two steps are", 3: "three steps are", 4: "four steps are"}
    return "one step is" if n == 1 else words.get(n, "several steps are")


# --------------------------------------------------------------------------- 2. evaluate_by_hand


def evaluate_by_hand(x, y_true, y_pred, mask_value=0.0):
    """The loss `evaluate` reports for `Masking(mask_value)` -> ... -> sigmoid outputs compiled
    with binary cross-entropy: the per-step loss averaged over the unmasked steps only."""
    mask = np.any(np.asarray(x) != mask_value, axis=-1)
    y_true = np.asarray(y_true, dtype="float64")
    p = np.clip(np.asarray(y_pred, dtype="float64"), 1e-7, 1 - 1e-7)
    losses = np.mean(-(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)), axis=-1)
    return float(np.sum(losses * mask) / np.sum(mask))


def _eval_unmasked(x, y_true, y_pred, mask_value=0.0):
    return float(np.mean(binary_crossentropy_steps(y_true, y_pred)))


def _eval_divides_by_all_steps(x, y_true, y_pred, mask_value=0.0):
    mask = masking_mask(x, mask_value)
    return float(np.mean(binary_crossentropy_steps(y_true, y_pred) * mask))


def _eval_any_feature(x, y_true, y_pred, mask_value=0.0):
    mask = ~np.any(np.asarray(x) == mask_value, axis=-1)
    losses = binary_crossentropy_steps(y_true, y_pred)
    return float(np.sum(losses * mask) / np.sum(mask))


def _eval_zero_assumed(x, y_true, y_pred, mask_value=0.0):
    return evaluate_by_hand(x, y_true, y_pred, 0.0)


def _eval_mae(x, y_true, y_pred, mask_value=0.0):
    mask = masking_mask(x, mask_value)
    losses = np.mean(np.abs(np.asarray(y_true) - np.asarray(y_pred)), axis=-1)
    return float(np.sum(losses * mask) / np.sum(mask))


def _eval_cases():
    from ..data import padded_feature_batch

    rng = np.random.default_rng(7)
    x, y_true, _ = padded_feature_batch([4, 2, 3], steps=5, features=2, seed=3)
    x[0, 1] = [0.0, 0.7]  # one zero feature: a real step, not masked
    first = (x, y_true, rng.uniform(0.05, 0.95, size=y_true.shape).astype("float32"), 0.0)
    x, y_true, mask = padded_feature_batch([3, 5], steps=5, features=2, seed=4)
    x[~mask] = -1.0  # padded with -1 ...
    x[1, 2] = 0.0  # ... so this real all-zero step stays unmasked
    x[0, 0] = [-1.0, 0.3]  # one feature equal to -1: not masked
    second = (x, y_true, rng.uniform(0.05, 0.95, size=y_true.shape).astype("float32"), -1.0)
    return [first, second]


def _grade_evaluate_by_hand(fn) -> str:
    for x, y_true, y_pred, mask_value in _eval_cases():
        expected = evaluate_by_hand(x, y_true, y_pred, mask_value)
        got = as_number(
            call_learner(fn, x.copy(), y_true.copy(), y_pred.copy(), mask_value=mask_value),
            name="what your function returned",
        )
        if close(got, expected):
            continue
        diagnoses = [
            (
                _eval_unmasked,
                "your loss averages over every step, padding included; `evaluate` leaves the "
                "masked steps out",
            ),
            (
                _eval_divides_by_all_steps,
                "your mean divides by all the steps; only the unmasked steps count, so divide "
                "by their number",
            ),
            (
                _eval_any_feature,
                "you masked steps where ANY feature equals `mask_value`; `Masking` masks a step "
                "only when EVERY feature equals it",
            ),
            (
                _eval_zero_assumed,
                "your mask compares with 0 whatever `mask_value` says",
            ),
            (
                _eval_mae,
                "your per-step loss is not the binary cross-entropy the model was compiled "
                "with: -(y log p + (1 - y) log(1 - p))",
            ),
        ]
        for wrong, message in diagnoses:
            if close(got, wrong(x, y_true, y_pred, mask_value)):
                raise Mistake(message)
        raise Mistake(
            "your number differs from what `evaluate` reports; compute the per-step losses "
            "and the mask separately and compare them with the lecture's"
        )
    return "your number is the one `evaluate` reports: the loss over the unmasked steps."


# --------------------------------------------------------------------------- 3. wrongly_masked


def wrongly_masked(x, lengths, mask_value=0.0):
    """Bool `(batch, time)`: True on real steps (t < length, post-padded) that
    `Masking(mask_value)` masks anyway because every feature equals `mask_value`."""
    x = np.asarray(x)
    real = np.arange(x.shape[1])[None, :] < np.asarray(lengths)[:, None]
    return real & np.all(x == mask_value, axis=-1)


def _flags_all_masked(x, lengths, mask_value=0.0):
    return np.all(np.asarray(x) == mask_value, axis=-1)


def _returns_masking_mask(x, lengths, mask_value=0.0):
    return masking_mask(x, mask_value)


def _flags_any_feature(x, lengths, mask_value=0.0):
    x = np.asarray(x)
    real = np.arange(x.shape[1])[None, :] < np.asarray(lengths)[:, None]
    return real & np.any(x == mask_value, axis=-1)


def _flags_zero_steps(x, lengths, mask_value=0.0):
    return wrongly_masked(x, lengths, 0.0)


def _flags_as_ints(x, lengths, mask_value=0.0):
    return wrongly_masked(x, lengths, mask_value).astype("int64")


def _wrongly_masked_cases():
    from ..data import padded_feature_batch

    x, _, _ = padded_feature_batch([5, 3, 4], steps=6, features=2, seed=5)
    x[0, 2] = 0.0  # a real reading of all zeros
    x[2, 0] = 0.0
    x[1, 1] = [0.0, 0.4]  # one zero feature: not masked
    first = (x, np.array([5, 3, 4]), 0.0)
    x, _, mask = padded_feature_batch([4, 2], steps=5, features=2, seed=6)
    x[~mask] = -1.0
    x[0, 1] = -1.0  # a real step equal to -1 everywhere
    x[0, 3] = 0.0  # all zero, harmless with mask_value -1
    x[1, 0] = [-1.0, 0.5]
    second = (x, np.array([4, 2]), -1.0)
    return [first, second]


def _grade_wrongly_masked(fn) -> str:
    for x, lengths, mask_value in _wrongly_masked_cases():
        expected = wrongly_masked(x, lengths, mask_value)
        got = call_learner(fn, x.copy(), lengths.copy(), mask_value=mask_value)
        got = as_array(got, name="your answer", shape=expected.shape)
        if got.dtype.kind != "b":
            raise Mistake(
                f"your answer holds {got.dtype} numbers; return a boolean array (True = a real "
                "step that `Masking` hides)"
            )
        if np.array_equal(got, expected):
            continue
        diagnoses = [
            (
                _flags_all_masked,
                "you also flagged the padding; padding is meant to be masked, only real steps "
                "(t < length) that get masked are a problem",
            ),
            (
                _returns_masking_mask,
                "that is `Masking`'s own mask (True = kept); flag the real steps it hides",
            ),
            (
                _flags_any_feature,
                "you flagged steps where ANY feature equals `mask_value`; `Masking` hides a "
                "step only when EVERY feature equals it",
            ),
            (_flags_zero_steps, "you compared with 0 whatever `mask_value` says"),
        ]
        for wrong, message in diagnoses:
            if np.array_equal(got, wrong(x, lengths, mask_value)):
                raise Mistake(message)
        raise Mistake(
            "some steps are wrong; a step is flagged when it is real (t < length) AND every "
            "feature equals `mask_value`"
        )
    return "you found the real steps `Masking` hides; a mask value that cannot occur avoids them."


EXERCISES = [
    Exercise(
        lesson=LESSON,
        name="predicted_mask",
        answer_name="predicted_mask",
        title="Predict the mask Masking computes",
        grader=_grade_predicted_mask,
        hints=[
            "`Masking` looks at one step at a time and masks it (False) only when every one of "
            "its features equals `mask_value`. Look at the printed `mask_value` first.",
            "A step with one feature equal to `mask_value` is kept. An all-zero step is kept "
            "unless `mask_value` is 0.",
            "Go step by step: `np.all(step == mask_value)` means False in the mask, anything "
            "else means True.",
        ],
        reference=PREDICTED_MASK,
        solution_code=f"predicted_mask = {PREDICTED_MASK!r}",
        legacy_wrong_answers=[
            WrongAnswer("inverted", _INVERTED, "inverted"),
            WrongAnswer("any feature", _ANY_FEATURE, "EVERY feature"),
            WrongAnswer("mask_value taken as 0", _ZERO_ASSUMED, "as if `mask_value` were zero"),
            WrongAnswer("all-zero step masked too", _ZERO_ALSO_PADDING, "all-zero step too"),
            WrongAnswer("numbers, not booleans", _AS_INTS, "True and False"),
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="evaluate_by_hand",
        answer_name="evaluate_by_hand",
        title="Compute the loss evaluate reports",
        grader=_grade_evaluate_by_hand,
        hints=[
            "Two parts: the mask (which steps `Masking(mask_value)` keeps) and the per-step "
            "binary cross-entropy. Then average the losses over the kept steps only.",
            "mask = `np.any(x != mask_value, axis=-1)`; per-step loss = "
            "`-(y log p + (1 - y) log(1 - p))` averaged over the last axis (clip p to "
            "[1e-7, 1 - 1e-7] like Keras).",
            "`return float(np.sum(losses * mask) / np.sum(mask))`",
        ],
        reference=evaluate_by_hand,
        legacy_wrong_answers=[
            WrongAnswer("unmasked mean", _eval_unmasked, "padding included"),
            WrongAnswer("divides by all steps", _eval_divides_by_all_steps, "divides by all"),
            WrongAnswer("any feature", _eval_any_feature, "EVERY feature"),
            WrongAnswer("mask_value taken as 0", _eval_zero_assumed, "whatever `mask_value`"),
            WrongAnswer("mean absolute error", _eval_mae, "not the binary cross-entropy"),
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="wrongly_masked",
        answer_name="wrongly_masked",
        title="Find the real steps Masking hides",
        grader=_grade_wrongly_masked,
        hints=[
            "A step is a problem when two things hold: it is real (its index is below the "
            "row's length) and `Masking` masks it (every feature equals `mask_value`).",
            "Real steps: `np.arange(time)[None, :] < lengths[:, None]`. Masked steps: "
            "`np.all(x == mask_value, axis=-1)`. Combine them with `&`.",
            "`return real & np.all(np.asarray(x) == mask_value, axis=-1)`",
        ],
        reference=wrongly_masked,
        legacy_wrong_answers=[
            WrongAnswer("padding flagged too", _flags_all_masked, "also flagged the padding"),
            WrongAnswer("Masking's mask", _returns_masking_mask, "own mask"),
            WrongAnswer("any feature", _flags_any_feature, "EVERY feature"),
            WrongAnswer("mask_value taken as 0", _flags_zero_steps, "whatever `mask_value`"),
            WrongAnswer("int flags", _flags_as_ints, "boolean array"),
        ],
    ),
]
