"""Lesson 04 checks: the answer key and the exercises' premises are measured on the installed
Keras, and losses that only work eagerly are caught."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.checking import Status
from course_utils.lessons import l04_return_sequences_drops_mask as l04
from course_utils.registry import exercises

keras = pytest.importorskip("keras")
ops = keras.ops

q = exercises("04")


def test_the_answer_key_matches_the_masks_keras_attaches():
    from course_utils.masks import layer_output_mask

    x = np.ones((2, 4, 3), dtype="float32")
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    measured = [
        layer_output_mask(l04.build_layer(name), x, mask) is not None for name in l04.LAYER_CONFIGS
    ]
    assert measured == l04.MASK_SURVIVES


def test_numpy_cross_entropy_matches_keras():
    _, y_true, y_pred = l04._loss_cases()[0]
    np.testing.assert_allclose(
        l04.per_step_crossentropy(y_true, y_pred),
        keras.losses.categorical_crossentropy(y_true, y_pred),
        rtol=1e-5,
    )


def test_keras_divides_weighted_losses_by_every_step_not_by_the_weights():
    # The premise of exercise 3: weights equal to the mask leave the all-steps mean.
    _, y_true, y_pred = l04._loss_cases()[0]
    per_step = l04.per_step_crossentropy(y_true, y_pred)
    weights = l04.real_steps(y_true).astype("float32")
    got = l04.keras_weighted_loss(y_true, y_pred, weights)
    np.testing.assert_allclose(got, per_step.sum() / per_step.size, rtol=1e-5)


def test_reference_loss_equals_evaluate_of_a_model_with_it():
    _, y_true, y_pred = l04._loss_cases()[0]
    inputs = keras.Input(y_pred.shape[1:])
    model = keras.Model(inputs, keras.layers.Identity()(inputs))
    model.compile(loss=l04.masked_categorical_crossentropy)
    got = model.evaluate(y_pred, y_true, batch_size=len(y_true), verbose=0)
    per_step = l04.per_step_crossentropy(y_true, y_pred)
    np.testing.assert_allclose(got, per_step[l04.real_steps(y_true)].mean(), rtol=1e-5)


def eager_only_loss(y_true, y_pred):
    t, p = y_true.numpy(), y_pred.numpy()
    mask = np.any(t != 0, axis=-1)
    per_step = -(t * np.log(p)).sum(-1)
    return float(per_step[mask].mean())


def per_sequence_loss(y_true, y_pred):
    mask = ops.cast(ops.any(ops.not_equal(y_true, 0), axis=-1), "float32")
    return ops.sum(ops.categorical_crossentropy(y_true, y_pred) * mask, axis=1)


def stub_loss(y_true, y_pred):
    raise NotImplementedError


def test_a_loss_that_only_works_eagerly_is_told_about_the_compiled_graph(progress_file):
    result = q.masked_categorical_crossentropy.check(eager_only_loss)
    assert result.status is Status.FAILED and "compiled graph" in result.message


def test_one_loss_per_sequence_is_asked_for_a_single_number(progress_file):
    result = q.masked_categorical_crossentropy.check(per_sequence_loss)
    assert result.status is Status.FAILED and "single number" in result.message


def test_stubs_and_classes(progress_file):
    assert q.masked_categorical_crossentropy.check(stub_loss).status is Status.NOT_ATTEMPTED
    result = q.real_step_weights.check(keras.losses.CategoricalCrossentropy)
    assert result.status is Status.FAILED and "expected a function" in result.message


def test_predictions_in_the_wrong_order_name_the_first_wrong_layer(progress_file):
    result = q.predict_output_masks.check([False, True, False, True, False, True])
    assert "`bi_lstm_seq`" in result.message


def test_a_numpy_loss_fails_in_the_compiled_graph_instead_of_reading_as_not_attempted():
    def numpy_loss(y_true, y_pred):
        t = np.asarray(y_true)
        p = np.clip(np.asarray(y_pred), 1e-7, 1.0)
        real = t.sum(-1) > 0
        return float((-(t * np.log(p)).sum(-1))[real].mean())

    result = exercises("04").masked_categorical_crossentropy.check(numpy_loss)
    assert result.status == "failed"
    assert "compiled graph" in result.message
