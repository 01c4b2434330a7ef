"""Reference sequence losses, written with `keras.ops` so they run inside a compiled `fit`.

Shapes: `y_true` holds token ids `(batch, time)` (or one-hot `(batch, time, vocab)`), `y_pred`
holds probabilities `(batch, time, vocab)`. Every function works on eager and on symbolic tensors:
conditions are computed as tensors (`ops.equal`, `ops.logical_and`, ...), never with Python `if`.

- `masked_loss`: the general fix. The mask comes from `y_true` (`y_true != pad_id`) and the sum
  of per-token losses is divided by the number of real tokens, not by the number of steps.
- `argmax_loss`: lesson 07's "fix 3". A step whose predicted token (argmax) equals its true
  token, when that token is the start or the end token, costs nothing. The condition has no
  gradient, so it only acts as a constant per-step weight on the crossentropy.

- `one_hot_mae`: thread 002's own loss, mean absolute error between the one-hot target and the
  predicted probabilities, per step. `argmax_loss(..., base=one_hot_mae)` is the thread's fix 3
  exactly as its answer wrote it; the course teaches it on crossentropy.

`make_masked_loss(pad_id)` and `make_argmax_loss(start_id, end_id)` bind the ids and return a
two-argument `loss(y_true, y_pred)` for `model.compile(loss=...)`.
"""

from __future__ import annotations

from keras import ops

# Probabilities are clipped away from 0 before the log, as Keras' own crossentropy does.
EPSILON = 1e-7


def true_ids(y_true, y_pred):
    """`y_true` as int32 token ids `(batch, time)`: sparse ids pass through, one-hot rows
    (same rank as `y_pred`) become their argmax. The ranks are static, so this Python `if`
    runs once at trace time and never looks at a tensor's values."""
    if len(y_true.shape) == len(y_pred.shape):
        return ops.cast(ops.argmax(y_true, axis=-1), "int32")
    return ops.cast(y_true, "int32")


def token_crossentropy(y_true, y_pred):
    """Per-step crossentropy `-log p(true token)`, shape `(batch, time)`."""
    ids = true_ids(y_true, y_pred)
    vocab = y_pred.shape[-1]
    probs = ops.clip(y_pred, EPSILON, 1.0 - EPSILON)
    picked = ops.sum(ops.one_hot(ids, vocab, dtype=probs.dtype) * probs, axis=-1)
    return -ops.log(picked)


def one_hot_mae(y_true, y_pred):
    """Per-step mean absolute error between the one-hot target and the probabilities, shape
    `(batch, time)`: `mean(|y_pred - one_hot(y_true)|, axis=-1)`, thread 002's loss."""
    ids = true_ids(y_true, y_pred)
    target = ops.one_hot(ids, y_pred.shape[-1], dtype=y_pred.dtype)
    return ops.mean(ops.abs(y_pred - target), axis=-1)


def real_token_mask(y_true, y_pred, pad_id: int = 0):
    """float32 `(batch, time)`: 1.0 where the target is a real token (`!= pad_id`), else 0.0."""
    return ops.cast(ops.not_equal(true_ids(y_true, y_pred), pad_id), "float32")


def masked_loss(y_true, y_pred, pad_id: int = 0):
    """Mean crossentropy over the real tokens only: `sum(loss * mask) / sum(mask)`, the mask
    taken from `y_true`. A batch with no real token gives 0, not NaN."""
    mask = real_token_mask(y_true, y_pred, pad_id)
    losses = token_crossentropy(y_true, y_pred) * mask
    return ops.sum(losses) / ops.maximum(ops.sum(mask), 1.0)


def argmax_skip_weight(y_true, y_pred, start_id: int, end_id: int):
    """float32 `(batch, time)`: 0.0 where the predicted token (argmax over the vocabulary, the
    last axis) equals the true token and that token is `start_id` or `end_id`, else 1.0.
    Built from argmax and equality, it carries no gradient: a constant weight per step."""
    ids = true_ids(y_true, y_pred)
    predicted = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
    special = ops.logical_or(ops.equal(ids, start_id), ops.equal(ids, end_id))
    skip = ops.logical_and(ops.equal(ids, predicted), special)
    return 1.0 - ops.cast(skip, "float32")


def argmax_loss(y_true, y_pred, start_id: int, end_id: int, base=token_crossentropy):
    """`base` (per-step crossentropy unless told otherwise) with no loss on correctly predicted
    start/end tokens, averaged over every step (a skipped step counts as a step with loss 0):
    `mean(loss * weight)`."""
    weight = argmax_skip_weight(y_true, y_pred, start_id, end_id)
    return ops.mean(base(y_true, y_pred) * weight)


def make_masked_loss(pad_id: int = 0):
    """`loss(y_true, y_pred)` = `masked_loss` with `pad_id` bound, for `compile(loss=...)`."""

    def loss(y_true, y_pred):
        return masked_loss(y_true, y_pred, pad_id)

    loss.__name__ = "masked_loss"
    return loss


def make_argmax_loss(start_id: int, end_id: int, base=token_crossentropy):
    """`loss(y_true, y_pred)` = `argmax_loss` with the ids (and `base`) bound, for
    `compile(loss=...)`."""

    def loss(y_true, y_pred):
        return argmax_loss(y_true, y_pred, start_id, end_id, base)

    loss.__name__ = "argmax_loss"
    return loss
