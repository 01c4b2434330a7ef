"""Answers of lesson 07's exercises: the references, right answers written differently, and each
named mistake (see `course_utils.lessons.l07_fix_argmax_loss`).

`skip_weight` and `argmax_loss` take thread 002's encoding: `y_true` one-hot (batch, time, vocab),
naive padding (the end token repeated). `masked_loss` takes lesson 05's fixed encoding: `y_true`
ids (batch, time), 0 = padding. Inside `fit` every `y_true` arrives as float32.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

# ================================================================ exercise 1: skip_weight


def skip_weight(y_true, y_pred, start_id, end_id):
    true_id = ops.argmax(y_true, axis=-1)  # one-hot rows -> token ids (batch, time)
    pred_id = ops.argmax(y_pred, axis=-1)  # probabilities -> predicted ids (batch, time)
    special = ops.logical_or(ops.equal(true_id, start_id), ops.equal(true_id, end_id))
    skip = ops.logical_and(ops.equal(true_id, pred_id), special)
    return 1.0 - ops.cast(skip, "float32")


# ----------------------------------------------------------------- written differently


def skip_weight_as_the_thread_writes(y_true, y_pred, start_id, end_id):
    """The answer in thread 002, in `keras.ops`: float flags, `+` for or, `*` for and."""
    true_id = ops.argmax(y_true, axis=-1)
    pred_id = ops.argmax(y_pred, axis=-1)
    equal_mask = ops.cast(ops.equal(true_id, pred_id), "float32")
    is_start = ops.cast(ops.equal(true_id, start_id), "float32")
    is_end = ops.cast(ops.equal(true_id, end_id), "float32")
    return 1.0 - (is_start + is_end) * equal_mask


def skip_weight_from_the_prediction(y_true, y_pred, start_id, end_id):
    """Tests the *predicted* id for start/end: the same where it matters, since a skipped step
    has equal ids."""
    pred_id = ops.argmax(y_pred, axis=-1)
    right = ops.equal(pred_id, ops.argmax(y_true, axis=-1))
    special = ops.logical_or(pred_id == start_id, pred_id == end_id)  # `==` on tensors is ops.equal
    return ops.where(ops.logical_and(right, special), 0.0, 1.0)


# ----------------------------------------------------------------- misconceptions


def _skip(y_true, y_pred, start_id, end_id, *, axis=-1, match=True, special=True, join="and"):
    """The weight with one piece of the rule changed (the keyword arguments)."""
    true_id = ops.argmax(y_true, axis=axis)
    pred_id = ops.argmax(y_pred, axis=axis)
    is_match = ops.equal(true_id, pred_id)
    is_special = ops.logical_or(ops.equal(true_id, start_id), ops.equal(true_id, end_id))
    if join == "or":
        skip = ops.logical_or(is_match, is_special)
    elif not match:
        skip = is_special
    elif not special:
        skip = is_match
    else:
        skip = ops.logical_and(is_match, is_special)
    return 1.0 - ops.cast(skip, "float32")


def skip_python_if(y_true, y_pred, start_id, end_id):
    true_id = ops.argmax(y_true, axis=-1)
    pred_id = ops.argmax(y_pred, axis=-1)
    if true_id == pred_id and (true_id == start_id or true_id == end_id):
        return ops.zeros_like(pred_id)
    return ops.ones_like(pred_id)


def skip_python_loop(y_true, y_pred, start_id, end_id):
    true_id = ops.argmax(y_true, axis=-1)
    pred_id = ops.argmax(y_pred, axis=-1)
    rows = []
    for b in range(y_true.shape[0]):
        row = []
        for t in range(y_true.shape[1]):
            true_bt, pred_bt = int(true_id[b, t]), int(pred_id[b, t])
            row.append(0.0 if true_bt == pred_bt and true_bt in (start_id, end_id) else 1.0)
        rows.append(row)
    return ops.convert_to_tensor(rows)


def skip_numpy(y_true, y_pred, start_id, end_id):
    true_id = y_true.numpy().argmax(axis=-1)
    pred_id = y_pred.numpy().argmax(axis=-1)
    skip = (true_id == pred_id) & np.isin(true_id, [start_id, end_id])
    return 1.0 - skip.astype("float32")


def skip_wrong_axis(y_true, y_pred, start_id, end_id):
    return _skip(y_true, y_pred, start_id, end_id, axis=1)


def skip_every_special(y_true, y_pred, start_id, end_id):
    return _skip(y_true, y_pred, start_id, end_id, match=False)


def skip_every_right_step(y_true, y_pred, start_id, end_id):
    return _skip(y_true, y_pred, start_id, end_id, special=False)


def skip_joined_with_or(y_true, y_pred, start_id, end_id):
    return _skip(y_true, y_pred, start_id, end_id, join="or")


def skip_only_the_end(y_true, y_pred, start_id, end_id):
    true_id = ops.argmax(y_true, axis=-1)
    right = ops.equal(true_id, ops.argmax(y_pred, axis=-1))
    return 1.0 - ops.cast(ops.logical_and(right, ops.equal(true_id, end_id)), "float32")


def skip_inverted(y_true, y_pred, start_id, end_id):
    return 1.0 - skip_weight(y_true, y_pred, start_id, end_id)


def skip_compares_probabilities(y_true, y_pred, start_id, end_id):
    """The asker's `y == _y`: probabilities never equal a one-hot row, so nothing is skipped."""
    true_id = ops.argmax(y_true, axis=-1)
    same_row = ops.all(ops.equal(y_true, y_pred), axis=-1)
    special = ops.logical_or(ops.equal(true_id, start_id), ops.equal(true_id, end_id))
    return 1.0 - ops.cast(ops.logical_and(same_row, special), "float32")


def skip_isin(y_true, y_pred, start_id, end_id):
    """Right in a quick test; inside `fit` Keras' own `isin` branches on a tensor."""
    true_id = ops.cast(ops.argmax(y_true, axis=-1), "int32")
    pred_id = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
    special = ops.isin(true_id, ops.convert_to_tensor([start_id, end_id], "int32"))
    return 1.0 - ops.cast(ops.logical_and(ops.equal(true_id, pred_id), special), "float32")


def skip_reads_ids(y_true, y_pred, start_id, end_id):
    """Lecture 07's weight copied as it is: `y_true` read as ids, although it is one-hot here."""
    true_id = ops.cast(y_true, "int32")
    pred_id = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
    special = ops.logical_or(ops.equal(true_id, start_id), ops.equal(true_id, end_id))
    skip = ops.logical_and(ops.equal(true_id, pred_id), special)
    return 1.0 - ops.cast(skip, "float32")


# ================================================================ exercise 2: masked_loss


def masked_loss(y_true, y_pred):
    mask = ops.cast(ops.not_equal(y_true, 0), "float32")  # (batch, time), 1.0 = real token
    per_step = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)  # (batch, time)
    return ops.sum(per_step * mask) / ops.maximum(ops.sum(mask), 1.0)


# ----------------------------------------------------------------- written differently


def masked_loss_with_ignore_class(y_true, y_pred):
    """Keras 3's own: `ignore_class=0` leaves padding out of the sum and of the count."""
    return keras.losses.SparseCategoricalCrossentropy(ignore_class=0)(y_true, y_pred)


def masked_loss_divide_no_nan(y_true, y_pred):
    mask = ops.not_equal(y_true, 0)
    per_step = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
    total = ops.sum(ops.where(mask, per_step, 0.0))
    return ops.divide_no_nan(total, ops.sum(ops.cast(mask, "float32")))


# ----------------------------------------------------------------- misconceptions


def _masked_parts(y_true, y_pred):
    mask = ops.cast(ops.not_equal(y_true, 0), "float32")
    return keras.losses.sparse_categorical_crossentropy(y_true, y_pred), mask


def masked_over_every_step(y_true, y_pred):
    per_step, mask = _masked_parts(y_true, y_pred)
    return ops.sum(per_step * mask) / ops.cast(ops.size(mask), "float32")


def masked_over_batch_size(y_true, y_pred):
    per_step, mask = _masked_parts(y_true, y_pred)
    return ops.sum(per_step * mask) / ops.cast(ops.shape(mask)[0], "float32")


def masked_over_time_steps(y_true, y_pred):
    per_step, mask = _masked_parts(y_true, y_pred)
    return ops.sum(per_step * mask) / ops.cast(ops.shape(mask)[1], "float32")


def masked_no_mask(y_true, y_pred):
    return ops.mean(keras.losses.sparse_categorical_crossentropy(y_true, y_pred))


def masked_from_prediction(y_true, y_pred):
    per_step, _ = _masked_parts(y_true, y_pred)
    mask = ops.cast(ops.not_equal(ops.argmax(y_pred, axis=-1), 0), "float32")
    return ops.sum(per_step * mask) / ops.maximum(ops.sum(mask), 1.0)


def masked_mean_of_sequences(y_true, y_pred):
    per_step, mask = _masked_parts(y_true, y_pred)
    counts = ops.sum(mask, axis=1)
    per_row = ops.sum(per_step * mask, axis=1) / ops.maximum(counts, 1.0)
    rows = ops.cast(counts > 0, "float32")
    return ops.sum(per_row * rows) / ops.maximum(ops.sum(rows), 1.0)


def masked_python_if(y_true, y_pred):
    per_step, mask = _masked_parts(y_true, y_pred)
    if ops.sum(mask) == 0:
        return ops.convert_to_tensor(0.0)
    return ops.sum(per_step * mask) / ops.sum(mask)


def masked_nan_when_empty(y_true, y_pred):
    per_step, mask = _masked_parts(y_true, y_pred)
    return ops.sum(per_step * mask) / ops.sum(mask)


def masked_stop_gradient(y_true, y_pred):
    return ops.stop_gradient(masked_loss(y_true, y_pred))


# ================================================================ exercise 3: argmax_loss


def argmax_loss(y_true, y_pred, start_id, end_id):
    per_step = keras.losses.categorical_crossentropy(
        y_true, y_pred
    )  # one-hot y_true: (batch, time)
    return ops.mean(per_step * skip_weight(y_true, y_pred, start_id, end_id))


# ----------------------------------------------------------------- written differently


def argmax_loss_with_sample_weight(y_true, y_pred, start_id, end_id):
    """The weight as `sample_weight`: the default reduction divides by every step too."""
    weight = skip_weight_as_the_thread_writes(y_true, y_pred, start_id, end_id)
    return keras.losses.CategoricalCrossentropy()(y_true, y_pred, sample_weight=weight)


def argmax_loss_by_hand(y_true, y_pred, start_id, end_id):
    """Crossentropy from the probabilities of the true tokens, summed and divided by the steps."""
    picked = ops.sum(y_true * ops.clip(y_pred, 1e-7, 1.0 - 1e-7), axis=-1)
    weight = skip_weight_from_the_prediction(y_true, y_pred, start_id, end_id)
    steps = ops.cast(ops.shape(weight)[0] * ops.shape(weight)[1], "float32")
    return ops.sum(-ops.log(picked) * weight) / steps


def argmax_loss_on_ids(y_true, y_pred, start_id, end_id):
    """The one-hot rows turned into ids first, then the sparse crossentropy."""
    ids = ops.argmax(y_true, axis=-1)
    per_step = keras.losses.sparse_categorical_crossentropy(ids, y_pred)
    return ops.mean(per_step * skip_weight(y_true, y_pred, start_id, end_id))


# ----------------------------------------------------------------- misconceptions


def _argmax_with(weight_fn):
    def loss(y_true, y_pred, start_id, end_id):
        per_step = keras.losses.categorical_crossentropy(y_true, y_pred)
        return ops.mean(per_step * weight_fn(y_true, y_pred, start_id, end_id))

    return loss


argmax_wrong_axis = _argmax_with(skip_wrong_axis)
argmax_every_special = _argmax_with(skip_every_special)
argmax_inverted = _argmax_with(skip_inverted)


def argmax_python_if(y_true, y_pred, start_id, end_id):
    per_step = keras.losses.categorical_crossentropy(y_true, y_pred)
    if ops.all(ops.equal(ops.argmax(y_true, axis=-1), ops.argmax(y_pred, axis=-1))):
        return ops.convert_to_tensor(0.0)
    return ops.mean(per_step)


def argmax_over_kept_steps(y_true, y_pred, start_id, end_id):
    weight = skip_weight(y_true, y_pred, start_id, end_id)
    per_step = keras.losses.categorical_crossentropy(y_true, y_pred)
    return ops.sum(per_step * weight) / ops.maximum(ops.sum(weight), 1.0)


def argmax_over_batch_size(y_true, y_pred, start_id, end_id):
    weight = skip_weight(y_true, y_pred, start_id, end_id)
    per_step = keras.losses.categorical_crossentropy(y_true, y_pred)
    return ops.sum(per_step * weight) / ops.cast(ops.shape(weight)[0], "float32")


def argmax_no_weight(y_true, y_pred, start_id, end_id):
    return ops.mean(keras.losses.categorical_crossentropy(y_true, y_pred))


def argmax_stop_gradient(y_true, y_pred, start_id, end_id):
    return ops.stop_gradient(argmax_loss(y_true, y_pred, start_id, end_id))
