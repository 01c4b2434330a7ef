"""Lesson 04: `return_sequences=False` (and `RepeatVector`) drop the mask, so an encoder-decoder's
loss counts padded steps; a loss masked from `y_true` repairs it.

The checks measure: layer masks come from calling real Keras layers, losses are compared with
per-step cross-entropies computed here in NumPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..checking import (
    Exercise,
    Mistake,
    WrongAnswer,
    as_array,
    call_learner,
    call_learner_compiled,
    describe,
)

LESSON = "04_return_sequences_drops_mask"
TITLE = "return_sequences=False drops the mask"
OBJECTIVES = [
    "show that `RNN.compute_mask` returns None when `return_sequences=False`, and that "
    "`RepeatVector` does not support masking;",
    "measure which common layers pass, consume or drop a mask;",
    "measure how much `model.evaluate` is off when padded steps reach the loss of an "
    "encoder-decoder;",
    "repair it with a loss that finds padding in `y_true` and divides by the number of real tokens.",
]
PREREQUISITES = "Lessons 01-03: padding, the `Masking` layer, how masks propagate."
MINUTES = 25
EXERCISE_MINUTES = 25

EPSILON = 1e-7  # Keras clips probabilities to [EPSILON, 1 - EPSILON] in categorical_crossentropy


def per_step_crossentropy(y_true, y_pred) -> np.ndarray:
    """Categorical cross-entropy of every step, `(batch, time)`, in NumPy (as Keras computes it:
    probabilities renormalised and clipped). Padded steps (all-zero `y_true` rows) give 0."""
    y_true = np.asarray(y_true, dtype="float64")
    y_pred = np.asarray(y_pred, dtype="float64")
    y_pred = y_pred / y_pred.sum(axis=-1, keepdims=True)
    return -(y_true * np.log(np.clip(y_pred, EPSILON, 1 - EPSILON))).sum(axis=-1)


def real_steps(y_true) -> np.ndarray:
    """`mask` `(batch, time)`: True where the `y_true` row is not all zeros (a real token)."""
    return np.any(np.asarray(y_true) != 0, axis=-1)


# --------------------------------------------------------------------------- exercise 1: predict

# name -> Keras code; the exercise shows the code, the check builds the layer from it.
LAYER_CONFIGS = {
    "bi_lstm_seq": "keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True))",
    "gru_last": "keras.layers.GRU(4)",
    "simple_rnn_seq": "keras.layers.SimpleRNN(4, return_sequences=True)",
    "conv": 'keras.layers.Conv1D(4, 3, padding="same")',
    "layer_norm": "keras.layers.LayerNormalization()",
    "max_pool": "keras.layers.GlobalMaxPooling1D()",
}
MASK_SURVIVES = [True, False, True, False, True, False]

# Inputs `(batch, time, features)` and the mask riding on them.
_PREDICT_X = np.linspace(0.1, 1.0, 2 * 4 * 3, dtype="float32").reshape(2, 4, 3)
_PREDICT_MASK = np.array([[True, True, False, False], [True, True, True, False]])


def build_layer(name: str):
    """A fresh layer of `LAYER_CONFIGS[name]`."""
    import keras

    return eval(LAYER_CONFIGS[name], {"keras": keras})  # our own fixed strings only


def _grade_prediction(answer) -> str:
    from ..masks import layer_output_mask

    if isinstance(answer, dict):
        raise Mistake("give a list of True/False values in the order of LAYER_CONFIGS, not a dict")
    if callable(answer):
        raise Mistake("give a list of True/False values, not a function")
    got = as_array(
        answer, name="your list of predictions", shape=(len(LAYER_CONFIGS),), kind="bool"
    )
    for name, predicted in zip(LAYER_CONFIGS, got, strict=True):
        layer = build_layer(name)
        out_mask = layer_output_mask(layer, _PREDICT_X, _PREDICT_MASK)
        if bool(predicted) == (out_mask is not None):
            continue
        if predicted and not layer.supports_masking:
            raise Mistake(
                f"you predicted that the mask survives `{name}`, but that layer does not support "
                "masking (supports_masking is False), so Keras drops the mask there"
            )
        if predicted:
            raise Mistake(
                f"you predicted that the mask survives `{name}`, but its compute_mask returns "
                "None: its output has no time axis left to mask"
            )
        raise Mistake(
            f"you predicted that `{name}` drops the mask, but it supports masking and keeps "
            "the time axis, so it hands the mask on"
        )
    return "every prediction matches the mask Keras attaches to each layer's output."


# --------------------------------------------------------------------------- exercise 2: the loss


def masked_categorical_crossentropy(y_true, y_pred):
    """Mean categorical cross-entropy over the real steps only: a step is padding when its
    `y_true` row is all zeros. `y_true`, `y_pred`: `(batch, time, classes)` -> a scalar."""
    from keras import ops

    mask = ops.cast(ops.any(ops.not_equal(y_true, 0), axis=-1), y_pred.dtype)  # (batch, time)
    per_step = ops.categorical_crossentropy(y_true, y_pred)  # (batch, time)
    return ops.sum(per_step * mask) / ops.maximum(ops.sum(mask), 1.0)


def _loss_multiplies_then_averages(y_true, y_pred):
    from keras import ops

    mask = ops.expand_dims(ops.cast(ops.any(ops.not_equal(y_true, 0), axis=-1), "float32"), -1)
    y_true, y_pred = y_true * mask, y_pred * mask
    per_step = -ops.sum(y_true * ops.log(ops.clip(y_pred, EPSILON, 1.0)), axis=-1)
    return ops.mean(per_step)


def _loss_d2l_divides_by_steps(y_true, y_pred):
    """d2l's MaskedSoftmaxCELoss: weighted loss `.mean(dim=1)` over num_steps, then the batch."""
    from keras import ops

    weights = ops.cast(ops.any(ops.not_equal(y_true, 0), axis=-1), "float32")
    per_step = ops.categorical_crossentropy(y_true, y_pred)
    return ops.mean(ops.mean(per_step * weights, axis=1))


def _loss_any_feature_zero(y_true, y_pred):
    from keras import ops

    mask = ops.cast(ops.logical_not(ops.any(ops.equal(y_true, 0), axis=-1)), "float32")
    per_step = ops.categorical_crossentropy(y_true, y_pred)
    return ops.sum(per_step * mask) / ops.maximum(ops.sum(mask), 1.0)


def _loss_inverted(y_true, y_pred):
    from keras import ops

    mask = ops.cast(ops.all(ops.equal(y_true, 0), axis=-1), "float32")
    per_step = ops.categorical_crossentropy(y_true, y_pred)
    return ops.sum(per_step * mask) / ops.maximum(ops.sum(mask), 1.0)


def _loss_mean_of_sequence_means(y_true, y_pred):
    from keras import ops

    mask = ops.cast(ops.any(ops.not_equal(y_true, 0), axis=-1), "float32")
    per_step = ops.categorical_crossentropy(y_true, y_pred)
    return ops.mean(ops.sum(per_step * mask, axis=1) / ops.maximum(ops.sum(mask, axis=1), 1.0))


def _loss_per_step(y_true, y_pred):
    from keras import ops

    mask = ops.cast(ops.any(ops.not_equal(y_true, 0), axis=-1), "float32")
    return ops.categorical_crossentropy(y_true, y_pred) * mask


def _probabilities(shape, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=shape)
    p = np.exp(logits)
    return (p / p.sum(axis=-1, keepdims=True)).astype("float32")


def _loss_cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(kind, y_true, y_pred): one-hot with '#' padding, label-smoothed targets (no zero feature
    in a real row), a batch without padding, and one real token among many padded steps."""
    from ..data import char_reversal_task, one_hot_chars

    _, y_chars = char_reversal_task()
    smooth = np.where(y_chars == 1, 0.8, 0.1).astype("float32") * real_steps(y_chars)[..., None]
    full = one_hot_chars(["abca", "bcab", "ccba"], 4)
    single = one_hot_chars(["b", "ab"], 5)
    return [
        ("one-hot", y_chars, _probabilities(y_chars.shape, 0)),
        ("smoothed", smooth, _probabilities(smooth.shape, 1)),
        ("no padding", full, _probabilities(full.shape, 2)),
        ("one-hot", single, _probabilities(single.shape, 3)),
    ]


def _call_loss(fn, y_true, y_pred, *, graph: bool) -> Any:
    from keras import ops

    if not graph:
        return call_learner(fn, ops.convert_to_tensor(y_true), ops.convert_to_tensor(y_pred))
    try:
        return call_learner_compiled(fn, y_true, y_pred)
    except Mistake as mistake:
        raise Mistake(
            "your loss works on eager tensors but fails inside a compiled graph, where Keras runs "
            "it during fit and evaluate; build it from keras.ops, without NumPy or `.numpy()` "
            f"({mistake})"
        ) from None


def _read_loss(value, steps_shape) -> float:
    """The learner's loss as a float; NaN is allowed here (diagnosed by the caller)."""
    if value is None:
        raise Mistake("your loss returned None; did you forget a `return`?")
    arr = _as_array_allow_nan(value)
    if arr.shape == tuple(steps_shape):
        raise Mistake(
            "your loss returns one value per step, shape (batch, time); Keras would average "
            "those over every step, padding included. Return a single number"
        )
    if arr.size != 1:
        raise Mistake(
            f"your loss returns shape {arr.shape}; return a single number: the mean over the "
            "real tokens of the whole batch"
        )
    if arr.dtype.kind not in "iuf":
        raise Mistake(f"your loss returned values of dtype {arr.dtype}, not numbers")
    return float(arr.reshape(()))


def _as_array_allow_nan(value) -> np.ndarray:
    try:
        arr = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
    except Exception:
        raise Mistake(f"your loss returned a {describe(value)}, not a number") from None
    if arr.dtype == object:
        raise Mistake(f"your loss returned a {describe(value)}, not a number")
    return arr


def _mean_of_row_means(per_step: np.ndarray, mask: np.ndarray) -> float:
    return float(((per_step * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)).mean())


def _require_function(fn) -> None:
    if isinstance(fn, type):
        raise Mistake(f"expected a function, but got the class {fn.__name__}; define it with `def`")
    if not callable(fn):
        call_learner(fn)  # raises the "expected a function" sentence


def _grade_loss(fn) -> str:
    _require_function(fn)
    results = []
    for kind, y_true, y_pred in _loss_cases():
        got = _read_loss(_call_loss(fn, y_true, y_pred, graph=False), y_true.shape[:2])
        per_step = per_step_crossentropy(y_true, y_pred)
        mask = real_steps(y_true)
        results.append((kind, got, per_step, mask))

    def matches(value, target):
        return np.isfinite(value) and np.isclose(value, target, rtol=1e-4, atol=1e-6)

    if all(matches(got, ps[m].mean()) for _, got, ps, m in results):
        _, y_true, y_pred = _loss_cases()[0]
        again = _read_loss(_call_loss(fn, y_true, y_pred, graph=True), y_true.shape[:2])
        if not matches(again, results[0][1]):
            raise Mistake("your loss gives a different value inside a compiled graph")
        return (
            "your loss finds padding in y_true (rows of all zeros) and divides by the number of "
            "real tokens, in eager mode and in a compiled graph."
        )

    def zero_or_nan(value):
        return not np.isfinite(value) or abs(value) < 1e-7

    if all(zero_or_nan(got) for _, got, _, _ in results):
        raise Mistake(
            "your loss is 0 (or NaN) on every batch: your mask is inverted, it keeps the padded "
            "steps (where the cross-entropy is 0) and drops the real tokens"
        )
    onehot = [r for r in results if r[0] != "smoothed"]
    if all(zero_or_nan(got) for _, got, _, _ in onehot):
        raise Mistake(
            "your loss finds no real token in one-hot targets: a one-hot row always has zero "
            'features, so "any feature is zero" marks every row as padding; padding is a row '
            "whose features are all zero"
        )
    if any(not np.isfinite(got) for _, got, _, _ in results):
        raise Mistake("your loss is NaN or infinite on some batch; check the divisions and logs")
    if all(matches(got, ps.sum() / ps.size) for _, got, ps, _ in results):
        raise Mistake(
            "your loss divides by the number of time steps, padding included (as d2l's "
            "MaskedSoftmaxCELoss does with its mean over num_steps), so padding steps still "
            "count in the denominator; divide by the number of real tokens"
        )
    if all(matches(got, _mean_of_row_means(ps, m)) for _, got, ps, m in results):
        raise Mistake(
            "your loss averages each sequence first and then the sequences, so a short sequence's "
            "tokens weigh more; divide the sum over all real tokens by their number"
        )
    raise Mistake("your loss is not the mean cross-entropy over the real (non-padded) steps")


# --------------------------------------------------------------------------- exercise 3: weights


def real_step_weights(y_true):
    """`sample_weight` `(batch, time)` that makes Keras's loss (which divides the weighted sum by
    batch x time) equal the mean over real steps: real steps weigh steps / real tokens, padding 0."""
    mask = real_steps(y_true).astype("float32")
    return mask * mask.size / max(mask.sum(), 1.0)


def _weights_mask(y_true):
    return real_steps(y_true).astype("float32")


def _weights_ones(y_true):
    return np.ones(np.asarray(y_true).shape[:2], dtype="float32")


def _weights_inverted(y_true):
    mask = ~real_steps(y_true)
    return mask * mask.size / max(mask.sum(), 1.0)


def _weights_per_row(y_true):
    mask = real_steps(y_true).astype("float32")
    return mask * mask.shape[1] / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)


def keras_weighted_loss(y_true, y_pred, sample_weight) -> float:
    """What `model.evaluate` reports for one batch with this `sample_weight`: Keras's own
    `CategoricalCrossentropy` with its default reduction."""
    import keras

    return float(
        keras.losses.CategoricalCrossentropy()(y_true, y_pred, sample_weight=sample_weight)
    )


def _grade_weights(fn) -> str:
    _require_function(fn)
    for _, y_true, y_pred in _loss_cases():
        steps = y_true.shape[:2]
        w = as_array(
            call_learner(fn, y_true.copy()),
            name="your sample_weight",
            shape=steps,
            kind="number",
        )
        per_step = per_step_crossentropy(y_true, y_pred)
        mask = real_steps(y_true)
        got = keras_weighted_loss(y_true, y_pred, w.astype("float32"))
        if np.isclose(got, per_step[mask].mean(), rtol=1e-4, atol=1e-6):
            continue
        if np.isclose(got, per_step.sum() / per_step.size, rtol=1e-4, atol=1e-6):
            raise Mistake(
                "with your weights Keras still divides the weighted sum by every step (batch x "
                "time), not by the sum of the weights; scale the real steps' weights up by "
                "steps / real tokens"
            )
        if abs(got) < 1e-7:
            raise Mistake("your weights are inverted: they keep the padded steps, whose loss is 0")
        if np.isclose(got, _mean_of_row_means(per_step, mask), rtol=1e-4, atol=1e-6):
            raise Mistake(
                "your weights normalise each row by its own length, which averages sequences "
                "first; normalise by the number of real tokens in the whole batch"
            )
        raise Mistake("with your weights, Keras's loss is not the mean over the real steps")
    return "with your weights, Keras's own loss equals the mean over the real steps."


EXERCISES = [
    Exercise(
        lesson=LESSON,
        name="predict_output_masks",
        answer_name="mask_survives",
        title="Predict which layers keep the mask",
        grader=_grade_prediction,
        hints=[
            "A mask leaves a layer only if the layer supports masking and its output keeps the "
            "time axis. `return_sequences` decides that for a recurrent layer, of any kind.",
            "A wrapper such as Bidirectional asks the layer inside; a convolution does not "
            "support masking in Keras 3; a global pooling removes the time axis.",
            "Three survive: the two recurrent layers that return sequences, and the "
            "normalisation layer.",
        ],
        reference=MASK_SURVIVES,
        solution_code="mask_survives = [True, False, True, False, True, False]",
        wrong_answers=[
            WrongAnswer(
                "GRU keeps it",
                [True, True, True, False, True, False],
                "but its compute_mask returns None",
            ),
            WrongAnswer(
                "convolution keeps it",
                [True, False, True, True, True, False],
                "does not support masking",
            ),
            WrongAnswer(
                "bidirectional drops it",
                [False, False, True, False, True, False],
                "`bi_lstm_seq` drops the mask",
            ),
            WrongAnswer(
                "a dict", dict(zip(LAYER_CONFIGS, MASK_SURVIVES, strict=True)), "not a dict"
            ),
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="masked_categorical_crossentropy",
        answer_name="masked_categorical_crossentropy",
        title="A loss masked from y_true",
        grader=_grade_loss,
        hints=[
            "A padded step is a row of `y_true` whose features are all zero. Build a (batch, "
            "time) mask from that with keras.ops, then weight the per-step losses by it.",
            "`ops.categorical_crossentropy(y_true, y_pred)` gives the (batch, time) losses. "
            "Divide their masked sum by the number of real tokens, `ops.sum(mask)`, not by the "
            "number of steps.",
            "`mask = ops.cast(ops.any(ops.not_equal(y_true, 0), axis=-1), y_pred.dtype)`, then "
            "`ops.sum(per_step * mask) / ops.maximum(ops.sum(mask), 1.0)`.",
        ],
        reference=masked_categorical_crossentropy,
        wrong_answers=[
            WrongAnswer(
                "multiplies by the mask, averages every step",
                _loss_multiplies_then_averages,
                "padding steps still count in the denominator",
            ),
            WrongAnswer(
                "divides by num_steps (d2l)",
                _loss_d2l_divides_by_steps,
                "MaskedSoftmaxCELoss",
            ),
            WrongAnswer(
                "any feature zero means padding",
                _loss_any_feature_zero,
                '"any feature is zero" marks every row as padding',
            ),
            WrongAnswer("inverted mask", _loss_inverted, "your mask is inverted"),
            WrongAnswer(
                "mean of sequence means",
                _loss_mean_of_sequence_means,
                "averages each sequence first",
            ),
            WrongAnswer("one loss per step", _loss_per_step, "one value per step"),
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="real_step_weights",
        answer_name="real_step_weights",
        title="sample_weight that makes Keras average over real steps",
        grader=_grade_weights,
        hints=[
            "Keras's default reduction divides the weighted sum of per-step losses by "
            "batch x time, whatever the weights add up to.",
            "Padding gets weight 0; a real step gets (batch x time) / (number of real tokens), "
            "so the division by batch x time cancels.",
            "`mask = np.any(y_true != 0, axis=-1)`, then `mask * mask.size / mask.sum()`.",
        ],
        reference=real_step_weights,
        wrong_answers=[
            WrongAnswer(
                "the mask as weights", _weights_mask, "divides the weighted sum by every step"
            ),
            WrongAnswer("all ones", _weights_ones, "divides the weighted sum by every step"),
            WrongAnswer("inverted", _weights_inverted, "your weights are inverted"),
            WrongAnswer("per-row normalised", _weights_per_row, "normalise each row"),
        ],
    ),
]
