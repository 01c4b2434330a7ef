"""Lesson 02: how `keras.layers.Masking` builds its mask, the loss `evaluate` reports, and the
pitfall of a real step that equals the mask value in every feature.

The exercises are data (see AUTHORING.md): cases (fixed edge cases plus batches drawn from a
seed), a probe, and named misconceptions ("any feature" instead of "every feature", the mean over
every step or per sequence, a mask value of 0 assumed). The answers live in
`course_utils.answers.l02_masking_layer`.
"""

from __future__ import annotations

import numpy as np

from ..checking import Exercise
from ..judging import VALUE, Misconception, Observation
from ..probing import Case, given

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


_STEP_WORDS = {1: "one step is", 2: "two steps are", 3: "three steps are", 4: "four steps are"}


def _predicted_mask_rule(learner: list[Observation], reference: list[Observation]) -> str | None:
    """Sentences for a prediction: a function instead of a value, something that is not a
    nested list, or how many steps are wrong (never which, nor their values)."""
    mine, theirs = learner[0], reference[0]
    if mine.get("type") == "function":
        return (
            "you passed a function; this exercise wants the mask itself, written as a nested "
            "list of True/False"
        )
    if mine.get("outcome") != VALUE or mine.get("shape") is None:
        return "write the mask as a nested list of True/False, one row per sequence"
    if mine.get("shape") == theirs.get("shape") and mine.get("kind") == "b":
        wrong = int(np.sum(np.asarray(mine["value"]) != np.asarray(theirs["value"])))
        return (
            f"{_STEP_WORDS.get(wrong, 'several steps are')} wrong; for each step ask: does "
            "every feature equal `mask_value`?"
        )
    return None


# --------------------------------------------------------------------------- 2. evaluate_by_hand


def eval_cases(rng: np.random.Generator | None = None) -> list[Case]:
    """Two fixed batches (padded with 0, then with -1 beside a real all-zero step and a step
    with one feature equal to -1), then two drawn from the seed."""
    from ..data import padded_feature_batch

    fixed_rng = np.random.default_rng(7)
    x, y_true, _ = padded_feature_batch([4, 2, 3], steps=5, features=2, seed=3)
    x[0, 1] = [0.0, 0.7]  # one zero feature: a real step, not masked
    first = (x, y_true, fixed_rng.uniform(0.05, 0.95, size=y_true.shape).astype("float32"), 0.0)
    x, y_true, mask = padded_feature_batch([3, 5], steps=5, features=2, seed=4)
    x[~mask] = -1.0  # padded with -1 ...
    x[1, 2] = 0.0  # ... so this real all-zero step stays unmasked
    x[0, 0] = [-1.0, 0.3]  # one feature equal to -1: not masked
    second = (x, y_true, fixed_rng.uniform(0.05, 0.95, size=y_true.shape).astype("float32"), -1.0)
    batches = [first, second]
    for _ in range(2 if rng is not None else 0):
        batches.append(_drawn_feature_batch(rng, labels=True))
    return [
        Case(
            (x, y_true, y_pred),
            {"mask_value": mask_value},
            note=f"a batch padded with {mask_value:g}",
        )
        for x, y_true, y_pred, mask_value in batches
    ]


def _drawn_feature_batch(rng: np.random.Generator, *, labels: bool):
    """A post-padded batch drawn from the seed, padded with 0 or -1; a real step has one
    feature equal to the mask value, and with -1 another real step is all zero."""
    from ..data import padded_feature_batch

    rows, steps = int(rng.integers(2, 5)), int(rng.integers(4, 7))
    lengths = rng.integers(2, steps + 1, size=rows)
    lengths[:2] = [steps, int(rng.integers(2, steps))]
    mask_value = float(rng.choice([0.0, -1.0]))
    x, y_true, mask = padded_feature_batch(lengths, steps, features=2, seed=int(rng.integers(1000)))
    x[~mask] = mask_value
    x[0, 0, 0] = mask_value
    if mask_value != 0.0:
        x[1, 1] = 0.0
    if labels:
        return x, y_true, rng.uniform(0.05, 0.95, size=y_true.shape).astype("float32"), mask_value
    return x, lengths, mask_value


# --------------------------------------------------------------------------- 3. wrongly_masked


def wrongly_masked_cases(rng: np.random.Generator | None = None) -> list[Case]:
    """Two fixed batches with real steps equal to the mask value in every feature, then two
    drawn from the seed with one such step each."""
    from ..data import padded_feature_batch

    x, _, _ = padded_feature_batch([5, 3, 4], steps=6, features=2, seed=5)
    x[0, 2] = 0.0  # a real reading of all zeros
    x[2, 0] = 0.0
    x[1, 1] = [0.0, 0.4]  # one zero feature: not masked
    batches = [(x, np.array([5, 3, 4]), 0.0)]
    x, _, mask = padded_feature_batch([4, 2], steps=5, features=2, seed=6)
    x[~mask] = -1.0
    x[0, 1] = -1.0  # a real step equal to -1 everywhere
    x[0, 3] = 0.0  # all zero, harmless with mask_value -1
    x[1, 0] = [-1.0, 0.5]
    batches.append((x, np.array([4, 2]), -1.0))
    for _ in range(2 if rng is not None else 0):
        x, lengths, mask_value = _drawn_feature_batch(rng, labels=False)
        x[-1, int(rng.integers(0, lengths[-1]))] = mask_value  # a real step Masking hides
        batches.append((x, lengths, mask_value))
    return [
        Case((x, lengths), {"mask_value": mask_value}, note=f"a batch padded with {mask_value:g}")
        for x, lengths, mask_value in batches
    ]


_ANY_FEATURE = (
    "you masked steps where ANY feature equals `mask_value`; `Masking` masks a step only when "
    "EVERY feature equals it"
)

EXERCISES = [
    Exercise(
        lesson=LESSON,
        name="predicted_mask",
        answer_name="predicted_mask",
        title="Predict the mask Masking computes",
        cases=[Case(note="the printed batch")],
        probe=given(),
        reference="PREDICTED_MASK",
        alternatives=["PREDICTED_MASK_AS_ARRAY"],
        misconceptions=[
            Misconception(
                "inverted",
                "INVERTED",
                "your mask is inverted: True marks a step `Masking` keeps, False a step it masks",
            ),
            Misconception("any feature", "ANY_FEATURE", _ANY_FEATURE),
            Misconception(
                "mask_value taken as 0",
                "ZERO_ASSUMED",
                "you masked as if `mask_value` were zero; this layer's `mask_value` is printed "
                "above the exercise",
            ),
            Misconception(
                "all-zero step masked too",
                "ZERO_ALSO_PADDING",
                "you masked the all-zero step too; with this `mask_value` an all-zero step is an "
                "ordinary step",
            ),
            Misconception(
                "numbers, not booleans",
                "AS_INTS",
                "write the mask with True and False (a mask is boolean), not numbers",
            ),
        ],
        judge={
            "what": "your mask",
            "success": "that is exactly the mask `Masking` computes.",
            "custom": _predicted_mask_rule,
            "tolerance": {"strict_kind": True},
        },
        hints=[
            "`Masking` looks at one step at a time and masks it (False) only when every one of "
            "its features equals `mask_value`. Look at the printed `mask_value` first.",
            "A step with one feature equal to `mask_value` is kept. An all-zero step is kept "
            "unless `mask_value` is 0.",
            "Go step by step: `np.all(step == mask_value)` means False in the mask, anything "
            "else means True.",
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="evaluate_by_hand",
        answer_name="evaluate_by_hand",
        title="Compute the loss evaluate reports",
        cases=eval_cases,
        reference="evaluate_by_hand",
        alternatives=["evaluate_by_selecting_kept_steps", "evaluate_with_loops"],
        misconceptions=[
            Misconception(
                "unmasked mean",
                "eval_unmasked",
                "your loss averages over every step, padding included; `evaluate` leaves the "
                "masked steps out",
            ),
            Misconception(
                "divides by all steps",
                "eval_divides_by_all_steps",
                "your mean divides by the number of steps, padding included; `evaluate` divides "
                "by the number of unmasked steps only",
            ),
            Misconception(
                "divides by the batch size",
                "eval_divides_by_batch_size",
                "your mean divides by the batch size (the number of sequences); `evaluate` "
                "divides by the number of unmasked steps in the whole batch",
            ),
            Misconception(
                "mean of row means",
                "eval_mean_of_row_means",
                "you averaged each sequence first, so a short sequence's steps weigh more; "
                "`evaluate` weighs every unmasked step of the batch equally",
            ),
            Misconception("any feature", "eval_any_feature", _ANY_FEATURE),
            Misconception(
                "mask_value taken as 0",
                "eval_zero_assumed",
                "your mask compares with 0 whatever `mask_value` says",
            ),
            Misconception(
                "mean absolute error",
                "eval_mae",
                "your per-step loss is not the binary cross-entropy the model was compiled "
                "with: -(y log p + (1 - y) log(1 - p))",
            ),
        ],
        judge={
            "what": "what your function returned",
            "success": "your number is the one `evaluate` reports: the loss over the unmasked "
            "steps.",
            "fallback": "your number differs from what `evaluate` reports; compute the per-step "
            "losses and the mask separately and compare them with the lecture's",
        },
        hints=[
            "Two parts: the mask (which steps `Masking(mask_value)` keeps) and the per-step "
            "binary cross-entropy. Then average the losses over the kept steps only.",
            "mask = `np.any(x != mask_value, axis=-1)`; per-step loss = "
            "`-(y log p + (1 - y) log(1 - p))` averaged over the last axis (clip p to "
            "[1e-7, 1 - 1e-7] like Keras).",
            "`return float(np.sum(losses * mask) / np.sum(mask))`",
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="wrongly_masked",
        answer_name="wrongly_masked",
        title="Find the real steps Masking hides",
        cases=wrongly_masked_cases,
        reference="wrongly_masked",
        alternatives=["real_and_not_kept", "flag_with_loops"],
        misconceptions=[
            Misconception(
                "padding flagged too",
                "flags_all_masked",
                "you also flagged the padding; padding is meant to be masked, only real steps "
                "(t < length) that get masked are a problem",
            ),
            Misconception(
                "Masking's mask",
                "returns_masking_mask",
                "that is `Masking`'s own mask (True = kept); flag the real steps it hides",
            ),
            Misconception(
                "any feature",
                "flags_any_feature",
                "you flagged steps where ANY feature equals `mask_value`; `Masking` hides a "
                "step only when EVERY feature equals it",
            ),
            Misconception(
                "mask_value taken as 0",
                "flags_zero_steps",
                "you compared with 0 whatever `mask_value` says",
            ),
            Misconception(
                "int flags",
                "flags_as_ints",
                "your answer holds numbers; return a boolean array (True = a real step that "
                "`Masking` hides)",
            ),
        ],
        judge={
            "what": "your answer",
            "success": "you found the real steps `Masking` hides; a mask value that cannot "
            "occur avoids them.",
            "fallback": "some steps are wrong; a step is flagged when it is real (t < length) "
            "AND every feature equals `mask_value`",
        },
        hints=[
            "A step is a problem when two things hold: it is real (its index is below the "
            "row's length) and `Masking` masks it (every feature equals `mask_value`).",
            "Real steps: `np.arange(time)[None, :] < lengths[:, None]`. Masked steps: "
            "`np.all(x == mask_value, axis=-1)`. Combine them with `&`.",
            "`return real & np.all(np.asarray(x) == mask_value, axis=-1)`",
        ],
    ),
]
