"""Lesson 07's checks: the cases separate the named misconceptions (replayed for every data
exercise in test_exercises.py), a loss is probed the way `fit` runs it (traced, symbolic, y_true
as float32) and for a gradient, and the first exercise takes the asker's one-hot targets, so the
lecture's weight does not carry over as it is."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from course_utils import probing
from course_utils.answers import l07_fix_argmax_loss as answers
from course_utils.checking import Status
from course_utils.lessons import l07_fix_argmax_loss as l07
from course_utils.probing import Case
from course_utils.registry import exercises

q = exercises("07")
SEEDS = [None, 101, 7331]


def _message(ex, answer, seed=None):
    result = ex.evaluate(answer, seed=seed)
    assert result.status is Status.FAILED, result.message
    return result.message


# --------------------------------------------------------------------------- cases


def test_the_first_skip_case_is_square_so_a_wrong_argmax_axis_returns_the_right_shape():
    y_true, y_pred, _, _ = q.skip_weight.cases_for(None)[0].args
    assert y_true.shape == y_pred.shape
    assert y_pred.shape[0] == y_pred.shape[1] == y_pred.shape[2]


@pytest.mark.parametrize("seed", SEEDS)
def test_skip_cases_hold_the_askers_one_hot_targets_padded_with_the_end_token(seed):
    for case in q.skip_weight.cases_for(seed):
        y_true, y_pred, start_id, end_id = case.args
        assert y_true.ndim == 3 and y_true.shape == y_pred.shape
        np.testing.assert_array_equal(y_true.sum(axis=-1), 1.0)  # one 1.0 per step
        ids = y_true.argmax(axis=-1)
        assert (ids[:, -1] == end_id).any() or (ids[:, -1] == start_id).any()
        weight = np.asarray(answers.skip_weight(y_true, y_pred, start_id, end_id))
        assert 0 < weight.sum() < weight.size  # some steps are free, some are not


@pytest.mark.parametrize("seed", SEEDS)
def test_masked_loss_cases_hold_a_row_and_a_batch_of_padding_only(seed):
    targets = [case.args[0] for case in q.masked_loss.cases_for(seed)]
    assert any((t == 0).all(axis=1).any() and (t != 0).any() for t in targets)
    assert any((t == 0).all() for t in targets)
    assert any((t != 0).all() for t in targets)


# --------------------------------------------------------------------------- transfer


def test_the_lecture_weight_copied_as_it_is_fails_on_one_hot_targets():
    """The lecture's table (`ops.cast(y_true, "int32")`, targets as ids) does not carry over to
    the asker's one-hot rows; the check names why."""
    says = next(m.says for m in q.skip_weight.misconceptions if m.key == "reads y_true as ids")
    assert _message(q.skip_weight, answers.skip_reads_ids) == says


def test_comparing_probabilities_with_the_one_hot_row_is_named():
    says = next(
        m.says
        for m in q.skip_weight.misconceptions
        if m.key == "compares probabilities with the one-hot row"
    )
    assert _message(q.skip_weight, answers.skip_compares_probabilities) == says


def test_sparse_crossentropy_on_the_one_hot_targets_is_named():
    """The lecture's `sparse_categorical_crossentropy` copied onto the asker's one-hot rows."""

    def sparse_on_one_hot(y_true, y_pred, start_id, end_id):
        per_step = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
        return ops.mean(per_step * answers.skip_weight(y_true, y_pred, start_id, end_id))

    assert _message(q.argmax_loss, sparse_on_one_hot) == l07.SPARSE_ON_ONE_HOT


# --------------------------------------------------------------------------- gradient


@pytest.mark.parametrize(
    ("name", "reference"),
    [("masked_loss", answers.masked_loss), ("argmax_loss", answers.argmax_loss)],
)
def test_stop_gradient_loss_is_rejected_for_missing_gradient(name, reference):
    """Issue 11: `return keras.ops.stop_gradient(reference(...))` passed both loss checks."""
    ex = getattr(q, name)

    def wrapped(*args):
        return keras.ops.stop_gradient(reference(*args))

    def frozen_inside(y_true, y_pred, *ids):  # not the table's function: reaches the Fact
        return reference(y_true, ops.stop_gradient(y_pred), *ids)

    for seed in [None, 7331]:  # the public cases and a seed the course never uses
        assert _message(ex, wrapped, seed) == l07.NO_GRADIENT
        assert _message(ex, frozen_inside, seed) == l07.NO_GRADIENT


@pytest.mark.parametrize("name", ["masked_loss", "argmax_loss"])
def test_the_reference_losses_pass_a_gradient_to_y_pred(name):
    judge = getattr(q, name).judge_for(None)
    gradients = [o["extra"]["gradient"] for o in judge.reference]
    assert sum(gradients) >= len(gradients) - 1  # all but the batch of padding only


def test_the_gradient_probe_reads_an_argmax_loss_a_variable_would_break():
    """`keras.ops.argmax` raises on a `tf.Variable` (no `ndim`): the probe watches an eager
    tensor, as `fit` hands a loss, so an argmax-based loss is seen to have its gradient."""
    y_true, y_pred, start_id, end_id = q.argmax_loss.cases_for(None)[1].args
    assert probing.gradient_reaches(answers.argmax_loss, (y_true, y_pred), (start_id, end_id))


# --------------------------------------------------------------------------- traced as fit


def test_masked_loss_of_a_batch_of_padding_only_is_zero_not_nan():
    cases = q.masked_loss.cases_for(None)
    index = next(i for i, c in enumerate(cases) if (c.args[0] == 0).all())
    assert q.masked_loss.judge_for(None).reference[index]["value"] == 0.0
    nan = next(m for m in q.masked_loss.misconceptions if m.key == "NaN on a batch of padding only")
    assert _message(q.masked_loss, answers.masked_nan_when_empty) == nan.says


@pytest.mark.parametrize(
    ("name", "answer", "key"),
    [
        ("masked_loss", answers.masked_over_batch_size, "divides by the batch size"),
        ("masked_loss", answers.masked_over_every_step, "divides by every step"),
        ("masked_loss", answers.masked_over_time_steps, "divides by the number of time steps"),
        ("argmax_loss", answers.argmax_over_batch_size, "divides by the batch size"),
    ],
)
def test_denominator_mistakes_get_their_own_sentence(name, answer, key):
    ex = getattr(q, name)
    says = next(m.says for m in ex.misconceptions if m.key == key)
    assert _message(ex, answer) == says


def test_the_probe_hands_a_loss_symbolic_float_targets_with_unknown_batch_size():
    seen = []

    def spy(y_true, y_pred):
        seen.append((type(y_true).__name__, y_true.dtype.name, tuple(y_true.shape)))
        return answers.masked_loss(y_true, y_pred)

    case = q.masked_loss.cases_for(None)[1]
    observed = l07._loss_probe()(spy, case)
    assert observed["extra"] == {"compiled": "same", "gradient": True}
    assert ("SymbolicTensor", "float32", (None, case.args[0].shape[1])) in seen
    assert seen[0][:2] == ("EagerTensor", "float32")  # the quick test: an eager float32 tensor


def test_numpy_inside_a_traced_loss_is_named_not_read_as_an_untouched_stub():
    def numpy_loss(y_true, y_pred):
        mask = np.asarray(y_true) != 0
        per_step = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
        return ops.sum(per_step * mask) / max(mask.sum(), 1)

    assert _message(q.masked_loss, numpy_loss) == l07.PYTHON_VALUE


def test_a_python_number_read_from_a_symbolic_tensor_is_named_by_the_traced_error_type():
    def int_guard(y_true, y_pred):
        mask = ops.cast(ops.not_equal(y_true, 0), "float32")
        per_step = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
        return ops.sum(per_step * mask) / max(int(y_true.shape[0]) * 0 + ops.sum(mask), 1.0)

    observed = l07._loss_probe()(int_guard, q.masked_loss.cases_for(None)[0])
    assert observed["extra"]["compiled"] == "TypeError"
    assert _message(q.masked_loss, int_guard) == l07.PYTHON_LOOP


def test_a_python_if_loss_fails_inside_fit_as_the_check_says():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(6, 4),
            keras.layers.Dense(6, activation="softmax"),
        ]
    )
    model.compile("adam", loss=answers.masked_python_if)
    y = np.array([[1, 2, 5, 5], [3, 5, 0, 0]])
    with pytest.raises(tf.errors.OperatorNotAllowedInGraphError):
        model.fit(y, y, epochs=1, verbose=0)
    assert _message(q.masked_loss, answers.masked_python_if) == l07.PYTHON_IF


def test_ops_isin_fails_inside_fit_as_the_check_says():
    """Keras' own `isin` (TensorFlow backend) branches on `tf.size(...) == 0` in Python."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(6, 4),
            keras.layers.Dense(6, activation="softmax"),
        ]
    )

    def isin_loss(y_true, y_pred):
        y_true = ops.one_hot(ops.cast(y_true, "int32"), 6)
        weight = answers.skip_isin(y_true, y_pred, 4, 5)
        return ops.mean(keras.losses.categorical_crossentropy(y_true, y_pred) * weight)

    model.compile("adam", loss=isin_loss)
    y = np.array([[1, 2, 5, 5], [3, 5, 5, 5]])
    with pytest.raises(tf.errors.OperatorNotAllowedInGraphError):
        model.fit(y, y, epochs=1, verbose=0)
    assert _message(q.skip_weight, answers.skip_isin) == l07.ISIN


def test_the_thread_arithmetic_trains_inside_fit_on_one_hot_targets():
    """The reference argmax loss on one-hot targets, as the notebook says to train it."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(6, 4),
            keras.layers.Dense(6, activation="softmax"),
        ]
    )
    model.compile("adam", loss=lambda y_true, y_pred: answers.argmax_loss(y_true, y_pred, 4, 5))
    x = np.array([[4, 1, 2, 5], [4, 3, 5, 5]])
    history = model.fit(x, np.eye(6, dtype="float32")[x], epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_a_case_is_plain_data_and_the_probe_returns_plain_data():
    import json

    case = q.argmax_loss.cases_for(None)[0]
    assert isinstance(case, Case)
    observed = q.argmax_loss.probe(answers.argmax_loss, case)
    json.dumps(observed)
