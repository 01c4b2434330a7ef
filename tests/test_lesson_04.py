"""Lesson 04 checks: the answer key and the exercises' premises are measured on the installed
Keras, both encodings of '#' (all-zero row, thread 001's class) are graded, and losses that only
work eagerly are caught; the lecture quotes installed source and ends with its verdict table."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import exercises
from course_utils.checking import Status
from course_utils.lessons import l04_return_sequences_drops_mask as l04

keras = pytest.importorskip("keras")
ops = keras.ops

q = exercises("04")
LECTURE = "04_return_sequences_drops_mask.ipynb"


def test_the_answer_key_matches_the_masks_keras_attaches():
    from course_utils.masks import layer_output_mask

    x = np.ones((2, 4, 3), dtype="float32")
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    measured = [
        layer_output_mask(l04.build_layer(name), x, mask) is not None for name in l04.LAYER_CONFIGS
    ]
    assert measured == l04.MASK_SURVIVES


def test_numpy_cross_entropy_matches_keras():
    _, y_true, y_pred, _ = l04._loss_cases()[0]
    np.testing.assert_allclose(
        l04.per_step_crossentropy(y_true, y_pred),
        keras.losses.categorical_crossentropy(y_true, y_pred),
        rtol=1e-5,
    )


def test_keras_divides_weighted_losses_by_every_step_not_by_the_weights():
    # The premise of exercise 3: weights equal to the mask leave the all-steps mean.
    _, y_true, y_pred, _ = l04._loss_cases()[0]
    per_step = l04.per_step_crossentropy(y_true, y_pred)
    weights = l04.real_steps(y_true).astype("float32")
    got = l04.keras_weighted_loss(y_true, y_pred, weights)
    np.testing.assert_allclose(got, per_step.sum() / per_step.size, rtol=1e-5)


@pytest.mark.parametrize("case", range(len(l04._loss_cases())))
def test_reference_loss_equals_evaluate_of_a_model_with_it(case):
    _, y_true, y_pred, padding_row = l04._loss_cases()[case]
    inputs = keras.Input(y_pred.shape[1:])
    model = keras.Model(inputs, keras.layers.Identity()(inputs))
    model.compile(
        loss=lambda t, p: l04.masked_categorical_crossentropy(t, p, padding_row), run_eagerly=True
    )
    got = model.evaluate(y_pred, y_true, batch_size=len(y_true), verbose=0)
    per_step = l04.per_step_crossentropy(y_true, y_pred)
    np.testing.assert_allclose(got, per_step[l04.real_steps(y_true, padding_row)].mean(), rtol=1e-5)


def test_thread_001_case_is_the_asker_batch_padded_at_the_front():
    thread = [
        [[0, 0, 1], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 1, 0]],
        [[0, 0, 1], [0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0]],
    ]  # y_true as posted in shared/sources/001: the batch is ['##abb','#babb']
    np.testing.assert_array_equal(l04.THREAD_001_Y_TRUE, thread)
    mask = l04.real_steps(l04.THREAD_001_Y_TRUE, l04.HASH_CLASS_ROW)
    assert mask.tolist() == [[False, False, True, True, True], [False, True, True, True, True]]
    kinds = [case[0] for case in l04._loss_cases()]
    assert kinds.count("'#' class") == 2


def test_the_all_zero_rule_masks_nothing_in_the_hash_class_encoding():
    """The premise of the "ignores padding_row" misconception: its mean is the unmasked one."""
    for kind, y_true, _, padding_row in l04._loss_cases():
        if kind == "'#' class":
            assert l04.real_steps(y_true).all()
            assert not l04.real_steps(y_true, padding_row).all()


def test_hash_class_targets_pad_with_the_hash_class_in_front():
    y = l04.hash_class_targets(["ab", "b"], 4)
    assert np.argmax(y, -1).tolist() == [[2, 2, 0, 1], [2, 2, 2, 1]]
    assert np.all(y.sum(-1) == 1)


def test_a_two_argument_loss_is_asked_for_padding_row(progress_file):
    def old_loss(y_true, y_pred):
        return ops.mean(ops.categorical_crossentropy(y_true, y_pred))

    result = q.masked_categorical_crossentropy.check(old_loss)
    assert result.status is Status.FAILED and "padding_row" in result.message


def test_the_lecture_repairs_the_askers_own_data(root):
    import nbformat

    nb = nbformat.read(root / "notebooks" / LECTURE, as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "masked_loss(hash_class_row)" in source
    assert "[[0, 0, 1], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 1, 0]]" in source


def test_the_installed_source_the_lecture_quotes_is_still_there():
    from lecture_claims import quoted_source_problems

    assert not quoted_source_problems(l04.QUOTED_SOURCE)


def test_every_source_the_lecture_names_is_listed_in_quoted_source(root):
    from lecture_claims import string_excerpts

    assert string_excerpts(root / "notebooks" / LECTURE) <= set(l04.QUOTED_SOURCE)


def test_lecture_ends_with_a_verdict_table_citing_its_cells(root):
    from lecture_claims import verdict_rows

    rows = verdict_rows(root / "notebooks" / LECTURE)
    assert any(row["verdict"].startswith("broken") for row in rows)  # answer 2's NaN


def eager_only_loss(y_true, y_pred, padding_row):
    t, p = y_true.numpy(), y_pred.numpy()
    mask = ~np.all(t == np.asarray(padding_row), axis=-1)
    per_step = -(t * np.log(p)).sum(-1)
    return float(per_step[mask].mean())


def per_sequence_loss(y_true, y_pred, padding_row):
    mask = ops.cast(ops.logical_not(ops.all(ops.equal(y_true, padding_row), axis=-1)), "float32")
    return ops.sum(ops.categorical_crossentropy(y_true, y_pred) * mask, axis=1)


def stub_loss(y_true, y_pred, padding_row):
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
    def numpy_loss(y_true, y_pred, padding_row):
        t = np.asarray(y_true)
        p = np.clip(np.asarray(y_pred), 1e-7, 1.0)
        real = ~np.all(t == np.asarray(padding_row), axis=-1)
        return float((-(t * np.log(p)).sum(-1))[real].mean())

    result = exercises("04").masked_categorical_crossentropy.check(numpy_loss)
    assert result.status == "failed"
    assert "compiled graph" in result.message
