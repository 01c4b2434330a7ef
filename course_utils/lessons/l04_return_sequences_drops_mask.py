"""Lesson 04: `return_sequences=False` (and `RepeatVector`) drop the mask, so an encoder-decoder's
loss counts padded steps; a loss masked from `y_true`, for the encoding's padding, repairs it.

The exercises are data (see AUTHORING.md): cases, a probe and named misconceptions. Layer masks
come from real Keras layers; the loss is probed as `fit` runs it (eager, traced, gradient); the
weights by the loss Keras computes with them. The answers live in
`course_utils.answers.l04_return_sequences_drops_mask`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..checking import Exercise
from ..judging import NOT_ATTEMPTED, VALUE, Fact, Misconception, Observation
from ..probing import Case, keras_loss, observe_value, run

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


# Thread 001's batch ['##abb', '#babb'] as posted: `y_true` with '#' as the class [0, 0, 1]
# (token id 2), padded at the front.
THREAD_001_Y_TRUE = np.array(
    [
        [[0, 0, 1], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 1, 0]],
        [[0, 0, 1], [0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0]],
    ],
    dtype="float32",
)
THREAD_001_PAD_ID = 2


def _probabilities(rng: np.random.Generator, shape) -> np.ndarray:
    """Softmax rows `shape` (..., vocab), float32: a model's `y_pred`."""
    p = np.exp(rng.normal(size=shape))
    return (p / p.sum(axis=-1, keepdims=True)).astype("float32")


# --------------------------------------------------------------------------- exercise 1: predict

# name -> Keras code; the exercise shows the code, the check builds the layer from it.
LAYER_CONFIGS = {
    "bi_lstm_seq": "keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True))",
    "gru_last": "keras.layers.GRU(4)",
    "simple_rnn_seq": "keras.layers.SimpleRNN(4, return_sequences=True)",
    "avg_pool": "keras.layers.GlobalAveragePooling1D()",
    "layer_norm": "keras.layers.LayerNormalization()",
    "max_pool": "keras.layers.GlobalMaxPooling1D()",
}
# What each layer is, as the lecture's rule needs it: (supports_masking, keeps the time axis).
# tests/test_lesson_04.py measures both on the installed Keras.
LAYER_FACTS = {
    "bi_lstm_seq": (True, True),
    "gru_last": (True, False),
    "simple_rnn_seq": (True, True),
    "avg_pool": (True, False),
    "layer_norm": (True, True),
    "max_pool": (False, False),
}


def build_layer(name: str):
    """A fresh layer of `LAYER_CONFIGS[name]`."""
    import keras

    return eval(LAYER_CONFIGS[name], {"keras": keras})  # our own fixed strings only


def _prediction_probe(answer: Any, case: Case) -> Observation:
    """One case per layer: the learner's True/False for that layer, or (any case) what is wrong
    with the list itself, in `extra["problem"]`."""
    (index,) = case.args

    def problem(kind: str) -> Observation:
        return {
            "outcome": VALUE,
            "value": None,
            "kind": "O",
            "shape": None,
            "extra": {"problem": kind},
        }

    if answer is Ellipsis:
        return {"outcome": NOT_ATTEMPTED}
    if isinstance(answer, dict):
        return problem("dict")
    if callable(answer):
        return problem("function")
    if isinstance(answer, str) or not hasattr(answer, "__len__"):
        return problem("not a list")
    items = list(np.asarray(answer).tolist()) if isinstance(answer, np.ndarray) else list(answer)
    if len(items) != len(LAYER_CONFIGS) or any(isinstance(item, list) for item in items):
        return problem("length")
    item = items[index]
    if isinstance(item, np.generic):
        item = item.item()
    if isinstance(item, bool) or (isinstance(item, int) and item in (0, 1)):
        return {"outcome": VALUE, "value": bool(item), "kind": "b", "shape": []}
    return problem("items")


_PREDICTION_PROBLEMS = {
    "dict": "give a list of True/False values in the order of LAYER_CONFIGS, not a dict",
    "function": "give a list of True/False values, not a function",
    "not a list": "give a list of True/False values, one per layer of LAYER_CONFIGS",
    "length": "give exactly one True/False value per layer of LAYER_CONFIGS, in its order",
    "items": "give True or False for each layer (True: a mask leaves the layer)",
}


def _prediction_rule(learner: list[Observation], reference: list[Observation]) -> str | None:
    """A sentence about the list itself, or about the first layer predicted wrongly."""
    kind = learner[0].get("extra", {}).get("problem")
    if kind:
        return _PREDICTION_PROBLEMS[kind]
    for name, mine, theirs in zip(LAYER_CONFIGS, learner, reference, strict=True):
        if mine.get("value") == theirs.get("value"):
            continue
        supports, keeps_time = LAYER_FACTS[name]
        if mine.get("value") and not supports:
            return (
                f"you predicted that the mask survives `{name}`, but that layer does not support "
                "masking (supports_masking is False), so Keras drops the mask there"
            )
        if mine.get("value"):
            return (
                f"you predicted that the mask survives `{name}`, but its compute_mask returns "
                "None: its output has no time axis left to mask"
            )
        return (
            f"you predicted that `{name}` drops the mask, but it supports masking and keeps "
            "the time axis, so it hands the mask on"
        )
    return None


# --------------------------------------------------------------------------- exercise 2: the loss


def one_hot_targets(ids: np.ndarray, vocab: int) -> np.ndarray:
    """Token ids `(batch, time)` -> one-hot `y_true` `(batch, time, vocab)`, float32."""
    return np.eye(vocab, dtype="float32")[np.asarray(ids)]


def _padded_ids(rng, rows: int, steps: int, vocab: int, pad_id: int, side: str, lengths):
    ids = np.full((rows, steps), pad_id)
    tokens = [t for t in range(vocab) if t != pad_id]
    for r, n in enumerate(lengths):
        real = rng.choice(tokens, size=n)
        if side == "post":
            ids[r, :n] = real
        else:
            ids[r, steps - n :] = real
    return ids


def _loss_cases(rng: np.random.Generator) -> list[Case]:
    """(y_true, y_pred, pad_id): thread 001's own batch ('#' is token 2, pre-padded); a
    post-padded batch padded with token 0 (lesson 05's choice) with a one-token row and an
    all-padding row; a batch without padding; and two batches drawn from the seed (vocabulary,
    `pad_id`, side and lengths)."""
    fixed = [(THREAD_001_Y_TRUE, THREAD_001_PAD_ID, "thread 001's batch ('#' is token 2)")]
    ids = np.array([[1, 3, 4, 2, 0, 0], [1, 2, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0]])
    ids = np.concatenate([ids, [[0] * 6]])
    fixed.append((one_hot_targets(ids, 5), 0, "a post-padded batch with `pad_id` 0"))
    fixed.append((one_hot_targets([[3, 1, 2], [2, 0, 3]], 4), 1, "a batch without padding"))
    for side in ("pre", "post"):
        vocab = int(rng.integers(3, 8))
        pad_id = int(rng.integers(0, vocab))
        rows, steps = int(rng.integers(2, 6)), int(rng.integers(3, 9))
        lengths = rng.integers(0, steps + 1, size=rows)
        lengths[0] = int(rng.integers(1, steps))  # some real tokens and some padding
        ids = _padded_ids(rng, rows, steps, vocab, pad_id, side, lengths)
        fixed.append((one_hot_targets(ids, vocab), pad_id, f"a {side}-padded batch"))
    return [
        Case((y_true, _probabilities(rng, y_true.shape), pad_id), note=note)
        for y_true, pad_id, note in fixed
    ]


def _loss_rule(learner: list[Observation], reference: list[Observation]) -> str | None:
    """A loss without the `pad_id` argument gets the signature, not a TypeError."""
    first = learner[0]
    if first.get("error") == "TypeError" and "positional argument" in first.get("detail", ""):
        return (
            "your loss must take three arguments: "
            "def masked_mean_absolute_error(y_true, y_pred, pad_id)"
        )
    return None


# --------------------------------------------------------------------------- exercise 3: weights


def _weights_cases(rng: np.random.Generator) -> list[Case]:
    """(y_true, y_pred) in the course's encoding ('#' an all-zero row, post-padded): the course's
    reversal task, a batch with a one-token row, and two batches drawn from the seed. The learner's
    function gets `y_true` only; `y_pred` is for the loss Keras computes with its weights."""
    from ..data import char_reversal_task, one_hot_chars

    _, course = char_reversal_task()
    batches = [
        (course, "the course's reversal task"),
        (one_hot_chars(["b", "abc", "ca"], 5), "a batch with a one-letter word"),
    ]
    for _ in range(2):
        rows, steps = int(rng.integers(2, 6)), int(rng.integers(3, 8))
        if rows == steps:
            steps += 1
        lengths = rng.integers(1, steps + 1, size=rows)
        lengths[0] = int(rng.integers(1, steps))
        words = ["".join(rng.choice(list("abc"), size=n)) for n in lengths]
        batches.append((one_hot_chars(words, steps), "a batch drawn from the seed"))
    return [Case((y, _probabilities(rng, y.shape)), note=note) for y, note in batches]


def keras_weighted_loss(y_true, y_pred, sample_weight) -> float:
    """What `model.evaluate` reports for one batch with this `sample_weight`: Keras's own
    `CategoricalCrossentropy` with its default reduction."""
    import keras

    loss = keras.losses.CategoricalCrossentropy()
    return float(loss(y_true, y_pred, sample_weight=sample_weight))


def _weights_probe(answer: Any, case: Case) -> Observation:
    """Call the learner's `real_step_weights(y_true)`; the value observed is the loss Keras
    computes with those weights (the shape and kind are the weights')."""
    y_true, y_pred = case.args
    failed, weights = run(answer, Case((y_true,)))
    if failed is not None:
        return failed
    observed = observe_value(weights)
    if (
        observed.get("outcome") != VALUE
        or observed.get("kind") not in ("b", "i", "u", "f")
        or observed.get("shape") != list(y_true.shape[:2])
    ):
        return observed
    try:
        loss = keras_weighted_loss(y_true, y_pred, np.asarray(observed["value"], dtype="float32"))
    except Exception:  # noqa: BLE001 - weights Keras refuses: say so as data
        return {**observed, "value": None, "kind": "O", "irregular": True}
    return {"outcome": VALUE, "value": loss, "kind": "f", "shape": observed["shape"]}


# --------------------------------------------------------------------------- the exercises

EXERCISES = [
    Exercise(
        lesson=LESSON,
        name="predict_output_masks",
        answer_name="mask_survives",
        title="Predict which layers keep the mask",
        cases=[Case((i,), note=f"`{name}`") for i, name in enumerate(LAYER_CONFIGS)],
        probe=_prediction_probe,
        reference="MASK_SURVIVES",
        solution_code="mask_survives = [True, False, True, False, True, False]",
        alternatives=["MASK_SURVIVES_AS_INTS", "MASK_SURVIVES_AS_ARRAY"],
        misconceptions=[
            Misconception(
                "GRU keeps it",
                "GRU_KEEPS_IT",
                "you predicted that the mask survives `gru_last`: return_sequences=False ends "
                "the mask for every recurrent layer (GRU and SimpleRNN inherit RNN.compute_mask, "
                "as LSTM does), not only for LSTM",
            ),
            Misconception(
                "SimpleRNN drops it",
                "SIMPLE_RNN_DROPS_IT",
                "you predicted that `simple_rnn_seq` drops the mask: with return_sequences=True "
                "every recurrent layer hands the mask on, SimpleRNN as well as LSTM",
            ),
            Misconception(
                "average pooling keeps it",
                "AVERAGE_POOLING_KEEPS_IT",
                "you predicted that the mask survives `avg_pool`: global average pooling uses "
                "the mask (it consumes it, as the lecture's table shows), but its output has no "
                "time axis, so no mask leaves it",
            ),
            Misconception(
                "max pooling keeps it",
                "MAX_POOLING_KEEPS_IT",
                "you predicted that the mask survives `max_pool`: global max pooling does not "
                "support masking at all (the lecture's table: it drops the mask, with a "
                "warning), and its output has no time axis either",
            ),
            Misconception(
                "bidirectional drops it",
                "BIDIRECTIONAL_DROPS_IT",
                "you predicted that `bi_lstm_seq` drops the mask: Bidirectional asks the layer "
                "it wraps, and an LSTM with return_sequences=True hands the mask on",
            ),
            Misconception(
                "normalisation drops it",
                "NORMALISATION_DROPS_IT",
                "you predicted that `layer_norm` drops the mask: layer normalisation acts on "
                "each step separately and supports masking, so it hands the mask on, like "
                "Dense and Dropout in the lecture's table",
            ),
            Misconception("a dict", "A_DICT", _PREDICTION_PROBLEMS["dict"]),
        ],
        judge={
            "what": "your list of predictions",
            "success": "every prediction matches the mask Keras attaches to each layer's output.",
            "fallback": "some predictions do not match the masks Keras attaches",
            "custom": _prediction_rule,
            "tolerance": {"strict_kind": True},
        },
        hints=[
            "A mask leaves a layer only if the layer supports masking and its output keeps the "
            "time axis. `return_sequences` decides that for a recurrent layer, of any kind.",
            "A wrapper such as Bidirectional asks the layer inside; a layer that acts on each "
            "step separately hands the mask on; a global pooling removes the time axis, whether "
            "it uses the mask first or not (the lecture's table).",
            "Three survive: the two recurrent layers that return sequences, and the "
            "normalisation layer.",
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="masked_mean_absolute_error",
        answer_name="masked_mean_absolute_error",
        title="Thread 002's loss, masked from one-hot targets padded with a token",
        cases=_loss_cases,
        probe=keras_loss(extra_args=1),
        reference="masked_mean_absolute_error",
        alternatives=["compare_with_the_padding_row", "builtin_with_mask_as_weights"],
        misconceptions=[
            Misconception(
                "divides by the batch size",
                "divides_by_batch_size",
                "your loss divides the sum over the real steps by the batch size (the number "
                "of sequences), so a batch of long sequences counts more than one of short "
                "ones; divide by the number of real tokens, the sum of the mask",
            ),
            Misconception(
                "divides by every step",
                "divides_by_every_step",
                "your loss divides by every step of the batch, padding included (batch x time: "
                "`ops.mean` of the masked losses, or d2l's MaskedSoftmaxCELoss), so padding "
                "still counts in the denominator; divide by the number of real tokens",
            ),
            Misconception(
                "sums over the vocabulary",
                "sums_over_the_vocabulary",
                "your per-step loss sums the absolute errors over the vocabulary; thread 002's "
                "mean_absolute_error averages them over the last axis (`axis=-1`) before the "
                "steps are averaged",
            ),
            Misconception(
                "copies the lecture's cross-entropy",
                "lecture_cross_entropy",
                "your loss is the lecture's masked cross-entropy; this exercise masks thread "
                "002's loss, the mean absolute error: the mean over the vocabulary of "
                "|y_pred - y_true|",
            ),
            Misconception(
                "looks for all-zero rows",
                "looks_for_all_zero_rows",
                "your loss looks for all-zero rows (the course's '#'), but here padding is the "
                "one-hot row of token `pad_id`, so no row is all zero and nothing gets masked",
            ),
            Misconception(
                "token 0 is padding",
                "token_zero_is_padding",
                "your loss treats token 0 as padding whatever `pad_id` says; in thread 001's "
                "batch '#' is token 2: compare with `pad_id`",
            ),
            Misconception(
                "inverted mask",
                "inverted_mask",
                "your mask is inverted: your loss averages the padded steps (token `pad_id`) "
                "and drops the real tokens",
            ),
            Misconception(
                "mean of sequence means",
                "mean_of_sequence_means",
                "your loss averages each sequence first and then the sequences, so a short "
                "sequence's tokens weigh more; divide the sum over all real tokens by their number",
            ),
            Misconception(
                "no gradient",
                "stops_the_gradient",
                "your loss has the right value but no gradient reaches y_pred (stop_gradient, "
                "argmax of y_pred, or NumPy on its values cut it), so a model could not train "
                "with it",
            ),
        ],
        judge={
            "what": "what your loss returned",
            "success": "your loss finds the padding token in y_true and divides by the number of "
            "real tokens, eagerly and traced as `fit` traces it, with a gradient for training.",
            "fallback": "your loss is not the mean, over the real (non-padded) steps, of the "
            "per-step mean absolute error",
            "facts": [
                Fact(
                    "compiled",
                    "your loss does not give the same value inside a compiled graph, as `fit` "
                    "runs it: there y_true and y_pred are symbolic tensors of unknown batch size; "
                    "use keras.ops only (no NumPy, `.numpy()`, Python `if` or `.shape[0]`)",
                ),
                Fact(
                    "gradient",
                    "your loss has the right value but no gradient reaches y_pred "
                    "(stop_gradient, argmax of y_pred, or NumPy on its values cut it), so a "
                    "model could not train with it",
                ),
            ],
            "custom": _loss_rule,
        },
        hints=[
            "A padded step is one whose `y_true` row is the one-hot row of token `pad_id`, so "
            "`ops.argmax(y_true, axis=-1)` equals `pad_id` there. Build a (batch, time) mask of "
            "the real steps from that, and weight the per-step losses with it.",
            "Thread 002's per-step loss is `ops.mean(ops.abs(y_pred - y_true), axis=-1)`, shape "
            "(batch, time). Divide the masked sum by the number of real tokens, `ops.sum(mask)`: "
            "not by the batch size, not by the number of steps.",
            "`real = ops.cast(ops.not_equal(ops.argmax(y_true, axis=-1), pad_id), "
            "y_pred.dtype)`, then `ops.sum(per_step * real) / ops.maximum(ops.sum(real), 1.0)`.",
        ],
    ),
    Exercise(
        lesson=LESSON,
        name="real_step_weights",
        answer_name="real_step_weights",
        title="sample_weight that makes Keras average over real steps",
        cases=_weights_cases,
        probe=_weights_probe,
        reference="real_step_weights",
        alternatives=["weights_over_the_mean", "weights_with_a_loop"],
        misconceptions=[
            Misconception(
                "the mask as weights",
                "weights_the_mask",
                "with the mask as weights Keras still divides the weighted sum by every step "
                "(batch x time), not by the sum of the weights; scale the real steps' weights "
                "up by steps / real tokens",
            ),
            Misconception(
                "assumes Keras divides by the batch size",
                "weights_for_a_batch_size_denominator",
                "your weights scale the real steps by batch size / real tokens, as if Keras "
                "divided the weighted sum by the batch size; it divides by batch x time, so "
                "scale by (batch x time) / real tokens",
            ),
            Misconception(
                "assumes Keras divides by the number of steps",
                "weights_for_a_steps_denominator",
                "your weights scale the real steps by the number of time steps / real tokens, as "
                "if Keras divided the weighted sum by the steps of one sequence; it divides by "
                "batch x time, so scale by (batch x time) / real tokens",
            ),
            Misconception(
                "weights sum to one",
                "weights_sum_to_one",
                "your weights add up to one, but Keras divides the weighted sum by batch x time, "
                "not by the sum of the weights; scale by (batch x time) / real tokens",
            ),
            Misconception(
                "inverted",
                "weights_inverted",
                "your weights are inverted: they keep the padded steps, whose loss is 0",
            ),
            Misconception(
                "per-row normalised",
                "weights_per_row",
                "your weights normalise each row by its own length, which averages sequences "
                "first; normalise by the number of real tokens in the whole batch",
            ),
        ],
        judge={
            "what": "your sample_weight",
            "success": "with your weights, Keras's own loss equals the mean over the real steps.",
            "fallback": "with your weights, Keras's loss is not the mean over the real steps",
        },
        hints=[
            "Keras's default reduction divides the weighted sum of per-step losses by "
            "batch x time, whatever the weights add up to.",
            "Padding gets weight 0; a real step gets (batch x time) / (number of real tokens), "
            "so the division by batch x time cancels.",
            "`mask = np.any(y_true != 0, axis=-1)`, then `mask * mask.size / mask.sum()`.",
        ],
    ),
]
