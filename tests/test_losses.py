"""The reference losses: values against NumPy, the denominators, the argmax weight, gradients,
and that both run inside a compiled `fit`."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from course_utils import losses
from course_utils.answers import l07_fix_argmax_loss as l07

START, END = 4, 5  # symbols 0..3, then start and end, as in the naive encoding
VOCAB = 6


def _probs(pred_ids, vocab=VOCAB, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 0.3, size=(*np.shape(pred_ids), vocab))
    np.put_along_axis(logits, np.asarray(pred_ids)[..., None], 3.0, -1)
    e = np.exp(logits)
    return (e / e.sum(-1, keepdims=True)).astype("float32")


def _np_ce(y_true, y_pred):
    picked = np.take_along_axis(y_pred, np.asarray(y_true)[..., None], -1)[..., 0]
    return -np.log(np.clip(picked, 1e-7, 1 - 1e-7))


# Fixed encoding: 0 is padding.
Y_FIXED = np.array([[3, 2, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0], [2, 2, 3, 1, 3, 0]], dtype="int32")
P_FIXED = _probs([[3, 1, 1, 0, 2, 0], [2, 3, 0, 0, 0, 1], [2, 2, 3, 1, 3, 0]])

# Naive encoding: padded by repeating the end token.
Y_NAIVE = np.array([[2, 0, END, END, END], [1, 3, 3, END, END], [START, 1, END, END, END]])
PRED_NAIVE = np.array([[2, 0, END, 1, END], [1, END, 3, 2, END], [START, 1, 0, END, END]])
P_NAIVE = _probs(PRED_NAIVE)


def test_token_crossentropy_matches_keras():
    expected = keras.losses.sparse_categorical_crossentropy(Y_FIXED, P_FIXED)
    np.testing.assert_allclose(losses.token_crossentropy(Y_FIXED, P_FIXED), expected, rtol=1e-5)


def test_masked_loss_is_the_mean_over_real_tokens_only():
    ce = _np_ce(Y_FIXED, P_FIXED)
    mask = Y_FIXED != 0
    np.testing.assert_allclose(losses.masked_loss(Y_FIXED, P_FIXED), ce[mask].mean(), rtol=1e-5)


def test_masked_loss_divides_by_real_tokens_not_by_steps():
    ce = _np_ce(Y_FIXED, P_FIXED)
    mask = Y_FIXED != 0
    over_steps = (ce * mask).sum() / ce.size
    loss = float(losses.masked_loss(Y_FIXED, P_FIXED))
    np.testing.assert_allclose(over_steps, loss * mask.sum() / mask.size, rtol=1e-5)
    assert loss > over_steps


def test_masked_loss_of_a_batch_without_real_tokens_is_zero_not_nan():
    assert float(losses.masked_loss(np.zeros_like(Y_FIXED), P_FIXED)) == 0.0


def test_one_hot_targets_give_the_same_losses_as_ids():
    one_hot = np.eye(VOCAB, dtype="float32")[Y_FIXED]
    np.testing.assert_allclose(
        losses.masked_loss(one_hot, P_FIXED), losses.masked_loss(Y_FIXED, P_FIXED), rtol=1e-6
    )
    np.testing.assert_allclose(
        losses.argmax_skip_weight(np.eye(VOCAB)[Y_NAIVE], P_NAIVE, START, END),
        losses.argmax_skip_weight(Y_NAIVE, P_NAIVE, START, END),
    )


def test_skip_weight_is_zero_only_on_correct_start_and_end_tokens():
    weight = np.asarray(losses.argmax_skip_weight(Y_NAIVE, P_NAIVE, START, END))
    expected = 1.0 - ((Y_NAIVE == PRED_NAIVE) & np.isin(Y_NAIVE, [START, END]))
    np.testing.assert_array_equal(weight, expected)
    # A mispredicted end token and a correct ordinary token both keep their loss.
    assert weight[0, 3] == 1.0 and weight[0, 0] == 1.0
    assert weight[2, 0] == 0.0  # a correct start token is free


def test_argmax_loss_is_the_weighted_crossentropy_averaged_over_every_step():
    weight = np.asarray(losses.argmax_skip_weight(Y_NAIVE, P_NAIVE, START, END))
    expected = np.mean(_np_ce(Y_NAIVE, P_NAIVE) * weight)
    np.testing.assert_allclose(
        losses.argmax_loss(Y_NAIVE, P_NAIVE, START, END), expected, rtol=1e-5
    )


def test_no_gradient_flows_through_the_argmax_weight():
    y_pred = tf.constant(P_NAIVE)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(y_pred)
        weight_sum = ops.sum(losses.argmax_skip_weight(Y_NAIVE, y_pred, START, END))
        loss = losses.argmax_loss(Y_NAIVE, y_pred, START, END)
        frozen = ops.mean(
            losses.token_crossentropy(Y_NAIVE, y_pred)
            * tf.stop_gradient(losses.argmax_skip_weight(Y_NAIVE, y_pred, START, END))
        )
    assert tape.gradient(weight_sum, y_pred) is None
    np.testing.assert_allclose(tape.gradient(loss, y_pred), tape.gradient(frozen, y_pred))


def test_lesson_07_references_agree_with_the_shared_losses():
    one_hot = np.eye(VOCAB, dtype="float32")[Y_NAIVE]  # lesson 07 takes the asker's one-hot rows
    np.testing.assert_allclose(
        l07.skip_weight(one_hot, P_NAIVE, START, END),
        losses.argmax_skip_weight(Y_NAIVE, P_NAIVE, START, END),
    )
    np.testing.assert_allclose(
        l07.argmax_loss(one_hot, P_NAIVE, START, END),
        losses.argmax_loss(Y_NAIVE, P_NAIVE, START, END),
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        l07.masked_loss(Y_FIXED.astype("float32"), P_FIXED),
        losses.masked_loss(Y_FIXED, P_FIXED),
        rtol=1e-5,
    )


@pytest.mark.parametrize(
    "loss",
    [losses.make_masked_loss(0), losses.make_argmax_loss(START, END)],
    ids=["masked_loss", "argmax_loss"],
)
def test_losses_train_inside_a_compiled_fit(loss):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(VOCAB, 4),
            keras.layers.Dense(VOCAB, activation="softmax"),
        ]
    )
    model.compile("adam", loss=loss)
    history = model.fit(Y_NAIVE, Y_NAIVE, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert loss.__name__ in ("masked_loss", "argmax_loss")
