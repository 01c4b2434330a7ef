"""Lesson 04: `return_sequences=False` (and `RepeatVector`) drop the mask, so an encoder-decoder's
loss counts padded steps; a loss masked from `y_true`, given the encoding's padding row, repairs
it (the course's all-zero '#' and thread 001's '#' class `[0, 0, 1]` alike).

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
    "measure which common layers pass, consume or drop a mask, predicting first;",
    "run thread 001's own model and data in Keras 2 (`tf_keras`) and Keras 3, and measure how "
    "much `model.evaluate` is off when padded steps reach the loss of an encoder-decoder;",
    "repair it with a loss that finds padding in `y_true` from the padding row of the encoding "
    "and divides by the number of real tokens;",
    "avoid the traps around it: metrics kept from an earlier `compile`, NaN from multiplying "
    "`y_pred` by the mask, per-batch means; and use Keras 3's built-in masked reductions.",
]
PREREQUISITES = "Lessons 01-03: padding, the `Masking` layer, how masks propagate."
MINUTES = 40
EXERCISE_MINUTES = 25

# Installed source the lecture quotes (`source_excerpt`): dotted name -> a line it asserts.
# tests/test_lesson_04.py fails if one disappears or changes, before the notebook is run.
QUOTED_SOURCE = {
    "keras.src.layers.rnn.rnn.RNN.compute_mask": "mask if self.return_sequences else None",
    "tf_keras.src.layers.rnn.base_rnn.RNN.compute_mask": "mask if self.return_sequences else None",
    "keras.src.trainers.trainer.Trainer.compile": (
        "if metrics is not None or weighted_metrics is not None:"
    ),
    "keras.src.backend.tensorflow.nn.categorical_crossentropy": (
        "output = output / tf.reduce_sum(output, axis, keepdims=True)"
    ),
    "keras.src.losses.loss.reduce_values": (
        "divisor = ops.cast(ops.sum(sample_weight), loss.dtype)"
    ),
}

EPSILON = 1e-7  # Keras clips probabilities to [EPSILON, 1 - EPSILON] in categorical_crossentropy


def per_step_crossentropy(y_true, y_pred) -> np.ndarray:
    """Categorical cross-entropy of every step, `(batch, time)`, in NumPy (as Keras computes it:
    probabilities renormalised and clipped). Padded steps (all-zero `y_true` rows) give 0."""
    y_true = np.asarray(y_true, dtype="float64")
    y_pred = np.asarray(y_pred, dtype="float64")
    y_pred = y_pred / y_pred.sum(axis=-1, keepdims=True)
    return -(y_true * np.log(np.clip(y_pred, EPSILON, 1 - EPSILON))).sum(axis=-1)


ZERO_ROW = (0.0, 0.0, 0.0)  # the course's '#' (and padding): an all-zero row
HASH_CLASS_ROW = (0.0, 0.0, 1.0)  # thread 001's '#' in `y_true`: a class of its own


def real_steps(y_true, padding_row=None) -> np.ndarray:
    """`mask` `(batch, time)`: True where the `y_true` row differs from `padding_row` in some
    feature (a real token). `padding_row` defaults to the all-zero row."""
    y_true = np.asarray(y_true)
    row = np.zeros(y_true.shape[-1]) if padding_row is None else np.asarray(padding_row)
    return ~np.all(y_true == row, axis=-1)


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


def masked_categorical_crossentropy(y_true, y_pred, padding_row):
    """Mean categorical cross-entropy over the real steps only: a step is padding when its
    `y_true` row equals `padding_row` `(classes,)` in every feature (an all-zero row in the
    course's encoding, `[0, 0, 1]` in thread 001's). `y_true`, `y_pred`: `(batch, time, classes)`
    -> a scalar."""
    from keras import ops

    padding = ops.all(ops.equal(y_true, ops.cast(padding_row, y_true.dtype)), axis=-1)
    real = ops.cast(ops.logical_not(padding), y_pred.dtype)  # (batch, time)
    per_step = ops.categorical_crossentropy(y_true, y_pred)  # (batch, time)
    return ops.sum(per_step * real) / ops.maximum(ops.sum(real), 1.0)


def _real(y_true, padding_row):
    """The (batch, time) float mask of real steps, as the reference builds it."""
    from keras import ops

    padding = ops.all(ops.equal(y_true, ops.cast(padding_row, y_true.dtype)), axis=-1)
    return ops.cast(ops.logical_not(padding), "float32")


def _loss_ignores_padding_row(y_true, y_pred, padding_row):
    """The course's loss before this lesson: padding is an all-zero row, whatever the encoding."""
    from keras import ops

    mask = ops.cast(ops.any(ops.not_equal(y_true, 0), axis=-1), y_pred.dtype)
    per_step = ops.categorical_crossentropy(y_true, y_pred)
    return ops.sum(per_step * mask) / ops.maximum(ops.sum(mask), 1.0)


def _loss_two_arguments(y_true, y_pred):
    """The same loss with the old two-argument signature: no `padding_row` to take."""
    return _loss_ignores_padding_row(y_true, y_pred, None)


def _loss_multiplies_then_averages(y_true, y_pred, padding_row):
    from keras import ops

    mask = ops.expand_dims(_real(y_true, padding_row), -1)
    y_true, y_pred = y_true * mask, y_pred * mask
    per_step = -ops.sum(y_true * ops.log(ops.clip(y_pred, EPSILON, 1.0)), axis=-1)
    return ops.mean(per_step)


def _loss_multiplies_both_keras(y_true, y_pred, padding_row):
    """Thread 001's second answer: mask both tensors, then Keras's own cross-entropy."""
    from keras import ops

    mask = ops.expand_dims(_real(y_true, padding_row), -1)
    return ops.mean(ops.categorical_crossentropy(y_true * mask, y_pred * mask))


def _loss_d2l_divides_by_steps(y_true, y_pred, padding_row):
    """d2l's MaskedSoftmaxCELoss: weighted loss `.mean(dim=1)` over num_steps, then the batch."""
    from keras import ops

    per_step = ops.categorical_crossentropy(y_true, y_pred)
    return ops.mean(ops.mean(per_step * _real(y_true, padding_row), axis=1))


def _loss_any_feature_equal(y_true, y_pred, padding_row):
    from keras import ops

    padding = ops.any(ops.equal(y_true, ops.cast(padding_row, y_true.dtype)), axis=-1)
    mask = ops.cast(ops.logical_not(padding), "float32")
    per_step = ops.categorical_crossentropy(y_true, y_pred)
    return ops.sum(per_step * mask) / ops.maximum(ops.sum(mask), 1.0)


def _loss_inverted(y_true, y_pred, padding_row):
    from keras import ops

    mask = 1.0 - _real(y_true, padding_row)
    per_step = ops.categorical_crossentropy(y_true, y_pred)
    return ops.sum(per_step * mask) / ops.maximum(ops.sum(mask), 1.0)


def _loss_mean_of_sequence_means(y_true, y_pred, padding_row):
    from keras import ops

    mask = _real(y_true, padding_row)
    per_step = ops.categorical_crossentropy(y_true, y_pred)
    return ops.mean(ops.sum(per_step * mask, axis=1) / ops.maximum(ops.sum(mask, axis=1), 1.0))


def _loss_per_step(y_true, y_pred, padding_row):
    from keras import ops

    return ops.categorical_crossentropy(y_true, y_pred) * _real(y_true, padding_row)


def _probabilities(shape, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=shape)
    p = np.exp(logits)
    return (p / p.sum(axis=-1, keepdims=True)).astype("float32")


# Thread 001's batch ['##abb', '#babb'] as posted: `y_true` with '#' as the class [0, 0, 1],
# padded at the front.
THREAD_001_Y_TRUE = np.array(
    [
        [[0, 0, 1], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 1, 0]],
        [[0, 0, 1], [0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0]],
    ],
    dtype="float32",
)


def hash_class_targets(words: list[str], maxlen: int) -> np.ndarray:
    """Thread 001's encoding of words over `ab`: one-hot `(batch, maxlen, 3)` with '#' as the
    third class `[0, 0, 1]`, each word padded with '#' at the front."""
    alphabet = "ab#"
    out = np.zeros((len(words), maxlen, len(alphabet)), dtype="float32")
    for i, word in enumerate(words):
        padded = "#" * (maxlen - len(word)) + word
        for t, char in enumerate(padded):
            out[i, t, alphabet.index(char)] = 1.0
    return out


def _loss_cases() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """(kind, y_true, y_pred, padding_row): the course's encoding (one-hot, '#' an all-zero row,
    post-padded; label-smoothed targets with no zero feature in a real row; a batch without
    padding; one real token among many padded steps) and thread 001's ('#' the class [0, 0, 1],
    pre-padded: the asker's own batch and a larger one)."""
    from ..data import char_reversal_task, one_hot_chars

    zero = np.asarray(ZERO_ROW, dtype="float32")
    hash_class = np.asarray(HASH_CLASS_ROW, dtype="float32")
    _, y_chars = char_reversal_task()
    smooth = np.where(y_chars == 1, 0.8, 0.1).astype("float32") * real_steps(y_chars)[..., None]
    full = one_hot_chars(["abca", "bcab", "ccba"], 4)
    single = one_hot_chars(["b", "ab"], 5)
    hash_words = hash_class_targets(["ab", "babb", "a", "abbab"], 6)
    return [
        ("one-hot", y_chars, _probabilities(y_chars.shape, 0), zero),
        ("smoothed", smooth, _probabilities(smooth.shape, 1), zero),
        ("no padding", full, _probabilities(full.shape, 2), zero),
        ("one-hot", single, _probabilities(single.shape, 3), zero),
        ("'#' class", THREAD_001_Y_TRUE, _probabilities(THREAD_001_Y_TRUE.shape, 4), hash_class),
        ("'#' class", hash_words, _probabilities(hash_words.shape, 5), hash_class),
    ]


def _call_loss(fn, y_true, y_pred, padding_row, *, graph: bool) -> Any:
    from keras import ops

    if not graph:
        return call_learner(
            fn, ops.convert_to_tensor(y_true), ops.convert_to_tensor(y_pred), padding_row.copy()
        )
    try:
        return call_learner_compiled(fn, y_true, y_pred, extra=(padding_row.copy(),))
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


def _require_three_arguments(fn) -> None:
    """A loss that cannot take `(y_true, y_pred, padding_row)` gets a sentence, not a TypeError."""
    import inspect

    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return  # not inspectable: let the call speak
    try:
        signature.bind(None, None, None)
    except TypeError:
        try:
            signature.bind(None, None)
        except TypeError:
            raise Mistake(
                "your loss must take three arguments: "
                "def masked_categorical_crossentropy(y_true, y_pred, padding_row)"
            ) from None
        raise Mistake(
            "your loss takes two arguments (y_true, y_pred); this one also takes `padding_row`, "
            "the row that marks padding in y_true, so that it works for any encoding: "
            "def masked_categorical_crossentropy(y_true, y_pred, padding_row)"
        ) from None


def _grade_loss(fn) -> str:
    _require_function(fn)
    _require_three_arguments(fn)
    results = []
    for kind, y_true, y_pred, padding_row in _loss_cases():
        got = _read_loss(_call_loss(fn, y_true, y_pred, padding_row, graph=False), y_true.shape[:2])
        per_step = per_step_crossentropy(y_true, y_pred)
        mask = real_steps(y_true, padding_row)
        results.append((kind, got, per_step, mask, real_steps(y_true)))

    def matches(value, target):
        return np.isfinite(value) and np.isclose(value, target, rtol=1e-4, atol=1e-6)

    def mean_or_zero(values):
        return float(values.mean()) if values.size else 0.0

    if all(matches(got, ps[m].mean()) for _, got, ps, m, _ in results):
        for _, y_true, y_pred, padding_row in _loss_cases()[::4]:  # one per encoding
            again = _read_loss(
                _call_loss(fn, y_true, y_pred, padding_row, graph=True), y_true.shape[:2]
            )
            if not matches(
                again, per_step_crossentropy(y_true, y_pred)[real_steps(y_true, padding_row)].mean()
            ):
                raise Mistake("your loss gives a different value inside a compiled graph")
        return (
            "your loss finds padding in y_true (rows equal to `padding_row`) and divides by the "
            "number of real tokens, for both encodings, in eager mode and in a compiled graph."
        )

    def zero_or_nan(value):
        return not np.isfinite(value) or abs(value) < 1e-7

    if all(
        matches(got, mean_or_zero(ps[~m])) or (not (~m).any() and zero_or_nan(got))
        for _, got, ps, m, _ in results
    ):
        raise Mistake(
            "your mask is inverted: your loss averages the padded steps (the rows equal to "
            "`padding_row`) and drops the real tokens"
        )
    onehot = [r for r in results if r[0] != "smoothed"]
    if all(zero_or_nan(got) for _, got, _, _, _ in onehot):
        raise Mistake(
            "your loss finds no real token in one-hot targets: a one-hot row always shares some "
            'feature with the padding row, so "any feature equals `padding_row`" marks every row '
            "as padding; padding is a row equal to `padding_row` in every feature"
        )
    if any(not np.isfinite(got) for _, got, _, _, _ in results):
        raise Mistake(
            "your loss is NaN or infinite on some batch. A common cause: multiplying y_pred by "
            "the mask (as thread 001's second answer does) leaves padded rows of zeros, and "
            "Keras's cross-entropy rescales each row by its sum, 0 / 0. Weight the per-step "
            "losses by the mask instead, and check your divisions"
        )
    hash_class = [r for r in results if r[0] == "'#' class"]
    zero_padded = [r for r in results if r[0] != "'#' class"]
    if all(matches(got, ps[m].mean()) for _, got, ps, m, _ in zero_padded) and all(
        matches(got, ps[zero].mean()) for _, got, ps, _, zero in hash_class
    ):
        raise Mistake(
            "your loss finds padding by comparing y_true with zeros, whatever `padding_row` says: "
            "right for the course's all-zero '#', but in thread 001's encoding, where '#' is a "
            "class of its own, no row is all zero and nothing gets masked. Compare each row with "
            "`padding_row`"
        )
    if all(matches(got, (ps * m).sum() / ps.size) for _, got, ps, m, _ in results):
        raise Mistake(
            "your loss divides by the number of time steps, padding included (as d2l's "
            "MaskedSoftmaxCELoss does with its mean over num_steps), so padding steps still "
            "count in the denominator; divide by the number of real tokens"
        )
    if all(matches(got, _mean_of_row_means(ps, m)) for _, got, ps, m, _ in results):
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
    for _, y_true, y_pred, padding_row in _loss_cases():
        if np.any(padding_row):
            continue  # this exercise is about the course's encoding: padding is all zero
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
        legacy_wrong_answers=[
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
        title="A loss masked from y_true, for any padding row",
        grader=_grade_loss,
        hints=[
            "A padded step is a row of `y_true` equal to `padding_row` in EVERY feature (all "
            "zeros in the course's encoding, [0, 0, 1] in thread 001's). Build a (batch, time) "
            "mask of the real steps from that with keras.ops, then weight the per-step losses.",
            "`ops.all(ops.equal(y_true, padding_row), axis=-1)` is True on padding; take its "
            "`ops.logical_not` and cast it to floats. `ops.categorical_crossentropy(y_true, "
            "y_pred)` gives the (batch, time) losses; divide their masked sum by the number of "
            "real tokens, `ops.sum(mask)`, not by the number of steps.",
            "`padding = ops.all(ops.equal(y_true, ops.cast(padding_row, y_true.dtype)), "
            "axis=-1)`, `real = ops.cast(ops.logical_not(padding), y_pred.dtype)`, then "
            "`ops.sum(per_step * real) / ops.maximum(ops.sum(real), 1.0)`.",
        ],
        reference=masked_categorical_crossentropy,
        legacy_wrong_answers=[
            WrongAnswer(
                "compares with zeros, ignores padding_row",
                _loss_ignores_padding_row,
                "whatever `padding_row` says",
            ),
            WrongAnswer(
                "two-argument loss (no padding_row)",
                _loss_two_arguments,
                "your loss takes two arguments",
            ),
            WrongAnswer(
                "multiplies by the mask, averages every step",
                _loss_multiplies_then_averages,
                "padding steps still count in the denominator",
            ),
            WrongAnswer(
                "multiplies y_true and y_pred by the mask (thread 001, answer 2)",
                _loss_multiplies_both_keras,
                "multiplying y_pred by the mask",
            ),
            WrongAnswer(
                "divides by num_steps (d2l)",
                _loss_d2l_divides_by_steps,
                "MaskedSoftmaxCELoss",
            ),
            WrongAnswer(
                "any feature equal to padding_row means padding",
                _loss_any_feature_equal,
                "marks every row as padding",
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
        legacy_wrong_answers=[
            WrongAnswer(
                "the mask as weights", _weights_mask, "divides the weighted sum by every step"
            ),
            WrongAnswer("all ones", _weights_ones, "divides the weighted sum by every step"),
            WrongAnswer("inverted", _weights_inverted, "your weights are inverted"),
            WrongAnswer("per-row normalised", _weights_per_row, "normalise each row"),
        ],
    ),
]
