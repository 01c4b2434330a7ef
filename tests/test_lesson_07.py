"""Lesson 07's checks: the cases separate every named misconception, and a loss is graded the
way `fit` runs it (traced, symbolic, y_true as float32)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils.checking import Mistake
from course_utils.lessons import l07_fix_argmax_loss as l07


def test_the_first_skip_case_is_square_so_a_wrong_argmax_axis_returns_the_right_shape():
    y_true, y_pred, _, _ = l07._skip_cases()[0]
    assert y_pred.shape[0] == y_pred.shape[1] == y_pred.shape[2] == y_true.shape[1]


@pytest.mark.parametrize("case", range(3))
def test_every_skip_misconception_differs_from_the_right_weight(case):
    y_true, y_pred, start_id, end_id = l07._skip_cases()[case]
    right = l07._np_skip(y_true, y_pred, start_id, end_id)
    assert 0 < right.sum() < right.size  # some steps are skipped, some are not
    for variant, message in l07._skip_wrong_variants(y_true, y_pred, start_id, end_id):
        assert not np.allclose(variant, right), message


@pytest.mark.parametrize("case", range(2))  # the last case has no padding on purpose
def test_every_masked_loss_misconception_differs_from_the_right_value(case):
    y_true, y_pred = l07._loss_cases()[case]
    *wrong, (right, _) = l07._masked_variants(y_true, y_pred)
    assert (y_true == 0).any(axis=1).any() and (y_true == 0).all(axis=1).any() == (case == 0)
    for value, message in wrong:
        assert not np.isclose(value, right, rtol=1e-4), message


def test_a_python_if_loss_fails_inside_fit_as_the_check_says():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(6, 4),
            keras.layers.Dense(6, activation="softmax"),
        ]
    )

    def python_if_loss(y_true, y_pred):
        weight = l07._skip_python_if(y_true, y_pred, 4, 5)
        return keras.losses.sparse_categorical_crossentropy(y_true, y_pred) * weight

    model.compile("adam", loss=python_if_loss)
    y = np.array([[1, 2, 5, 5], [3, 5, 5, 5]])
    with pytest.raises(tf.errors.OperatorNotAllowedInGraphError):
        model.fit(y, y, epochs=1, verbose=0)


def test_the_compiled_call_sees_symbolic_float_targets_with_unknown_batch_size():
    seen = []

    def probe(y_true, y_pred):
        seen.append((type(y_true).__name__, y_true.dtype.name, tuple(y_true.shape)))
        return y_pred[..., 0]

    y_true, y_pred, _, _ = l07._skip_cases()[1]
    l07.call_loss_compiled(probe, y_true, y_pred)
    assert seen[0] == ("SymbolicTensor", "float32", (None, y_true.shape[1]))


def test_numpy_inside_a_compiled_loss_is_named_not_read_as_an_untouched_stub():
    def numpy_loss(y_true, y_pred):
        return np.mean(np.argmax(y_pred, axis=-1))

    y_true, y_pred, _, _ = l07._skip_cases()[0]
    with pytest.raises(Mistake, match="concrete values"):
        l07.call_loss_compiled(numpy_loss, y_true, y_pred)
