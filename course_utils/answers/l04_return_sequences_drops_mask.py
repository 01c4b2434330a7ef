"""Answers of lesson 04's exercises: the references, right answers written differently, and each
named mistake (see `course_utils.lessons.l04_return_sequences_drops_mask`)."""

from __future__ import annotations

import numpy as np

# --------------------------------------------------------------------------- exercise 1: predict
# In the order of LAYER_CONFIGS: bi_lstm_seq, gru_last, simple_rnn_seq, avg_pool, layer_norm,
# max_pool.

MASK_SURVIVES = [True, False, True, False, True, False]

# written differently
MASK_SURVIVES_AS_INTS = [1, 0, 1, 0, 1, 0]
MASK_SURVIVES_AS_ARRAY = np.array(MASK_SURVIVES)

# misconceptions
GRU_KEEPS_IT = [True, True, True, False, True, False]
SIMPLE_RNN_DROPS_IT = [True, False, False, False, True, False]
AVERAGE_POOLING_KEEPS_IT = [True, False, True, True, True, False]
MAX_POOLING_KEEPS_IT = [True, False, True, False, True, True]
BIDIRECTIONAL_DROPS_IT = [False, False, True, False, True, False]
NORMALISATION_DROPS_IT = [True, False, True, False, False, False]
A_DICT = {
    "bi_lstm_seq": True,
    "gru_last": False,
    "simple_rnn_seq": True,
    "avg_pool": False,
    "layer_norm": True,
    "max_pool": False,
}


# --------------------------------------------------------------------------- exercise 2: the loss


def masked_mean_absolute_error(y_true, y_pred, pad_id):
    """Thread 002's mean absolute error, masked: `y_true` one-hot `(batch, time, vocab)` with
    padding the one-hot row of token `pad_id`; the mean over the real steps of each step's
    mean over the vocabulary of |y_pred - y_true| -> a scalar."""
    from keras import ops

    real = ops.cast(ops.not_equal(ops.argmax(y_true, axis=-1), pad_id), y_pred.dtype)
    per_step = ops.mean(ops.abs(y_pred - y_true), axis=-1)  # (batch, time)
    return ops.sum(per_step * real) / ops.maximum(ops.sum(real), 1.0)


# ----------------------------------------------------------------- written differently


def compare_with_the_padding_row(y_true, y_pred, pad_id):
    """The lecture's rule: padding is a row equal to the padding row in every feature."""
    from keras import ops

    padding_row = ops.one_hot(pad_id, ops.shape(y_true)[-1])
    padding = ops.all(ops.equal(y_true, ops.cast(padding_row, y_true.dtype)), axis=-1)
    real = 1.0 - ops.cast(padding, "float32")
    per_step = keras_mae(y_true, y_pred)
    return ops.sum(per_step * real) / ops.sum(real)


def keras_mae(y_true, y_pred):
    from keras import losses

    return losses.mean_absolute_error(y_true, y_pred)


def builtin_with_mask_as_weights(y_true, y_pred, pad_id):
    """Keras 3's reduction that divides by the sum of the weights, the mask as the weights."""
    import keras

    real = 1.0 - y_true[..., pad_id]  # the pad token's column of a one-hot row
    mae = keras.losses.MeanAbsoluteError(reduction="mean_with_sample_weight")
    return mae(y_true, y_pred, sample_weight=real)


# ----------------------------------------------------------------- misconceptions


def _real(y_true, pad_id):
    from keras import ops

    return ops.cast(ops.not_equal(ops.argmax(y_true, axis=-1), pad_id), "float32")


def _mae_steps(y_true, y_pred):
    from keras import ops

    return ops.mean(ops.abs(y_pred - y_true), axis=-1)


def divides_by_batch_size(y_true, y_pred, pad_id):
    """Sums each sequence's real steps, then averages the sequences: / batch size."""
    from keras import ops

    return ops.mean(ops.sum(_mae_steps(y_true, y_pred) * _real(y_true, pad_id), axis=1))


def divides_by_every_step(y_true, y_pred, pad_id):
    """`ops.mean` of the masked losses: / (batch x time), as d2l's MaskedSoftmaxCELoss."""
    from keras import ops

    return ops.mean(_mae_steps(y_true, y_pred) * _real(y_true, pad_id))


def sums_over_the_vocabulary(y_true, y_pred, pad_id):
    from keras import ops

    per_step = ops.sum(ops.abs(y_pred - y_true), axis=-1)
    real = _real(y_true, pad_id)
    return ops.sum(per_step * real) / ops.maximum(ops.sum(real), 1.0)


def lecture_cross_entropy(y_true, y_pred, pad_id):
    """The lecture's masked categorical cross-entropy, copied: the wrong per-step loss."""
    from keras import ops

    real = _real(y_true, pad_id)
    per_step = ops.categorical_crossentropy(y_true, y_pred)
    return ops.sum(per_step * real) / ops.maximum(ops.sum(real), 1.0)


def looks_for_all_zero_rows(y_true, y_pred, pad_id):
    """The course's '#' rule (an all-zero row): masks nothing in a one-hot pad class."""
    from keras import ops

    real = ops.cast(ops.any(ops.not_equal(y_true, 0), axis=-1), "float32")
    per_step = _mae_steps(y_true, y_pred)
    return ops.sum(per_step * real) / ops.maximum(ops.sum(real), 1.0)


def token_zero_is_padding(y_true, y_pred, pad_id):
    return masked_mean_absolute_error(y_true, y_pred, 0)


def inverted_mask(y_true, y_pred, pad_id):
    from keras import ops

    padded = 1.0 - _real(y_true, pad_id)
    return ops.sum(_mae_steps(y_true, y_pred) * padded) / ops.maximum(ops.sum(padded), 1.0)


def mean_of_sequence_means(y_true, y_pred, pad_id):
    from keras import ops

    real = _real(y_true, pad_id)
    per_sequence = ops.sum(_mae_steps(y_true, y_pred) * real, axis=1)
    return ops.mean(per_sequence / ops.maximum(ops.sum(real, axis=1), 1.0))


def stops_the_gradient(y_true, y_pred, pad_id):
    """The right value, but `stop_gradient` (or NumPy) cuts the loss from `y_pred`."""
    from keras import ops

    return masked_mean_absolute_error(y_true, ops.stop_gradient(y_pred), pad_id)


# --------------------------------------------------------------------------- exercise 3: weights


def _mask(y_true) -> np.ndarray:
    return np.any(np.asarray(y_true) != 0, axis=-1).astype("float32")  # (batch, time)


def real_step_weights(y_true):
    """`sample_weight` `(batch, time)` that makes Keras's loss (which divides the weighted sum by
    batch x time) equal the mean over real steps: real steps weigh steps / real tokens, padding 0."""
    mask = np.any(np.asarray(y_true) != 0, axis=-1).astype("float32")  # (batch, time)
    return mask * mask.size / max(mask.sum(), 1.0)


# ----------------------------------------------------------------- written differently


def weights_over_the_mean(y_true):
    mask = _mask(y_true)
    return mask / mask.mean()


def weights_with_a_loop(y_true):
    batch, time = np.shape(y_true)[:2]
    real = [[bool(np.any(np.asarray(step) != 0)) for step in row] for row in y_true]
    count = sum(sum(row) for row in real)
    return [[batch * time / count if r else 0.0 for r in row] for row in real]


# ----------------------------------------------------------------- misconceptions


def weights_the_mask(y_true):
    return _mask(y_true)


def weights_inverted(y_true):
    padded = 1.0 - _mask(y_true)
    return padded * padded.size / max(padded.sum(), 1.0)


def weights_per_row(y_true):
    mask = _mask(y_true)
    return mask * mask.shape[1] / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)


def weights_sum_to_one(y_true):
    mask = _mask(y_true)
    return mask / mask.sum()


def weights_for_a_batch_size_denominator(y_true):
    """Scaled as if Keras divided the weighted sum by the batch size."""
    mask = _mask(y_true)
    return mask * mask.shape[0] / mask.sum()


def weights_for_a_steps_denominator(y_true):
    """Scaled as if Keras divided the weighted sum by the number of steps of a sequence."""
    mask = _mask(y_true)
    return mask * mask.shape[1] / mask.sum()
